"""Live export folders: a folder on disk kept in sync with a project's annotations.

A project may have one live folder, set with PUT /api/projects/{id}/live-export
{"path": "/abs/folder", "format": "JSON" | "COCO" | "YOLO" | ..., "download_resources": false,
"escape_formulas": true} (CSV/TSV: formulas neutralized, as in every export) and kept in this
module's own table ("live_exports"), not in the project object.

* "JSON" does what Label Studio's local export ("target") storage does: one file per
  annotation, named by the annotation id without extension, holding the annotation (its
  `completed_by` expanded to the user) with the task embedded. Created or rewritten when an
  annotation is saved, removed when it is deleted.
* Any other format the project supports (COCO, YOLO, VOC, CSV, JSON_MIN, ...) is re-exported
  as a whole a moment after the last change (debounced, at most every MAX_DELAY seconds while
  labeling goes on) and unpacked into the folder: zip formats as their files (images/,
  labels/, result.json, ...), single-file formats as result.<ext>. Unchanged files are left
  alone; files a previous export wrote and this one doesn't are removed.

Every file is written to a temporary name in the same folder, fsynced and renamed over the old
one, so a reader sees the old file or the new one, never half of either. The work runs on one
background thread: saving an annotation never waits for the disk.

The folder must be inside settings.local_files_root or the data folder (not its db/ or media/).
"""

import logging
import os
import threading
import time
import zipfile
import zlib
from pathlib import Path

import orjson

from desktop.core import clock
from desktop.core.errors import NotFound, ValidationError
from desktop.core.files import atomic_copy, atomic_write, blocks
from desktop.core.paging import parse_bool
from desktop.data_export import formats
from desktop.data_export.annotation_file import annotation_file
from desktop.db.journal import fsync_dir

log = logging.getLogger("labeldesk.livefolder")

TABLE = "live_exports"
MANIFEST = ".labeldesk-live.json"
DEBOUNCE = 0.5
MAX_DELAY = 5.0


def file_crc(path):
    crc = 0
    with open(path, "rb") as f:
        for block in blocks(f):
            crc = zlib.crc32(block, crc)
    return crc


