"""Uploaded files: stored under <data>/media/upload/<project>/<8 hex>-<name>, never outside."""

import mimetypes
import os
import re
import uuid
from pathlib import Path
from urllib.parse import unquote

from desktop.core import clock
from desktop.core.errors import NotFound
from desktop.core.files import atomic_copy, atomic_write
from desktop.core.records import locked

UNSAFE = re.compile(r"[^A-Za-z0-9._\- ()\[\]+,@=]")


def safe_name(filename):
    """A plain file name from whatever a client sent: no folders, no leading dots."""
    name = (filename or "").replace("\\", "/").split("/")[-1]
    name = UNSAFE.sub("_", name).strip(" .")
    return name[-150:] or "file"


class Uploads:
    def __init__(self, records, media_dir):
        self.r = records
        self.root = Path(media_dir).resolve()

    def folder(self, project_id):
        return self.root / "upload" / str(int(project_id))

    def plan(self, project_id, filename):
        """(stored name, URL) for a file about to be uploaded."""
        stored = f"{uuid.uuid4().hex[:8]}-{safe_name(filename)}"
        return stored, f"/data/upload/{int(project_id)}/{stored}"

    def write(self, project_id, stored, data):
        """Write `data` (bytes, or an open binary file, copied in blocks so a big upload is
        never whole in memory) durably (temp file, fsync, rename); return the upload record id.
        If the record can't be stored (a full disk), the file goes too."""
        path = self.folder(project_id) / stored
        if isinstance(data, (bytes, bytearray)):
            atomic_write(path, data, private=True)
        else:
            atomic_copy(data, path, private=True)
        try:
            return self.r.uploads.insert({"project": int(project_id),
                                          "file": f"upload/{int(project_id)}/{stored}",
                                          "size": path.stat().st_size, "created_at": clock.iso()})
        except BaseException:
            self.discard(project_id, stored)
            raise

    def remove_leftovers(self):
        """Remove half-written uploads (`.<name>.tmp`) a crash left; a note when there were."""
        removed = 0
        for path in self.root.glob("upload/*/.*.tmp"):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
        return ([f"media/upload/: removed {removed} half-written upload(s)"] if removed
                else [])

    def remove_orphans(self, keep_referenced=None, kept=None):
        """Start-up cleanup: remove the media files no upload record references, left by a
        process killed in an upload or import (before its commit) or in a delete (after it).

        Without this, the next project given a dead project's id would inherit its files.
        Safe by construction: only regular files directly in upload/<number>/ are candidates;
        a file an upload record names is never touched, nor one a task's data names
        (`keep_referenced(candidates)` returns those; asked only when there are candidates).
        A file a backup keeps (`kept("media/<name>")`: the store stopped naming it when a
        backup was restored) is removed from media/ only; restoring that backup puts it back.
        Empty upload/<number>/ folders of projects that don't exist go too. One walk of
        upload/ and one set of the records' paths; returns notes for the log."""
        top = self.root / "upload"
        referenced = {d.get("file") for d in self.r.uploads.docs().values()}
        projects = set(self.r.projects.docs())
        candidates, folders = [], []
        try:
            entries = list(os.scandir(top))
        except OSError:  # none yet, or unreadable: nothing to do here
            return []
        for entry in entries:
            if not (entry.name.isdecimal() and entry.is_dir(follow_symlinks=False)):
                continue
            folders.append(entry)
            try:
                items = list(os.scandir(entry.path))
            except OSError:
                continue
            for item in items:
                name = f"upload/{entry.name}/{item.name}"
                if (name not in referenced and not item.name.startswith(".")
                        and item.is_file(follow_symlinks=False)):
                    candidates.append(name)
        if candidates and keep_referenced is not None:
            shown = keep_referenced(candidates)
            candidates = [c for c in candidates if c not in shown]
        notes = []
        for name in candidates:
            try:
                backed_up = kept is not None and kept(f"media/{name}")
                os.unlink(self.root / name)
                notes.append(f"media/{name}: no upload record references it (a backup was "
                             "restored): kept in backups/files/ with the backups that name it"
                             if backed_up else
                             f"media/{name}: removed (no upload record references it: left by "
                             "an interrupted upload, import or delete)")
            except OSError as e:
                notes.append(f"media/{name}: could not remove it ({e.strerror})")
        for entry in folders:
            if int(entry.name) not in projects:
                try:
                    os.rmdir(entry.path)
                    notes.append(f"media/upload/{entry.name}/: removed the empty folder of a "
                                 "project that no longer exists")
                except OSError:
                    pass  # not empty: something kept stays where it is
        return notes

    def named_by_tasks(self, names):
        """Those of `names` ("upload/<project>/<file>") that a task's data names in a
        /data/upload/... URL: a file a task shows is never an orphan, record or not."""
        wanted, found = set(names), set()
        marker = "/data/upload/"

        def walk(value):
            if isinstance(value, str):
                if marker in value:
                    for part in value.split(marker)[1:]:
                        name = "upload/" + part.split("?")[0].split("#")[0]
                        for form in (name, unquote(name)):
                            if form in wanted:
                                found.add(form)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        with self.r.lock:
            tasks = list(self.r.tasks.docs().values())
        for task in tasks:
            walk(task.get("data"))
        return found

    def discard(self, project_id, stored):
        try:
            (self.folder(project_id) / stored).unlink()
        except OSError:
            pass

    def path(self, project_id, name):
        """The file behind /data/upload/<project>/<name>, or NotFound; never outside the root."""
        try:
            folder = self.folder(int(project_id))
        except (TypeError, ValueError):
            raise NotFound() from None
        if not name or "\x00" in name or "/" in name or "\\" in name:
            raise NotFound()
        try:
            candidate = (folder / name).resolve()
            if candidate.parent != folder.resolve() or not candidate.is_file():
                raise NotFound()
        except (OSError, ValueError):
            raise NotFound() from None
        return candidate

    def url_to_path(self, url):
        """Map a task's /data/upload/... URL to its file (for exports), or None."""
        prefix = "/data/upload/"
        if not isinstance(url, str) or prefix not in url:
            return None
        rest = url.split(prefix, 1)[1].split("?")[0]
        project, _, name = rest.partition("/")
        try:
            return self.path(project, name)
        except NotFound:
            return None

    @locked
    def as_json(self, upload_id):
        doc = self.r.uploads.doc(upload_id) if isinstance(upload_id, int) else None
        if doc is None:
            raise NotFound("FileUpload")
        return {"id": upload_id, "file": doc["file"], "size": doc.get("size")}

    def of_project(self, project_id):
        return [i for i, d in self.r.uploads.docs().items() if d["project"] == project_id]

    def delete(self, upload_ids):
        """Delete upload records in one write; their files go once it is committed (see
        removals.py): a failed delete keeps them all."""
        with self.r.transaction():
            for upload_id in upload_ids:
                doc = self.r.uploads.doc(upload_id)
                if doc is not None:
                    self.r.uploads.remove(doc_ids=[upload_id])
                    self.r.removals.unlink(self.folder(doc["project"])
                                           / doc["file"].rsplit("/", 1)[-1])

    @locked
    def list_json(self, project_id, chosen=None):
        """A project's uploads (only the ids in `chosen`, when given); 404 without the project."""
        self._check_project(project_id)
        ids = self.of_project(project_id)
        if chosen is not None:
            ids = [i for i in ids if i in chosen]
        return [self.as_json(i) for i in ids]

    @locked
    def delete_chosen(self, project_id, chosen=None):
        """Delete a project's uploads (only the ids in `chosen`, when given); how many."""
        self._check_project(project_id)
        ids = self.of_project(project_id)
        if chosen is not None:
            ids = [i for i in ids if i in set(chosen)]
        self.delete(ids)
        return len(ids)

    @locked
    def delete_one(self, upload_id):
        self.as_json(upload_id)  # 404 when there is none
        self.delete([upload_id])

    def _check_project(self, project_id):
        if not isinstance(project_id, int) or self.r.projects.doc(project_id) is None:
            raise NotFound("Project")

    def delete_project(self, project_id):
        """A project's uploads, then (once committed) its media folder, if empty."""
        self.delete(self.of_project(project_id))
        self.r.removals.rmdir(self.folder(project_id))


def content_type(path):
    kind, _ = mimetypes.guess_type(str(path))
    return kind or "application/octet-stream"
