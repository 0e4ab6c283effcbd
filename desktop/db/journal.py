"""The on-disk format: one snapshot file plus one append-only journal (read back by scan.py).

A journal record is one line, ``<body length, hex> <crc32 of the body, 8 hex digits> <body>\\n``,
the body a JSON array of operations, written with a single append and fsynced before the write
is acknowledged. An operation is ``[table, "p", id, document]`` (put the whole document),
``[table, "d", id]`` (delete) or ``[table, "t"]`` (truncate). Replaying puts and deletes of whole
documents is idempotent, which is what makes compaction crash-safe (see docs/adr/0001-store.md).
The first record is the header: ``{"format", "version": 2, "schema", "generation", "by"}``
(``by``: the LabelDesk version that wrote it; ``base_empty`` when the snapshot below holds
nothing). Whatever a later LabelDesk changes, its first line stays a record of this framing
whose header says its version, so that this one refuses it as newer (NewerFormat), not as damage.

The declared length is what tells a torn write from damage (scan.py): a record the file ends
inside of, shorter than its declared length and after everything acknowledged, is a write that
never completed: opening sets its bytes aside (``journal.ldb.torn-<UTC time>``) and cuts them
off. Anything else that fails is damage, wherever it is: opening refuses (CorruptFile, with the
record's number and byte offset) and changes nothing; ``labeldesk repair`` keeps every record
that passes its checksum. Journals of the first format (version 1, ``<crc> <body>\\n``, no
length) still open, and are rewritten in this one at their first writable open.

A snapshot is a header line (format, version, by, schema version, journal generation, length
and CRC of the body, and ``header_crc``, a CRC of the other header fields) followed by the body.
Since version 3 the body is lines, each a JSON value, so that opening splits it instead of
parsing every document (docs/adr/0016-compact-documents.md): per table a line
``{"table": name, "next_id": n}``, then its documents in id order a chunk at a time, each chunk
a line listing its ids (``[1,2,...]``) followed by one line per document, as the store keeps it
in memory (db/docs.py). Version 2's body, ``{"tables": {name: {"next_id": n, "docs": [[id,
doc], ...]}}}`` as one JSON document, still opens (and is rewritten at the first writable open).
It is written to a temporary file (created 0600), fsynced and renamed over the old one.
Snapshots without ``header_crc`` (the first format) still open.
"""

import errno
import os
import shutil
import time
import zlib

import orjson

from desktop import __version__

SNAPSHOT_FORMAT = "labeldesk-snapshot"
SNAPSHOT_VERSION = 3  # 2: the header with header_crc; 3: the body as lines
JOURNAL_FORMAT = "labeldesk-journal"
JOURNAL_VERSION = 2
SCHEMA = 1  # the shape of the stored documents (storage.MIGRATIONS upgrade older ones)
FILE_MODE = 0o600  # every file of the store: the data is the user's alone
DIR_MODE = 0o700
NEXT_JOURNAL = "journal-next.ldb"  # the writes made while a compaction runs (storage.py)
REPAIR_HINT = ("Nothing was changed. Close LabelDesk and run `labeldesk repair` to keep every "
               "readable record (the damaged files are moved aside, never deleted), or restore "
               "a backup.")

class CorruptFile(Exception):
    """A store file cannot be read as what it claims to be. Names the file and the reason (and
    for a journal record, its number and byte offset)."""

    def __init__(self, path, reason, record=None, offset=None):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.record = record
        self.offset = offset


class NewerFormat(CorruptFile):
    """A store file written by a newer LabelDesk, in a format or schema this one doesn't know.

    Not damage: refused everywhere (opening, repair, restore) and never changed. Headers name
    the LabelDesk that wrote them (``by``), so the message can say which version to get."""

    def __init__(self, path, what, written_by=None):
        by = f"LabelDesk {written_by} or newer; " if isinstance(written_by, str) and \
            written_by else ""
        super().__init__(path, f"written by a newer LabelDesk ({by}{what}) than this one "
                               f"({__version__}): upgrade LabelDesk to open it. Nothing was "
                               "changed.")


class JournalLost(OSError):
    """The file the journal writes to is no longer the store's journal.ldb (its folder was
    deleted, moved or replaced while the store was open). Raised before anything is written."""


def utc_stamp():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def encode_record(ops):
    body = orjson.dumps(ops)
    return b"%x %08x " % (len(body), zlib.crc32(body)) + body + b"\n"


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


