"""OCR: Tesseract 5 reads an image's words into Label Studio's OCR regions.

Fits Label Studio's OCR template: an `<Image>`, a `<Rectangle>` or `<RectangleLabels>` on it and
a `<TextArea perRegion="true">` on it (its `<Labels>` on the image, when there, get "Text" or
their first label). Each line of text (or each word: fit["granularity"] = "word") becomes one
region: a rectangle, the labels and the transcription, all with the same region id, in percent
of the image as the editor shows it.

Tesseract runs in the worker as its own library (libtesseract 5 through its C API, ctypes:
tesseract_api.py), loaded once, else as its command-line program (TSV output) in a child
process; one OpenMP thread either way, and no Python package needed at all
(docs/adr/0014-assistant-models.md). With a smart rectangle (context), the words inside the box
drawn become its transcription, from the page read once and kept.
"""

import collections
import os
import shutil
import subprocess
import sys
import tempfile

from desktop.assistants import tesseract_api
from desktop.assistants.results import (
    config_of,
    controls_of,
    is_true,
    objects_of,
    percent,
    pick_label,
    prediction,
    region_id,
)

NAME = "ocr"
TITLE = "Text recognition (Tesseract OCR)"
VERSION = "1"
LIGHT = True
NEEDS = ("Tesseract 5 with its English data: `sudo apt install tesseract-ocr tesseract-ocr-eng` "
         "on Debian/Ubuntu, `brew install tesseract` on macOS")

TIMEOUT_S = 60  # one page; a huge scan may take long, never forever
MIN_CONFIDENCE = 10  # Tesseract's word confidence (0-100) under which a "word" is noise
_RECTANGLES = ("rectangle", "rectanglelabels")
_CACHED_PAGES = 8  # pages read for smart rectangles, per worker


def fits(label_config):
    """{"to_name", "data_key", "rectangle", "rectangle_type", "textarea", "labels", "label",
    "tags"} for the first image with a rectangle tool and a per-region text area, else None."""
    config = config_of(label_config)
    if config is None:
        return None
    for to_name, data_key in objects_of(config, "Image"):
        boxes = controls_of(config, _RECTANGLES, to_name)
        texts = [c for c in controls_of(config, ("textarea",), to_name)
                 if is_true(c.attrs, "perRegion")]
        if not boxes or not texts:
            continue
        box, text = boxes[0], texts[0]
        fit = {"to_name": to_name, "data_key": data_key, "rectangle": box.name,
               "rectangle_type": box.tag.lower(), "textarea": text.name, "labels": None,
               "label": None}
        if fit["rectangle_type"] == "rectanglelabels":
            fit["label"] = pick_label(box.labels, ("Text", "Word", "Line"))
            if fit["label"] is None:
                continue
        else:
            labels = [c for c in controls_of(config, ("labels",), to_name) if c.labels]
            if labels:
                fit["labels"] = labels[0].name
                fit["label"] = pick_label(labels[0].labels, ("Text", "Word", "Line"))
        fit["tags"] = [name for name in (box.name, fit["labels"], text.name) if name]
        return fit
    return None


class Tesseract:
    """The program and what it read lately (pages for smart rectangles)."""

    def __init__(self, program, tessdata=None, libraries=None, library=None):
        self.program = program
        self.library = library  # a tesseract_api.Library: pages read in this process
        self.env = dict(os.environ, OMP_THREAD_LIMIT="1")  # OpenMP threads: 0.36 s -> 2.3 s
        if tessdata:
            self.env["TESSDATA_PREFIX"] = tessdata
        if libraries:  # a bundle's: its libtesseract and leptonica sit beside Python's
            search = [libraries] + [p for p in self.env.get("LD_LIBRARY_PATH", "").split(
                os.pathsep) if p]
            self.env["LD_LIBRARY_PATH"] = os.pathsep.join(search)
        self.pages = collections.OrderedDict()

    def version(self):
        if self.library is not None:
            return f"tesseract {self.library.version} (library)"
        out = subprocess.run([self.program, "--version"], capture_output=True, text=True,
                             env=self.env, timeout=TIMEOUT_S)
        return (out.stdout or out.stderr).splitlines()[0].strip()

    def read(self, path, lang="eng", psm=3):
        """(width, height, words) of an image as shown (EXIF orientation applied); each word
        (left, top, width, height, conf, text, line key)."""
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size, lang, psm)
        if key in self.pages:
            self.pages.move_to_end(key)
            return self.pages[key]
        page = _oriented_read(self, path, lang, psm)
        self.pages[key] = page
        while len(self.pages) > _CACHED_PAGES:
            self.pages.popitem(last=False)
        return page

    def tsv(self, path, lang, psm):
        if self.library is not None:
            return parse_tsv(self.library.tsv(path, lang, psm, TIMEOUT_S))
        # TSV by its variables, not the "tsv" config file: a bundle carries no configs/ folder
        cmd = [self.program, os.fspath(path), "stdout", "--psm", str(psm), "-l", lang,
               "-c", "tessedit_create_tsv=1", "-c", "tessedit_create_txt=0"]
        out = subprocess.run(cmd, capture_output=True, env=self.env, timeout=TIMEOUT_S)
        if out.returncode != 0:
            message = out.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"Tesseract could not read {os.path.basename(path)}: "
                               f"{message[-1] if message else out.returncode}")
        return parse_tsv(out.stdout.decode("utf-8", "replace"))


