"""The history log: every version of every document of one table, kept in an append-only,
checksummed file beside the store, never in the snapshot (docs/adr/0010-annotation-history.md).

A version is first an operation of the journal record that made it (``[TABLE, "p", id,
version]``, written and fsynced with the change itself: no second fsync per write). Versions
the journal holds are *pending*; they are moved into the history files in batches (a flush:
when they pass FLUSH_BYTES, and always before a compaction drops the journal that holds them).

``db/history.ldb``: a header line, then blocks. A block is ``b"LDHB"``, the payload's length and
CRC-32 (little-endian u32 each), then the payload: zlib of up to BLOCK_VERSIONS lines, in id
order, each ``<id> <the version's JSON>`` (JSON holds no raw newline): reading one version
inflates its block and parses that line alone.

``db/history.idx``: a header line, then one record per block: ``b"LDHI"``, how many versions,
the block's offset and length, the length of the record's body and a CRC-32 of those fields and
the body (little-endian u32/u64); the body is zlib of four columns of little-endian i64, one
value per version: ``id``, ``annotation_id``, ``task_id``, ``project_id``. The index is what a
lookup reads; it can be rebuilt from the blocks (`rebuild`).

Opening reads neither file whole: it walks the index's record headers (one small read per
block) to learn the last version id, and checks that the data file ends where the index says.
A flush writes and fsyncs the blocks, then the index records: bytes after the last whole index
record, and data after the last indexed block, are a flush that never completed (its versions
are still in the journal): opening sets them aside (``<file>.torn-<UTC time>``) and cuts them
off. Anything else that doesn't fit is damage: CorruptFile naming the file, the record and its
byte offset, and nothing is changed. A block or an index record is checked against its CRC when
it is read; `verify` reads everything (the background check after opening, and repair).

Ids are the table's persisted counter: versions reach the files in id order, so a version whose
id is at or below the last id in the files is already there (a journal replayed after a flush).
"""

import bisect
import logging
import os
import struct
import sys
import threading
import zlib
from array import array

import orjson

from desktop import __version__
from desktop.db.docs import encode
from desktop.db.journal import (
    FILE_MODE,
    CorruptFile,
    NewerFormat,
    fsync_dir,
    set_aside,
)

log = logging.getLogger("labeldesk.store")

TABLE = "annotation_history"
KEYS = ("annotation_id", "task_id", "project_id")
DATA_FORMAT = "labeldesk-history"
INDEX_FORMAT = "labeldesk-history-index"
VERSION = 1
BLOCK = struct.Struct("<4sII")  # magic, payload length, payload CRC
BLOCK_MAGIC = b"LDHB"
# magic, versions, block offset, block length, body length, CRC
RECORD = struct.Struct("<4sIQIII")
RECORD_MAGIC = b"LDHI"
CRC_FIELDS = struct.Struct("<IQII")
COLUMNS = ("id",) + KEYS  # the body's columns (i64 each)
BLOCK_VERSIONS = 256
# Pending versions are flushed into the files past this many bytes (LABELDESK_HISTORY_FLUSH_BYTES
# for tests): bounds the memory they take and the scan a lookup makes of them.
FLUSH_BYTES = int(os.environ.get("LABELDESK_HISTORY_FLUSH_BYTES") or 1 << 20)
CACHED_BLOCKS = 16
HINT = ("Nothing was changed. Close LabelDesk and run `labeldesk repair` to keep every readable "
        "version (the damaged files are moved aside, never deleted).")


def _header_line(fmt):
    return orjson.dumps({"format": fmt, "version": VERSION, "by": __version__}) + b"\n"


def _read_header(fd, path, fmt):
    """The header's length; CorruptFile / NewerFormat when it isn't this kind of file."""
    head = os.pread(fd, 512, 0)  # a header is ~80 bytes
    newline = head.find(b"\n")
    try:
        header = orjson.loads(head[:newline]) if newline > 0 else None
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != fmt:
        raise CorruptFile(path, f"not a LabelDesk history file (bad header). {HINT}", offset=0)
    version = header.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise NewerFormat(path, f"history format {version}", header.get("by"))
    return newline + 1


