"""TinyDB on a journal: every table lives in memory, every write appends one fsynced record.

Stock TinyDB reads and rewrites the whole JSON file on every write. Here the two extension points
TinyDB offers do the work instead:

* ``JournalStorage`` (a TinyDB ``Storage``) loads the snapshot and replays the journal once, at
  open, and from then on keeps the tables in memory, each document as its JSON bytes
  (db/docs.py); it turns each change into one journal record.
* ``JournaledTable`` (a TinyDB ``Table``) hands TinyDB's own insert/update/remove logic a
  change-tracking view of the in-memory table, so a write costs what it changes, not the size of
  the table.

The history log (db/history.py) rides on the journal: hooks (``before_commit``) turn a
transaction's changes into versions, written in the same record as the change; they are kept
out of memory and moved into the history files in batches and before every compaction.
"""

import ctypes
import ctypes.util
import errno
import gc
import logging
import os
import sys
import threading
from contextlib import contextmanager

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from desktop.db import index_cache
from desktop.db.docs import Docs
from desktop.db.history import TABLE as HISTORY
from desktop.db.history import HistoryLog
from desktop.db.journal import (
    DIR_MODE,
    FILE_MODE,
    NEXT_JOURNAL,
    REPAIR_HINT,
    SCHEMA,
    CorruptFile,
    Journal,
    JournalLost,
    fsync_dir,
    read_snapshot,
    set_aside,
    tighten,
    utc_stamp,
    write_snapshot,
)
from desktop.db.scan import read_journal

log = logging.getLogger("labeldesk.store")

MISSING = object()

# Upgrades of the stored documents, keyed by the schema version they upgrade *from*.
# Each takes and returns the whole ``{table: {id: doc}}`` mapping (see docs/adr/0001-store.md).
MIGRATIONS = {}


class _Tracked:
    """The face of an in-memory table that TinyDB's updaters see; it records what they change.

    Reads hand out decoded copies, so an updater that edits a document in place edits the copy;
    the changed copies are compared with the stored bytes afterwards.
    """

    def __init__(self, docs):
        self.docs = docs
        self.puts = {}
        self.deleted = set()
        self.cleared = False
        self.read = {}

    def __contains__(self, doc_id):
        if doc_id in self.puts:
            return True
        if doc_id in self.deleted or self.cleared:
            return False
        return doc_id in self.docs

    def __getitem__(self, doc_id):
        if doc_id in self.puts:
            return self.puts[doc_id]
        if doc_id not in self:
            raise KeyError(doc_id)
        raw = self.docs.raw[doc_id]
        copy = orjson.loads(raw)
        self.read[doc_id] = raw
        self.puts[doc_id] = copy
        return copy

    def __setitem__(self, doc_id, doc):
        self.deleted.discard(doc_id)
        self.read.pop(doc_id, None)
        self.puts[doc_id] = doc

    def __delitem__(self, doc_id):
        if doc_id not in self:
            raise KeyError(doc_id)
        self.puts.pop(doc_id, None)
        self.read.pop(doc_id, None)
        self.deleted.add(doc_id)

    def pop(self, doc_id, default=MISSING):
        if doc_id not in self:
            if default is MISSING:
                raise KeyError(doc_id)
            return default
        value = self[doc_id]
        del self[doc_id]
        return value

    def keys(self):
        return list(iter(self))

    def __iter__(self):
        if not self.cleared:
            for doc_id in list(self.docs):
                if doc_id not in self.deleted and doc_id not in self.puts:
                    yield doc_id
        yield from list(self.puts)

    def __len__(self):
        return sum(1 for _ in self)

    def get(self, doc_id, default=None):
        return self[doc_id] if doc_id in self else default

    def clear(self):
        self.cleared = True
        self.puts.clear()
        self.read.clear()
        self.deleted.clear()

    def changes(self):
        """(cleared, puts, deletes): only documents that really differ from the stored ones."""
        puts = {}
        for doc_id, doc in self.puts.items():
            before = self.read.get(doc_id)
            if before is None or orjson.dumps(doc) != before:
                puts[doc_id] = doc
        deletes = [] if self.cleared else [i for i in self.deleted if i in self.docs]
        return self.cleared, puts, deletes


class JournaledTable(Table):
    """A TinyDB table whose writes go through the journal and whose reads never copy the table."""

    def docs(self):
        """Every stored document as ``{doc_id: doc}``: the live in-memory table (db/docs.py's
        Docs: each read decodes the document afresh), not a copy.

        The public read of the store, for scans that a TinyDB query would make slow. Read it,
        never write to it (writes go through insert/update/remove, which journal them). It
        changes under a write: hold the store's lock while iterating it if writers may run (any
        thread but the one holding the lock through its writes).
        """
        return self._storage.docs(self.name)

    def _read_table(self):  # TinyDB's own reads; outside desktop/db/ use docs()
        return self._storage.docs(self.name)

    def _update_table(self, updater):
        tracked = _Tracked(self._storage.docs(self.name))
        updater(tracked)
        self._storage.apply(self.name, *tracked.changes())
        self.clear_cache()

    def _get_next_id(self):
        return self._storage.take_id(self.name)

    def get(self, cond=None, doc_id=None, doc_ids=None):
        docs = self._read_table()
        if doc_id is not None:
            doc = docs.get(doc_id)
            return None if doc is None else self.document_class(doc, doc_id)
        if doc_ids is not None:
            return [self.document_class(docs[i], i) for i in doc_ids if i in docs]
        return super().get(cond)

    def doc(self, doc_id):
        """The stored document, decoded (changing it changes nothing stored), or None."""
        return self._read_table().get(doc_id)

    def adopt_multiple(self, documents):
        """insert_multiple without TinyDB's copy of each document (each is encoded once, as it
        is stored). Returns the ids."""
        if any(document.__class__ is not dict for document in documents):
            raise ValueError("Document is not a dict")
        doc_ids = []

        def updater(table):
            first = self._storage.take_ids(self.name, len(documents))
            doc_ids.extend(range(first, first + len(documents)))
            for doc_id, document in zip(doc_ids, documents):
                table[doc_id] = document
        self._update_table(updater)
        return doc_ids


