"""Label Studio's label-config templates (GET /api/templates) and their thumbnails.

The templates are Label Studio's own `annotation_templates/` folder: one config.yml per
template (title, type, group, image, details, config, sometimes order and source_repo) and
groups.txt, the groups in the order the web app shows them. Set-up unpacks the folder from the
pinned label-studio 1.23.2 wheel into TEMPLATES_DIR, and the thumbnails each `image` names
(/static/templates/<name>, the wheel's label_studio/core/static/templates/) into
TEMPLATE_IMAGES_DIR. They are read once, as Label Studio reads them once at start-up.

Read with yaml.safe_load: the files are data, and nothing in them needs a Python tag.
"""

import logging
import threading
from pathlib import Path

import yaml

log = logging.getLogger("labeldesk.templates")

WEBAPP_DIR = Path(__file__).resolve().parent.parent / "ui" / "vendor" / "webapp"
TEMPLATES_DIR = WEBAPP_DIR / "annotation_templates"
TEMPLATE_IMAGES_DIR = WEBAPP_DIR / "static" / "templates"
IMAGE_PREFIX = "/static/templates/"

_cache = {}
_lock = threading.Lock()


def template_list():
    """{"templates": [...], "groups": [...]} as Label Studio 1.23.2 answers GET /api/templates
    (the Community edition: the Community Contributions group included)."""
    folder = Path(TEMPLATES_DIR)
    with _lock:
        if folder not in _cache:
            _cache[folder] = read_templates(folder)
        return _cache[folder]


def read_templates(folder):
    """Every <folder>/**/config.yml (any *.yml, as LS globs) in path order, and groups.txt.
    A folder that is missing (set-up did not run) gives empty lists and a warning."""
    folder = Path(folder)
    if not folder.is_dir():
        log.warning("No label-config templates: %s is missing (run `make setup`)", folder)
        return {"templates": [], "groups": []}
    templates = []
    for path in sorted(folder.glob("**/*.yml")):
        try:
            template = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            log.warning("Skipping the template %s: %s", path, e)
            continue
        if isinstance(template, dict):
            templates.append(template)
    try:
        groups = (folder / "groups.txt").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        groups = []
    return {"templates": templates, "groups": groups}


def image_path(name):
    """The thumbnail file behind /static/templates/<name>, or None: only regular files inside
    TEMPLATE_IMAGES_DIR (no `..`, no absolute paths, no symlinks out of it)."""
    root = Path(TEMPLATE_IMAGES_DIR)
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return None
    if any(part in ("", ".", "..") for part in name.split("/")):
        return None
    try:
        real_root = root.resolve()
        path = (root / name).resolve()
        path.relative_to(real_root)
    except (OSError, ValueError, RuntimeError):
        return None
    return path if path.is_file() else None
