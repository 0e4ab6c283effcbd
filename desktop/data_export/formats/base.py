"""The export registry: what a format is, which label configs it fits, and how files are named.

A format module in this package lists its formats in a module-level `FORMATS = [...]` of
`ExportFormat` instances. `REGISTRY` finds those modules (pkgutil) the first time a format is
looked up; nothing is registered by importing. `formats_for()` answers
`GET /api/projects/{id}/export/formats` from it, in Label Studio's catalogue order
(`ExportFormat.order`), so adding a format is adding one module.
"""

import dataclasses
import datetime
import importlib
import pathlib
import pkgutil
from collections.abc import Mapping
from typing import BinaryIO, Callable, Iterable, Optional

from desktop.core.errors import ValidationError


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
    # Position in Label Studio's catalogue (converter `_FORMAT_INFO`); formats_for() lists by it,
    # then moves the disabled ones to the end with a stable sort, exactly like LS.
    order = 1000
    title = ""
    description = ""
    link = ""
    tags = None  # list of str, or None when LS shows no "tags" key
    multi_key = False  # True: LS offers it when the config reads several data keys
    escapes_formulas = False  # True: ExportContext.escape_formulas changes what is written

    def fits(self, summary):
        """True when LS lists this format as enabled for a config (`summary` is a ConfigSummary)."""
        return False

    def write(self, tasks: Iterable[dict], out: BinaryIO, ctx: ExportContext):
        """Stream the export of `tasks` (LS JSON export shape) into `out`.

        Returns (extension with the dot, content type) as LS would answer them.
        """
        raise NotImplementedError

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


class Registry(Mapping):
    """Formats by name, found in the modules of `packages` on the first lookup.

    Every module of a package that defines `FORMATS` (a list of ExportFormat instances) is
    imported once; a later package's format replaces an earlier one of the same name. Iteration
    is in catalogue order (`ExportFormat.order`, then discovery order).
    """

    def __init__(self, *packages):
        self.packages = packages
        self._formats = None

    def _load(self):
        if self._formats is None:
            found = {}
            for package in self.packages:
                path = importlib.import_module(package).__path__
                for module_info in pkgutil.iter_modules(path, package + "."):
                    module = importlib.import_module(module_info.name)
                    for fmt in getattr(module, "FORMATS", ()):
                        found[fmt.name] = fmt
            ordered = sorted(found.values(), key=lambda fmt: fmt.order)
            self._formats = {fmt.name: fmt for fmt in ordered}
        return self._formats

    def __getitem__(self, name):
        return self._load()[name]

    def __iter__(self):
        return iter(self._load())

    def __len__(self):
        return len(self._load())


REGISTRY = Registry(__package__)


def formats_for(parsed_label_config, data_keys=None, registry=REGISTRY):
    """LS's `GET /api/projects/{id}/export/formats` answer for a project.

    `data_keys` defaults to the keys LS derives from the parsed config (objects referenced by a
    control); pass them only to override that.
    """
    summary = ConfigSummary(parsed_label_config, data_keys)
    entries = []
    for fmt in registry.values():
        entry = fmt.info()
        if not is_enabled(fmt, summary):
            entry["disabled"] = True
        entries.append(entry)
    return sorted(entries, key=lambda e: e.get("disabled", False))


def is_enabled(fmt, summary):
    # With several data keys LS only offers the tabular formats.
    if summary.several_data_keys and not fmt.multi_key:
        return False
    return fmt.fits(summary)


def supported_formats(parsed_label_config, data_keys=None):
    """Names of the enabled formats, in catalogue order."""
    return [e["name"] for e in formats_for(parsed_label_config, data_keys) if not e.get("disabled")]


def get_format(name, registry=REGISTRY):
    """The format called `name`; ValidationError for an unknown name."""
    try:
        return registry[name]
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

