"""Files: writing them so that a reader (or a crash) never sees half of one; reading them a
block at a time."""

import hashlib
import os
import uuid
from pathlib import Path

# The data folder is the user's alone: its folders 0700, its files 0600 (settings.make_private),
# as the store's own files (desktop/db).
from desktop.db.journal import DIR_MODE as PRIVATE_DIR
from desktop.db.journal import FILE_MODE as PRIVATE_FILE
from desktop.db.journal import fsync_dir

BLOCK = 1 << 20


def make_private_dirs(path):
    """Create `path` and any missing parents 0700 (os.makedirs gives the mode to the last one
    only); an existing folder is left as it is."""
    path = Path(path)
    missing = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass


def blocks(file, size=BLOCK):
    """A binary file object's contents, one block at a time."""
    return iter(lambda: file.read(size), b"")


def file_digest(path, algorithm):
    """The hex digest of a file's contents, by a hashlib algorithm name ("sha256", "md5")."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in blocks(f):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path, data, private=False):
    """Write bytes to `path` durably: a temp file beside it, fsync, rename, fsync the folder.
    `private`: the file is created 0600 and missing folders 0700 (files of the data folder);
    otherwise the umask decides (files written into the user's own folders)."""
    with _replacing(path, private) as f:
        f.write(data)


def atomic_copy(source, path, private=False):
    """Copy a readable binary file object into `path` the same way."""
    with _replacing(path, private) as f:
        for block in blocks(source):
            f.write(block)


class _replacing:
    def __init__(self, path, private=False):
        self.path = Path(path)
        self.private = private
        self.tmp = self.path.parent / f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp"

    def __enter__(self):
        if self.private:
            make_private_dirs(self.path.parent)
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_BINARY", 0), PRIVATE_FILE)
            self.file = os.fdopen(fd, "wb")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.tmp, "wb")
        return self.file

    def __exit__(self, kind, _error, _trace):
        try:
            if kind is None:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
            if kind is None:
                os.replace(self.tmp, self.path)
                fsync_dir(str(self.path.parent))
        finally:
            if self.tmp.exists():
                self.tmp.unlink()
        return False
