"""Exports: direct downloads and snapshots, streamed through the formats in
desktop/data_export/formats/.

Tasks are read in chunks under the store lock and written straight to a temporary file, so an
export of 100k tasks keeps memory flat and never holds up labeling for long.
"""

import errno
import os
import stat
import tempfile
import uuid
from pathlib import Path

import orjson

from desktop.core import clock
from desktop.core.errors import NotFound, ValidationError
from desktop.core.files import file_digest
from desktop.data_export import formats
from desktop.data_export.options import check_snapshot_body
from desktop.db.docs import decode
from desktop.db.journal import fsync_dir

CHUNK = 1000
# What a disk says when the data folder has no room (or can't be written): a download is then
# made in the system's temp folder instead.
NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


MISSING = object()  # a convert body without export_type


def unique():
    """A part of an export file's name no other file ever had: export ids can come back after
    a backup is restored, and backups keep export files by name (db/backups.py)."""
    return uuid.uuid4().hex[:8]


def durable(path):
    """fsync a file written through a stream: a crash (or a disk the kernel stops) after its
    record is committed must not leave the record naming an empty file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Exports:
    def __init__(self, core, live=True):
        self.core = core
        self.r = core.records
        self.folder = Path(core.settings.data_dir) / "export"
        # Folders kept in sync with a format as annotations are saved
        # (desktop/data_export/livefolder.py).
        self.live = None
        if live:
            from desktop.data_export.livefolder import LiveFolders
            self.live = LiveFolders(core, self)

    def remove_leftovers(self):
        """Remove the temporary files of exports a crash interrupted (they are never served);
        a note for the log when there were some."""
        removed = 0
        for prefix in (".export-", ".snapshot-", ".archive-"):
            for path in self.folder.glob(prefix + "*"):
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
        return ([f"export/: removed {removed} unfinished export file(s) of an interrupted "
                 "export"] if removed else [])

    # -- what gets exported ---------------------------------------------------------------

    def task_ids(self, project_id, download_all_tasks=True, ids=None):
        """Ids of the tasks an export covers: all, or only those with annotations (LS default)."""
        with self.r.lock:
            self.core.projects.get(project_id)
            chosen = list(self.r.tasks_by_project.ids(project_id))
            if ids is not None:
                wanted = set(ids)
                chosen = [i for i in chosen if i in wanted]
            if not download_all_tasks:
                docs = self.r.tasks
                chosen = [i for i in chosen if docs.doc(i).get("total_annotations")
                          or docs.doc(i).get("cancelled_annotations")]
        return chosen

    def tasks(self, task_ids, progress=None):
        """Tasks in Label Studio's JSON export shape, read a chunk at a time.

        One lock round-trip per CHUNK tasks. Stored documents are replaced, never changed in
        place, so the dicts taken under the lock stay valid after it.
        """
        r = self.r
        export_task = self.core.tasks.export_json
        export_annotation = self.core.annotations.export_json
        for start in range(0, len(task_ids), CHUNK):
            with r.lock:
                raw = r.tasks.docs().raw  # each task decoded here, once (db/docs.py)
                chunk = [export_task(task_id, export_annotation, decode(raw[task_id]))
                         for task_id in task_ids[start:start + CHUNK] if task_id in raw]
            if progress is not None:
                progress(min(start + CHUNK, len(task_ids)), len(task_ids))
            yield from chunk

    def context(self, project_id, download_resources=True, escape_formulas=True):
        config = self.core.projects.config(project_id)
        return formats.ExportContext(project_id=project_id, parsed_label_config=config.parsed,
                                     label_config=config.xml,
                                     download_resources=download_resources,
                                     resolve_media=self.resolve_media, now=clock.now(),
                                     escape_formulas=escape_formulas)

    def resolve_media(self, url):
        """The local file behind a task's media URL (uploads, local storages), or None."""
        path = self._plain_upload(url)
        if path is not None:
            return path
        path = self.core.uploads.url_to_path(url)
        storages = getattr(self.core, "storages", None)
        if path is None and hasattr(storages, "url_to_path"):
            path = storages.url_to_path(url)
        return path

    def _plain_upload(self, url):
        """Fast path of Uploads.url_to_path for "/data/upload/<int>/<plain name>": a regular
        file (not a symlink) directly in that project's upload folder. Anything else (or
        nothing found) goes the careful way."""
        if not isinstance(url, str) or not url.startswith("/data/upload/"):
            return None
        project, _, name = url[len("/data/upload/"):].partition("/")
        if (not project.isdecimal() or not name or name.startswith(".")
                or any(c in name for c in "/\\?\x00")):
            return None
        path = self.core.uploads.folder(int(project)) / name
        try:
            return path if stat.S_ISREG(os.lstat(path).st_mode) else None
        except (OSError, ValueError):
            return None

    def formats(self, project_id):
        config = self.core.projects.config(project_id)
        return formats.formats_for(config.parsed)

    # -- writing files --------------------------------------------------------------------

    def write(self, project_id, export_type, task_iter, download_resources=True,
              escape_formulas=True, in_temp=False):
        """Write an export to a temporary file; (path, download name, content type). In export/,
        or (`in_temp`, or a read-only data folder) in the system's temp folder.
        `escape_formulas` False: CSV and TSV cells exactly as Label Studio writes them."""
        fmt = formats.get_format(export_type)
        ctx = self.context(project_id, download_resources, escape_formulas)
        if self.core.store.readonly or in_temp:
            folder = None  # a read-only data folder: the download is made in the system's temp
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            folder = self.folder
        handle, tmp = tempfile.mkstemp(prefix=".export-", dir=folder)
        try:
            with self.core.store.bulk(freeze=False), os.fdopen(handle, "wb") as out:
                ext, content_type = fmt.write(task_iter, out, ctx)
            digest = file_digest(tmp, "md5")
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp), formats.export_filename(project_id, ctx.now, ext, digest), content_type

    def direct(self, project_id, export_type="JSON", download_all_tasks=False,
               download_resources=True, ids=None, progress=None, escape_formulas=True):
        """A download: written in export/, or in the system's temp folder when the data
        folder's disk is full (a download is never kept, so it needs no room there)."""
        formats.get_format(export_type)  # an unknown name fails before any work
        task_ids = self.task_ids(project_id, download_all_tasks, ids)
        try:
            return self.write(project_id, export_type, self.tasks(task_ids, progress),
                              download_resources, escape_formulas)
        except OSError as e:
            if e.errno not in NO_ROOM or self.core.store.readonly:
                raise
            full = e
        try:
            return self.write(project_id, export_type, self.tasks(task_ids, progress),
                              download_resources, escape_formulas, in_temp=True)
        except OSError:
            raise full from None  # the system's temp is full too: the data folder's error

    # -- snapshots ------------------------------------------------------------------------

    def snapshot(self, export_id, project_id=None):
        doc = self.r.exports.doc(export_id) if isinstance(export_id, int) else None
        if doc is None or (project_id is not None and doc["project"] != project_id):
            raise NotFound("Export")
        return doc

    def snapshot_json(self, export_id, created=False):
        """LS's ExportSerializer; the answer to a create (ExportCreateSerializer) adds the
        three option fields, null there (they are no columns of LS's Export)."""
        doc = self.snapshot(export_id)
        data = {"title": doc["title"], "id": export_id,
                "created_by": self.core.users.brief(doc.get("created_by")),
                "created_at": doc["created_at"], "finished_at": doc.get("finished_at"),
                "status": doc["status"], "md5": doc.get("md5"), "counters": doc["counters"],
                "converted_formats": [{"id": i, "status": c["status"], "export_type": c["type"],
                                       "traceback": None}
                                      for i, c in enumerate(doc.get("converted", []), 1)]}
        if created:
            data.update(task_filter_options=None, annotation_filter_options=None,
                        serialization_options=None)
        return data

    def list_snapshots(self, project_id):
        self.core.projects.get(project_id)
        ids = [i for i, d in self.r.exports.docs().items() if d["project"] == project_id]
        return [self.snapshot_json(i) for i in sorted(ids, reverse=True)]  # newest first

    def export_files(self, project_id):
        """GET /api/projects/{id}/export/files, as LS 1.23.2 lists them: the export folder's
        "<project id>-*.json" files (not "-info.json"), newest name first, each with its name
        (without extension) and /export/ URL. Those were 0.x's export files; LS 1.x and
        LabelDesk name snapshots otherwise, so the list is empty but for such leftovers."""
        self.core.projects.get(project_id)
        try:
            names = os.listdir(self.folder)
        except OSError:
            names = []
        chosen = sorted((name for name in names if name.endswith(".json")
                         and not name.endswith("-info.json")
                         and name.split("-")[0] == str(project_id)), reverse=True)
        return {"export_files": [{"name": name.split(".")[0], "url": "/export/" + name}
                                 for name in chosen]}

    def create_snapshot(self, project_id, fields, user_id):
        fields = check_snapshot_body(fields)
        title = fields.get("title") or ""
        options = fields.get("task_filter_options") or {}
        only_annotated = bool(options.get("only_with_annotations"))
        task_ids = self.task_ids(project_id, download_all_tasks=not only_annotated)
        created_at = clock.iso()
        path = self._write_snapshot_json(self.tasks(task_ids))
        final = None
        try:
            md5 = file_digest(path, "md5")
            durable(path)  # on disk before a record calls it completed
            # The record is stored completed, in one write with its file in place: never an
            # "in_progress" one a crash could leave behind. A kill between the rename and the
            # commit leaves a file no record names, which the next start removes.
            with self.r.transaction():
                export_id = self.r.exports.insert({
                    "project": project_id, "title": title, "created_by": user_id,
                    "created_at": created_at, "finished_at": clock.iso(),
                    "status": "completed", "md5": md5,
                    "counters": {"task_number": len(task_ids)}, "converted": [],
                    "task_filter_options": fields.get("task_filter_options"),
                    "annotation_filter_options": fields.get("annotation_filter_options"),
                    "serialization_options": fields.get("serialization_options")})
                final = self.folder / f"snapshot-{export_id}-{unique()}.json"
                self.r.exports.update({"file": final.name}, doc_ids=[export_id])
                os.replace(path, final)
                fsync_dir(self.folder)
        except BaseException:
            for leftover in (path, final):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            raise
        return export_id

    def delete_snapshot(self, project_id, export_id):
        """The record goes in one write; its files once that is committed (removals.py)."""
        with self.r.transaction():
            doc = self.snapshot(export_id, project_id)
            self.r.exports.remove(doc_ids=[export_id])
            for name in self._files(doc):
                self.r.removals.unlink(self.folder / name)

    @staticmethod
    def _files(doc):
        """The names of an export record's files in export/."""
        return [n for n in [doc.get("file")] + [c.get("file") for c in doc.get("converted", [])]
                if n]

    def recover(self, kept=None, keep=()):
        """Start-up cleanup of what a killed process left in export/: snapshots still
        "created" or "in_progress" are marked "failed" (Label Studio's status for an export
        that did not finish) with the reason, and their files removed; then snapshot files
        no record names are removed (one a backup keeps, `kept("export/<name>")`, from
        export/ only: restoring that backup puts it back); those in `keep` (the trash's) stay.
        Notes for the log."""
        notes = []
        stuck = [i for i, d in self.r.exports.docs().items()
                 if d.get("status") in ("created", "in_progress")]
        reason = ("LabelDesk stopped (a crash, kill or power loss) before this export "
                  "finished; create it again")
        for export_id in stuck:
            try:
                with self.r.transaction():
                    doc = self.r.exports.doc(export_id)
                    self.r.exports.update({"status": "failed", "finished_at": clock.iso(),
                                           "md5": None, "file": None, "converted": [],
                                           "reason": reason}, doc_ids=[export_id])
                    for name in self._files(doc):
                        self.r.removals.unlink(self.folder / name)
                notes.append(f"export {export_id} (project {doc['project']}): was left "
                             f"{doc.get('status')!r} by an interrupted export, marked failed")
            except OSError as e:  # a read-only or full disk: the next start tries again
                notes.append(f"export {export_id}: left {doc.get('status')!r}, could not be "
                             f"marked failed now ({e.strerror})")
        named = {n for d in self.r.exports.docs().values() for n in self._files(d)} | set(keep)
        for path in sorted(self.folder.glob("snapshot-*")):
            if path.name in named or not path.is_file():
                continue
            try:
                backed_up = kept is not None and kept(f"export/{path.name}")
                path.unlink()
                notes.append(f"export/{path.name}: no export record names it (a backup was "
                             "restored): kept in backups/files/ with the backups that name it"
                             if backed_up else
                             f"export/{path.name}: removed (no export record names it: left "
                             "by an interrupted export or delete)")
            except OSError as e:
                notes.append(f"export/{path.name}: could not remove it ({e.strerror})")
        return notes

    def delete_project(self, project_id):
        """A project is going: its snapshots (records and files) and live-folder setting.

        Meant for LabelDesk.on_project_delete (runs inside the delete transaction)."""
        ids = [i for i, d in self.r.exports.docs().items() if d["project"] == project_id]
        for export_id in ids:
            self.delete_snapshot(project_id, export_id)
        if self.live is not None:
            self.live.delete_project(project_id)

    def convert_snapshot(self, project_id, export_id, export_type, download_resources=False,
                         escape_formulas=True):
        """LS's ExportConvertSerializer: `export_type` required (a str, not blank), one of the
        project's formats; anything else for it (no key at all included) is a 400 on it."""
        doc = self.snapshot(export_id, project_id)
        if export_type is MISSING or export_type is None:
            raise ValidationError({"export_type": [
                "This field is required." if export_type is MISSING
                else "This field may not be null."]})
        if isinstance(export_type, (int, float)) and not isinstance(export_type, bool):
            export_type = str(export_type)
        if not isinstance(export_type, str):
            raise ValidationError({"export_type": ["Not a valid string."]})
        if not export_type.strip():
            raise ValidationError({"export_type": ["This field may not be blank."]})
        if export_type not in formats.supported_formats(self.core.projects.config(
                project_id).parsed):
            raise ValidationError({"export_type": [
                f"{export_type} is not supported export format"]})
        if any(c["type"] == export_type for c in doc.get("converted", [])):
            raise ValidationError(f"Conversion to {export_type} already started")
        self._convert(doc, export_id, export_type, download_resources, escape_formulas)
        converted = self.snapshot(export_id)["converted"]
        return {"export_type": export_type, "converted_format": len(converted)}

    def _convert(self, doc, export_id, export_type, download_resources, escape_formulas):
        self._file_of(doc["file"])  # the snapshot to convert is there
        path, name, content_type = self.write(doc["project"], export_type,
                                              self._snapshot_tasks(doc), download_resources,
                                              escape_formulas)
        final = self.folder / f"snapshot-{export_id}-{export_type}-{unique()}{Path(name).suffix}"
        converted = doc.get("converted", []) + [{"type": export_type, "status": "completed",
                                                 "file": final.name, "name": name,
                                                 "content_type": content_type,
                                                 "escape_formulas": escape_formulas}]
        try:
            durable(path)
            with self.r.transaction():  # the file in place, then the record names it
                self.r.exports.update({"converted": converted}, doc_ids=[export_id])
                os.replace(path, final)
                fsync_dir(self.folder)
        except BaseException:
            path.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
            raise
        return converted[-1]

    def _write_snapshot_json(self, tasks):
        """A JSON list with one task per line ("[", "task,", ..., "task", "]"), so conversions
        can read it back a task at a time (orjson never writes a raw newline)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".snapshot-", dir=self.folder)
        try:
            with self.core.store.bulk(freeze=False), os.fdopen(handle, "wb") as out:
                out.write(b"[")
                separator = b"\n"
                for task in tasks:
                    out.write(separator)
                    out.write(orjson.dumps(task, option=orjson.OPT_NON_STR_KEYS))
                    separator = b",\n"
                out.write(b"\n]")
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp)

    def _snapshot_tasks(self, doc):
        """The snapshot's tasks, streamed line by line (older one-line files: loaded whole)."""
        path = self.folder / doc["file"]
        with open(path, "rb") as f:
            first = f.readline()
            if first.strip() != b"[":
                yield from orjson.loads(first + f.read())
                return
            for line in f:
                line = line.strip()
                if line in (b"]", b""):
                    continue
                yield orjson.loads(line[:-1] if line.endswith(b",") else line)

    def snapshot_file(self, project_id, export_id, export_type="JSON", escape_formulas=True):
        """(path, download name, content type, temporary) of a snapshot in a format. One not
        converted yet is written for this download only, to a temporary file (LS's
        convert_file: no converted format is recorded). A stored CSV/TSV conversion written
        with the other `escape_formulas` (or before the option existed: unescaped) is not
        served either: a fresh one is written the same way (`temporary` True: the caller
        removes it once sent)."""
        doc = self.snapshot(export_id, project_id)
        if doc["status"] != "completed":
            raise NotFound(detail="Export is not completed")
        created = clock.parse(doc["created_at"])
        if export_type == "JSON":
            name = formats.export_filename(project_id, created, ".json", doc["md5"])
            return self._file_of(doc["file"]), name, "application/json", False
        fmt = formats.get_format(export_type)
        for converted in doc.get("converted", []):
            if converted["type"] == export_type:
                break
        else:  # LS converts it for this download only: no converted format is recorded
            converted = None
        if converted is None or fmt.escapes_formulas and \
                converted.get("escape_formulas", False) != escape_formulas:
            self._file_of(doc["file"])  # made again from the snapshot: it is there
            return (*self.write(project_id, export_type, self._snapshot_tasks(doc), False,
                                escape_formulas), True)
        return (self._file_of(converted["file"]), converted["name"],
                converted["content_type"], False)

    def _file_of(self, name):
        """An export's file in export/, or NotFound (404) when it is gone: deleted or moved
        outside LabelDesk (not a failing disk)."""
        path = self.folder / name
        if not path.is_file():
            raise NotFound(detail=f"The file of this export ({name}) is missing from "
                                  f"{self.folder}: it was deleted or moved outside LabelDesk. "
                                  "Create the export again.")
        return path