def parse_tsv(text):
    """(width, height, words) from Tesseract's TSV (the program's, with its header row, or the
    library's, without): the page row gives the size; word rows (level 5) with text give
    (left, top, width, height, conf, text, (block, par, line))."""
    width = height = 0
    words = []
    for row in text.splitlines():
        cells = row.split("\t", 11)
        if len(cells) < 12:
            continue
        level = cells[0]
        if level == "1":
            width, height = int(cells[8]), int(cells[9])
        elif level == "5" and cells[11].strip():
            conf = float(cells[10])
            left, top, w, h = (int(cells[i]) for i in (6, 7, 8, 9))
            words.append((left, top, w, h, conf, cells[11].strip(),
                          (cells[1], cells[2], cells[3], cells[4])))
    return width, height, words


def find_program():
    """(program, tessdata folder or None, library folder or None): $LABELDESK_TESSERACT, the
    copy a packaged LabelDesk carries (<bundle>/tesseract/, packaging/labeldesk.spec), else
    `tesseract` on the PATH."""
    explicit = os.environ.get("LABELDESK_TESSERACT")
    if explicit:
        return explicit, None, None
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        program = os.path.join(bundle, "tesseract", "tesseract")
        if os.path.exists(program):
            return program, os.path.join(bundle, "tesseract", "tessdata"), bundle
    found = shutil.which("tesseract")
    if found is None:
        raise RuntimeError(f"Tesseract is not installed. {NEEDS}.")
    return found, None, None


def missing():
    """Tesseract not found (the program), said before anyone turns OCR on."""
    try:
        find_program()
    except RuntimeError as exc:
        return str(exc)
    return None


def load():
    """Tesseract: its library in this process where one loads (not for $LABELDESK_TESSERACT, a
    program chosen, nor with LABELDESK_OCR_ENGINE=program), else its program."""
    program, tessdata, libraries = find_program()
    library = None
    if (not os.environ.get("LABELDESK_TESSERACT")
            and os.environ.get("LABELDESK_OCR_ENGINE", "library") != "program"):
        library = tesseract_api.load(program, tessdata, libraries)
    model = Tesseract(program, tessdata, libraries, library)
    if library is None:
        try:
            model.version()  # fails here, once, when the program can't run
        except (OSError, subprocess.SubprocessError) as exc:
            raise RuntimeError(f"Tesseract can't run ({exc}). {NEEDS}.")
    return model


def predict(model, tasks, fit, context=None):
    lang = fit.get("lang", "eng")
    per_word = fit.get("granularity") == "word"
    min_conf = fit.get("min_confidence", MIN_CONFIDENCE)
    predictions = []
    for task in tasks:
        path = (task.get("local_files") or {}).get(fit["data_key"])
        if not path:
            predictions.append(prediction(NAME, VERSION, [], None))
            continue
        width, height, words = model.read(path, lang)
        words = [w for w in words if w[4] >= min_conf]
        drawn = [r for r in (context or {}).get("result") or []
                 if isinstance(r, dict) and r.get("type") in _RECTANGLES
                 and isinstance(r.get("value"), dict)]
        if drawn:
            result, confs = _transcribe_drawn(drawn, width, height, words, fit)
        else:
            groups = [[w] for w in words] if per_word else _lines(words)
            result, confs = [], []
            for group in groups:
                box = _union(group)
                confs.extend(w[4] for w in group)
                text = " ".join(w[5] for w in group)
                score = sum(w[4] for w in group) / len(group) / 100
                result.extend(region(fit, region_id(), box, width, height, text, score))
        score = sum(confs) / len(confs) / 100 if confs else None
        predictions.append(prediction(NAME, VERSION, result, score))
    return predictions


