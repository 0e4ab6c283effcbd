"""Click-to-mask: OpenCV's GrabCut turns a box drawn with a smart tool into the object's mask, and
positive or negative clicks (keypoints; Alt+click in the editor is negative) refine it.

Fits an `<Image>` with `<BrushLabels>` or `<PolygonLabels>` and a smart tool on it
(`<RectangleLabels smart="true">`, `<KeyPointLabels smart="true">`, or the unlabeled `<Rectangle>`
/`<KeyPoint>`): what the editor sends to an ML backend's interactive annotating. The editor sends
one region at a time (the one just drawn), so the worker keeps each image's object being drawn: a
box starts an object, a click refines the current one (a positive click well outside it starts
a new one), and each answer is the whole object so far, under one region id. No weights: GrabCut
fits colour models to the image itself.

The mask comes back as Label Studio's brush RLE (desktop/assistants/brush.py) or as a polygon in
percent. GrabCut runs on the part of the image around the box and clicks, at most WORK_SIDE
pixels on its longer side, one OpenCV thread.
"""

import collections

from desktop.assistants import brush, findable
from desktop.assistants.results import (
    config_of,
    controls_of,
    is_true,
    objects_of,
    percent,
    prediction,
    region_id,
)

NAME = "mask"
TITLE = "Click-to-mask (OpenCV GrabCut)"
VERSION = "1"
LIGHT = False
NEEDS = ("OpenCV and numpy: `make assistants`, or `pip install 'labeldesk[mask]'` "
         "(opencv-python-headless)")

WORK_SIDE = 360  # pixels: GrabCut's cost grows with the area it works on
ITERATIONS = 4  # GrabCut rounds per box or click
MARGIN = 0.12  # of the box's size, around it: background GrabCut learns from
NEW_OBJECT_AT = 0.5  # a positive click this far (of its size) outside the object starts another
_SESSIONS = 4  # images with an object being drawn, per worker (a 12 MP photo's is ~60 MB)
_SMART = ("rectanglelabels", "rectangle", "keypointlabels", "keypoint")
_OUTPUTS = ("brushlabels", "polygonlabels")


def fits(label_config):
    """{"to_name", "data_key", "from_name", "type", "labels", "smart", "tags"} for the first
    image with a brush or polygon labels tool and a smart tool, else None."""
    config = config_of(label_config)
    if config is None:
        return None
    for to_name, data_key in objects_of(config, "Image"):
        outputs = [c for c in controls_of(config, _OUTPUTS, to_name) if c.labels]
        smart = [c.name for c in controls_of(config, _SMART, to_name)
                 if is_true(c.attrs, "smart") or is_true(c.attrs, "smartOnly")]
        if outputs and smart:
            output = outputs[0]
            return {"to_name": to_name, "data_key": data_key, "from_name": output.name,
                    "type": output.tag.lower(), "labels": list(output.labels), "smart": smart,
                    "tags": [output.name]}
    return None


class Segmenter:
    """OpenCV, and the object being drawn on each of the last few images."""

    def __init__(self, cv2, np):
        self.cv2, self.np = cv2, np
        self.sessions = collections.OrderedDict()

    def image(self, path):
        image = self.cv2.imread(path, self.cv2.IMREAD_COLOR)  # EXIF orientation applied
        if image is None:
            raise RuntimeError(f"OpenCV could not read the image {path}")
        return image

    def session(self, key, path):
        if key not in self.sessions:
            self.sessions[key] = Drawing(self.image(path))
        self.sessions.move_to_end(key)
        while len(self.sessions) > _SESSIONS:
            self.sessions.popitem(last=False)
        return self.sessions[key]


class Drawing:
    """One image: its pixels and the object being drawn on it (box, clicks, GrabCut's labels)."""

    def __init__(self, image):
        self.image = image
        self.object = None


class Object:
    def __init__(self, box, label):
        self.id = region_id()
        self.box = box  # (x0, y0, x1, y1) in pixels
        self.clicks = []  # (x, y, positive)
        self.label = label
        self.cut = None  # pieces negative clicks split off: background from then on
        self.mask = None  # the answer: uint8 0/1 over the whole image


def missing():
    """What is not installed (OpenCV, numpy), said before anyone turns it on; None when both
    are there."""
    for package, what in (("cv2", "OpenCV"), ("numpy", "numpy")):
        if not findable(package):
            return f"{what} is not installed"
    return None


