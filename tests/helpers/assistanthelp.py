"""Inputs the assistants' tests and benchmarks make themselves, with what is known about them: a
page image with known words, a text with known entities, a scene of shapes with known masks.

Pillow draws the page (with Figtree, the font Label Studio's web app ships, from
desktop/ui/vendor/); numpy and OpenCV draw the scene.
"""

import random

from paths import UI_DIR

FONTS = UI_DIR / "vendor" / "webapp" / "static" / "fonts"
VOCABULARY = (
    "invoice total amount due date customer address street city north river mountain paper "
    "table garden window summer winter autumn spring yellow purple orange silver golden market "
    "station harbour bridge letter office morning evening delivery order number payment bank "
    "account reference project review labeling annotation export import desktop offline model "
    "quick brown fox jumps over lazy dog").split()

OCR_CONFIG = """<View>
  <Image name="image" value="$ocr"/>
  <Labels name="label" toName="image">
    <Label value="Text" background="green"/>
    <Label value="Handwriting" background="blue"/>
  </Labels>
  <Rectangle name="bbox" toName="image" strokeWidth="3"/>
  <Polygon name="poly" toName="image" strokeWidth="3"/>
  <TextArea name="transcription" toName="image" editable="true" perRegion="true"
            required="true" maxSubmissions="1" rows="5" placeholder="Recognized Text"
            displayMode="region-list"/>
</View>"""  # Label Studio's OCR template

NER_CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="red"/>
    <Label value="ORG" background="darkorange"/>
    <Label value="LOC" background="orange"/>
    <Label value="MISC" background="green"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""  # Label Studio's NER template

BRUSH_CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Balloon" background="rgba(255, 0, 0, 0.7)"/>
    <Label value="Star" background="rgba(0, 0, 255, 0.7)"/>
  </BrushLabels>
  <KeyPointLabels name="click" toName="image" smart="true">
    <Label value="Balloon" smart="true" background="#000000" showInline="true"/>
    <Label value="Star" smart="true" background="#000000" showInline="true"/>
  </KeyPointLabels>
  <RectangleLabels name="box" toName="image" smart="true">
    <Label value="Balloon" background="#000000" showInline="true"/>
    <Label value="Star" background="#000000" showInline="true"/>
  </RectangleLabels>
</View>"""  # Label Studio's SAM example config: brush labels with smart keypoints and boxes

POLYGON_CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="outline" toName="image" strokeWidth="3" pointSize="small">
    <Label value="Balloon" background="red"/>
    <Label value="Star" background="blue"/>
  </PolygonLabels>
  <Rectangle name="box" toName="image" smart="true"/>
  <KeyPoint name="click" toName="image" smartOnly="true"/>
</View>"""


