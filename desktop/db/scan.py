"""Reading a journal file back: the strict read that opening uses, and the lenient one of repair.

What tells a torn write (an append that never completed, so was never acknowledged: cut off) from
damage (refused, never cut):

* A torn append is never longer than the record it starts, and never holds a complete record:
  the bytes after the last newline are torn only when they are a record's beginning (or zeros:
  a file system that grew the file but lost the data at a power cut), shorter than the length
  that record declares, with no complete, checksummed record hidden in them. A final newline
  turned into another byte, a zeroed stretch longer than the record it starts, a length field
  changed: damage.
* What LabelDesk acknowledged is known beyond the journal itself: after every fsynced append
  the store notes the journal's generation, size and record count in its LOCK file
  (db/lockfile.py). A journal shorter than that (cut at a record boundary), or an "unfinished"
  last record that starts before that size, lost acknowledged writes: damage.

Repair reads leniently (``JournalScan(raw, resync=True)``): a record whose body passes its
checksum is kept whether its newline or its length field survived, and after damage the scan
resynchronizes on the next record that passes its checksum, so damage to the framing alone
loses nothing.
"""

import re
import zlib

import orjson

from desktop.db.journal import (
    JOURNAL_FORMAT,
    JOURNAL_VERSION,
    REPAIR_HINT,
    SCHEMA,
    CorruptFile,
    NewerFormat,
)

_V2_HEAD = re.compile(rb"([0-9a-f]{1,16}) ([0-9a-f]{8}) ")
_V2_PREFIX = re.compile(rb"[0-9a-f]{0,16}(?: [0-9a-f]{0,8})?")  # a header cut short
_LOOSE_HEAD = re.compile(rb"[^ \n]{1,16} ([0-9a-f]{8}) ")  # repair: whatever the length says
# where a record may start: looked for after damage (a lookahead, so overlapping starts count)
_STARTS = re.compile(rb"(?=[0-9a-f]{1,16} [0-9a-f]{8} [\[{])")


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
    ops = _checked(body, crc)
    return (ops, None) if ops is not None else (None, "it fails its checksum")


def _checked(body, crc):
    """The JSON of `body` when it passes the checksum `crc` (hex bytes), else None."""
    try:
        if int(crc, 16) != zlib.crc32(body):
            return None
        return orjson.loads(body)
    except (ValueError, orjson.JSONDecodeError):
        return None


def record_at(raw, position):
    """(ops, end) of a record of the second format starting at `position` whose body, taken by
    its declared length, passes its checksum (its newline may be damaged); else None."""
    match = _V2_HEAD.match(raw, position)
    if match is None:
        return None
    end = match.end() + int(match[1], 16)
    if end > len(raw):
        return None
    ops = _checked(raw[match.end():end], match[2])
    return None if ops is None else (ops, end)


def _line_record(raw, position, newline):
    """ops of the line position..newline when its body passes its checksum, whatever its length
    field says (repair: a damaged length is framing, the checksummed body is the data)."""
    match = _LOOSE_HEAD.match(raw, position, newline)
    return None if match is None else _checked(raw[match.end():newline], match[1])


def _hidden_record(raw, start, end):
    """Whether a complete record that passes its checksum starts within raw[start:end]."""
    return any(record_at(raw[:end], m.start()) is not None
               for m in _STARTS.finditer(raw, start, end))


def _damage_of_tail(raw, start, version):
    """None if raw[start:] (the bytes after the last newline) is an append that never completed,
    else what is wrong with it."""
    if version == 1:
        return None  # the first format had no length: an unterminated last line was torn
    tail = raw[start:]
    match = _V2_HEAD.match(tail)
    if match is not None:
        full = match.end() + int(match[1], 16) + 1
        if len(tail) > full:
            return (f"it is {len(tail)} bytes long, longer than the {full}-byte record it "
                    "starts: an unfinished write is never longer than its record")
        if len(tail) == full:
            return "all of its declared length is there, but it doesn't end with a newline"
        if _hidden_record(raw, start + 1, len(raw)):
            return "a complete record that passes its checksum is inside it"
        return None
    data = tail.rstrip(b"\0")
    if _V2_PREFIX.fullmatch(data) is None:
        return "its header (length and checksum) is unreadable"
    if _hidden_record(raw, start, len(raw)):
        return "a complete record that passes its checksum is inside it"
    return None  # cut inside its length and checksum, or zeros: never written


