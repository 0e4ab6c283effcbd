"""The files backups name, kept with them: backups/files/ holds hard links (a copy across file
systems) to the uploads in media/ and the export files in export/ that backups name, at the same
paths as in the data folder (``backups/files/media/upload/3/1a2b3c4d-cat.png``).

Uploads and export files never change once written, and their names are never used twice
(uploads have a random prefix, export files a random part), so one link serves every backup
that names a file. desktop/db/backups.py decides when files are kept, put back and dropped.
"""

import errno
import os
import shutil
from collections.abc import Mapping

from desktop.db.docs import decoded
from desktop.db.journal import fsync_dir
from desktop.db.storage import make_private_folder, remove_file

FILES = "files"  # backups/files/


def files_named(tables):
    """The media and export files a store's tables name (its uploads, its snapshots, the
    items of its trash), as paths in the data folder
    ("media/upload/3/1a2b3c4d-cat.png", "export/snapshot-5-….json"). `tables` as a snapshot
    holds them ({name: {"docs": [[id, doc], ...]}}) or as the store's memory ({name: {id: doc}})."""
    names = set()
    for doc in _docs(tables, "uploads"):
        names.add(("media", doc.get("file")))
    for doc in _docs(tables, "exports"):
        converted = doc.get("converted") if isinstance(doc.get("converted"), list) else []
        for name in [doc.get("file")] + [c.get("file") for c in converted if isinstance(c, dict)]:
            names.add(("export", name))
    for doc in _docs(tables, "trash"):  # the files a deleted item keeps (core/trash.py)
        files = doc.get("files") if isinstance(doc.get("files"), list) else []
        names.update(tuple(n.split("/", 1)) for n in files
                     if isinstance(n, str) and n.split("/", 1)[0] in ("media", "export")
                     and "/" in n)
    return {f"{top}/{name}" for top, name in names if _plain_path(name)}


def _docs(tables, name):
    table = tables.get(name) if isinstance(tables, dict) else None
    if not isinstance(table, Mapping):
        return []
    docs = table.get("docs") if isinstance(table, dict) else None
    docs = docs if isinstance(docs, list) else None
    found = ([d[1] for d in docs if isinstance(d, (list, tuple)) and len(d) == 2]
             if docs is not None else list(table.values()))
    return [d for d in map(decoded, found) if isinstance(d, dict)]  # bytes: as the store keeps it


def _plain_path(name):
    return (isinstance(name, str) and name and "\\" not in name and "\x00" not in name
            and all(part not in ("", ".", "..") for part in name.split("/")))


def keep_files(folder, names):
    """Link each file of `names` (paths in the data folder) into backups/files/, where it isn't
    yet; a copy where hard links fail (another file system). Durable (folders fsynced) before
    it returns. A file that is gone is skipped. Returns how many were linked."""
    data, pool = os.path.dirname(os.path.abspath(folder)), os.path.join(folder, FILES)
    linked, touched = 0, set()
    if names:
        make_private_folder(folder)
    for name in sorted(names):
        target = os.path.join(pool, name)
        if os.path.lexists(target):
            continue
        source = os.path.join(data, name)
        if not os.path.isfile(source):
            continue  # gone already (removed by hand): nothing to keep
        touched.update(_private_dirs(os.path.dirname(target), pool))
        _link_or_copy(source, target)
        touched.add(os.path.dirname(target))
        linked += 1
    for path in sorted(touched, key=len, reverse=True):
        fsync_dir(path)
    return linked


def put_back_files(folder, names):
    """Put the files of `names` that are missing in the data folder back from backups/files/
    (a restore, before the restored store is in place). Returns (put back, not found)."""
    data, pool = os.path.dirname(os.path.abspath(folder)), os.path.join(folder, FILES)
    put, missing, touched = 0, [], set()
    for name in sorted(names):
        target = os.path.join(data, name)
        if os.path.lexists(target):
            continue
        source = os.path.join(pool, name)
        if not os.path.isfile(source):
            missing.append(name)
            continue
        touched.update(_private_dirs(os.path.dirname(target), data))
        _link_or_copy(source, target)
        touched.add(os.path.dirname(target))
        put += 1
    for path in sorted(touched, key=len, reverse=True):
        fsync_dir(path)
    return put, missing


def is_kept(folder, name):
    """Whether backups/files/ holds the data folder's file `name` (the same file: a link, or a
    copy of the same size): removing it from media/ or export/ then loses nothing."""
    data = os.path.dirname(os.path.abspath(folder))
    try:
        kept, live = os.stat(os.path.join(folder, FILES, name)), os.stat(os.path.join(data, name))
    except OSError:
        return False
    return (kept.st_dev, kept.st_ino) == (live.st_dev, live.st_ino) or kept.st_size == live.st_size


def _private_dirs(path, top):
    """Make `path` and its missing parents below `top` (0700); returns the folders whose
    entries changed (to fsync)."""
    made = []
    while not os.path.isdir(path):
        made.append(path)
        if os.path.dirname(path) == path or path == top:
            break
        path = os.path.dirname(path)
    for folder in reversed(made):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
    return {os.path.dirname(p) for p in made}


def _link_or_copy(source, target):
    try:
        os.link(source, target)
        return
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP,
                           errno.EOPNOTSUPP):
            raise
    tmp = target + ".tmp"
    try:
        with open(source, "rb") as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        remove_file(tmp)
        raise


def pool_entries(pool):
    found = set()
    for root, _dirs, files in os.walk(pool):
        rel = os.path.relpath(root, pool)
        for name in files:
            if not name.endswith(".tmp"):
                found.add(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
    return found


def remove_empty_dirs(pool):
    for root, dirs, files in os.walk(pool, topdown=False):
        if root != pool and not dirs and not files:
            try:
                os.rmdir(root)
            except OSError:
                pass
