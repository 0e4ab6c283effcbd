"""db/LOCK: who has the store open, and how much of the journal it acknowledged.

The file holds an OS lock for the life of the process that has the store open (freed by the OS
when that process ends, even by kill -9), and two lines:

    pid 12345                      (or "closed" after a clean close)
    acked generation=…7 bytes=…123456 records=…42

The second line is rewritten in place, fixed-width, after every append whose fsync returned:
the journal's generation, its size and its record count as acknowledged. It needs no fsync of
its own: after a kill the page cache still holds it, a clean close fsyncs it, and after a power
cut it can only be behind the journal (it is written after the journal's fsync), never ahead.
So a journal that is shorter than it says, or whose "unfinished last write" starts inside what
it says was acknowledged, lost acknowledged writes (scan.JournalScan.against): damage, refused.
"""

import os

from desktop.db.journal import FILE_MODE, tighten


class StoreLocked(Exception):
    """Another process has the store open."""


def lock_folder(path):
    """Hold an exclusive lock on `path` for the life of the process; the OS frees it on exit.
    Returns (the open file, what it said before: "" or a previous session's lines)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    tighten(path, FILE_MODE)
    handle = os.fdopen(fd, "r+")
    try:
        if os.name == "nt":  # pragma: no cover - exercised by Windows builds only
            import msvcrt
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = owner_of(handle.read()) or "another process"
        handle.close()
        raise StoreLocked(f"{os.path.dirname(path)} is in use by {owner}") from None
    handle.seek(0)
    previous = handle.read()  # left by a process that never closed the store
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle, previous


def owner_of(text):
    """"pid N" of a LOCK file's text while (or if last) a process held it open, else ""."""
    first = (text or "").split("\n", 1)[0].strip()
    return first if first.startswith("pid ") else ""


def acknowledged_in(text):
    """(generation, bytes, records) of a LOCK file's text, else None (an older LabelDesk's)."""
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[0] == "acked":
            try:
                values = dict(field.split("=", 1) for field in fields[1:])
                return (int(values["generation"]), int(values["bytes"]), int(values["records"]))
            except (KeyError, ValueError):
                return None
    return None


def read_acknowledged(path):
    """What the LOCK file at `path` says was acknowledged (a read-only open: no lock taken)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return acknowledged_in(f.read(4096))
    except OSError:
        return None


def _line(generation, size, records):
    return f"acked generation={generation:020d} bytes={size:020d} records={records:020d}\n"


class Marker:
    """Writes the acknowledged line into a held LOCK file (after its "pid" line)."""

    def __init__(self, handle):
        self.handle = handle
        self.fd = handle.fileno()
        self.offset = len(f"pid {os.getpid()}\n".encode())

    def write(self, generation, size, records):
        line = _line(generation, size, records).encode()
        if hasattr(os, "pwrite"):
            os.pwrite(self.fd, line, self.offset)  # one syscall
        else:  # pragma: no cover - Windows
            os.lseek(self.fd, self.offset, os.SEEK_SET)
            os.write(self.fd, line)

    def close_cleanly(self, acknowledged):
        """A clean end: "closed" and the final acknowledged line, fsynced."""
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.ftruncate(self.fd, 0)
        text = "closed\n" + (_line(*acknowledged) if acknowledged else "")
        os.write(self.fd, text.encode())
        os.fsync(self.fd)