class JournalScan:
    """What a journal file holds, record by record (numbers count from 1, the header).

    `good`: [(number, start, end, ops)]; `bad`: [(number, start, end, why)], complete records
    that are damaged; `torn`: (start, end) of an unfinished last write, or None. With `resync`
    (repair), records are found by their checksums even where newlines or lengths are damaged;
    a damaged stretch is one `bad` entry up to the next record that passes its checksum."""

    def __init__(self, raw, resync=False):
        self.raw = raw
        self.size = len(raw)
        self.good, self.bad, self.torn = [], [], None
        self.version = None
        self.records = 0
        position = 0
        while position < len(raw):
            newline = raw.find(b"\n", position)
            if newline < 0:
                found = record_at(raw, position) if resync else None
                if found is None:
                    self._tail(position)
                    break
                self.records += 1  # whole, its final newline damaged
                self.good.append((self.records, position, len(raw), found[0]))
                position = self._after(found[1])
                continue
            ops, why = decode_line(raw[position:newline])
            if ops is None and resync and self.version != 1:
                position = self._resync(position, newline, why)
                continue
            self.records += 1
            if ops is None:
                self.bad.append((self.records, position, newline + 1, why))
            else:
                if self.version is None:
                    self.version = _shape(raw[position:newline])
                self.good.append((self.records, position, newline + 1, ops))
            position = newline + 1

    def _tail(self, position):
        self.records += 1
        why = _damage_of_tail(self.raw, position, self.version or _shape(self.raw[position:]))
        if why is None:
            self.torn = (position, len(self.raw))
        else:
            self.bad.append((self.records, position, len(self.raw), why))

    def _resync(self, position, newline, why):
        """Repair's reading of a line that fails: the record by its checksum alone, else the
        damaged bytes up to the next record that passes its checksum. Returns where to go on."""
        raw = self.raw
        ops = _line_record(raw, position, newline)  # only its length field was damaged
        if ops is not None:
            self.records += 1
            self.good.append((self.records, position, newline + 1, ops))
            return newline + 1
        found = record_at(raw, position)  # its newline was damaged: the length frames it
        if found is not None:
            ops, end = found
            self.records += 1
            self.good.append((self.records, position, min(end + 1, len(raw)), ops))
            return self._after(end)
        following = self._next_start(position + 1)
        if following is None:  # nothing readable follows: damaged, or a torn write, to the end
            self._tail(position)
            return len(raw)
        self.records += 1
        self.bad.append((self.records, position, following, why))
        return following

    def _after(self, end):
        """Where the record after one that ends at `end` (by its length) starts: past its
        newline, or past the byte that replaced it, or at `end` when the newline was lost."""
        if self.raw[end:end + 1] != b"\n" and record_at(self.raw, end) is not None:
            return end
        return end + 1

    def _next_start(self, start):
        """The first position after `start` where a record that passes its checksum begins
        (after a newline, or anywhere its length frames it), else None."""
        raw = self.raw
        for match in _STARTS.finditer(raw, start):
            position = match.start()
            newline = raw.find(b"\n", position)
            if newline >= 0 and raw[position - 1:position] == b"\n" and \
                    _line_record(raw, position, newline) is not None:
                return position
            if record_at(raw, position) is not None:
                return position
        return None

    @property
    def header(self):
        """The header record, if the first record is one that reads; else None."""
        if self.good and self.good[0][0] == 1 and self.good[0][1] == 0:
            header = self.good[0][3]
            if isinstance(header, dict) and header.get("format") == JOURNAL_FORMAT:
                return header
        return None

    def newer(self, path):
        """NewerFormat when the (checksummed) header says a newer LabelDesk wrote this file."""
        header = self.header
        if header is None:
            return None
        version, schema = header.get("version", 1), header.get("schema", SCHEMA)
        if _is_int(version) and version > JOURNAL_VERSION:
            return NewerFormat(path, f"journal format {version}", header.get("by"))
        if _is_int(schema) and schema > SCHEMA:
            return NewerFormat(path, f"data schema {schema}", header.get("by"))
        return None

    def against(self, acknowledged):
        """Damage that only what LabelDesk acknowledged shows (`acknowledged`: the LOCK file's
        (generation, bytes, records) or None): records cut off at a boundary, or an unfinished
        last write that starts inside what was acknowledged. Moves such a tail to `bad` and
        returns why the file is short, or None."""
        header = self.header
        if acknowledged is None or header is None or \
                header.get("generation") != acknowledged[0]:
            return None  # another generation (a compaction, repair or restore since): no word
        _, size, records = acknowledged
        if self.torn is not None and self.torn[0] < size:
            start, end = self.torn
            self.bad.append((self.records, start, end, "it was acknowledged (LabelDesk had "
                                                       f"written up to byte {size}) but is not "
                                                       "whole any more"))
            self.torn = None
        if self.size < size:
            kept = len(self.good) + len(self.bad)
            return (f"it ends at byte {self.size}, but LabelDesk had acknowledged writes up to "
                    f"byte {size} ({records} records; {kept} are there): bytes "
                    f"{self.size}-{size} are missing")
        return None