def load():
    try:
        import cv2
        import numpy as np
    except ImportError:
        raise RuntimeError(f"OpenCV is not installed. {NEEDS}.")
    cv2.setNumThreads(1)
    return Segmenter(cv2, np)


def predict(model, tasks, fit, context=None):
    """Without a context (predict all tasks) there is nothing to start from: empty results."""
    items = [r for r in (context or {}).get("result") or []
             if isinstance(r, dict) and r.get("type") in _SMART
             and isinstance(r.get("value"), dict)]
    predictions = []
    for task in tasks:
        path = (task.get("local_files") or {}).get(fit["data_key"])
        if not path or not items:
            predictions.append(prediction(NAME, VERSION, [], None))
            continue
        drawing = model.session((task.get("id"), path), path)
        height, width = drawing.image.shape[:2]
        for item in items:
            _apply(model, drawing, item, fit, width, height)
        obj = drawing.object
        result = [] if obj is None or obj.mask is None else _result(model, obj, fit, width,
                                                                      height)
        predictions.append(prediction(NAME, VERSION, result, None))
    return predictions


def _apply(model, drawing, item, fit, width, height):
    """One smart region: a box starts an object, a click refines it (or starts one)."""
    value, kind = item["value"], item["type"]
    label = _label(value, kind, fit)
    try:
        x, y = float(value["x"]) * width / 100, float(value["y"]) * height / 100
    except (KeyError, TypeError, ValueError):
        return
    if kind.startswith("rectangle"):
        try:
            w, h = float(value["width"]) * width / 100, float(value["height"]) * height / 100
        except (KeyError, TypeError, ValueError):
            return
        box = _clip((min(x, x + w), min(y, y + h), max(x, x + w), max(y, y + h)), width, height)
        if box[2] - box[0] < 2 or box[3] - box[1] < 2:
            return
        drawing.object = Object(box, label)
    else:
        positive = item.get("is_positive", True) is not False
        obj = drawing.object
        if obj is None or (positive and _far(obj, x, y)):
            if not positive:
                return  # nothing to take away from
            drawing.object = obj = Object(_seed_box(model, drawing.image, x, y), label)
        obj.clicks.append((x, y, positive))
    _segment(model, drawing.image, drawing.object)


def _label(value, kind, fit):
    """The smart region's label when the output tool has it, else the output's first label."""
    for name in (value.get(kind), value.get("labels")):
        if isinstance(name, list) and name and name[0] in fit["labels"]:
            return name[0]
    return fit["labels"][0]


def _clip(box, width, height):
    x0, y0, x1, y1 = box
    return (max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1))


def _far(obj, x, y):
    x0, y0, x1, y1 = obj.box
    if obj.mask is not None:
        ys, xs = obj.mask.nonzero()
        if len(xs):
            x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    dx, dy = (x1 - x0) * NEW_OBJECT_AT, (y1 - y0) * NEW_OBJECT_AT
    return not (x0 - dx <= x <= x1 + dx and y0 - dy <= y <= y1 + dy)