def render_page(path, seed=24):
    """A letter-like page (A4 at 150 dpi, 1240 x 1754) of about 115 words in three sizes, some
    bold, on slightly noisy off-white paper, saved as PNG. Returns the words drawn."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    width, height = 1240, 1754
    page = Image.new("L", (width, height), 244)
    noise = Image.effect_noise((width, height), 18).point(lambda v: 244 + (v - 128) // 8)
    page = Image.blend(page, noise, 0.5)
    draw = ImageDraw.Draw(page)
    regular, bold = FONTS / "Figtree-Regular.ttf", FONTS / "Figtree-SemiBold.ttf"
    words, y = [], 110
    for size, lines, face in ((52, 1, bold), (34, 4, regular), (28, 6, regular),
                              (30, 3, bold)):
        font = ImageFont.truetype(str(face), size)
        for _ in range(lines):
            x = 110
            while True:
                word = rng.choice(VOCABULARY)
                if rng.random() < 0.2:
                    word = word.capitalize()
                if rng.random() < 0.1:
                    word = str(rng.randint(10, 99999))
                box = draw.textbbox((x, y), word, font=font)
                if box[2] > width - 110:
                    break
                draw.text((x, y), word, fill=rng.randint(10, 60), font=font)
                words.append(word)
                x = box[2] + size // 2 + rng.randint(0, 8)
            y += int(size * 1.9)
        y += 40
    page.filter(ImageFilter.GaussianBlur(0.6)).save(path)
    return words


# Sentences with the entities spaCy should find and the label each maps to in Label Studio's
# NER template (PER, ORG, LOC, MISC).
ENTITY_SENTENCES = [
    ("Angela Merkel met Emmanuel Macron in Paris on Monday.",
     [("Angela Merkel", "PER"), ("Emmanuel Macron", "PER"), ("Paris", "LOC")]),
    ("Apple and Microsoft opened new offices in London and Berlin.",
     [("Apple", "ORG"), ("Microsoft", "ORG"), ("London", "LOC"), ("Berlin", "LOC")]),
    ("Barack Obama spoke at Harvard University about the economy of Japan.",
     [("Barack Obama", "PER"), ("Harvard University", "ORG"), ("Japan", "LOC")]),
    ("The United Nations sent aid to Kenya after Google donated money.",
     [("The United Nations", "ORG"), ("Kenya", "LOC"), ("Google", "ORG")]),
]


def entity_text():
    """(text, [(start, end, text, label)]) of the sentences above, joined by spaces."""
    text, spans = "", []
    for sentence, entities in ENTITY_SENTENCES:
        base = len(text)
        for name, label in entities:
            start = sentence.index(name) + base
            spans.append((start, start + len(name), name, label))
        text += sentence + " "
    return text.strip(), spans


def render_scene(path, seed=7):
    """A 640 x 480 scene on a textured, noisy background: a balloon (an ellipse, a third of it in
    shadow, a ball of its own colour touching it) and a star (a look-alike square beside it).
    Saved as PNG; returns {"Balloon": mask, "Star": mask} (uint8 0/1)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    height, width = 480, 640
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack([120 + 60 * np.sin(xx / 37.0), 140 + 50 * np.cos(yy / 29.0),
                           110 + 0.1 * xx], -1)
    image = background + rng.normal(0, 12, background.shape)

    def paint(where, colour):
        image[where] = colour + rng.normal(0, 14, (int(where.sum()), 3))

    balloon = np.zeros((height, width), np.uint8)
    cv2.ellipse(balloon, (230, 220), (120, 80), 20, 0, 360, 1, -1)
    paint(balloon == 1, (60, 90, 200))
    shadow = (balloon == 1) & (xx < 175)  # the background's own hues, darker
    image[shadow] = background[shadow] * 0.6 + rng.normal(0, 12, (int(shadow.sum()), 3))
    ball = np.zeros((height, width), np.uint8)
    cv2.circle(ball, (322, 160), 30, 1, -1)
    ball[balloon == 1] = 0
    paint(ball == 1, (60, 90, 200))

    star = np.zeros((height, width), np.uint8)
    corners = [(470 + (90 if k % 2 == 0 else 40) * np.sin(np.pi * k / 5),
                300 - (90 if k % 2 == 0 else 40) * np.cos(np.pi * k / 5)) for k in range(10)]
    cv2.fillPoly(star, [np.array(corners, np.int32)], 1)
    paint(star == 1, (40, 180, 60))
    square = np.zeros((height, width), np.uint8)
    cv2.rectangle(square, (560, 180), (630, 260), 1, -1)
    square[star == 1] = 0
    paint(square == 1, (50, 170, 70))

    cv2.imwrite(str(path), np.clip(image, 0, 255).astype(np.uint8))
    return {"Balloon": balloon, "Star": star}


def iou(a, b):
    a, b = a != 0, b != 0
    return float((a & b).sum() / max(1, (a | b).sum()))


def next_click(predicted, truth):
    """Where a user clicks next, as interactive segmentation is evaluated: the middle (farthest
    from its edge) of the largest wrong area: (x, y, positive) or None when nothing is wrong."""
    import cv2
    import numpy as np

    best = None
    for wrong, positive in (((truth != 0) & (predicted == 0), True),
                            ((truth == 0) & (predicted != 0), False)):
        padded = np.pad(wrong.astype(np.uint8), 1)
        depth = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
        if depth.max() > 0 and (best is None or depth.max() > best[0]):
            y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
            best = (depth.max(), int(x), int(y), positive)
    return None if best is None else best[1:]


def box_around(mask, pad=6):
    """The box a user draws around a mask, a few pixels loose: (x0, y0, x1, y1)."""
    import numpy as np

    ys, xs = np.nonzero(mask)
    return (int(xs.min()) - pad, int(ys.min()) - pad, int(xs.max()) + 1 + pad,
            int(ys.max()) + 1 + pad)


def smart_box(box, width, height, label, kind="rectanglelabels", from_name="box"):
    """The context the editor sends for a smart rectangle just drawn."""
    x0, y0, x1, y1 = box
    value = {"x": 100 * x0 / width, "y": 100 * y0 / height, "width": 100 * (x1 - x0) / width,
             "height": 100 * (y1 - y0) / height, "rotation": 0}
    if kind == "rectanglelabels":
        value[kind] = [label]
    return {"result": [{"id": "smartbox01", "from_name": from_name, "to_name": "image",
                        "type": kind, "origin": "manual", "original_width": width,
                        "original_height": height, "image_rotation": 0, "value": value}]}


def smart_click(x, y, width, height, label, positive=True, kind="keypointlabels",
                from_name="click"):
    """The context the editor sends for a smart keypoint (Alt+click: negative)."""
    value = {"x": 100 * x / width, "y": 100 * y / height, "width": 0.5}
    if kind == "keypointlabels":
        value[kind] = [label]
        value["labels"] = [label]
    return {"result": [{"id": "smartclick", "from_name": from_name, "to_name": "image",
                        "type": kind, "origin": "manual", "is_positive": positive,
                        "original_width": width, "original_height": height,
                        "image_rotation": 0, "value": value}]}


def cpu_seconds():
    """CPU time of this process and its finished children (Tesseract runs as one): what one
    thread costs, whatever else the machine is doing (on a busy 2-core machine the wall clock
    measures the neighbours too)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