def region(fit, rid, box, width, height, text, score=None):
    """The results of one OCR region: its rectangle, its labels (when the config has a
    `<Labels>` on the image) and its transcription, with one id."""
    left, top, right, bottom = box
    geometry = {"x": percent(left, width), "y": percent(top, height),
                "width": percent(right - left, width), "height": percent(bottom - top, height),
                "rotation": 0}
    common = {"id": rid, "to_name": fit["to_name"], "original_width": width,
              "original_height": height, "image_rotation": 0}
    if score is not None:
        common["score"] = round(score, 4)
    kind = fit["rectangle_type"]
    shape = dict(geometry)
    if kind == "rectanglelabels":
        shape["rectanglelabels"] = [fit["label"]]
    out = [{**common, "from_name": fit["rectangle"], "type": kind, "value": shape}]
    if fit.get("labels"):
        out.append({**common, "from_name": fit["labels"], "type": "labels",
                    "value": {**geometry, "labels": [fit["label"]]}})
    out.append({**common, "from_name": fit["textarea"], "type": "textarea",
                "value": {**geometry, "text": [text]}})
    return out


def _lines(words):
    """Words grouped by Tesseract's lines, in reading order."""
    lines = {}
    for word in words:
        lines.setdefault(word[6], []).append(word)
    return list(lines.values())


def _union(words):
    return (min(w[0] for w in words), min(w[1] for w in words),
            max(w[0] + w[2] for w in words), max(w[1] + w[3] for w in words))


def _transcribe_drawn(drawn, width, height, words, fit):
    """A smart rectangle's transcription: the words whose centres lie in the box drawn, line
    by line; the textarea takes the drawn region's id and geometry."""
    result, confs = [], []
    for item in drawn:
        value = item["value"]
        try:
            left = float(value["x"]) * width / 100
            top = float(value["y"]) * height / 100
            right = left + float(value["width"]) * width / 100
            bottom = top + float(value["height"]) * height / 100
        except (KeyError, TypeError, ValueError):
            continue
        inside = [w for w in words if left <= w[0] + w[2] / 2 <= right
                  and top <= w[1] + w[3] / 2 <= bottom]
        confs.extend(w[4] for w in inside)
        text = "\n".join(" ".join(w[5] for w in line) for line in _lines(inside))
        geometry = {k: value[k] for k in ("x", "y", "width", "height") if k in value}
        geometry["rotation"] = value.get("rotation", 0)
        rid = item.get("id") or region_id()
        result.append({"id": rid, "from_name": fit["textarea"], "to_name": fit["to_name"],
                       "type": "textarea", "original_width": width, "original_height": height,
                       "image_rotation": 0, "value": {**geometry, "text": [text]}})
        result.append({**item, "id": rid})
    return result, confs


# -- EXIF orientation -------------------------------------------------------------------------
# The editor shows a photo turned as its EXIF orientation says (browsers apply it); Tesseract
# reads the pixels as stored. A turned photo is turned for Tesseract with Pillow when there is
# one; without it the boxes are mapped into the frame shown (text on its side reads poorly).

def _oriented_read(model, path, lang, psm):
    orientation = jpeg_orientation(path)
    if orientation in (None, 1):
        return model.tsv(path, lang, psm)
    try:
        from PIL import Image, ImageOps
    except ImportError:
        width, height, words = model.tsv(path, lang, psm)
        return _turn(width, height, words, orientation)
    with tempfile.TemporaryDirectory(prefix="labeldesk-ocr-") as folder:
        turned = os.path.join(folder, "page.png")
        with Image.open(path) as image:
            ImageOps.exif_transpose(image).save(turned)
        return model.tsv(turned, lang, psm)


def _turn(width, height, words, orientation):
    """Boxes read from the stored pixels, in the frame the orientation shows."""
    def point(x, y):
        return {2: (width - x, y), 3: (width - x, height - y), 4: (x, height - y),
                5: (y, x), 6: (height - y, x), 7: (height - y, width - x),
                8: (y, width - x)}.get(orientation, (x, y))
    turned = []
    for left, top, w, h, conf, text, line in words:
        (x1, y1), (x2, y2) = point(left, top), point(left + w, top + h)
        turned.append((min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1), conf, text, line))
    size = (height, width) if orientation >= 5 else (width, height)
    return size[0], size[1], turned


def jpeg_orientation(path):
    """The EXIF orientation (1-8) of a JPEG file, None for other files or none given."""
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"\xff\xd8":
                return None
            while True:
                marker = f.read(2)
                if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xD9, 0xDA):
                    return None
                size = int.from_bytes(f.read(2), "big")
                if marker[1] == 0xE1:
                    return _exif_orientation(f.read(size - 2))
                f.seek(size - 2, 1)
    except (OSError, ValueError):
        return None


def _exif_orientation(segment):
    if not segment.startswith(b"Exif\x00\x00"):
        return None
    tiff = segment[6:]
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return None
    ifd = int.from_bytes(tiff[4:8], order)
    count = int.from_bytes(tiff[ifd:ifd + 2], order)
    for i in range(count):
        entry = tiff[ifd + 2 + 12 * i: ifd + 14 + 12 * i]
        if len(entry) == 12 and int.from_bytes(entry[:2], order) == 0x0112:
            value = int.from_bytes(entry[8:10], order)
            return value if 1 <= value <= 8 else None
    return None