_gc_lock = threading.Lock()
_gc_pause = {"depth": 0, "was_enabled": False, "freeze": False}


@contextmanager
def paused_gc(freeze=True):
    """No cyclic garbage collection while many documents are built or walked.

    Stored documents hold no reference cycles, and neither do the dicts an export makes; yet
    their allocations keep triggering full collections that walk every stored document again
    (a third of a 1M-task import, of a 100k-task JSON export). Re-entrant across threads: the
    collector comes back when the last pause ends. With `freeze`, what was built (a loaded
    store, an import) is moved out of future collections then.
    """
    with _gc_lock:
        if _gc_pause["depth"] == 0:
            _gc_pause["was_enabled"], _gc_pause["freeze"] = gc.isenabled(), False
            gc.disable()
        _gc_pause["depth"] += 1
        _gc_pause["freeze"] = _gc_pause["freeze"] or freeze
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pause["depth"] -= 1
            last = _gc_pause["depth"] == 0
            if last:
                if _gc_pause["freeze"]:
                    gc.freeze()
                if _gc_pause["was_enabled"]:
                    gc.enable()
        if last:
            give_back_memory()


def _malloc_trim():
    """glibc's malloc_trim, or None (another C library, another system)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()


def give_back_memory():
    """Return to the system the memory a bulk operation (an import, an open) freed: glibc's
    malloc keeps freed pages in its heap otherwise, and the process's RSS stays at the
    operation's peak (50k tasks with an annotation and a prediction each: 107 MB of 414 MB given
    back). A few milliseconds; nothing where malloc_trim doesn't exist."""
    if _trim is not None:
        try:
            _trim(0)
        except Exception:  # noqa: BLE001 - only a saving
            pass