def keep_aside(store_folder, into, names=("snapshot.ldb", "journal.ldb", NEXT_JOURNAL)):
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

    def __init__(self, path, generation, schema, fsync=True, base_empty=False, records=0,
                 extra=None):
        """Open (or create, header first) the journal at `path`. `records`: how many it holds
        (the store counts them when it replays the file). `base_empty`: the snapshot below
        this journal holds no document, so the journal alone holds the whole store (repair can
        then rebuild a store whose snapshot is lost). `extra`: more header fields (a
        background compaction's next journal says which journal it `follows`)."""
        self.path = path
        self.generation = generation
        self.fsync = fsync
        self.records = records
        new = not os.path.exists(path)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        stat = os.fstat(self.fd)
        self.size = stat.st_size
        if new or self.size == 0:
            self.records = 0
            header = {"format": JOURNAL_FORMAT, "version": JOURNAL_VERSION, "schema": schema,
                      "generation": generation, "by": __version__}
            if base_empty:
                header["base_empty"] = True
            header.update(extra or {})
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
        self.records += 1

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _header_crc(fields):
    return zlib.crc32(orjson.dumps({k: v for k, v in fields.items() if k != "header_crc"},
                                   option=orjson.OPT_SORT_KEYS))


HEADER_ROOM = 1024  # bytes a snapshot's header line takes (padded with spaces; JSON allows it)
CHUNK = 2000  # documents serialized per call: between calls other threads get the GIL
SYNC_EVERY = 8 << 20  # bytes of a snapshot written between two fdatasyncs


def write_snapshot(path, tables, schema, generation, extra=None, place=None, tmp=None,
                   version=SNAPSHOT_VERSION):
    """Write all tables atomically: temp file (0600), fsync, rename, fsync of the folder.

    `tables`: {name: {"next_id": n, "docs": docs}}, docs as [[id, doc], ...], as {id: doc}
    (written in id order), or an object giving its [id, doc] pairs by `chunks(size)`; a doc is
    a dict or its JSON bytes (what the store keeps, db/docs.py). `extra`: more header fields
    (``history_last``: the history files held every version up to this id when the snapshot
    was written; db/history.py). `place(tmp, path)`: puts the written file in place instead of
    a rename and folder fsync (a compaction in the background does both under the store's
    lock). `tmp`: the temporary file (`path`.tmp). `version` 2 writes the old body (tests of
    old stores; tables of any shape).

    The body is written a few thousand documents at a time, its length and CRC summed as it
    goes, and the header, padded to HEADER_ROOM bytes, written over the space kept for it at the
    end: a compaction running in the background (storage.JournalStorage) never holds the GIL
    for longer than one chunk, so writes go on meanwhile. Returns the body's length."""
    tmp = tmp or path + ".tmp"
    try:
        os.remove(tmp)  # a leftover keeps its own mode through O_TRUNC: start from none
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        parts = _body_lines(tables) if version >= 3 else _body_parts_v2(tables)
        length = _write_body(fd, parts, schema, generation, extra, version)
    except BaseException:
        _remove_if_ours(tmp, fd)  # not another writer's file of the same name meanwhile
        raise
    finally:
        os.close(fd)
    if place is not None:
        place(tmp, path)
    else:
        os.replace(tmp, path)
        fsync_dir(os.path.dirname(path))
    return length


def _remove_if_ours(path, fd):
    try:
        if os.path.samestat(os.fstat(fd), os.stat(path)):
            os.remove(path)
    except OSError:
        pass


def _write_body(fd, parts, schema, generation, extra, version):
    """The header's room, the body a part at a time, then the header; fsynced. Returns the
    body's length."""
    with os.fdopen(fd, "wb", closefd=False) as f:
        f.write(b" " * HEADER_ROOM + b"\n")
        length, crc, synced = 0, 0, 0
        for part in parts:
            f.write(part)
            length += len(part)
            crc = zlib.crc32(part, crc)
            if length - synced >= SYNC_EVERY:
                # a few MB at a time to the disk: a final fsync of the whole file would hold up
                # the journal's fsyncs meanwhile (the file system orders them behind it)
                f.flush()
                os.fdatasync(f.fileno())
                synced = length
        fields = {"format": SNAPSHOT_FORMAT, "version": version, "by": __version__,
                  "schema": schema, "generation": generation, "length": length, "crc": crc,
                  **(extra or {})}
        fields["header_crc"] = _header_crc(fields)
        header = orjson.dumps(fields)
        if len(header) > HEADER_ROOM:
            raise ValueError(f"a snapshot header of {len(header)} bytes")
        f.seek(0)
        f.write(header.ljust(HEADER_ROOM))
        f.flush()
        os.fsync(f.fileno())
    return length