def encode_block(versions):
    """A block of `versions` ([(id, raw JSON of the version)], ids ascending)."""
    body = b"\n".join(b"%d %s" % (vid, raw) for vid, raw in versions)
    payload = zlib.compress(body, 6)
    return BLOCK.pack(BLOCK_MAGIC, len(payload), zlib.crc32(payload)) + payload


def encode_columns(entries):
    """The four i64 columns of `entries` ([(id, annotation, task, project)]), little-endian."""
    count = len(entries)
    return b"".join(struct.pack(f"<{count}q", *(e[i] for e in entries)) for i in range(4))


def decode_columns(raw, count):
    """(ids, annotations, tasks, projects) arrays of a record's decompressed body."""
    columns = []
    for i in range(4):
        column = array("q")
        column.frombytes(raw[i * count * 8:(i + 1) * count * 8])
        if sys.byteorder == "big":
            column.byteswap()
        columns.append(column)
    return columns


def encode_record(entries, offset, length):
    """The index record of a block at `offset` (`length` bytes) holding `entries`
    ([(id, annotation, task, project)])."""
    body = zlib.compress(encode_columns(entries), 6)
    fields = CRC_FIELDS.pack(len(entries), offset, length, len(body))
    crc = zlib.crc32(body, zlib.crc32(fields))
    return RECORD.pack(RECORD_MAGIC, len(entries), offset, length, len(body), crc) + body


def decode_record_body(body, count, path, number, where):
    """The columns of a record's body (its CRC checked by the caller)."""
    try:
        raw = zlib.decompress(body)
    except zlib.error:
        raw = b""
    if len(raw) != count * 32:
        raise CorruptFile(path, f"index record {number}, at byte {where}, passes its checksum "
                          f"but can't be read. {HINT}", record=number, offset=where)
    return decode_columns(raw, count)


def keys_of(version):
    """The three index keys of a version (0 where one is missing or not a number)."""
    return tuple(v if isinstance(v, int) and not isinstance(v, bool) else 0
                 for v in (version.get(k) for k in KEYS))


class Lookup:
    """The positions of the file's versions by one key: sorted arrays for the versions there
    when it was built, a dict for those flushed since."""

    def __init__(self, column):
        order = sorted(range(len(column)), key=column.__getitem__)
        self.values = array("q", (column[i] for i in order))
        self.positions = array("q", order)
        self.built = len(column)
        self.since = {}

    def add(self, value, position):
        self.since.setdefault(value, []).append(position)

    def find(self, value):
        lo = bisect.bisect_left(self.values, value)
        hi = bisect.bisect_right(self.values, value)
        return list(self.positions[lo:hi]) + self.since.get(value, [])


class Index:
    """The history index in memory, read from history.idx at the first lookup."""

    def __init__(self):
        self.ids = array("q")
        self.columns = {key: array("q") for key in KEYS}
        self.block_of = array("l")
        self.blocks = []  # (offset, length)
        self.lookups = {}

    def add_record(self, offset, length, columns):
        block = len(self.blocks)
        self.blocks.append((offset, length))
        start = len(self.ids)
        self.ids.extend(columns[0])
        for key, column in zip(KEYS, columns[1:]):
            self.columns[key].extend(column)
        self.block_of.extend([block] * len(columns[0]))
        for key, lookup in self.lookups.items():
            column = self.columns[key]
            for position in range(start, len(self.ids)):
                lookup.add(column[position], position)

    def positions(self, key, value):
        lookup = self.lookups.get(key)
        if lookup is None:
            lookup = self.lookups[key] = Lookup(self.columns[key])
        return lookup.find(value)

    def position_of(self, vid):
        at = bisect.bisect_left(self.ids, vid)
        return at if at < len(self.ids) and self.ids[at] == vid else None


