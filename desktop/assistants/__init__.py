"""Built-in assistants: model helpers that work offline from the first run (OCR, named entities,
teach mode, click-to-mask, near-duplicates; docs/adr/0012-assistants.md).

Each assistant is one module here (`desktop/assistants/<name>.py`) with:

    NAME: str; TITLE: str; VERSION: str   predictions carry model_version f"{NAME}-{VERSION}"
    LIGHT: bool          carried by `make run` and the AppImage, or installed on demand
    NEEDS: str           what to install when it is missing, in words a user can follow
    def fits(label_config: str) -> dict | None     the tags it would fill, or None
    def load() -> object                           the model, once per worker process
    def predict(model, tasks, fit, context=None) -> list[dict]
        one Label Studio prediction per task: {"result": [...], "score", "model_version"}
    optional:
    def update(model, task, annotation, fit) -> None   learns on submit (teach mode)
    def missing() -> str | None     what is missing although the module imports (a binary,
                                    a model package); None when it can run
    INTERACTIVE: bool    answers Label Studio's interactive annotating (smart tools)
    MAPS_LABELS: bool    predict() follows fit["label_map"] itself (the worker renames nothing)

Modules keep heavy imports inside load() and predict() where they can, so that listing the
assistants costs nothing. The worker (desktop/assistants/worker.py, its own process) runs them
behind Label Studio's ML backend protocol; the fit it hands them also carries "project" (the
project's id, as text) and "label_map" ({model label: project label}). A fit that names the
labels the model itself produces (`"model_labels": [...]`, e.g. spaCy's PERSON, ORG) gets a
label map: labels equal but for case and punctuation are mapped by themselves, the user maps
the others on the Assistants page (`label_map` of enable), over the fit's own `label_map`
(the module's defaults); the worker renames the labels of the predictions' results with it,
so predict() may answer in the model's own labels (or follow the map itself: MAPS_LABELS).
Tasks reach predict() as Label Studio task dicts whose media are already local files:
`task["local_files"] = {data_key: path}` for every data value that names a file LabelDesk
serves (an upload, a local-files storage file, a data: URI).

This package's own modules are `worker` (the model server, standard library only),
`service` (the app's side: starting the worker, the ML backend links, the API's work),
`media` (a task's files as local paths in the worker), `labels` (label configs and label
maps). The app side may import desktop.ml, desktop.core, desktop.labelconfig and desktop.db;
the worker and the assistant modules import nothing of LabelDesk above desktop.labelconfig.
"""

import importlib
import importlib.util

REGISTRY = ("ocr", "entities", "teach", "mask", "duplicates")

# What to install when an assistant's module itself can't be imported (it names its own NEEDS
# otherwise): the extras of pyproject.toml.
INSTALL = {
    "ocr": "Tesseract OCR: on Debian/Ubuntu `sudo apt-get install tesseract-ocr`, and "
           "`pip install 'labeldesk[assistants]'`",
    "entities": "`pip install 'labeldesk[assistants-full]'` (spaCy and its small English "
                "pipeline)",
    "teach": "`pip install 'labeldesk[assistants]'` (numpy)",
    "mask": "`pip install 'labeldesk[assistants-full]'` (OpenCV)",
    "duplicates": "`pip install 'labeldesk[assistants]'` (numpy and Pillow)",
}


# Titles and weights of assistants whose module can't be imported (it names its own otherwise).
TITLES = {"ocr": "OCR", "entities": "Named entities", "teach": "Teach mode",
          "mask": "Click-to-mask", "duplicates": "Near-duplicates"}
LIGHT = {"ocr": True, "entities": False, "teach": True, "mask": False, "duplicates": True}


class Missing(Exception):
    """An assistant that can't run here: `needs` says what to install."""

    def __init__(self, name, needs, why=""):
        super().__init__(f"not installed: {needs}")
        self.name, self.needs, self.why = name, needs, why


def findable(name):
    """Whether the module `name` could be imported, without importing it (spaCy takes 2 s):
    an assistant's missing() asks it of its heavy packages."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def module(name):
    """The assistant's module; Missing when it, or a package it imports, is not installed."""
    if name not in REGISTRY:
        raise KeyError(name)
    try:
        found = importlib.import_module(f"desktop.assistants.{name}")
    except ImportError as e:  # the module, or something it imports at the top, is missing
        raise Missing(name, INSTALL[name], f"{type(e).__name__}: {e}") from None
    problem = found.missing() if callable(getattr(found, "missing", None)) else None
    if problem:
        raise Missing(name, getattr(found, "NEEDS", INSTALL[name]), problem)
    return found


def describe(name):
    """What the assistants list shows of one assistant, read from its module when it imports."""
    info = {"name": name, "title": TITLES[name], "version": "", "light": LIGHT[name],
            "needs": INSTALL[name], "installed": True, "interactive": False, "error": None}
    try:
        found = module(name)
    except Missing as e:
        try:  # the module may import and only lack a binary: keep its own words
            found = importlib.import_module(f"desktop.assistants.{name}")
        except ImportError:
            found = None
        info.update(installed=False, needs=e.needs, error=e.why or str(e))
    if found is not None:
        info.update(title=getattr(found, "TITLE", info["title"]),
                    version=getattr(found, "VERSION", ""),
                    light=bool(getattr(found, "LIGHT", False)),
                    needs=getattr(found, "NEEDS", info["needs"]),
                    interactive=bool(getattr(found, "INTERACTIVE", False)))
    return info
