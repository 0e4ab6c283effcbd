"""Uploaded files: stored under <data>/media/upload/<project>/<8 hex>-<name>, never outside."""

import mimetypes
import re
import uuid
from pathlib import Path

from . import clock
from .files import atomic_write
from .errors import NotFound

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
        """Write the bytes durably (temp file, fsync, rename); return the upload record id."""
        atomic_write(self.folder(project_id) / stored, data)
        return self.r.uploads.insert({"project": int(project_id),
                                      "file": f"upload/{int(project_id)}/{stored}",
                                      "size": len(data), "created_at": clock.iso()})

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

    def as_json(self, upload_id):
        doc = self.r.uploads.doc(upload_id) if isinstance(upload_id, int) else None
        if doc is None:
            raise NotFound("FileUpload")
        return {"id": upload_id, "file": doc["file"], "size": doc.get("size")}

    def of_project(self, project_id):
        return [i for i, d in self.r.uploads._read_table().items() if d["project"] == project_id]

    def delete(self, upload_ids):
        for upload_id in upload_ids:
            doc = self.r.uploads.doc(upload_id)
            if doc is not None:
                self.r.uploads.remove(doc_ids=[upload_id])
                self.discard(doc["project"], doc["file"].rsplit("/", 1)[-1])

    def delete_project(self, project_id):
        self.delete(self.of_project(project_id))


def content_type(path):
    kind, _ = mimetypes.guess_type(str(path))
    return kind or "application/octet-stream"