def _shape(line):
    return 1 if line[8:9] == b" " and line[9:10] in (b"[", b"{") else JOURNAL_VERSION


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def read_journal(path, acknowledged=None, stale_below=None):
    """The strict read for opening a store: a JournalScan with no damaged record in it.

    Raises NewerFormat for a journal a newer LabelDesk wrote, and CorruptFile naming the first
    damaged record (number, byte offset), a journal shorter than what was acknowledged, or one
    whose first line isn't a LabelDesk journal header. A file with no complete record at all
    (being created when the process died) has header None.

    `stale_below`: the snapshot's generation. A journal whose (readable) header is of an
    earlier generation was replaced by a compaction, repair or restore that finished: its
    writes are all in the snapshot, so damage in it loses nothing and is not refused."""
    with open(path, "rb") as f:
        scan = JournalScan(f.read())
    newer = scan.newer(path)
    if newer is not None:
        raise newer
    header = scan.header
    if stale_below is not None and header is not None and \
            _is_int(header.get("generation")) and header["generation"] < stale_below:
        return scan
    short = scan.against(acknowledged)
    if scan.bad:
        number, start, end, why = scan.bad[0]
        more = f" ({len(scan.bad)} damaged records in all)" if len(scan.bad) > 1 else ""
        raise CorruptFile(path, f"record {number} of {scan.records}, bytes {start}-{end}, is "
                                f"damaged: {why}{more}. It is not an unfinished last write, so it "
                                f"may hold acknowledged data and is not dropped. {REPAIR_HINT}",
                          record=number, offset=start)
    if short is not None:
        raise CorruptFile(path, f"records are missing: {short}. {REPAIR_HINT}",
                          record=scan.records + 1, offset=scan.size)
    if scan.good and scan.header is None:
        raise CorruptFile(path, f"not a LabelDesk journal (bad header). {REPAIR_HINT}",
                          record=1, offset=0)
    header = scan.header
    if header is not None and not _is_int(header.get("generation")):
        raise CorruptFile(path, f"bad header (no generation). {REPAIR_HINT}", record=1, offset=0)
    return scan