def _pair_chunks(docs):
    """A table's [id, doc] pairs, a chunk at a time, in id order."""
    if hasattr(docs, "chunks"):  # read a chunk at a time (storage._ChunkedTable)
        yield from docs.chunks(CHUNK)
    elif isinstance(docs, dict):
        ids = sorted(docs)
        for start in range(0, len(ids), CHUNK):
            yield [(i, docs[i]) for i in ids[start:start + CHUNK]]
    else:
        for start in range(0, len(docs), CHUNK):
            yield docs[start:start + CHUNK]


def _as_json(doc):
    return doc if doc.__class__ is bytes else orjson.dumps(doc)


def _body_lines(tables):
    """Version 3's body: per table its line, then its chunks (an ids line, a line a doc)."""
    for name, table in tables.items():
        if not (isinstance(name, str) and isinstance(table, dict)
                and table.keys() == {"next_id", "docs"} and _is_int(table["next_id"])):
            raise ValueError(f"not a table of the store: {name!r:.40}")
        yield orjson.dumps({"table": name, "next_id": table["next_id"]}) + b"\n"
        for chunk in _pair_chunks(table["docs"]):
            if chunk:
                ids = [i for i, _ in chunk]
                yield orjson.dumps(ids) + b"\n" + b"\n".join(
                    [_as_json(doc) for _, doc in chunk]) + b"\n"


def _body_parts_v2(tables):
    """Version 2's body: ``{"tables": {...}}`` as one JSON document."""
    yield b'{"tables":{'
    for number, (name, table) in enumerate(tables.items()):
        if not (isinstance(table, dict) and table.keys() == {"next_id", "docs"}):
            yield (b"," if number else b"") + orjson.dumps(name) + b":" + orjson.dumps(
                table, option=orjson.OPT_NON_STR_KEYS)  # as given (tests write odd shapes)
            continue
        head = orjson.dumps(name) + b':{"next_id":' + orjson.dumps(table["next_id"])
        yield (b"," if number else b"") + head + b',"docs":['
        first = True
        for chunk in _pair_chunks(table["docs"]):
            if not chunk:
                continue
            part = b",".join(b"[" + orjson.dumps(i) + b"," + _as_json(doc) + b"]"
                             for i, doc in chunk) if any(
                d.__class__ is bytes for _, d in chunk) else orjson.dumps(
                chunk, option=orjson.OPT_NON_STR_KEYS)[1:-1]
            yield (b"" if first else b",") + part
            first = False
        yield b"]}"
    yield b"}}"


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
    newer = _newer(header, path)
    if newer is not None:
        raise newer
    for key, least in (("schema", 1), ("generation", 1), ("length", 0), ("crc", 0)):
        if not _is_int(header.get(key)) or header[key] < least:
            raise CorruptFile(path, f"bad header: {key!r} is missing or not a valid number")
    return header, newline + 1


def _newer(header, path):
    """NewerFormat for a snapshot header (checksum already passed) of a newer LabelDesk. The
    fields of a header without a checksum (the first format) are not trusted to say so."""
    version, schema = header.get("version", 1), header.get("schema")
    if "header_crc" not in header:
        if _is_int(schema) and schema > SCHEMA:
            return CorruptFile(path, f"bad header: data schema {schema}, in a header without "
                                     "a checksum (of the first format, which had schema 1)")
        return None
    if _is_int(version) and version > SNAPSHOT_VERSION:
        return NewerFormat(path, f"snapshot format {version}", header.get("by"))
    if _is_int(schema) and schema > SCHEMA:
        return NewerFormat(path, f"data schema {schema}", header.get("by"))
    return None


def read_snapshot(path, raw=False):
    """Return (header, tables) of a snapshot file; raise CorruptFile if it isn't whole.

    tables: {name: {"next_id": n, "docs": [[id, doc], ...]}}; with `raw`, {name: {"next_id": n,
    "raw": {id: the document's JSON bytes}}} instead (what the store keeps: version 3 is split,
    not parsed; an older body is parsed and each document encoded)."""
    with open(path, "rb") as f:
        head = f.readline()
        header, _ = read_snapshot_header(head, path)
        if header.get("version", 1) >= 3:
            # read and split a few MB at a time: no second copy of a large body
            lines, length, crc, last = _read_lines(f)
            body = None
        else:
            body = f.read()
            length = len(body)
    if length != header["length"]:
        raise CorruptFile(path, f"truncated: {length} of {header['length']} bytes")
    if (zlib.crc32(body) if body is not None else crc) != header["crc"]:
        raise CorruptFile(path, "checksum mismatch: the file was changed or damaged")
    if body is not None:
        return header, read_body(body, path, False, raw)
    return header, _tables_of(lines, last, path, raw)


