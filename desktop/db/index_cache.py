"""The app's in-memory indexes as they were when the store was last closed (db/indexes.cache).

Derived state, never data: building the indexes at open decodes every task, annotation and
prediction (1 s of a 2 s start at 1M tasks); this file lets a start skip that when nothing has
changed since the indexes were saved. It is used only when the store's files are exactly the
ones it was written beside (each file's inode, size and modification time, down to the
nanosecond), it was written by this LabelDesk, it passes its checksum, and it holds the index
asked for (whose key names the functions it was built with, by a digest of their code).
Anything else (a crash, a write since, files copied in, a restore, damage) rebuilds from the
documents, as a start without the file does, and the next clean close writes it anew.
"""

import hashlib
import logging
import marshal
import os
import zlib

import orjson

from desktop import __version__
from desktop.db.journal import FILE_MODE, NEXT_JOURNAL

log = logging.getLogger("labeldesk.store")

NAME = "indexes.cache"
FORMAT = "labeldesk-index-cache"
FILES = ("snapshot.ldb", "journal.ldb", NEXT_JOURNAL)


def fingerprint(function):
    """A short digest of a function's code (its bytecode and constants): a cached index built
    with another version of it is not taken."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    return hashlib.sha1(marshal.dumps(code)).hexdigest()[:12]


def files_state(folder):
    state = []
    for name in FILES:
        try:
            st = os.stat(os.path.join(folder, name))
        except FileNotFoundError:
            state.append([name])
            continue
        state.append([name, st.st_ino, st.st_size, st.st_mtime_ns])
    return state


def save(folder, indexes):
    """Write {key: state} beside the store's files as they are now (temp file, rename; no
    fsync: a lost or torn file is only rebuilt from)."""
    body = orjson.dumps(indexes)
    header = orjson.dumps({"format": FORMAT, "by": __version__, "files": files_state(folder),
                           "length": len(body), "crc": zlib.crc32(body)})
    path = os.path.join(folder, NAME)
    tmp = path + ".tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(header + b"\n" + body)
        os.replace(tmp, path)
    except OSError as e:  # a full disk: the next start builds them
        log.info("the indexes were not saved for the next start: %s", e)
        try:
            os.remove(tmp)
        except OSError:
            pass


def load(folder):
    """{key: state} saved beside exactly these files, or {}."""
    path = os.path.join(folder, NAME)
    try:
        with open(path, "rb") as f:
            header = orjson.loads(f.readline())
            body = f.read()
        if not (isinstance(header, dict) and header.get("format") == FORMAT
                and header.get("by") == __version__
                and header.get("files") == files_state(folder)
                and header.get("length") == len(body) and header.get("crc") == zlib.crc32(body)):
            return {}
        indexes = orjson.loads(body)
    except (OSError, ValueError):
        return {}
    return indexes if isinstance(indexes, dict) else {}


def remove(folder):
    try:
        os.remove(os.path.join(folder, NAME))
    except OSError:
        pass