class HistoryLog:
    """The history files of one store folder, and the versions the journal holds (pending)."""

    def __init__(self, folder, readonly=False, fsync=True):
        self.folder = str(folder)
        self.data_path = os.path.join(self.folder, "history.ldb")
        self.index_path = os.path.join(self.folder, "history.idx")
        self.readonly = readonly
        self.fsync = fsync
        self.recovered = []
        self.pending = []  # (id, keys, raw JSON), ids ascending
        self.pending_bytes = 0
        self.last_id = 0  # the highest id in the files
        self.versions = 0  # how many versions the files hold
        self.data_fd = self.index_fd = None
        self.data_size = self.index_size = 0
        self.index = None
        self.cache = {}
        self.lock = threading.RLock()
        self._open()

    # -- opening ------------------------------------------------------------------------------

    def _open(self):
        has_data, has_index = os.path.exists(self.data_path), os.path.exists(self.index_path)
        if not has_data and not has_index:
            return
        if not has_data:
            raise CorruptFile(self.data_path, "history.ldb is missing, but history.idx shows "
                              f"the store kept annotation history there. {HINT}")
        if not has_index:
            if self.readonly:
                raise CorruptFile(self.index_path, f"history.idx is missing. {HINT}")
            self._reindex_missing()
            return
        flags = os.O_RDONLY if self.readonly else os.O_RDWR | os.O_APPEND
        self.data_fd = os.open(self.data_path, flags)
        self.index_fd = os.open(self.index_path, flags)
        try:
            self._check_tails()
        except BaseException:
            self.close()
            raise

    def _check_tails(self):
        """Walk the index's record headers; cut what an interrupted flush left at either tail."""
        data_start = _read_header(self.data_fd, self.data_path, DATA_FORMAT)
        position = _read_header(self.index_fd, self.index_path, INDEX_FORMAT)
        index_size = os.fstat(self.index_fd).st_size
        data_size = os.fstat(self.data_fd).st_size
        expected, number, last_id, versions = data_start, 0, 0, 0
        torn = last = None
        while position < index_size:
            number += 1
            head = os.pread(self.index_fd, RECORD.size, position)
            if len(head) < RECORD.size:
                torn = (position, index_size, "an index record cut short")
                break
            magic, count, offset, length, body_length, crc = RECORD.unpack(head)
            if magic != RECORD_MAGIC or offset != expected or count < 1:
                raise CorruptFile(self.index_path, f"index record {number}, at byte {position}, "
                                  "is not where or what it should be (damaged). " + HINT,
                                  record=number, offset=position)
            end = position + RECORD.size + body_length
            if end > index_size:
                torn = (position, index_size, "an index record cut short")
                break
            if offset + length > data_size:
                raise CorruptFile(self.data_path, f"history.ldb is {data_size} bytes, but its "
                                  f"index (record {number}) names a block at bytes {offset}-"
                                  f"{offset + length}: the file was cut short. {HINT}",
                                  record=number, offset=offset)
            versions += count
            expected = offset + length
            last = (position, end, count, offset, length, body_length, crc, number)
            position = end
        if torn is not None:
            self._cut(self.index_fd, self.index_path, torn[0], index_size,
                      f"{torn[1] - torn[0]} bytes of {torn[2]}")
            index_size = torn[0]
        if data_size > expected:
            self._cut(self.data_fd, self.data_path, expected, data_size,
                      f"{data_size - expected} bytes of blocks no index record names")
            data_size = expected
        if last is not None:  # the last id: the last record's body, checked and read
            start, end, count, offset, length, body_length, crc, number = last
            body = os.pread(self.index_fd, body_length, start + RECORD.size)
            fields = CRC_FIELDS.pack(count, offset, length, body_length)
            if zlib.crc32(body, zlib.crc32(fields)) != crc:
                raise CorruptFile(self.index_path, f"index record {number}, bytes {start}-{end}, "
                                  f"fails its checksum. {HINT}", record=number, offset=start)
            last_id = decode_record_body(body, count, self.index_path, number, start)[0][-1]
        self.last_id, self.versions = last_id, versions
        self.data_size, self.index_size = data_size, index_size

    def _cut(self, fd, path, start, end, what):
        """An interrupted flush's tail: set aside and cut off (writable), ignored (read-only)."""
        if self.readonly:
            return
        kept = set_aside(path, start, end, "torn")
        os.ftruncate(fd, start)
        os.fsync(fd)
        self.recovered.append(f"{os.path.basename(path)}: set aside {what}, left by a flush "
                              "that never completed (its versions are still in the journal); "
                              f"kept in {os.path.basename(kept)}")

    def _reindex_missing(self):
        """history.idx is gone but history.ldb is there: the index is rebuilt from the blocks."""
        blocks, bad = scan_blocks(self.data_path)
        if bad:
            raise CorruptFile(self.data_path, f"history.idx is missing and history.ldb has "
                              f"damaged blocks ({_ranges(bad)}). {HINT}",
                              offset=bad[0][0])
        write_files(self.folder, blocks, fsync=self.fsync, only_index=True)
        self.recovered.append("history.idx was missing: rebuilt from history.ldb "
                              f"({sum(len(b[2]) for b in blocks)} versions)")
        self._open()

    def check_floor(self, last_id):
        """The snapshot says the files held every version up to `last_id` when it was written:
        fewer is damage (history lost), never to be opened silently."""
        if isinstance(last_id, int) and last_id > self.last_id:
            path = self.index_path if os.path.exists(self.index_path) else self.data_path
            raise CorruptFile(path, f"the annotation history holds versions up to {self.last_id}, "
                              f"but versions up to {last_id} were written there before the last "
                              f"compaction: history was lost (a file replaced or cut). {HINT}")

    # -- versions the journal holds -----------------------------------------------------------

    def add(self, vid, version, raw=None):
        """A version the journal now holds (a write acknowledged, or a record replayed)."""
        if vid <= self.last_id:
            return  # flushed before: the files have it
        raw = raw if raw is not None else encode(version)  # the exact size (db/docs.py)
        self.pending.append((vid, keys_of(version), raw))
        self.pending_bytes += len(raw)

    def needs_flush(self):
        return self.pending_bytes >= FLUSH_BYTES

    def flush(self):
        """Move the pending versions into the files: blocks fsynced, then index records
        fsynced. On failure (a full disk) both files are cut back and the versions stay
        pending (the journal holds them); the OSError is raised."""
        with self.lock:
            if not self.pending or self.readonly:
                return 0
            self._create()
            pending = self.pending
            data, records, offset = [], [], self.data_size
            entries_of = []
            for start in range(0, len(pending), BLOCK_VERSIONS):
                chunk = pending[start:start + BLOCK_VERSIONS]
                block = encode_block([(vid, raw) for vid, _keys, raw in chunk])
                entries = [(vid, *keys) for vid, keys, _raw in chunk]
                data.append(block)
                records.append(encode_record(entries, offset, len(block)))
                entries_of.append((offset, len(block), entries))
                offset += len(block)
            data_size, index_size = self.data_size, self.index_size
            try:
                _append(self.data_fd, b"".join(data), self.fsync)
                _append(self.index_fd, b"".join(records), self.fsync)
            except BaseException:
                for fd, size in ((self.data_fd, data_size), (self.index_fd, index_size)):
                    try:
                        os.ftruncate(fd, size)
                    except OSError:
                        pass
                raise
            self.data_size = offset
            self.index_size += sum(len(r) for r in records)
            if self.index is not None:
                for block_offset, length, entries in entries_of:
                    self.index.add_record(block_offset, length,
                                          [array("q", (e[i] for e in entries))
                                           for i in range(4)])
            self.last_id = pending[-1][0]
            self.versions += len(pending)
            self.pending, self.pending_bytes = [], 0
            return len(pending)

    def _create(self):
        """Both files, each with its header (fsynced), or neither: a failure (a full disk)
        removes what it made, and the next flush tries again."""
        if self.data_fd is not None:
            return
        made = []
        try:
            for path, fmt in ((self.data_path, DATA_FORMAT), (self.index_path, INDEX_FORMAT)):
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC, FILE_MODE)
                made.append((fd, path))
                _append(fd, _header_line(fmt), self.fsync)
            fsync_dir(self.folder)
        except BaseException:
            for fd, path in made:
                os.close(fd)
                try:
                    os.remove(path)
                except OSError:
                    pass
            raise
        (self.data_fd, _), (self.index_fd, _) = made
        self.data_size = os.fstat(self.data_fd).st_size
        self.index_size = os.fstat(self.index_fd).st_size

    # -- reading -------------------------------------------------------------------------------

    def _loaded(self):
        """The index in memory, read (every record's CRC checked) at the first lookup."""
        if self.index is not None:
            return self.index
        index = Index()
        if self.index_fd is not None:
            start = _read_header(self.index_fd, self.index_path, INDEX_FORMAT)
            raw = os.pread(self.index_fd, self.index_size - start, start)
            for _number, _position, _count, offset, length, columns in _records(
                    raw, start, self.index_path):
                index.add_record(offset, length, columns)
        self.index = index
        return index

    def entries(self, key, value):
        """[(id, annotation_id, task_id, project_id)] of every version whose `key` is `value`,
        oldest first, read from the index alone (files, then pending)."""
        column = KEYS.index(key)
        with self.lock:
            index = self._loaded()
            found = sorted((index.ids[p], index.columns["annotation_id"][p],
                            index.columns["task_id"][p], index.columns["project_id"][p])
                           for p in index.positions(key, value))
            return found + [(vid, *keys) for vid, keys, _raw in self.pending
                            if keys[column] == value]

    def read(self, ids):
        """{id: version} of the versions `ids` names (ids not there are left out)."""
        wanted, out = [], {}
        with self.lock:
            pending = {vid: raw for vid, _keys, raw in self.pending}
            index = self._loaded()
            for vid in ids:
                if vid in pending:
                    out[vid] = orjson.loads(pending[vid])
                    continue
                position = index.position_of(vid)
                if position is not None:
                    wanted.append((index.block_of[position], vid))
            wanted.sort()
            for block, vid in wanted:
                version = line_of(self._block(block), vid)
                version = None if version is None else _parsed(version, self.data_path, block,
                                                                  index.blocks[block][0])
                if version is None:
                    offset, length = index.blocks[block]
                    raise CorruptFile(self.index_path, f"the index says version {vid} is in "
                                      f"the block at bytes {offset}-{offset + length} of "
                                      f"history.ldb, which doesn't hold it. {HINT}",
                                      record=block + 1, offset=offset)
                out[vid] = version
        return out

    def find(self, key, value):
        """Every version whose `key` is `value`, oldest first: [(id, version)]."""
        with self.lock:
            ids = [e[0] for e in self.entries(key, value)]
            versions = self.read(ids)
        return [(vid, versions[vid]) for vid in ids if vid in versions]

    def get(self, vid):
        """The version `vid`, or None."""
        return self.read([vid]).get(vid)

    def ids(self):
        """Every version id, in the files then pending (ascending)."""
        with self.lock:
            return list(self._loaded().ids) + [vid for vid, _keys, _raw in self.pending]

    def _block(self, number):
        """The inflated lines of block `number` (its CRC checked), from a small cache."""
        cached = self.cache.get(number)
        if cached is not None:
            return cached
        offset, length = self.index.blocks[number]
        raw = os.pread(self.data_fd, length, offset)
        payload = check_block(raw, self.data_path, number + 1, offset)
        try:
            lines = zlib.decompress(payload)
        except zlib.error:
            raise CorruptFile(self.data_path, f"block {number + 1}, at byte {offset}, passes its "
                              f"checksum but can't be read. {HINT}", record=number + 1,
                              offset=offset) from None
        if len(self.cache) >= CACHED_BLOCKS:
            self.cache.pop(next(iter(self.cache)))
        self.cache[number] = lines
        return lines

    # -- checking, moving, closing ---------------------------------------------------------------

    def verify(self):
        """Read both files whole, every checksum checked (no block decompressed); returns how
        many versions they hold, CorruptFile at the first damage. Holds the log's lock: a
        flush waits (~50 ms for 600k versions)."""
        with self.lock:
            if self.index_fd is None:
                return 0
            start = _read_header(self.index_fd, self.index_path, INDEX_FORMAT)
            raw = os.pread(self.index_fd, self.index_size - start, start)
            count = 0
            for number, _position, versions, offset, length, _body in _records(
                    raw, start, self.index_path):
                if offset + length > self.data_size:
                    raise CorruptFile(self.data_path, f"cut short before the block at bytes "
                                      f"{offset}-{offset + length}. {HINT}", record=number,
                                      offset=offset)
                check_block(os.pread(self.data_fd, length, offset), self.data_path, number,
                            offset)
                count += versions
            return count

    def copy_to_new_folder(self):
        """The folder was deleted or replaced under the running store: write the history files
        again at their paths, from the open (deleted) files, so nothing of them is lost."""
        with self.lock:
            if self.data_fd is None:
                return
            contents = [(os.pread(fd, size, 0), path) for fd, size, path in (
                (self.data_fd, self.data_size, self.data_path),
                (self.index_fd, self.index_size, self.index_path))]
            self.close()
            for raw, path in contents:
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC, FILE_MODE)
                _append(fd, raw, self.fsync)
                if path == self.data_path:
                    self.data_fd = fd
                else:
                    self.index_fd = fd
            fsync_dir(self.folder)

    def close(self):
        with self.lock:
            for name in ("data_fd", "index_fd"):
                fd = getattr(self, name)
                if fd is not None:
                    os.close(fd)
                    setattr(self, name, None)