class LiveFolders:
    def __init__(self, core, exports):
        self.core = core
        self.exports = exports
        self.r = core.records
        self.table = core.records.store.table(TABLE)
        self.cond = threading.Condition()
        self.pending = {}  # project id -> {"write": set, "delete": set, "rewrite": (first, last)}
        self.status = {}  # project id -> {"last_written_at", "last_error", "writes"}
        self.thread = None
        self.stopping = False
        self._busy = False
        core.annotations.on_change.append(self.on_change)
        for project_id in list(self.configs()):
            self.schedule_full(project_id)

    # -- settings -------------------------------------------------------------------------

    def configs(self):
        """project id -> config, for projects that still exist."""
        out = {}
        for doc in self.table.docs().values():
            if self.r.projects.doc(doc["project"]) is not None:
                out[doc["project"]] = doc
        return out

    def config(self, project_id):
        for doc_id, doc in self.table.docs().items():
            if doc["project"] == project_id:
                return doc_id, doc
        return None, None

    def as_json(self, project_id):
        self.core.projects.get(project_id)
        _, doc = self.config(project_id)
        if doc is None:
            return {"enabled": False, "path": None, "format": None, "download_resources": False}
        state = self.status.get(project_id, {})
        return {"enabled": True, "path": doc["path"], "format": doc["format"],
                "download_resources": doc.get("download_resources", False),
                "escape_formulas": doc.get("escape_formulas", True),
                "created_at": doc.get("created_at"),
                "last_written_at": state.get("last_written_at"),
                "last_error": state.get("last_error"), "pending": project_id in self.pending}

    def allowed_roots(self):
        settings = self.core.settings
        roots = [Path(settings.data_dir).resolve()]
        if getattr(settings, "local_files_root", None):
            roots.append(Path(settings.local_files_root).resolve())
        return roots

    def check_path(self, value):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError({"path": ["This field is required."]})
        path = Path(value).expanduser()
        if not path.is_absolute():
            raise ValidationError({"path": ["Must be an absolute path."]})
        path = path.resolve()
        data_dir = Path(self.core.settings.data_dir).resolve()
        for private in (data_dir / "db", data_dir / "media", data_dir / "export"):
            if path == private or private in path.parents:
                raise ValidationError({"path": [f"{private} belongs to LabelDesk itself."]})
        if path.exists() and not path.is_dir():
            raise ValidationError({"path": ["Not a folder."]})
        roots = self.allowed_roots()
        if not any(path == root or root in path.parents for root in roots):
            raise ValidationError({"path": [
                f'"{path}" must be inside the local files root ({roots[-1]}) or the data '
                f"folder ({roots[0]})."]})
        return path

    def configure(self, project_id, fields):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary.")
        self.core.projects.get(project_id)
        path = self.check_path(fields.get("path"))
        fmt = fields.get("format") or "JSON"
        if not isinstance(fmt, str):
            raise ValidationError({"format": ["Not a valid string."]})
        fmt = fmt.upper()
        if fmt != "JSON":
            supported = formats.supported_formats(self.core.projects.config(project_id).parsed)
            if fmt not in supported:
                raise ValidationError({"format": [
                    f"{fmt} is not supported export format for this project "
                    f"(supported: {', '.join(supported)})."]})
            formats.get_format(fmt)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ValidationError({"path": [f"Can't create the folder: {e.strerror}"]}) from None
        doc = {"project": project_id, "path": str(path), "format": fmt,
               "download_resources": bool(fields.get("download_resources", False)),
               "escape_formulas": parse_bool("escape_formulas", fields.get("escape_formulas"),
                                             True),
               "created_at": clock.iso()}
        with self.r.transaction():
            doc_id, _ = self.config(project_id)
            if doc_id is not None:
                self.table.remove(doc_ids=[doc_id])
            self.table.insert(doc)
        self.status.pop(project_id, None)
        self.schedule_full(project_id)
        return self.as_json(project_id)

    def remove(self, project_id):
        self.core.projects.get(project_id)
        doc_id, _ = self.config(project_id)
        if doc_id is None:
            raise NotFound(detail="No live export folder is set for this project.")
        self.table.remove(doc_ids=[doc_id])
        with self.cond:
            self.pending.pop(project_id, None)

    def delete_project(self, project_id):
        """Forget a deleted project's folder setting (its files stay)."""
        doc_id, _ = self.config(project_id)
        if doc_id is not None:
            self.table.remove(doc_ids=[doc_id])

    # -- events ---------------------------------------------------------------------------

    def on_change(self, event, annotation_id, doc):
        configs = self.configs()
        project_id = doc["project"]
        if project_id not in configs:
            return
        with self.cond:
            if event == "ANNOTATIONS_DELETED":
                self._mark(project_id, configs[project_id], delete=annotation_id)
            else:
                self._mark(project_id, configs[project_id], write=annotation_id)
            self.cond.notify()
        self._ensure_thread()

    def _mark(self, project_id, config, write=None, delete=None):
        entry = self.pending.setdefault(project_id, {"write": set(), "delete": set(),
                                                     "rewrite": None, "full": False})
        if config["format"] == "JSON":
            if write is not None:
                entry["write"].add(write)
                entry["delete"].discard(write)
            if delete is not None:
                entry["delete"].add(delete)
                entry["write"].discard(delete)
        else:
            now = time.monotonic()
            first = entry["rewrite"][0] if entry["rewrite"] else now
            entry["rewrite"] = (first, now)

    def schedule_full(self, project_id):
        with self.cond:
            entry = self.pending.setdefault(project_id, {"write": set(), "delete": set(),
                                                         "rewrite": None, "full": False})
            entry["full"] = True
            self.cond.notify()
        self._ensure_thread()

    def _ensure_thread(self):
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="labeldesk-live-export",
                                           daemon=True)
            self.thread.start()

    def _due(self, entry, now):
        """Seconds until `entry` should run (0: now)."""
        if entry["full"] or entry["write"] or entry["delete"]:
            return 0
        if entry["rewrite"]:
            first, last = entry["rewrite"]
            return max(0.0, min(last + DEBOUNCE, first + MAX_DELAY) - now)
        return None

    def _run(self):
        while True:
            with self.cond:
                while True:
                    if self.stopping:
                        return
                    now = time.monotonic()
                    waits = {p: self._due(e, now) for p, e in self.pending.items()}
                    ready = [p for p, w in waits.items() if w == 0]
                    if ready:
                        project_id = ready[0]
                        entry = self.pending.pop(project_id)
                        self._busy = True
                        break
                    delays = [w for w in waits.values() if w is not None]
                    self.cond.wait(min(delays) if delays else 30)
            try:
                self.process(project_id, entry)
            except Exception as e:  # keep the thread alive; the error is shown in the API
                log.warning("live export of project %s failed: %s", project_id, e)
                self.status.setdefault(project_id, {})["last_error"] = str(e)

    def flush(self, timeout=30):
        """Wait until nothing is pending (tests, shutdown): True when all was written."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                idle = not self.pending and not self._busy
            if idle:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()

    # -- writing --------------------------------------------------------------------------

    def process(self, project_id, entry):
        try:
            _, config = self.config(project_id)
            if config is None or self.r.projects.doc(project_id) is None:
                return
            folder = Path(config["path"])
            if config["format"] == "JSON":
                if entry["full"]:
                    self.write_all_annotations(project_id, folder)
                for annotation_id in sorted(entry["write"]):
                    self.write_annotation(annotation_id, folder)
                for annotation_id in sorted(entry["delete"]):
                    try:
                        (folder / str(annotation_id)).unlink()
                        fsync_dir(folder)
                    except FileNotFoundError:
                        pass
            else:
                self.rewrite(project_id, config, folder)
            state = self.status.setdefault(project_id, {})
            state["last_written_at"] = clock.iso()
            state["last_error"] = None
        finally:
            self._busy = False

    def write_annotation(self, annotation_id, folder):
        data = annotation_file(self.core, annotation_id)
        if data is not None:
            atomic_write(folder / str(annotation_id), data)

    def write_all_annotations(self, project_id, folder):
        with self.r.lock:
            ids = list(self.r.annotations_by_project.ids(project_id))
        for annotation_id in ids:
            self.write_annotation(annotation_id, folder)

    def rewrite(self, project_id, config, folder):
        """Export the whole project in the folder's format and unpack it there, file by file."""
        path, name, _ = self.exports.direct(
            project_id, config["format"], download_all_tasks=True,
            download_resources=config.get("download_resources", False),
            escape_formulas=config.get("escape_formulas", True))
        try:
            written = set()
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    for info in zf.infolist():
                        if info.is_dir():
                            (folder / info.filename).mkdir(parents=True, exist_ok=True)
                            continue
                        target = self.safe_target(folder, info.filename)
                        written.add(info.filename)
                        if (target.is_file() and target.stat().st_size == info.file_size
                                and file_crc(target) == info.CRC):
                            continue
                        with zf.open(info) as source:
                            atomic_copy(source, target)
            else:
                member = "result" + Path(name).suffix
                atomic_write(folder / member, Path(path).read_bytes())
                written.add(member)
            previous = self.read_manifest(folder)
            for stale in sorted(previous - written):
                try:
                    self.safe_target(folder, stale).unlink()
                except (OSError, ValidationError):
                    pass
            atomic_write(folder / MANIFEST, orjson.dumps(
                {"format": config["format"], "files": sorted(written),
                 "written_at": clock.iso()}, option=orjson.OPT_INDENT_2))
            fsync_dir(folder)
        finally:
            os.unlink(path)

    @staticmethod
    def safe_target(folder, name):
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "\\" in name:
            raise ValidationError(f"unsafe name {name!r}")
        return folder.joinpath(*parts)

    @staticmethod
    def read_manifest(folder):
        try:
            return set(orjson.loads((folder / MANIFEST).read_bytes()).get("files", []))
        except (OSError, orjson.JSONDecodeError, AttributeError):
            return set()

