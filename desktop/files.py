"""Files: writing them so that a reader (or a crash) never sees half of one; reading them a
block at a time."""

import hashlib
import os
import uuid
from pathlib import Path

from .db.journal import fsync_dir


BLOCK = 1 << 20


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


def atomic_write(path, data):
    """Write bytes to `path` durably: a temp file beside it, fsync, rename, fsync the folder."""
    with _replacing(path) as f:
        f.write(data)


def atomic_copy(source, path):
    """Copy a readable binary file object into `path` the same way."""
    with _replacing(path) as f:
        for block in blocks(source):
            f.write(block)


class _replacing:
    def __init__(self, path):
        self.path = Path(path)
        self.tmp = self.path.parent / f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp"

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.tmp, "wb")
        return self.file

    def __exit__(self, kind, error, trace):
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