def _append(fd, data, fsync):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    if fsync:
        os.fsync(fd)


def _records(raw, start, path):
    """(number, byte position, versions, block offset, block length, entries) of each index
    record in `raw` (the index after its header); CorruptFile at a damaged one."""
    position, number = 0, 0
    while position < len(raw):
        number += 1
        where = start + position
        if position + RECORD.size > len(raw):
            break  # an interrupted flush's tail (a read-only view of a running store)
        magic, count, offset, length, body_length, crc = RECORD.unpack_from(raw, position)
        end = position + RECORD.size + body_length
        if magic != RECORD_MAGIC:
            raise CorruptFile(path, f"index record {number}, at byte {where}, is damaged (bad "
                              f"marker). {HINT}", record=number, offset=where)
        if end > len(raw):
            break
        body = raw[position + RECORD.size:end]
        fields = CRC_FIELDS.pack(count, offset, length, body_length)
        if zlib.crc32(body, zlib.crc32(fields)) != crc:
            raise CorruptFile(path, f"index record {number}, bytes {where}-{start + end}, fails "
                              f"its checksum. {HINT}", record=number, offset=where)
        yield number, where, count, offset, length, decode_record_body(body, count, path,
                                                                      number, where)
        position = end


def check_block(raw, path, number, offset):
    """The payload of a block's bytes; CorruptFile when its marker, length or CRC is wrong."""
    if len(raw) < BLOCK.size:
        raise CorruptFile(path, f"block {number}, at byte {offset}, is cut short. {HINT}",
                          record=number, offset=offset)
    magic, length, crc = BLOCK.unpack_from(raw)
    payload = raw[BLOCK.size:BLOCK.size + length]
    if magic != BLOCK_MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
        raise CorruptFile(path, f"block {number}, bytes {offset}-{offset + len(raw)}, fails its "
                          f"checksum (damaged). {HINT}", record=number, offset=offset)
    return payload