READ_PIECE = 4 << 20


def _read_lines(f):
    """(the lines of the rest of `f` but its last, their length and CRC, the last)."""
    lines, pending, length, crc = [], [], 0, 0
    while True:
        piece = f.read(READ_PIECE)
        if not piece:
            break
        length += len(piece)
        crc = zlib.crc32(piece, crc)
        parts = piece.split(b"\n")
        if len(parts) == 1:  # inside one long line
            pending.append(piece)
            continue
        if pending:
            parts[0] = b"".join(pending) + parts[0]
        pending = [parts.pop()]
        lines.extend(parts)
    return lines, length, crc, b"".join(pending)


def read_body(body, path, lines, raw=False):
    """A snapshot body's tables (see read_snapshot); `lines`: version 3's body, else the JSON
    of the older ones. CorruptFile when it isn't of that shape."""
    if lines:
        lines = body.split(b"\n")
        del body
        last = lines.pop()
        return _tables_of(lines, last, path, raw)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise CorruptFile(path, f"invalid JSON: {e}") from None
    del body
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict) or not all(
            isinstance(t, dict) and _is_int(t.get("next_id")) and isinstance(t.get("docs"), list)
            for t in tables.values()):
        raise CorruptFile(path, "not a LabelDesk snapshot (unexpected content)")
    if raw:
        try:
            tables = {name: {"next_id": t["next_id"],
                             "raw": {int(i): orjson.dumps(d) for i, d in t["docs"]}}
                      for name, t in tables.items()}
        except (TypeError, ValueError) as e:
            raise CorruptFile(path,
                              f"not a LabelDesk snapshot (unexpected content: {e})") from None
    return tables


def _tables_of(lines, last, path, raw):
    """Version 3's body, as its lines and what follows the last newline (nothing)."""
    if last != b"":
        raise CorruptFile(path, "not a LabelDesk snapshot (unexpected content: the body does "
                                "not end with a whole line)")
    tables = _split_lines(lines, path)
    if not raw:
        tables = {name: {"next_id": t["next_id"], "docs": _decoded(t["raw"], path, name)}
                  for name, t in tables.items()}
    return tables


def _split_lines(lines, path):
    """Version 3's lines as {name: {"next_id": n, "raw": {id: bytes}}}: not parsed."""
    def bad(why):
        return CorruptFile(path, f"not a LabelDesk snapshot (unexpected content: {why})")
    tables, i, count = {}, 0, len(lines)
    while i < count:
        try:
            head = orjson.loads(lines[i])
        except orjson.JSONDecodeError:
            head = None
        if not (isinstance(head, dict) and isinstance(head.get("table"), str)
                and _is_int(head.get("next_id")) and head["next_id"] >= 1):
            raise bad(f"line {i + 1} is not a table's line")
        if head["table"] in tables:
            raise bad(f"table {head['table']!r} twice")
        i += 1
        docs = {}
        while i < count and lines[i][:1] == b"[":
            try:
                ids = orjson.loads(lines[i])
            except orjson.JSONDecodeError:
                ids = None
            if not (isinstance(ids, list) and ids and set(map(type, ids)) == {int}
                    and min(ids) >= 1 and i + len(ids) < count):
                raise bad(f"line {i + 1} is not a chunk's ids")
            before = len(docs)
            docs.update(zip(ids, lines[i + 1:i + 1 + len(ids)]))
            if len(docs) != before + len(ids):
                raise bad(f"an id of line {i + 1} is there twice")
            i += 1 + len(ids)
        tables[head["table"]] = {"next_id": head["next_id"], "raw": docs}
    return tables


def _decoded(raw, path, name):
    try:
        docs = [[i, orjson.loads(d)] for i, d in raw.items()]
    except orjson.JSONDecodeError as e:
        raise CorruptFile(path, f"a document of table {name!r} is not JSON: {e}") from None
    if not all(isinstance(d, dict) for _, d in docs):
        raise CorruptFile(path, f"not a LabelDesk snapshot (a document of table {name!r} is "
                                "not an object)")
    return docs