def _seed_box(model, image, x, y):
    """A box for an object started by a click alone: the click's flood-filled surroundings of
    similar colour, widened, or a fifth of the image around the click."""
    cv2, np = model.cv2, model.np
    height, width = image.shape[:2]
    scale = min(1.0, 512 / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    filled = np.zeros((small.shape[0] + 2, small.shape[1] + 2), np.uint8)
    seed = (min(int(x * scale), small.shape[1] - 1), min(int(y * scale), small.shape[0] - 1))
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (255 << 8)
    cv2.floodFill(small, filled, seed, 0, (14, 14, 14), (14, 14, 14), flags)
    ys, xs = filled[1:-1, 1:-1].nonzero()
    area = len(xs) / (small.shape[0] * small.shape[1])
    if 0.0005 < area < 0.5:
        x0, y0, x1, y1 = xs.min() / scale, ys.min() / scale, (xs.max() + 1) / scale, \
            (ys.max() + 1) / scale
        dx, dy = (x1 - x0) * 0.25 + 4, (y1 - y0) * 0.25 + 4
        return _clip((x0 - dx, y0 - dy, x1 + dx, y1 + dy), width, height)
    side = max(width, height) / 10
    return _clip((x - side, y - side, x + side, y + side), width, height)


def _segment(model, image, obj):
    """GrabCut over the window around the box and the clicks, scaled to WORK_SIDE at most,
    starting from the last answer; the clicks are certain, outside the box is certain
    background."""
    cv2, np = model.cv2, model.np
    height, width = image.shape[:2]
    xs = [obj.box[0], obj.box[2]] + [x for x, _, positive in obj.clicks if positive]
    ys = [obj.box[1], obj.box[3]] + [y for _, y, positive in obj.clicks if positive]
    bx0, by0, bx1, by1 = min(xs), min(ys), max(xs), max(ys)
    mx, my = (bx1 - bx0) * MARGIN + 8, (by1 - by0) * MARGIN + 8
    wx0, wy0 = int(max(0, bx0 - mx)), int(max(0, by0 - my))
    wx1, wy1 = int(min(width, bx1 + mx + 1)), int(min(height, by1 + my + 1))
    scale = min(1.0, WORK_SIDE / max(wx1 - wx0, wy1 - wy0))
    crop = image[wy0:wy1, wx0:wx1]
    size = (max(1, round((wx1 - wx0) * scale)), max(1, round((wy1 - wy0) * scale)))
    work = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1 else crop.copy()

    labels = np.full(work.shape[:2], cv2.GC_BGD, np.uint8)
    inside = (slice(int((by0 - wy0) * scale), int(np.ceil((by1 - wy0) * scale))),
              slice(int((bx0 - wx0) * scale), int(np.ceil((bx1 - wx0) * scale))))
    labels[inside] = cv2.GC_PR_FGD
    if obj.mask is not None:  # the last answer inside the box, as where to start
        before = obj.mask[wy0:wy1, wx0:wx1]
        before = cv2.resize(before, size, interpolation=cv2.INTER_NEAREST) if scale < 1 \
            else before
        soft = np.where(before == 1, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        labels[inside] = soft[inside]
    if obj.cut is not None:
        cut = obj.cut[wy0:wy1, wx0:wx1]
        cut = cv2.resize(cut, size, interpolation=cv2.INTER_NEAREST) if scale < 1 else cut
        labels[cut == 1] = cv2.GC_BGD
    radius = max(2, round(min(size) * 0.012))
    for x, y, positive in obj.clicks:
        centre = (int((x - wx0) * scale), int((y - wy0) * scale))
        cv2.circle(labels, centre, radius, cv2.GC_FGD if positive else cv2.GC_BGD, -1)
    if not (labels == cv2.GC_PR_FGD).any() and not (labels == cv2.GC_FGD).any():
        return
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(work, labels, None, background, foreground, ITERATIONS,
                    cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # one colour everywhere: no model to fit; keep the labels as they are
        pass
    inside_object = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
    if scale < 1:
        inside_object = cv2.resize(inside_object, (wx1 - wx0, wy1 - wy0),
                                   interpolation=cv2.INTER_LINEAR)
    window = (inside_object >= 0.5).astype(np.uint8)
    window, split = _split_off(model, window, obj, wx0, wy0)
    window = _keep_object(model, window, obj, wx0, wy0)
    if split is not None:
        if obj.cut is None:
            obj.cut = np.zeros((height, width), np.uint8)
        obj.cut[wy0:wy1, wx0:wx1][split] = 1
    obj.mask = np.zeros((height, width), np.uint8)
    obj.mask[wy0:wy1, wx0:wx1] = window


def _split_off(model, window, obj, wx0, wy0):
    """A negative click on a part joined to the object by a neck (two touching things of one
    colour, which GrabCut's colours can't tell apart) takes that part away: the mask is eroded
    until the click's part comes apart from the object's thickest point away from it (and the
    positive clicks); what grows back from the click's side is cut off, and stays background
    from then on. A click on no such part (a thin false edge) cuts nothing: its hard background
    spot in GrabCut is all it does."""
    cv2, np = model.cv2, model.np
    height, width = window.shape
    # the newest click alone: the parts earlier ones cut off are background already
    negatives = [(int(x - wx0), int(y - wy0)) for x, y, positive in obj.clicks[-1:]
                 if not positive]
    negatives = [(x, y) for x, y in negatives if 0 <= y < height and 0 <= x < width]
    if not negatives or not window.any():
        return window, None
    yy, xx = np.mgrid[0:height, 0:width]
    whole = window.copy()
    for x, y in negatives:  # GrabCut's hole at the click is the part's too
        whole[((xx - x) ** 2 + (yy - y) ** 2 <= 16) & _near(cv2, window, x, y)] = 1
    depth = cv2.distanceTransform(whole, cv2.DIST_L2, 5)
    away = np.ones(window.shape, bool)
    for x, y in negatives:
        away &= (xx - x) ** 2 + (yy - y) ** 2 > (2 * _thickness(depth, xx, yy, x, y) + 6) ** 2
    keep = [(int(x - wx0), int(y - wy0)) for x, y, positive in obj.clicks if positive]
    candidates = np.where(away & (whole == 1), depth, 0)
    if candidates.max() > 0:
        y, x = np.unravel_index(int(np.argmax(candidates)), candidates.shape)
        keep.append((int(x), int(y)))
    if not keep:
        return window, None
    split = np.zeros(window.shape, bool)
    for x, y in negatives:
        near = (xx - x) ** 2 + (yy - y) ** 2
        reach = max(8.0, 1.5 * _thickness(depth, xx, yy, x, y))
        part = _part(cv2, np, whole, float(depth[near <= reach ** 2].max()), (x, y), keep)
        if part is not None:
            split |= part
    if not split.any():
        return window, None
    return np.where(split, 0, window).astype(np.uint8), split


def _near(cv2, window, x, y):
    """Whether the click is on the mask at all (within 4 pixels of it)."""
    top, left = max(0, y - 4), max(0, x - 4)
    return bool(window[top:y + 5, left:x + 5].any())


def _thickness(depth, xx, yy, x, y):
    return float(depth[(xx - x) ** 2 + (yy - y) ** 2 <= 36].max(initial=0))


def _part(cv2, np, whole, thickest, click, keep):
    """The piece of `whole` on the click's side of its narrowest neck towards `keep`, or None.
    `thickest`: the depth of the click's side, past which erosion has worn it away."""
    for radius in range(1, int(thickest) + 2):
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
        eroded = cv2.erode(whole, kernel)
        count, pieces = cv2.connectedComponents(eroded, connectivity=8)
        mine = _piece_near(np, pieces, click, radius + 4)
        if mine == 0:
            return None  # the click's side wore away first: no neck between them
        theirs = {_piece_near(np, pieces, point, radius + 4) for point in keep} - {0}
        if theirs and mine not in theirs:
            grown = cv2.dilate((pieces == mine).astype(np.uint8), kernel)
            others = cv2.dilate(((pieces > 0) & (pieces != mine)).astype(np.uint8), kernel)
            return (grown == 1) & (whole == 1) & (others == 0)
    return None


def _piece_near(np, pieces, point, reach):
    """The label of the piece nearest to the point, within `reach` pixels; 0 for none."""
    x, y = point
    top, left = max(0, y - reach), max(0, x - reach)
    window = pieces[top:y + reach + 1, left:x + reach + 1]
    ys, xs = np.nonzero(window)
    if not len(xs):
        return 0
    nearest = int(np.argmin((ys + top - y) ** 2 + (xs + left - x) ** 2))
    return int(window[ys[nearest], xs[nearest]])


def _keep_object(model, window, obj, wx0, wy0):
    """The object's pieces: the largest, and every piece a positive click is on."""
    cv2, np = model.cv2, model.np
    count, pieces, stats, _ = cv2.connectedComponentsWithStats(window, connectivity=8)
    if count <= 2:
        return window
    keep = {1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))}
    for x, y, positive in obj.clicks:
        px, py = int(x - wx0), int(y - wy0)
        if positive and 0 <= py < pieces.shape[0] and 0 <= px < pieces.shape[1]:
            if pieces[py, px]:
                keep.add(int(pieces[py, px]))
    return np.isin(pieces, list(keep)).astype(np.uint8)


def _result(model, obj, fit, width, height):
    common = {"id": obj.id, "from_name": fit["from_name"], "to_name": fit["to_name"],
              "type": fit["type"], "original_width": width, "original_height": height,
              "image_rotation": 0}
    if fit["type"] == "brushlabels":
        return [{**common, "value": {"format": "rle", "rle": brush.encode(obj.mask),
                                     "brushlabels": [obj.label]}}]
    points = polygon(model, obj.mask, width, height)
    if len(points) < 3:
        return []
    return [{**common, "value": {"points": points, "closed": True,
                                 "polygonlabels": [obj.label]}}]


def polygon(model, mask, width, height):
    """The outline of the mask's largest piece, simplified to within a pixel, in percent."""
    cv2 = model.cv2
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return []
    outline = max(contours, key=cv2.contourArea)
    outline = cv2.approxPolyDP(outline, 1.0, True).reshape(-1, 2)
    # the outline runs through boundary pixels' centres: +0.5 puts it on the pixel's middle
    return [[round(percent(x + 0.5, width), 4), round(percent(y + 0.5, height), 4)]
            for x, y in outline.tolist()]