def decode_block(raw, path, number, offset):
    """{id: the version's JSON} of a block's bytes."""
    payload = check_block(raw, path, number, offset)
    try:
        out = {}
        for line in zlib.decompress(payload).split(b"\n"):
            vid, space, version = line.partition(b" ")
            if not space or not version.startswith(b"{"):
                raise ValueError("not a version")
            out[int(vid)] = version
        return out
    except (zlib.error, TypeError, ValueError):
        raise CorruptFile(path, f"block {number}, at byte {offset}, passes its checksum but "
                          f"can't be read. {HINT}", record=number, offset=offset) from None


def line_of(lines, vid):
    """The JSON of version `vid` in a block's inflated lines, or None."""
    head = b"%d " % vid
    start = 0 if lines.startswith(head) else lines.find(b"\n" + head) + 1
    if start == 0 and not lines.startswith(head):
        return None
    start += len(head)
    end = lines.find(b"\n", start)
    return lines[start:] if end < 0 else lines[start:end]


def _parsed(raw, path, block, offset):
    try:
        version = orjson.loads(raw)
    except orjson.JSONDecodeError:
        version = None
    if not isinstance(version, dict):
        raise CorruptFile(path, f"block {block + 1}, at byte {offset}, passes its checksum but "
                          f"holds a version that can't be read. {HINT}", record=block + 1,
                          offset=offset)
    return version