class JournalStorage(Storage):
    """Keeps the database in memory; persists it as a snapshot plus a journal in `folder`."""

    # Compact once the journal outgrows max(this, the snapshot). LABELDESK_COMPACT_MIN_BYTES
    # lowers it, for tests that need compactions to happen often (docs/reliability.md).
    COMPACT_MIN_BYTES = int(os.environ.get("LABELDESK_COMPACT_MIN_BYTES") or 64 * 1024 * 1024)

    def __init__(self, folder, fsync=True, readonly=False, readonly_reason=None,
                 acknowledged=None):
        """`acknowledged`: (generation, bytes, records) of the journal as the last session
        acknowledged it (db/lockfile.py), checked against the file; None when unknown."""
        self.folder = str(folder)
        self.previously_acknowledged = acknowledged
        self.on_acknowledged = None  # called with (generation, bytes, records) after each write
        self.fsync = fsync
        self.readonly = readonly
        self.readonly_reason = readonly_reason or "it was opened for reading only"
        self.snapshot_path = os.path.join(self.folder, "snapshot.ldb")
        self.journal_path = os.path.join(self.folder, "journal.ldb")
        # a compaction in the background: writes go to the next journal meanwhile
        self.next_path = os.path.join(self.folder, NEXT_JOURNAL)
        self.rotating = None  # the next journal's generation while its snapshot isn't in place
        self.compaction = None  # the _Compaction writing that snapshot now
        self.compacting = True  # False once other files are put in place of these (a restore)
        self.tables = {}
        self.next_ids = {}
        self.observers = {}
        self.pending_builds = None  # {table: [(build, cache), ...]} while building() defers
        self.cacheable = {}  # the indexes that can be saved for the next start, by their key
        self.adders = {}  # watcher -> what takes documents new to its table together
        self.index_cache_used = False  # an index was taken from what the last close saved
        self.txn = None
        self.lock = threading.RLock()
        self.snapshot_bytes = 0
        self.compact_retry_at = 0  # after a failed compaction (disk full): wait for this size
        self.recovered = []
        self.warnings = []  # what happened while serving that the user must hear of
        self.on_folder_lost = []  # called before the folder is made again (the Store's lock)
        # hook(undo, context) -> [version, ...]: called at every commit with what the
        # transaction changed ([(table, id, document before)]) and what its code noted
        # (`context`); the versions go into the history log, in the same journal record
        self.before_commit = []
        self.context = None
        self.history_retry_at = 0
        self.journal = None
        if not readonly:
            make_private_folder(self.folder)
            remove_file(os.path.join(self.folder, "history.ldb.tmp"))
            remove_file(os.path.join(self.folder, "history.idx.tmp"))
        self.history = HistoryLog(self.folder, readonly=readonly, fsync=fsync)
        self.recovered.extend(self.history.recovered)
        try:
            with paused_gc():
                self._load()
        except BaseException:
            self.history.close()
            raise
        # ids never go back below what the history holds (a restored older snapshot)
        self.next_ids[HISTORY] = max(self.next_ids.get(HISTORY, 1), self.history.last_id + 1)

    # -- opening --------------------------------------------------------------------------

    def _load(self):
        """Read the snapshot and replay the journal; refuse (CorruptFile) anything that would
        lose an acknowledged write. Every combination of the two files:

        * no snapshot, journal missing, empty or with an unfinished header: a new store (or one
          whose creation was cut short): it starts empty. Its first snapshot is written now, so
          that from then on snapshot.ldb shows that the store holds data.
        * no snapshot, journal of generation 1 (a store of a LabelDesk before snapshots were
          written at creation): replayed, then its first snapshot is written.
        * snapshot present, journal missing, empty or without a complete header: refused; the
          writes since the last compaction were in it.
        * snapshot and journal of the same generation: the normal case, replayed.
        * journal one generation behind the snapshot (a compaction finished its snapshot but
          died before switching journals): its writes are all in the snapshot; a fresh journal
          replaces it. Ahead of the snapshot: refused (the snapshot is an old one).
        """
        schema, generation, checked, old_body = SCHEMA, 1, True, False
        self.replayed_records = 0
        if not self.readonly:
            self._remove_leftovers()
        has_snapshot = os.path.exists(self.snapshot_path)
        if has_snapshot:
            header, tables = read_snapshot(self.snapshot_path, raw=True)
            schema, generation = header["schema"], header["generation"]
            checked = "header_crc" in header
            # a body of one JSON document (before version 3): written anew as lines at the
            # first writable open
            old_body = header.get("version", 1) < 3
            self.snapshot_bytes = header["length"]
            try:
                for name, table in tables.items():
                    self.next_ids[name] = table["next_id"]
                    if name == HISTORY:  # versions a repair put there: pending again
                        for i, d in sorted(table["raw"].items()):
                            self.history.add(i, orjson.loads(d))
                        continue
                    self.tables[name] = Docs(table["raw"])
            except (TypeError, ValueError) as e:
                raise CorruptFile(self.snapshot_path,
                                  f"not a LabelDesk snapshot (unexpected content: {e})") from None
            self.history.check_floor(header.get("history_last"))
        nxt = self._next_journal(has_snapshot, generation)
        if nxt is not None and nxt.header["generation"] == generation:
            # a background compaction put its snapshot in place, not yet its journal: the
            # next journal holds every write since that snapshot (journal.ldb is older)
            older = journal_generation(self.journal_path)
            if older is not None and older >= generation:
                raise CorruptFile(self.next_path, f"journal.ldb (generation {older}) and "
                                  f"journal-next.ldb (generation {generation}) both follow "
                                  f"snapshot.ldb: one of them is not this store's. {REPAIR_HINT}")
            self._replay(generation, has_snapshot, checked, self.next_path, nxt)
            if not self.readonly:
                os.replace(self.next_path, self.journal_path)
                fsync_dir(self.folder)
                self.recovered.append("journal-next.ldb: finished the switch to the journal of "
                                      "a compaction that had written its snapshot")
            return self._opened(schema, generation, False)
        try:
            journal_bytes = os.path.getsize(self.journal_path)
        except FileNotFoundError:
            journal_bytes = None
        upgrade = not has_snapshot or not checked or old_body
        if not journal_bytes:
            if has_snapshot:
                state = "missing" if journal_bytes is None else "empty (0 bytes)"
                raise CorruptFile(self.journal_path,
                                  f"journal.ldb is {state}, but snapshot.ldb shows this store "
                                  "holds data: the writes since the last compaction were in "
                                  f"it. {REPAIR_HINT}")
        elif nxt is not None:
            # a background compaction was writing its snapshot: journal.ldb, then the next
            # journal, both on top of the snapshot below
            follows = nxt.header.get("follows")
            follows = (follows.get("generation"), follows.get("size"), follows.get("records")) \
                if isinstance(follows, dict) else None
            upgrade = self._replay(generation, has_snapshot, checked,
                                   acknowledged=follows, expect=generation) or upgrade
            self._replay(generation + 1, has_snapshot, True, self.next_path, nxt)
            if self.readonly:
                return
            self.journal = Journal(self.next_path, generation + 1, SCHEMA, fsync=self.fsync,
                                   records=self.replayed_records)
            self.rotating = generation + 1
            self._start_compaction(background=False).write()
            if self.rotating is None:
                self.recovered.append("journal-next.ldb: finished a compaction that was "
                                      "writing its snapshot when LabelDesk ended")
            return self._opened(schema, generation + 1, upgrade)
        else:
            upgrade = self._replay(generation, has_snapshot, checked) or upgrade
        return self._opened(schema, generation, upgrade)

    def _opened(self, schema, generation, upgrade):
        """The journal to write from now on, and the upgrades the files need."""
        if self.readonly:
            return
        if self.journal is None:
            self.journal = Journal(self.journal_path, generation, SCHEMA, fsync=self.fsync,
                                   base_empty=not any(self.tables.values()),
                                   records=self.replayed_records)
        if schema < SCHEMA:
            self._migrate(schema)
        elif upgrade:
            self.compact()  # the first snapshot, or both files in today's format

    def _remove_leftovers(self):
        tmp = self.snapshot_path + ".tmp"
        if os.path.exists(tmp):
            os.remove(tmp)  # a compaction died before its rename: the old snapshot still holds
            self.recovered.append("snapshot.ldb.tmp: removed the file of an unfinished "
                                  "compaction (snapshot.ldb and journal.ldb hold every write)")
        remove_file(self.journal_path + ".tmp")  # the next journal of an unfinished compaction
        remove_file(self.snapshot_path + BACKGROUND_TMP)  # a background one's snapshot
        for name in ("snapshot.ldb", "journal.ldb"):
            tighten(os.path.join(self.folder, name), FILE_MODE)

    def _next_journal(self, has_snapshot, generation):
        """The scan of journal-next.ldb when it holds writes to replay (a background compaction
        had not finished), else None. One whose header never became whole, or of an earlier
        generation than the snapshot (its writes are all in it), is set aside; one that doesn't
        fit the snapshot is refused."""
        if not os.path.exists(self.next_path):
            return None
        scan = read_journal(self.next_path, self.previously_acknowledged,
                            stale_below=generation if has_snapshot else None)
        theirs = scan.header["generation"] if scan.header is not None else None
        if theirs is not None and not has_snapshot:
            raise CorruptFile(self.snapshot_path, "snapshot.ldb is missing, but journal-next.ldb "
                              f"(generation {theirs}) holds only the writes made after one. "
                              f"{REPAIR_HINT}")
        if theirs is not None and theirs in (generation, generation + 1):
            return scan
        if theirs is not None and theirs > generation:
            raise CorruptFile(self.next_path, f"generation {theirs} doesn't follow snapshot.ldb "
                              f"(generation {generation}): the snapshot is an old copy. "
                              f"{REPAIR_HINT}")
        if not self.readonly:
            why = ("its header was never completely written" if theirs is None else
                   f"generation {theirs}: its writes are in snapshot.ldb (generation "
                   f"{generation})")
            kept, number = f"{self.next_path}.stale-{utc_stamp()}", 1
            while os.path.exists(kept):
                number += 1
                kept = f"{self.next_path}.stale-{utc_stamp()}-{number}"
            os.rename(self.next_path, kept)
            fsync_dir(self.folder)
            self.recovered.append(f"journal-next.ldb: set aside as {os.path.basename(kept)} "
                                  f"({why})")
        return None

    def _replay(self, generation, has_snapshot, checked, path=None, scan=None,
                acknowledged=MISSING, expect=None):
        """Replay a journal (journal.ldb, or `path`, already read as `scan`) onto the snapshot;
        returns whether it is in the first format. `expect`: the generation it must be of."""
        path = path or self.journal_path
        if scan is None:
            scan = read_journal(path, self.previously_acknowledged if acknowledged is MISSING
                                else acknowledged,
                                stale_below=generation if has_snapshot else None)
        header = scan.header
        if expect is not None and (header is None or header["generation"] != expect):
            raise CorruptFile(path, f"{os.path.basename(path)} is not of generation {expect}, "
                              f"which journal-next.ldb follows. {REPAIR_HINT}")
        if header is None:
            # Not even the header record is whole: the journal was being created when the
            # process died, which happens only to a store without a snapshot yet.
            if has_snapshot:
                raise CorruptFile(self.journal_path, "journal.ldb has no complete header, but "
                                  f"snapshot.ldb shows this store holds data. {REPAIR_HINT}",
                                  record=1, offset=0)
            if not self.readonly:
                kept = set_aside(self.journal_path, 0, scan.size, "torn")
                os.remove(self.journal_path)
                self.recovered.append(f"journal.ldb: the store was being created when the "
                                      f"process ended; started it empty (the {scan.size} bytes "
                                      f"written are kept in {os.path.basename(kept)})")
            return False
        if header["generation"] > generation and not has_snapshot:
            raise CorruptFile(self.snapshot_path, "snapshot.ldb is missing, but journal.ldb "
                              f"(generation {header['generation']}) holds only the writes made "
                              f"after one. {REPAIR_HINT}")
        if header["generation"] > generation:
            raise CorruptFile(self.journal_path, "newer than the snapshot; the snapshot is stale "
                              f"(e.g. an old copy put back). {REPAIR_HINT}")
        if header["generation"] < generation:
            # The journal a finished compaction replaced: its records are all in the snapshot.
            if not self.readonly:
                self._replace_stale_journal(header["generation"], generation,
                                            checked and not scan.bad)
            return False
        for number, start, end, ops in scan.good[1:]:
            try:
                self._apply_ops(ops, notify=False, strict=True)
            except (TypeError, ValueError, IndexError, KeyError, AttributeError):
                raise CorruptFile(path, f"record {number} of {scan.records}, bytes "
                                  f"{start}-{end}, passes its checksum but doesn't hold "
                                  f"operations this LabelDesk knows. {REPAIR_HINT}",
                                  record=number, offset=start) from None
        self.replayed_records = len(scan.good)
        if scan.torn is not None and not self.readonly:
            start, end = scan.torn
            kept = set_aside(path, start, end, "torn")
            with open(path, "r+b") as f:
                f.truncate(start)
                os.fsync(f.fileno())
            self.recovered.append(f"{os.path.basename(path)}: set aside an incomplete last "
                                  f"write of {end - start} bytes at byte {start} (the file "
                                  "ends before its declared length: it was never "
                                  f"acknowledged); its bytes are kept in "
                                  f"{os.path.basename(kept)}")
        return scan.version == 1

    def _replace_stale_journal(self, old, generation, checked):
        """A fresh journal over the stale one, by rename (journal.ldb is never missing). With a
        snapshot of the first format, whose generation has no checksum, or a stale journal with
        damaged records, the old journal is kept beside it (`checked` False)."""
        fresh = self.journal_path + ".tmp"
        remove_file(fresh)
        Journal(fresh, generation, SCHEMA, fsync=self.fsync,
                base_empty=not any(self.tables.values())).close()
        self.replayed_records = 1
        note = "its writes are in snapshot.ldb"
        if not checked or old != generation - 1:
            kept = set_aside(self.journal_path, 0, os.path.getsize(self.journal_path), "stale")
            note += f"; it is kept as {os.path.basename(kept)}"
        os.replace(fresh, self.journal_path)
        fsync_dir(self.folder)
        self.recovered.append(f"journal.ldb: replaced the journal (generation {old}) of a "
                              f"compaction, repair or restore that had finished ({note})")

    def _migrate(self, schema):
        while schema < SCHEMA:
            self.tables = MIGRATIONS[schema](self.tables)
            schema += 1
        self.compact()

    # -- the TinyDB Storage interface -----------------------------------------------------

    def read(self):
        return dict(self.tables)

    def write(self, data):
        """Replace whole tables (TinyDB's drop_table/drop_tables); journaled like any write."""
        with self.lock:
            for name in list(self.tables):
                if name not in data:
                    self.apply(name, True, {}, [])
            for name, docs in data.items():
                if docs is not self.tables.get(name):
                    self.apply(name, True, {int(i): d for i, d in docs.items()}, [])

    def close(self):
        try:
            with self.lock:
                # one still running (Store.close waits for it first) or one that failed (a
                # full disk) is written here once more, so that a clean stop leaves two files
                self._cancel_background()
                if self.rotating is not None and not self.readonly and self.compacting:
                    self._start_compaction(background=False).write()
        except Exception as e:  # noqa: BLE001 - the journal holds every write regardless
            log.warning("compaction at close: %r", e)
        if self.journal is not None:
            self.journal.close()
        self.history.close()

    # -- what JournaledTable calls --------------------------------------------------------

    def docs(self, name):
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = Docs()
        return table

    def take_id(self, name):
        return self.take_ids(name, 1)

    def take_ids(self, name, count):
        """The first of `count` new ids of table `name`, one after another."""
        with self.lock:
            doc_id = self.next_ids.get(name, 1)
            self.next_ids[name] = doc_id + count
            return doc_id

    def apply(self, name, cleared, puts, deletes):
        ops = [[name, "t"]] if cleared else []
        ops.extend([name, "d", i] for i in deletes)
        ops.extend([name, "p", i, d] for i, d in puts.items())
        if not ops:
            return
        if self.readonly:
            raise self.readonly_error()
        with self.lock:
            if self.txn is not None:
                self.txn.extend(ops)
                self._apply_ops(ops, undo=self.undo)
            else:
                # a write of its own is a transaction of one: memory, indexes and journal all
                # change, or (whatever fails, an index's key function included) none of them
                self.begin()
                try:
                    self.txn.extend(ops)
                    self._apply_ops(ops, undo=self.undo)
                except BaseException:
                    self.rollback()
                    raise
                self.commit()

    def readonly_error(self):
        """What a write to a store opened read-only raises (the API answers it like a full
        disk: nothing was saved)."""
        data_dir = os.path.dirname(os.path.abspath(self.folder))
        return OSError(errno.EROFS, f"LabelDesk's data folder {data_dir} is read-only: "
                                    f"{self.readonly_reason}. Nothing was saved.")

    def _apply_ops(self, ops, notify=True, undo=None, strict=False):
        if strict:  # read from a file: every operation checked before any is applied
            check_ops(ops)
        added = None  # (table, {id: document}): put new to the table, not yet watched
        try:
            for op in ops:
                name = op[0]
                if added is not None and (name != added[0] or op[1] != "p"):
                    flushing, added = added, None  # once, even if a watcher fails
                    self._watch_added(*flushing)
                if name == HISTORY:  # replayed: a version the journal holds
                    if op[1] == "p":
                        self.history.add(op[2], op[3])
                        self.next_ids[name] = max(self.next_ids.get(name, 1), op[2] + 1)
                    continue
                table = self.docs(name)
                watchers = self.observers.get(name, ()) if notify else ()
                # the documents before the change, decoded only for whoever needs them
                wanted = undo is not None or watchers
                kind = op[1]
                if kind == "p":
                    doc_id, doc = op[2], op[3]
                    if strict:
                        # a new int, not the one the record's parse made: kept as the key,
                        # that one would hold on to the memory of the whole parsed record (a
                        # record of 100k tasks: 60 MB the allocator could not give back)
                        doc_id += 0
                    old = table.get(doc_id) if wanted else None
                    if added is not None and doc_id in added[1]:  # put twice: in order
                        flushing, added = added, None  # once, even if a watcher fails
                        self._watch_added(*flushing)
                    table[doc_id] = doc
                    if doc_id >= self.next_ids.get(name, 1):
                        self.next_ids[name] = doc_id + 1
                    if old is None and watchers:
                        # new to its table: watched with the new ones that follow it,
                        # together (an import: each index adds them in bulk, _watch_added)
                        if undo is not None:
                            undo.append((name, doc_id, None))
                        if added is None:
                            added = (name, {})
                        added[1][doc_id] = doc
                        continue
                    changed = [(doc_id, old, doc)]
                elif kind == "d":
                    if wanted:
                        old = table.pop(op[2], None)
                        changed = [(op[2], old, None)] if old is not None else []
                    else:
                        table.raw.pop(op[2], None)
                        changed = []
                else:
                    changed = [(i, d, None) for i, d in table.items()] if wanted else []
                    table.clear()
                if added is not None and changed:  # watchers see the changes in their order
                    flushing, added = added, None  # once, even if a watcher fails
                    self._watch_added(*flushing)
                for doc_id, old, new in changed:
                    if undo is not None:
                        undo.append((name, doc_id, old))
                    for watch in watchers:
                        watch(doc_id, old, new)
        finally:
            # also when a later operation fails: what the table and the undo list hold, the
            # watchers have seen (the rollback tells them of its undoing)
            if added is not None:
                self._watch_added(*added)

    def _watch_added(self, name, docs):
        """The watchers of table `name` told of `docs` ({id: document}), all new to it: those
        that take new documents together (observe's `added`) at once, the others one by one."""
        adders = self.adders
        for watch in self.observers.get(name, ()):
            together = adders.get(watch)
            if together is not None:
                together(docs)
            else:
                for doc_id, doc in docs.items():
                    watch(doc_id, None, doc)

    # -- what was acknowledged ------------------------------------------------------------

    def acknowledged(self):
        """(generation, bytes, records) of the journal as acknowledged so far, or None."""
        journal = self.journal
        if journal is None or not isinstance(getattr(journal, "records", None), int):
            return None
        return journal.generation, journal.size, journal.records

    def acknowledge(self):
        """Tell on_acknowledged (the Store's LOCK marker) what the journal now holds."""
        state = self.acknowledged()
        if self.on_acknowledged is not None and state is not None:
            self.on_acknowledged(*state)

    # -- transactions, observers, compaction ----------------------------------------------

    def begin(self):
        if self.txn is not None:
            return False  # nested: the outer transaction commits
        self.txn, self.undo, self.context = [], [], {}
        return True

    def commit(self):
        """Append the transaction's record, with the versions the hooks make of it. Whatever
        fails (a full disk, a value JSON can't hold, an interrupt, a hook), memory and indexes
        go back to how they were before it."""
        ops, self.txn = self.txn, None
        undo, self.undo = self.undo, None
        context, self.context = self.context, None
        if ops:
            versions = []
            try:
                versions = self._versions(undo, context)
                try:
                    self.journal.append(ops + versions)
                except JournalLost as lost:
                    # The folder was deleted (or moved) under us: write all the store anew
                    # where it belongs, from memory as it was before this transaction, then
                    # this transaction on top, as if nothing had happened.
                    self._rollback(undo)
                    undo = []
                    self._recreate(lost)
                    self._apply_ops(ops, undo=undo)
                    self.journal.append(ops + versions)
            except BaseException:
                self._rollback(undo)
                raise
            for _name, _put, vid, version in versions:
                self.history.add(vid, version)
            self.acknowledge()
            self._maybe_flush_history()
            self._maybe_compact()

    def _versions(self, undo, context):
        """The history operations of a transaction: what the hooks make of its changes."""
        ops = []
        for hook in self.before_commit:
            for version in hook(undo, context):
                ops.append([HISTORY, "p", self.take_id(HISTORY), version])
        return ops

    def _maybe_flush_history(self):
        """Pending versions past history.FLUSH_BYTES go into the history files. Never fails the
        write (already durable in the journal); a failed flush (disk full) is tried again once
        twice as many bytes are pending, and at the latest by the compaction."""
        history = self.history
        if not history.needs_flush() or history.pending_bytes < self.history_retry_at:
            return
        try:
            history.flush()
            self.history_retry_at = 0
        except OSError as e:
            self.history_retry_at = history.pending_bytes * 2
            log.warning("annotation history: could not move versions into history.ldb (%s); "
                        "the journal keeps them, trying again later", e)

    def rollback(self):
        undo, self.txn, self.undo, self.context = self.undo, None, None, None
        self._rollback(undo)

    def _rollback(self, undo):
        failed = None
        for name, doc_id, old in reversed(undo):
            table = self.docs(name)
            current = table.get(doc_id)
            if old is None:
                table.pop(doc_id, None)
            else:
                table[doc_id] = old
            for watch in self.observers.get(name, ()):
                try:
                    watch(doc_id, current, old)
                except Exception as e:  # noqa: BLE001 - every document must still go back
                    failed = e
        if failed is not None:
            log.error("an index failed while a write was undone: %r", failed)

    def _recreate(self, lost):
        """journal.ldb is no longer the file we write (JournalLost): make the folder again and
        write the whole store from memory there (a compaction), loudly. Files found in the way
        (someone put other ones there) are moved aside into replaced-<time>/, never deleted."""
        log.error("LabelDesk's data files went away while it was running (%s). Writing all of "
                  "the data again from memory into %s.", lost, self.folder)
        make_private_folder(self.folder)
        found = [n for n in ("snapshot.ldb", "journal.ldb", NEXT_JOURNAL)
                 if os.path.exists(os.path.join(self.folder, n))]
        aside = None
        if found:
            aside = os.path.join(self.folder, f"replaced-{utc_stamp()}")
            make_private_folder(aside)
            for name in found:
                os.replace(os.path.join(self.folder, name), os.path.join(aside, name))
        for callback in self.on_folder_lost:
            callback()
        self.history.copy_to_new_folder()
        self.compact()
        note = (f"{utc_stamp()}: the data files in {self.folder} were deleted or replaced "
                f"while LabelDesk was running ({lost.strerror}); all the data was written "
                "there again from memory, nothing acknowledged was lost")
        if aside:
            note += f"; the files found there were moved to {aside}"
        self.warnings.append(note)
        log.warning("store: %s", note)

    def observe(self, name, callback, build=None, existing=True, cache=None, added=None):
        """Call `callback(doc_id, old, new)` on every change of table `name` (old/new may be
        None). The documents already there are given to `build(docs)` when it is given
        ({id: doc}, a part of the table at a time: what `callback(id, None, doc)` for each
        would do, faster: the app's indexes are built at every start), else to `callback` one
        by one; not at all without `existing` (each would be decoded for nothing). Inside
        `building()`, builds wait for its end, where each table is decoded once for all.
        `cache`: the index being built, if it can be saved for the next start
        (db/index_cache.py: its cache_key, cache_state() and cache_load(state)); without
        `existing`, inside `building()`, it only takes what was saved, if anything. `added(docs)`:
        does what `callback(id, None, doc)` for each of `docs` ({id: doc}, all new to the
        table) would, at once (a write of many new documents: an import)."""
        self.observers.setdefault(name, []).append(callback)
        if added is not None:
            self.adders[callback] = added
        if cache is not None and cache.cache_key is not None:
            self.cacheable[cache.cache_key] = cache
        if not existing:
            if cache is not None and self.pending_builds is not None:
                # what the last clean close saved, if anything: taken at building()'s end
                self.pending_builds.setdefault(name, []).append((None, cache))
            return
        if build is not None:
            if self.pending_builds is not None:
                self.pending_builds.setdefault(name, []).append((build, cache))
                return
            for part in self.docs(name).decoded_chunks(BUILD_CHUNK):
                build(part)
            return
        for doc_id, doc in self.docs(name).items():
            callback(doc_id, None, doc)

    @contextmanager
    def building(self):
        """Observers registered inside get the documents already there at its end, each table
        decoded once for all their builds (under the lock: no write comes in between). An index
        the last clean close saved beside exactly these files is taken from there instead."""
        with self.lock:
            if self.pending_builds is not None:  # nested: the outer one builds
                yield
                return
            self.pending_builds = {}
            try:
                yield
                pending = self.pending_builds
            finally:
                self.pending_builds = None
            with paused_gc(freeze=False):
                cached = None
                for name, builds in pending.items():
                    left = []
                    for build, cache in builds:
                        if cache is not None and cache.cache_key is not None:
                            if cached is None:
                                cached = index_cache.load(self.folder)
                            state = cached.get(cache.cache_key)
                            if state is not None:
                                try:
                                    cache.cache_load(state)
                                    self.index_cache_used = True
                                    continue
                                except (TypeError, ValueError):
                                    pass  # not of its shape: built from the documents
                        if build is not None:
                            left.append(build)
                    if left:
                        for part in self.docs(name).decoded_chunks(BUILD_CHUNK):
                            for build in left:
                                build(part)

    # A clean close folds a journal of at least this many bytes, and a quarter of the
    # snapshot's, into a new snapshot: the next start reads the documents' lines instead of
    # replaying the journal's records (a 100k-task import: 0.25 s of every start until then).
    CLOSE_COMPACT_MIN_BYTES = 4 << 20

    def compact_at_close(self):
        """At a clean close: compact() if the journal holds much (see above); a failure (a
        full disk) leaves the files as they are, which open as before."""
        if self.readonly or not self.compacting or self.journal is None:
            return
        size = self.journal.size
        if size < max(self.CLOSE_COMPACT_MIN_BYTES, self.snapshot_bytes // 4):
            return
        try:
            self.compact()
        except Exception as e:  # noqa: BLE001 - the journal still holds every write
            log.warning("compaction at close: %r", e)

    def save_indexes(self):
        """At a clean close: the indexes, for the next start (db/index_cache.py)."""
        if self.readonly or not self.compacting or not self.cacheable:
            return
        with self.lock:
            states = {key: index.cache_state() for key, index in self.cacheable.items()}
        index_cache.save(self.folder, states)

    def _maybe_compact(self):
        """After a write (under the lock): once the journal outgrows max(COMPACT_MIN_BYTES, the
        snapshot), a compaction starts in the background; a failed one is tried again once the
        journal has grown by a quarter."""
        if self.compaction is not None or not self.compacting:
            return
        size = self.journal.size
        if size <= max(self.compact_retry_at,
                       0 if self.rotating else max(self.COMPACT_MIN_BYTES, self.snapshot_bytes)):
            return
        try:
            self._start_compaction()
        except OSError as e:
            # The write that got here is already durable; compaction waits for room.
            self.compact_retry_at = size + max(size // 4, 1 << 20)
            log.warning("compaction failed (%s); the journal keeps every write and "
                        "compaction will be tried again later", e)

    def _start_compaction(self, background=True):
        """Under the lock: the next journal takes the writes from now on (journal-next.ldb,
        generation + 1, its header says how far journal.ldb goes), and a _Compaction writes
        the snapshot of what the tables hold now, in a thread of its own with `background`.
        Costs the history's pending versions written out, not the snapshot: the thread reads
        the documents' bytes a chunk at a time under the lock.

        Crash-safe at every step (docs/adr/0015-background-compaction.md): until the snapshot
        is renamed into place, opening replays snapshot.ldb, journal.ldb and journal-next.ldb;
        after it, the snapshot and journal-next.ldb, which is then renamed over journal.ldb.
        Replaying whole documents is idempotent, so the snapshot may hold any state from the
        rotation on (a failed one is written again later from a newer state)."""
        self.history.flush()  # the versions the old journal holds go into the history files
        if self.rotating is None:
            keep_old = getattr(self, "before_replace", None)  # db/backups.py: never raises
            if keep_old is not None:
                keep_old(self.snapshot_path)  # the old generation becomes a backup
            old = self.journal
            remove_file(self.next_path)
            self.journal = Journal(self.next_path, old.generation + 1, SCHEMA, fsync=self.fsync,
                                   extra={"follows": {"generation": old.generation,
                                                      "size": old.size, "records": old.records}})
            old.close()
            self.rotating = self.journal.generation
            self.acknowledge()
        job = self.compaction = _Compaction(self, self.rotating)
        if background:
            threading.Thread(target=self._compact_in_background, args=(job,),
                             name="labeldesk-compaction", daemon=True).start()
        return job

    def _compact_in_background(self, job):
        job.write()
        with self.lock:
            self._finish(job)  # a failure is reported here (a success already was, in place)

    def _finish(self, job):
        """Under the lock, once `job` has put its snapshot in place (or failed): the next
        journal becomes journal.ldb. Idempotent: the first call does it."""
        if self.compaction is not job:
            return
        self.compaction = None
        if job.error is None:
            self.snapshot_bytes = job.size
            keep_files = getattr(self, "after_snapshot", None)  # db/backups.py: never raises
            if keep_files is not None:
                keep_files()
            try:
                os.replace(self.next_path, self.journal_path)
                fsync_dir(self.folder)
            except OSError as e:
                job.error = e  # the next compaction writes the snapshot again, then renames
            else:
                self.journal.path = self.journal_path
                self.rotating = None
                self.compact_retry_at = 0
                self.acknowledge()
                return
        size = self.journal.size
        self.compact_retry_at = size + max(size // 4, 1 << 20)
        if isinstance(job.error, OSError):
            log.warning("compaction failed (%s); the journal keeps every write and compaction "
                        "will be tried again later", job.error)
        else:
            log.error("compaction failed: %r; the journal keeps every write", job.error)

    def stop_compacting(self):
        """Under the lock, before other files are put in place of this store's (a restore in
        the running app): no compaction from now on, and one running in the background stops
        at its next chunk, so that it never renames its snapshot over the new files."""
        self.compacting = False
        self._cancel_background()

    def _cancel_background(self):
        """Under the lock: a compaction running in the background stops at its next chunk and
        never puts its snapshot in place (a compaction in the foreground replaces it)."""
        job = self.compaction
        if job is None:
            return
        if job.placing:  # its snapshot is being renamed: a moment, then its journal switched
            job.placed.wait()
            if job.size is None and job.error is None:
                job.error = OSError(errno.EIO, "the snapshot could not be put in place")
            self._finish(job)
            return
        self.compaction = None
        job.cancelled = True

    def settle(self):
        """Wait until no compaction runs in the background. The compaction takes the store's
        lock for each chunk it reads: a caller holding the lock stops it instead (a compaction
        in the foreground then writes what it would have: compact, close)."""
        job = self.compaction
        if job is None:
            return
        if self.lock._is_owned():  # threading.RLock's own test (threading.Condition uses it)
            self._cancel_background()
            return
        job.written.wait()
        with self.lock:
            self._finish(job)

    def compact(self):
        """Fold the journal into a new snapshot, then switch to an empty journal.

        Crash-safe at every step: the next journal is made under a temporary name before the
        snapshot is renamed into place, and renamed over the old journal after it. A crash
        before the snapshot's rename leaves the old snapshot and journal; a crash after it leaves
        a journal older than the snapshot, which opening discards (its writes are all in the
        snapshot). The journal is never missing. A failure (disk full) leaves the old pair.
        """
        with self.lock:
            if not self.compacting:
                raise OSError(errno.EBUSY, "the store's files are being replaced (a restore)")
            self._cancel_background()  # this one writes everything it would have
            # the versions the old journal holds go into the history files first (fsynced)
            self.history.flush()
            generation = self.journal.generation + 1
            tables = {name: {"next_id": self.next_ids.get(name, 1), "docs": docs.raw}
                      for name, docs in self.tables.items()}
            if HISTORY in self.next_ids:
                tables[HISTORY] = {"next_id": self.next_ids[HISTORY], "docs": []}
            extra = {"history_last": self.history.last_id} if self.history.last_id else None
            next_path = self.journal_path + ".tmp"
            journal = None
            try:
                remove_file(next_path)
                journal = Journal(next_path, generation, SCHEMA, fsync=self.fsync,
                                  base_empty=not any(self.tables.values()))
                keep_old = getattr(self, "before_replace", None)  # db/backups.py: never raises
                if keep_old is not None:
                    keep_old(self.snapshot_path)  # the old generation becomes a backup
                snapshot_bytes = write_snapshot(self.snapshot_path, tables, SCHEMA, generation,
                                                extra)
            except BaseException:
                if journal is not None:
                    journal.close()
                remove_file(next_path)
                remove_file(self.snapshot_path + ".tmp")
                raise
            os.replace(next_path, self.journal_path)
            fsync_dir(self.folder)
            journal.path = self.journal_path
            self.journal.close()
            self.journal, self.snapshot_bytes = journal, snapshot_bytes
            self.compact_retry_at = 0
            if self.rotating is not None:  # a background one that failed: this one replaces it
                self.rotating = None
                remove_file(self.next_path)  # left by a crash now: older than the snapshot
                fsync_dir(self.folder)
            self.acknowledge()


BACKGROUND_TMP = ".next.tmp"  # a background compaction's snapshot while it is written
BUILD_CHUNK = 4096  # documents decoded at a time for the observers' builds


class _Compaction:
    """The snapshot a compaction in the background writes (`write`, in a thread of its own).

    Made under the store's lock when the next journal takes the writes; it copies nothing but
    the tables' names and id counters. `write` reads each table in id order a chunk at a time,
    each chunk under the lock (so it never sees half a transaction), and serializes it outside
    the lock. A document written meanwhile may be read before or after its change: either is
    right, since the next journal holds every write made since the switch, and replaying whole
    documents over any of their later states ends in the same state (a document created
    meanwhile is in the next journal alone; one deleted meanwhile is left out or deleted again).
    """

    def __init__(self, storage, generation):
        self.storage = storage
        self.path = storage.snapshot_path
        self.generation = generation
        self.next_ids = {name: storage.next_ids.get(name, 1) for name in storage.tables}
        if HISTORY in storage.next_ids:  # the counter only: the versions are in history.ldb
            self.next_ids[HISTORY] = storage.next_ids[HISTORY]
        last = storage.history.last_id
        self.extra = {"history_last": last} if last else None
        self.written = threading.Event()
        self.cancelled = False  # set under the lock (storage._cancel_background)
        self.placing = False  # its snapshot is being renamed into place (set under the lock)
        self.placed = threading.Event()
        self.error = None
        self.size = None

    def tables(self):
        return {name: {"next_id": next_id, "docs": [] if name == HISTORY else
                       _ChunkedTable(self, name, next_id)}
                for name, next_id in self.next_ids.items()}

    def write(self):
        """Write the snapshot; under the lock, put it in place and switch journals."""
        try:
            write_snapshot(self.path, self.tables(), SCHEMA, self.generation, self.extra,
                           place=self._place, tmp=self.path + BACKGROUND_TMP)
        except BaseException as e:  # noqa: BLE001 - reported by _finish, under the lock
            self.error = e  # write_snapshot removed its temporary file (if it is still its)
        finally:
            self.written.set()

    def _place(self, tmp, path):
        """Rename the snapshot into place, then (under the lock) switch journals. The rename
        and its folder fsync happen outside the lock (writes go on); from the moment it starts
        nothing cancels the job: a foreground compaction waits for `placed` instead."""
        with self.storage.lock:
            if self.cancelled:
                raise _Cancelled()
            self.placing = True
        try:
            os.replace(tmp, path)
            fsync_dir(os.path.dirname(path))
            self.size = os.path.getsize(path)
        finally:
            self.placed.set()
        with self.storage.lock:
            self.storage._finish(self)


class _Cancelled(Exception):
    """A compaction in the background gave way to one in the foreground."""


class _ChunkedTable:
    """A table's documents in id order, read a chunk at a time under the store's lock
    (journal.write_snapshot takes any object with `chunks`)."""

    def __init__(self, job, name, next_id):
        self.job, self.name, self.next_id = job, name, next_id

    def chunks(self, size):
        storage = self.job.storage
        for start in range(1, self.next_id, size):
            with storage.lock:
                if self.job.cancelled:
                    raise _Cancelled()
                table = storage.tables.get(self.name)
                docs = table.raw if table is not None else {}
                found = [(i, docs[i]) for i in range(start, min(start + size, self.next_id))
                         if i in docs]
            if found:
                yield found


def journal_generation(path):
    """The generation the first line of a journal or snapshot says, read as leniently as
    possible (the file may be damaged), or None (missing, unreadable)."""
    try:
        with open(path, "rb") as f:
            line = f.readline(1 << 20)
        header = orjson.loads(line[line.index(b"{"):])
        generation = header.get("generation")
        return generation if _is_id(generation) else None
    except (OSError, ValueError, AttributeError, orjson.JSONDecodeError):
        return None


def check_ops(ops):
    """Raise ValueError unless `ops` is a list of the three operations a record may hold."""
    if not isinstance(ops, list):
        raise ValueError("not a list of operations")
    for op in ops:
        if not (isinstance(op, list) and len(op) >= 2 and isinstance(op[0], str)
                and ((op[1] == "t" and len(op) == 2)
                     or (op[1] == "d" and len(op) == 3 and _is_id(op[2]))
                     or (op[1] == "p" and len(op) == 4 and _is_id(op[2])
                         and isinstance(op[3], dict)))):
            raise ValueError(f"not an operation: {op!r:.80}")


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def remove_file(path):
    """os.remove, where a file already gone is no error."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def make_private_folder(path):
    """`path` made (and kept) 0700: the store's folder holds the user's data only."""
    os.makedirs(path, mode=DIR_MODE, exist_ok=True)
    tighten(path, DIR_MODE)


class Database(TinyDB):
    """TinyDB with the journal storage and tables as defaults."""

    table_class = JournaledTable
    default_storage_class = JournalStorage


__all__ = ["Database", "Document", "JournalStorage", "JournaledTable", "CorruptFile", "SCHEMA"]
