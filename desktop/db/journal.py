"""The on-disk format: one snapshot file plus one append-only journal.

A journal record is one line, ``<crc32 as 8 hex digits> <JSON array of operations>\\n``, written
with a single append and fsynced before the write is acknowledged. An operation is
``[table, "p", id, document]`` (put the whole document), ``[table, "d", id]`` (delete) or
``[table, "t"]`` (truncate). Replaying puts and deletes of whole documents is idempotent, which is
what makes compaction crash-safe (see docs/adr/0001-store.md).

A snapshot is a header line (format, schema version, journal generation, length and CRC of the
body) followed by the body: ``{"tables": {name: {"next_id": n, "docs": [[id, doc], ...]}}}``.
It is written to a temporary file, fsynced and renamed over the old one.
"""

import os
import zlib

import orjson

SNAPSHOT_FORMAT = "labeldesk-snapshot"
JOURNAL_FORMAT = "labeldesk-journal"


class CorruptFile(Exception):
    """A store file cannot be read as what it claims to be. Names the file and the reason."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def encode_record(ops):
    body = orjson.dumps(ops)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode_line(line):
    """Return the operations of one complete journal line, or None if its checksum fails."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        return orjson.loads(body)
    except (ValueError, orjson.JSONDecodeError):
        return None


def fsync_dir(path):
    """Make a rename or a new file in `path` durable (no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Journal:
    """An append-only file of checksummed records; `append` returns once the record is on disk."""

    def __init__(self, path, generation, schema, fsync=True):
        self.path = path
        self.generation = generation
        self.fsync = fsync
        new = not os.path.exists(path)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.size = os.fstat(self.fd).st_size
        if new or self.size == 0:
            header = {"format": JOURNAL_FORMAT, "schema": schema, "generation": generation}
            try:
                self.append(header)
            except OSError:
                self.close()
                raise
            fsync_dir(os.path.dirname(path))

    def append(self, ops):
        data = encode_record(ops)
        start = self.size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(self.fd)
        except OSError:
            # Disk full or I/O error: cut the partial record off so the journal never holds a
            # torn line before later ones; the caller reports the error and keeps its old state.
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass
            raise
        self.size = start + len(data)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def read_journal(path):
    """Yield (header, list of records) from a journal file.

    A last line without its newline or with a bad checksum is a write that was never
    acknowledged (the process died inside append): it is cut off. A bad line followed by good
    ones is corruption and raises CorruptFile.
    """
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    tail = lines.pop()  # text after the last newline: empty, or a torn write
    records = []
    good_length = 0
    bad_at = None
    for number, line in enumerate(lines, 1):
        ops = decode_line(line)
        if ops is None:
            bad_at = number
            break
        records.append(ops)
        good_length += len(line) + 1
    if bad_at is not None and bad_at < len(lines):
        raise CorruptFile(path, f"line {bad_at} of {len(lines)} fails its checksum; "
                                "the records after it can't be trusted")
    if not records:
        # Not even the header line is whole: the file was being created when the process died,
        # so no record in it was ever acknowledged.
        return None, [], 0
    header = records.pop(0)
    if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
        raise CorruptFile(path, "not a LabelDesk journal (bad header)")
    torn = bool(tail) or bad_at is not None
    return header, records, good_length if torn else len(raw)


def write_snapshot(path, tables, schema, generation):
    """Write all tables atomically: temp file, fsync, rename, fsync of the folder."""
    body = orjson.dumps({"tables": tables}, option=orjson.OPT_NON_STR_KEYS)
    header = orjson.dumps({"format": SNAPSHOT_FORMAT, "schema": schema,
                           "generation": generation, "length": len(body),
                           "crc": zlib.crc32(body)})
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header + b"\n")
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))
    return len(body)


def read_snapshot(path):
    """Return (header, tables) of a snapshot file; raise CorruptFile if it isn't whole."""
    with open(path, "rb") as f:
        raw = f.read()
    newline = raw.find(b"\n")
    try:
        header = orjson.loads(raw[:newline]) if newline > 0 else None
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != SNAPSHOT_FORMAT:
        raise CorruptFile(path, "not a LabelDesk snapshot (bad header)")
    body = memoryview(raw)[newline + 1:]  # a view: no second copy of a large file
    if len(body) != header.get("length"):
        raise CorruptFile(path, f"truncated: {len(body)} of {header.get('length')} bytes")
    if zlib.crc32(body) != header.get("crc"):
        raise CorruptFile(path, "checksum mismatch: the file was changed or damaged")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise CorruptFile(path, f"invalid JSON: {e}") from None
    return header, data["tables"]