def scan_blocks(path):
    """Read history.ldb leniently (repair): ([(offset, length, [(id, version)])] of every block
    that passes its checksum, [(start, end)] of the damaged stretches skipped)."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        position = _read_header_bytes(raw, path)
    except CorruptFile:
        position = raw.find(BLOCK_MAGIC)
        if position < 0:
            return [], [(0, len(raw))]
    blocks, bad = [], []
    number = 0
    while position < len(raw):
        number += 1
        try:
            magic, length, _crc = BLOCK.unpack_from(raw, position)
            if magic != BLOCK_MAGIC:
                raise CorruptFile(path, "bad marker")
            end = position + BLOCK.size + length
            versions = {vid: _parsed(version, path, number - 1, position)
                        for vid, version in decode_block(raw[position:end], path, number,
                                                         position).items()}
        except (CorruptFile, struct.error):
            following = raw.find(BLOCK_MAGIC, position + 1)
            end = following if following > 0 else len(raw)
            bad.append((position, end))
            position = end
            continue
        blocks.append((position, end - position, sorted(versions.items())))
        position = end
    return blocks, bad


def _read_header_bytes(raw, path):
    newline = raw.find(b"\n")
    try:
        header = orjson.loads(raw[:newline]) if newline > 0 else None
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != DATA_FORMAT:
        raise CorruptFile(path, "bad header")
    return newline + 1


def write_files(folder, blocks, fsync=True, only_index=False):
    """History files holding `blocks` ([(offset, length, [(id, version)])] as scan_blocks gives
    them), each written to a temporary file, fsynced and renamed into place. The data file is
    written anew (blocks in id order, re-framed) unless `only_index`, when its blocks stay where
    they are."""
    data_path = os.path.join(folder, "history.ldb")
    index_path = os.path.join(folder, "history.idx")
    versions = sorted((vid, v) for _o, _l, vs in blocks for vid, v in vs)
    records = []
    if only_index:
        for offset, length, vs in blocks:
            records.append(encode_record([(vid, *keys_of(v)) for vid, v in vs], offset, length))
    else:
        data = [_header_line(DATA_FORMAT)]
        offset = len(data[0])
        seen = set()
        unique = [(vid, v) for vid, v in versions if not (vid in seen or seen.add(vid))]
        for start in range(0, len(unique), BLOCK_VERSIONS):
            chunk = unique[start:start + BLOCK_VERSIONS]
            block = encode_block([(vid, orjson.dumps(v)) for vid, v in chunk])
            records.append(encode_record([(vid, *keys_of(v)) for vid, v in chunk], offset,
                                         len(block)))
            data.append(block)
            offset += len(block)
        _write_whole(data_path, b"".join(data), fsync)
    _write_whole(index_path, _header_line(INDEX_FORMAT) + b"".join(records), fsync)
    fsync_dir(folder)


def _write_whole(path, data, fsync):
    tmp = path + ".tmp"
    try:
        os.remove(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        _append(fd, data, fsync)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _ranges(bad):
    return ", ".join(f"bytes {start}-{end}" for start, end in bad[:5]) + (
        f" and {len(bad) - 5} more" if len(bad) > 5 else "")


FILES = ("history.ldb", "history.idx")


def problem(folder):
    """What is wrong with the history files of the store in `folder` (CorruptFile, NewerFormat),
    reading them whole, or None (also when there are none)."""
    if not any(os.path.exists(os.path.join(folder, name)) for name in FILES):
        return None
    try:
        log_ = HistoryLog(folder, readonly=True)
        try:
            log_.verify()
        finally:
            log_.close()
    except CorruptFile as e:
        return e
    return None


def rebuild(folder, fsync=True):
    """`labeldesk repair` for the history files (the caller holds the store's lock and has kept
    the originals aside): every block of history.ldb that passes its checksum is kept, both
    files are written anew from them. Returns report lines."""
    data_path = os.path.join(folder, "history.ldb")
    blocks, bad = scan_blocks(data_path) if os.path.exists(data_path) else ([], [])
    write_files(folder, blocks, fsync=fsync)
    kept = sum(len(b[2]) for b in blocks)
    lines = [f"history.ldb: kept {kept} version(s) in {len(blocks)} block(s) that pass their "
             "checksums; history.ldb and history.idx were written anew from them."]
    if bad:
        lines.append(f"history.ldb: skipped damaged bytes ({_ranges(bad)}): the versions in "
                     "them are lost, unless the journal still held them (then they are back).")
    return lines


__all__ = ["HistoryLog", "TABLE", "KEYS", "problem", "rebuild"]
