"""The on-disk format: one snapshot file plus one append-only journal.

A journal record is one line, ``<body length, hex> <crc32 of the body, 8 hex digits> <body>\\n``,
the body a JSON array of operations, written with a single append and fsynced before the write
is acknowledged. An operation is ``[table, "p", id, document]`` (put the whole document),
``[table, "d", id]`` (delete) or ``[table, "t"]`` (truncate). Replaying puts and deletes of whole
documents is idempotent, which is what makes compaction crash-safe (see docs/adr/0001-store.md).
The first record is the header: ``{"format", "version": 2, "schema", "generation"}``.

The declared length is what tells a torn write from damage. A record the file ends inside of
(shorter than its declared length) is a write that never completed, so was never acknowledged:
opening sets its bytes aside (``journal.ldb.torn-<UTC time>``) and cuts them off. A record that
is all there but fails its checksum or JSON is damage, wherever it is: opening refuses
(CorruptFile, with the record's number and byte offset) and changes nothing; ``labeldesk repair``
keeps every readable record. Journals of the first format (version 1, ``<crc> <body>\\n``, no
length) still open, and are rewritten in this one at their first writable open.

A snapshot is a header line (format, schema version, journal generation, length and CRC of the
body, and ``header_crc``, a CRC of the other header fields) followed by the body:
``{"tables": {name: {"next_id": n, "docs": [[id, doc], ...]}}}``. It is written to a temporary
file (created 0600), fsynced and renamed over the old one. Snapshots without ``header_crc``
(the first format) still open.
"""

import errno
import os
import re
import shutil
import time
import zlib

import orjson

SNAPSHOT_FORMAT = "labeldesk-snapshot"
JOURNAL_FORMAT = "labeldesk-journal"
JOURNAL_VERSION = 2
FILE_MODE = 0o600  # every file of the store: the data is the user's alone
DIR_MODE = 0o700
REPAIR_HINT = ("Nothing was changed. Close LabelDesk and run `labeldesk repair` to keep every "
               "readable record (the damaged files are moved aside, never deleted), or restore "
               "a backup.")

_V2_HEAD = re.compile(rb"([0-9a-f]{1,16}) ([0-9a-f]{8}) ")
_V2_PREFIX = re.compile(rb"[0-9a-f]{0,16}(?: [0-9a-f]{0,8})?")  # a header cut short


class CorruptFile(Exception):
    """A store file cannot be read as what it claims to be. Names the file and the reason (and
    for a journal record, its number and byte offset)."""

    def __init__(self, path, reason, record=None, offset=None):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.record = record
        self.offset = offset


class JournalLost(OSError):
    """The file the journal writes to is no longer the store's journal.ldb (its folder was
    deleted, moved or replaced while the store was open). Raised before anything is written."""


def utc_stamp():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def encode_record(ops):
    body = orjson.dumps(ops)
    return b"%x %08x " % (len(body), zlib.crc32(body)) + body + b"\n"


def decode_line(line):
    """(operations, None) of one complete journal line (without its newline), or (None, why).

    Both formats: ``<len> <crc> <body>`` and the first one, ``<crc> <body>``. orjson never
    writes a raw newline, so a body is never split across lines."""
    if len(line) >= 10 and line[8:9] == b" " and line[9:10] in (b"[", b"{"):
        head_end, length, crc = 9, None, line[:8]  # version 1
    else:
        match = _V2_HEAD.match(line)
        if match is None:
            return None, "its header (length and checksum) is unreadable"
        head_end, length, crc = match.end(), int(match[1], 16), match[2]
    body = line[head_end:]
    if length is not None and len(body) != length:
        return None, f"its length is {len(body)} bytes, its header says {length}"
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None, "it fails its checksum"
        return orjson.loads(body), None
    except (ValueError, orjson.JSONDecodeError):
        return None, "it fails its checksum"


def _damage_of_tail(tail, version):
    """None if bytes after the last newline are an append that never completed, else what is
    wrong with them.

    A record is complete when its declared length and its newline are there; a file that ends
    before that is a torn write. Trailing NUL bytes (a file system that grew the file but lost
    the data at a power cut) count as not written."""
    if version == 1:
        return None  # the first format had no length: an unterminated last line was torn
    data = tail.rstrip(b"\0")
    match = _V2_HEAD.match(data)
    if match is not None:
        if len(data) < match.end() + int(match[1], 16) + 1:
            return None
        return "its declared length is all there, but it doesn't end where it says"
    if _V2_PREFIX.fullmatch(data) is not None:
        return None  # cut inside its length and checksum
    return "its header (length and checksum) is unreadable"


