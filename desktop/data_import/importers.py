"""Uploaded files -> LS task items, the way LS 1.23's FileUpload.read_tasks() reads them.

Every item is LS-shaped: `{"data": {...}}`, plus annotations/predictions/meta when a JSON item
carries them. Project-level checks (one data key for single files, `$undefined$` replacement,
data validation) belong to the caller.
"""

import os

import orjson

from desktop.core import jsonload
from desktop.core.errors import ValidationError
from desktop.data_import.csvread import read_rows

UNDEFINED = "$undefined$"

MEDIA_EXTENSIONS = frozenset(
    [".bmp", ".gif", ".jpg", ".jpeg", ".png", ".svg", ".webp",
     ".flac", ".m4a", ".mp3", ".ogg", ".wav",
     ".mp4", ".webm", ".pdf"]
)
HYPERTEXT_EXTENSIONS = frozenset([".html", ".htm", ".xml"])
LIST_EXTENSIONS = frozenset([".csv", ".tsv", ".txt"])
# LS 1.23's SUPPORTED_EXTENSIONS, plus .jsonl (one task per line) which LabelDesk adds
ALLOWED_EXTENSIONS = frozenset(MEDIA_EXTENSIONS | HYPERTEXT_EXTENSIONS | LIST_EXTENSIONS
                               | {".json", ".jsonl"})


def extension(filename):
    return os.path.splitext(filename)[1].lower()


def is_media(filename):
    """True for files that become one task each, holding their URL."""
    return extension(filename) in MEDIA_EXTENSIONS


def is_list_format(filename):
    """LS's `could_be_tasks_list`: csv, tsv and txt files."""
    return extension(filename) in LIST_EXTENSIONS


def check_extension(filename):
    ext = extension(filename)
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(f"{ext} extension is not supported")


def read_tasks(filename, data, url=None, stored=None, as_list=True):
    """Task items read from an uploaded file's bytes.

    `url` is what a media file's task points to (e.g. "/data/upload/1/ab12cd34-cat.png");
    without it the file name is used. Bad files raise ValidationError with LS's message,
    "Failed to parse input file <name>: <reason>", naming the `stored` file (LS names the
    upload as stored, "ab12cd34-a.csv") or else `filename`. With `as_list` false (LS's
    files_as_tasks_list), a CSV, TSV or text file is one task pointing at its `url`.
    """
    check_extension(filename)
    ext = extension(filename)
    name = os.path.basename(stored or filename)
    if not as_list and ext in LIST_EXTENSIONS:
        return [{"data": {UNDEFINED: url or filename}}]
    if ext in MEDIA_EXTENSIONS:
        return [{"data": {UNDEFINED: url or filename}}]
    try:
        if ext == ".json":
            return json_tasks(data)
        if ext == ".jsonl":
            return jsonl_tasks(data)
        text = data.decode("utf-8-sig" if ext in (".csv", ".tsv") else "utf-8")
        if ext in (".csv", ".tsv"):
            return read_rows(text, csv_separator(text) if ext == ".csv" else "\t", wrap="data")
        if ext == ".txt":
            # LS keeps empty lines as tasks too (str.splitlines).
            return [{"data": {UNDEFINED: line}} for line in text.splitlines()]
        return [{"data": {UNDEFINED: text}}]
    except ValidationError as exc:
        raise ValidationError(f"Failed to parse input file {name}: {first_message(exc)}") from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(f"Failed to parse input file {name}: {exc}") from None


def csv_separator(text):
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","


def json_tasks(data):
    tasks = loads(data)
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise ValidationError("Data root must be list")
    return [task_item(task) for task in tasks]


def jsonl_tasks(data):
    tasks = []
    for number, line in enumerate(data.splitlines(), start=1):
        if line.strip():
            try:
                tasks.append(task_item(loads(line)))
            except ValueError as exc:
                raise ValueError(f"line {number}: {exc}") from None
    return tasks


def loads(data):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return jsonload.loads(data)  # nesting capped: see desktop/core/jsonload.py
    except jsonload.TooDeep as exc:
        raise ValueError(str(exc)) from None
    except orjson.JSONDecodeError as exc:
        if not data.strip() or exc.pos == len(data) - len(data.lstrip()):
            # nothing JSON-like at all: ujson's message, which LS shows
            raise ValueError("Expected object or value") from None
        raise ValueError(str(exc)) from None


def task_item(task):
    # Like LS: an item without a truthy "data" is the data itself.
    if not isinstance(task, dict) or not task.get("data"):
        task = {"data": task}
    if not isinstance(task["data"], dict):
        raise ValidationError("Task item should be dict")
    return task


def first_message(exc):
    for messages in exc.errors.values():
        if messages:
            return messages[0]
    return exc.detail
