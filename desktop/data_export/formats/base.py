"""The export registry: what a format is, which label configs it fits, and how files are named.

Every exporter module defines one or more `ExportFormat` subclasses and decorates them with
`@register`. `formats_for()` answers `GET /api/projects/{id}/export/formats` from the registry,
in Label Studio's catalogue order, so adding a format is adding one module.
"""

import dataclasses
import datetime
import pathlib
from typing import BinaryIO, Callable, Iterable, Optional

from desktop.core.errors import ValidationError

# Label Studio's catalogue order (converter `_FORMAT_INFO`); formats_for() keeps it, then moves
# the disabled ones to the end with a stable sort, exactly like LS.
CATALOGUE = [
    "JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "COCO", "COCO_WITH_IMAGES", "VOC", "YOLO",
    "YOLO_WITH_IMAGES", "YOLO_OBB", "YOLO_OBB_WITH_IMAGES", "BRUSH_TO_NUMPY", "BRUSH_TO_PNG",
    "ASR_MANIFEST", "BRUSH_TO_COCO", "DOCLANG",
]

FORMATS = {}


def register(cls):
    """Class decorator: add one instance of an ExportFormat subclass to FORMATS."""
    FORMATS[cls.name] = cls()
    return cls


@dataclasses.dataclass
class ExportContext:
    """What an exporter may know about the project besides its tasks."""

    project_id: int
    parsed_label_config: dict
    label_config: str = ""
    download_resources: bool = True
    # Maps a task data URL ("/data/upload/1/ab12-cat.png", "/data/local-files/?d=...") to a
    # readable local file, or None when it cannot be read. Exporters never fetch by themselves.
    resolve_media: Callable[[str], Optional[pathlib.Path]] = lambda url: None
    now: datetime.datetime = dataclasses.field(default_factory=datetime.datetime.now)
    # Spreadsheet formats (escapes_formulas = True): text that could start a formula gets a
    # leading "'" (csv_export.neutralize); False writes Label Studio's bytes.
    escape_formulas: bool = True

    @property
    def data_keys(self):
        return config_data_keys(self.parsed_label_config)

    @property
    def data_key(self):
        """The data key media formats read (LS: the converter's first data key)."""
        keys = self.data_keys
        return keys[0] if keys else None


class ExportFormat:
    """One export format. Subclasses set the catalogue fields and implement fits() and write()."""

    name = ""
    title = ""
    description = ""
    link = ""
    tags = None  # list of str, or None when LS shows no "tags" key
    implemented = True
    escapes_formulas = False  # True: ExportContext.escape_formulas changes what is written

    def fits(self, summary):
        """True when LS lists this format as enabled for a config (`summary` is a ConfigSummary)."""
        return False

    def write(self, tasks: Iterable[dict], out: BinaryIO, ctx: ExportContext):
        """Stream the export of `tasks` (LS JSON export shape) into `out`.

        Returns (extension with the dot, content type) as LS would answer them.
        """
        raise ValidationError(f"{self.name} export is not implemented in LabelDesk")

    def info(self):
        """The catalogue entry, keys in LS's order (title, description, link, tags, name)."""
        entry = {"title": self.title, "description": self.description, "link": self.link}
        if self.tags is not None:
            entry["tags"] = list(self.tags)
        entry["name"] = self.name
        return entry


class ConfigSummary:
    """The facts of a parsed label config that LS's `_get_supported_formats` looks at."""

    def __init__(self, parsed, data_keys=None):
        parsed = parsed or {}
        self.data_keys = list(data_keys) if data_keys is not None else config_data_keys(parsed)
        self.control_types = {info.get("type") for info in parsed.values()}
        self.object_types = set()
        self.multi_image = False
        for info in parsed.values():
            for obj in info.get("inputs", []):
                if obj.get("valueList"):
                    self.multi_image = True
                # LS ignores url-valued Text objects here
                if obj.get("type") == "Text" and obj.get("valueType") == "url":
                    continue
                self.object_types.add(obj.get("type"))

    def has(self, *types):
        """True when any of `types` is a control or an object tag type of the config."""
        return any(t in self.control_types or t in self.object_types for t in types)

    @property
    def several_data_keys(self):
        return len(self.data_keys) > 1


def config_data_keys(parsed):
    """Data keys referenced by the control tags' objects, as LS's converter collects them.

    LS keeps them in a set; we keep first-seen order so a project's "first data key" is stable.
    """
    keys = []
    for info in (parsed or {}).values():
        for obj in info.get("inputs", []):
            for attr in ("value", "valueList"):
                if attr in obj and obj[attr] not in keys:
                    keys.append(obj[attr])
    return keys


def formats_for(parsed_label_config, data_keys=None):
    """LS's `GET /api/projects/{id}/export/formats` answer for a project.

    `data_keys` defaults to the keys LS derives from the parsed config (objects referenced by a
    control); pass them only to override that.
    """
    _load_all()
    summary = ConfigSummary(parsed_label_config, data_keys)
    entries = []
    for name in CATALOGUE:
        fmt = FORMATS[name]
        entry = fmt.info()
        if not is_enabled(fmt, summary):
            entry["disabled"] = True
        entries.append(entry)
    return sorted(entries, key=lambda e: e.get("disabled", False))


def is_enabled(fmt, summary):
    # With several data keys LS only offers the tabular formats (and DocLang).
    if summary.several_data_keys and fmt.name not in ("JSON", "JSON_MIN", "CSV", "TSV", "DOCLANG"):
        return False
    return fmt.fits(summary)


def supported_formats(parsed_label_config, data_keys=None):
    """Names of the enabled formats, in catalogue order."""
    return [e["name"] for e in formats_for(parsed_label_config, data_keys) if not e.get("disabled")]


def get_format(name):
    """The registered format called `name`; ValidationError for an unknown name."""
    _load_all()
    try:
        return FORMATS[name]
    except KeyError:
        raise ValidationError(f"{name} is not supported export format") from None


def export_filename(project_id, now, ext, digest):
    """LS's download name: project-<id>-at-<YYYY-MM-DD-HH-MM>-<digest[:8]><ext>.

    `ext` may be given with or without its dot. LS hashes the tasks JSON; any hex digest of the
    exported content serves the same purpose (telling two exports apart).
    """
    ext = ext if ext.startswith(".") else "." + ext
    return f"project-{project_id}-at-{now.strftime('%Y-%m-%d-%H-%M')}-{digest[:8]}{ext}"


def content_type_for(ext):
    """LS answers single files as `application/<ext>` with the dot kept (`application/.json`)."""
    return "application/zip" if ext == ".zip" else f"application/{ext}"


def _load_all():
    # Importing the modules runs their @register decorators.
    from desktop.data_export.formats import asr, brush, coco, conll, csv_export, json_export, unimplemented, voc, yolo  # noqa: F401