class JournalScan:
    """What a journal file holds, record by record (line numbers count from 1, the header).

    `good`: [(number, start, end, ops)]; `bad`: [(number, start, end, why)], complete records
    that are damaged; `torn`: (start, end) of an unfinished last write, or None."""

    def __init__(self, raw):
        self.size = len(raw)
        self.good, self.bad, self.torn = [], [], None
        self.version = None
        position, number = 0, 0
        while position < len(raw):
            number += 1
            newline = raw.find(b"\n", position)
            if newline < 0:
                tail = raw[position:]
                why = _damage_of_tail(tail, self.version or self._shape(tail))
                if why is None:
                    self.torn = (position, len(raw))
                else:
                    self.bad.append((number, position, len(raw), why))
                break
            line = raw[position:newline]
            ops, why = decode_line(line)
            if ops is None:
                self.bad.append((number, position, newline + 1, why))
            else:
                if self.version is None:
                    self.version = self._shape(line)
                self.good.append((number, position, newline + 1, ops))
            position = newline + 1
        self.records = number

    @staticmethod
    def _shape(line):
        return 1 if line[8:9] == b" " and line[9:10] in (b"[", b"{") else JOURNAL_VERSION

    @property
    def header(self):
        """The header record, if the first line is one that reads; else None."""
        if self.good and self.good[0][0] == 1:
            header = self.good[0][3]
            if isinstance(header, dict) and header.get("format") == JOURNAL_FORMAT:
                return header
        return None


def read_journal(path):
    """The strict read for opening a store: a JournalScan with no damaged record in it.

    Raises CorruptFile naming the first damaged record (number, byte offset) and a journal
    whose first line isn't a LabelDesk journal header. A file with no complete record at all
    (being created when the process died) has header None."""
    with open(path, "rb") as f:
        scan = JournalScan(f.read())
    if scan.bad:
        number, start, end, why = scan.bad[0]
        more = f" ({len(scan.bad)} damaged records in all)" if len(scan.bad) > 1 else ""
        raise CorruptFile(path, f"record {number} of {scan.records}, bytes {start}-{end}, is "
                                f"damaged: {why}{more}. It is not an unfinished last write, so it "
                                f"may hold acknowledged data and is not dropped. {REPAIR_HINT}",
                          record=number, offset=start)
    if scan.good and scan.header is None:
        raise CorruptFile(path, f"not a LabelDesk journal (bad header). {REPAIR_HINT}",
                          record=1, offset=0)
    header = scan.header
    if header is not None and header.get("version", 1) > JOURNAL_VERSION:
        raise CorruptFile(path, "written by a newer LabelDesk (journal format "
                                f"{header.get('version')})")
    if header is not None and not _is_int(header.get("generation")):
        raise CorruptFile(path, f"bad header (no generation). {REPAIR_HINT}", record=1, offset=0)
    return scan


def set_aside(path, start, end, suffix):
    """Copy bytes start..end of `path` to `<path>.<suffix>-<UTC time>` (0600, fsynced) before
    they are cut off: evidence is kept. Returns the new file's path."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    target = f"{path}.{suffix}-{utc_stamp()}"
    number = 1
    while os.path.exists(target):
        number += 1
        target = f"{path}.{suffix}-{utc_stamp()}-{number}"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(os.path.dirname(path))
    return target


def tighten(path, mode):
    """chmod `path` down to `mode` when it allows more (a file of an older LabelDesk, made
    0644); True when it did, False when it didn't need to or is missing."""
    try:
        current = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return False
    if current & ~mode:
        os.chmod(path, current & mode)
        return True
    return False


def keep_aside(store_folder, into, names=("snapshot.ldb", "journal.ldb")):
    """Keep a store's files as they are in `into`/damaged-<UTC time>/ (0700; hard links, else
    copies) before anything replaces them; returns that folder."""
    aside = os.path.join(into, f"damaged-{utc_stamp()}")
    number = 1
    while os.path.exists(aside):
        number += 1
        aside = os.path.join(into, f"damaged-{utc_stamp()}-{number}")
    os.makedirs(aside, mode=DIR_MODE)
    for name in names:
        source = os.path.join(store_folder, name)
        if not os.path.exists(source):
            continue
        target = os.path.join(aside, name)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)
    fsync_dir(aside)
    fsync_dir(into)
    return aside


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
    """An append-only file of checksummed records; `append` returns once the record is on disk.

    Each append first checks, with one fstat and one stat, that the file it writes to is still
    the store's journal.ldb at its acknowledged size (JournalLost otherwise), so that writes
    never go on into a deleted file."""

    def __init__(self, path, generation, schema, fsync=True):
        self.path = path
        self.generation = generation
        self.fsync = fsync
        new = not os.path.exists(path)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        stat = os.fstat(self.fd)
        self.size = stat.st_size
        if new or self.size == 0:
            header = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "schema": schema,
                      "generation": generation}
            try:
                self.append(header)
            except OSError:
                self.close()
                raise
            fsync_dir(os.path.dirname(path))

    def check(self):
        """Raise JournalLost unless the open file is still `self.path` and holds exactly what
        was acknowledged; a leftover of a failed write (its cut-off failed) is cut off here."""
        stat = os.fstat(self.fd)
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            named = None
        if stat.st_nlink == 0 or named is None or (named.st_dev, named.st_ino) != (
                stat.st_dev, stat.st_ino):
            raise JournalLost(errno.ENOENT, "deleted or replaced while LabelDesk had it open",
                              self.path)
        if stat.st_size < self.size:
            raise JournalLost(errno.EIO, "cut short while LabelDesk had it open", self.path)
        if stat.st_size > self.size:
            os.ftruncate(self.fd, self.size)

    def append(self, ops):
        data = encode_record(ops)  # before anything is written: a value JSON can't hold fails here
        self.check()
        start = self.size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            if self.fsync:
                os.fsync(self.fd)
        except BaseException:
            # Disk full, I/O error, or interrupted: cut the partial record off so the journal
            # never holds a torn line before later ones; the caller reports the error and keeps
            # its old state. (If the cut-off fails, the next append's check() retries it.)
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


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _header_crc(fields):
    return zlib.crc32(orjson.dumps({k: v for k, v in fields.items() if k != "header_crc"},
                                   option=orjson.OPT_SORT_KEYS))


def write_snapshot(path, tables, schema, generation):
    """Write all tables atomically: temp file (0600), fsync, rename, fsync of the folder."""
    body = orjson.dumps({"tables": tables}, option=orjson.OPT_NON_STR_KEYS)
    fields = {"format": SNAPSHOT_FORMAT, "schema": schema, "generation": generation,
              "length": len(body), "crc": zlib.crc32(body)}
    fields["header_crc"] = _header_crc(fields)
    header = orjson.dumps(fields)
    tmp = path + ".tmp"
    try:
        os.remove(tmp)  # a leftover keeps its own mode through O_TRUNC: start from none
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(header + b"\n")
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))
    return len(body)


def read_snapshot_header(raw, path):
    """The checked header of a snapshot's bytes, and where its body starts."""
    newline = raw.find(b"\n")
    try:
        header = orjson.loads(raw[:newline]) if newline > 0 else None
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != SNAPSHOT_FORMAT:
        raise CorruptFile(path, "not a LabelDesk snapshot (bad header)")
    if "header_crc" in header and header["header_crc"] != _header_crc(header):
        raise CorruptFile(path, "its header fails its checksum: the header (generation, "
                                "schema, length or checksum) was changed or damaged")
    for key, least in (("schema", 1), ("generation", 1), ("length", 0), ("crc", 0)):
        if not _is_int(header.get(key)) or header[key] < least:
            raise CorruptFile(path, f"bad header: {key!r} is missing or not a valid number")
    return header, newline + 1


def read_snapshot(path):
    """Return (header, tables) of a snapshot file; raise CorruptFile if it isn't whole."""
    with open(path, "rb") as f:
        raw = f.read()
    header, start = read_snapshot_header(raw, path)
    body = memoryview(raw)[start:]  # a view: no second copy of a large file
    if len(body) != header["length"]:
        raise CorruptFile(path, f"truncated: {len(body)} of {header['length']} bytes")
    if zlib.crc32(body) != header["crc"]:
        raise CorruptFile(path, "checksum mismatch: the file was changed or damaged")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise CorruptFile(path, f"invalid JSON: {e}") from None
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict) or not all(
            isinstance(t, dict) and _is_int(t.get("next_id")) and isinstance(t.get("docs"), list)
            for t in tables.values()):
        raise CorruptFile(path, "not a LabelDesk snapshot (unexpected content)")
    return header, tables
