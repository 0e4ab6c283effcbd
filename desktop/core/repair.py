"""`labeldesk repair`: make a store that refuses to open (a damaged record, a damaged or missing
journal) open again, keeping every record that can be read.

Opening a store is strict: a damaged record anywhere in the journal, or a journal missing beside
a snapshot, is refused (CorruptFile) and nothing is changed, because guessing there would drop
acknowledged writes without a word. Repair is the lenient read, run by the user with LabelDesk
closed (it takes the store's lock):

* the snapshot must read (its checksums pass): it is the base. If it doesn't, repair says so and
  changes nothing (a backup is then the way back: `labeldesk restore`).
* every journal record whose body passes its checksum is applied in order, found by its length
  and checksum even where its newline or length field is damaged (db/scan.py, resync); damaged
  bytes are skipped up to the next record that passes its checksum, and the good ones after
  them are still applied (each record puts or deletes whole documents, so a skipped one leaves
  the documents it changed as they were before it, and brings back what it deleted). An
  unfinished last write (never acknowledged) is skipped as well.
* what the data derives is counted again from what was kept: every task's annotation,
  cancellation and prediction counts, is_labeled and completed_at (Tasks.recount), so no
  counter counts a skipped annotation.
* a store written by a newer LabelDesk is not damaged: repair refuses it (NewerFormat) and
  changes nothing. Fields of a header that fails its checksum are never trusted. A store whose
  snapshot is gone is rebuilt when its journal holds everything since the store was created
  (its header says the snapshot below it was empty).
* the originals are moved aside, never deleted: db/damaged-<UTC time>/snapshot.ldb and
  journal.ldb. Then a fresh snapshot of what was kept and an empty journal are written, with
  the steps of a compaction (a crash leaves the old files or the new ones).

The report says what was kept, what was skipped (record numbers and byte ranges) and where the
originals went. Nothing here knows of Bottle or the CLI: `repair_folder` is what both call.
"""

import os
import zlib

import orjson

from desktop.core.errors import LabelDeskError
from desktop.db import history
from desktop.db.backups import Staged
from desktop.db.journal import CorruptFile, NewerFormat, keep_aside, read_body, read_snapshot
from desktop.db.lockfile import acknowledged_in, read_acknowledged
from desktop.db.scan import JournalScan
from desktop.db.storage import NEXT_JOURNAL, SCHEMA, JournalStorage, check_ops

# the files repair keeps aside before it writes (the history's too: a rebuilt history says
# nothing of the snapshot's record of it, so the snapshot is written anew as well)
ORIGINALS = ("snapshot.ldb", "journal.ldb", NEXT_JOURNAL) + history.FILES


class CannotRepair(LabelDeskError):
    """The store can't be rebuilt from its own files (the snapshot is unreadable, or the journal
    belongs to another snapshot); nothing was changed."""

    status = 409


class Report:
    """What repair found and did, as lines for the user."""

    def __init__(self, folder):
        self.folder = folder
        self.changed = False
        self.kept_records = 0
        self.skipped = []  # (record number, start, end, why)
        self.documents = 0
        self.aside = None
        self.notes = []
        self.recounted = 0  # tasks whose counters were wrong and were counted again
        self.orphans = 0  # tasks whose project was in a skipped record

    def lines(self):
        if not self.changed:
            return self.notes or [f"{self.folder}: nothing to repair; the store opens as it is."]
        lines = [f"Repaired the store in {self.folder}."]
        lines += self.notes
        lines.append(f"Kept: {self.kept_records} journal record(s) that read, on top of the "
                     f"snapshot; {self.documents} document(s) in all.")
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} record(s) that could not be read "
                         f"({sum(end - start for _, start, end, _ in self.skipped)} bytes in "
                         "which no record passes its checksum):")
            lines += [f"  record {number}, bytes {start}-{end}: {why}"
                      for number, start, end, why in self.skipped]
            lines.append("What those records changed is missing: documents they changed are "
                         "as they were before them, documents they deleted are back.")
        else:
            lines.append("Skipped: no record.")
        if self.recounted:
            lines.append(f"Counted again: the counters of {self.recounted} task(s) (annotations, "
                         "predictions, is_labeled) to match what was kept.")
        if self.orphans:
            lines.append(f"{self.orphans} task(s) belong to a project whose record was skipped: "
                         "they are kept in the store, but no project shows them.")
        lines.append(f"The original files were moved to {self.aside} (nothing was deleted).")
        return lines


def problem(folder, acknowledged=None):
    """Why the store in `folder` doesn't open (a CorruptFile), or None when it opens.
    `acknowledged`: what its LOCK file said (read from there when not given)."""
    if acknowledged is None:
        acknowledged = read_acknowledged(os.path.join(str(folder), "LOCK"))
    try:
        JournalStorage(folder, readonly=True, acknowledged=acknowledged).close()
    except CorruptFile as e:
        return e
    return None


def repair_locked(folder, fsync=True):
    """repair_folder under the store's lock (StoreLocked while a LabelDesk has the folder open),
    the lock file then left as it was found: an unclean end before is still the next start's
    to report. What `labeldesk repair` and the recovery window run."""
    from desktop.db.store import lock_folder
    handle, previous = lock_folder(os.path.join(str(folder), "LOCK"))
    try:
        return repair_folder(folder, fsync=fsync, acknowledged=acknowledged_in(previous))
    finally:
        handle.seek(0)
        handle.truncate()
        handle.write(previous)
        handle.close()


def repair_folder(folder, fsync=True, acknowledged=None):
    """Repair the store in `folder` (the caller holds its lock); returns a Report.

    Raises CannotRepair, having changed nothing, when the snapshot can't be read or a newer
    LabelDesk wrote the store."""
    folder = str(folder)
    report = Report(folder)
    damaged_history = history.problem(folder)
    if isinstance(damaged_history, NewerFormat):
        raise CannotRepair(f"{damaged_history.path}: {damaged_history.reason}")
    if damaged_history is None:
        found = problem(folder, acknowledged)
        if found is None:
            return report
        if isinstance(found, NewerFormat):
            raise CannotRepair(f"{found.path}: {found.reason}")
    else:
        # the history first (the store's files are then written anew as well: the snapshot's
        # record of the history's last version may be above what was kept)
        report.aside = keep_aside(folder, folder, names=ORIGINALS)  # before anything is written
        report.notes.append(f"Found: {damaged_history.path}: "
                            f"{damaged_history.reason.split(' Nothing was changed')[0]}")
        report.notes += history.rebuild(folder, fsync)
        found = problem(folder, acknowledged)
        if isinstance(found, NewerFormat):
            raise CannotRepair(f"{found.path}: {found.reason}")
    if found is not None:
        report.notes.append(f"Found: {found.path}: "
                            f"{found.reason.split(' Nothing was changed')[0]}")
    snapshot_path = os.path.join(folder, "snapshot.ldb")
    journal_path = os.path.join(folder, "journal.ldb")
    tables, next_ids, schema, generation = _read_base(snapshot_path, report)
    has_snapshot = os.path.exists(snapshot_path)
    try:
        with open(journal_path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raw = None
    if not raw:
        if not has_snapshot:
            report.notes.append("There is no data here to keep.")
        else:
            report.notes.append(
                f"journal.ldb is {'missing' if raw is None else 'empty'}: the writes since the "
                "last compaction can't be recovered from this folder (a backup may have them).")
    else:
        scan = JournalScan(raw, resync=True)
        newer = scan.newer(journal_path)
        if newer is not None:
            raise CannotRepair(f"{newer.path}: {newer.reason}")
        short = scan.against(acknowledged)
        if short is not None:
            report.notes.append(f"journal.ldb: {short}; those writes can't be recovered from "
                                "this folder (a backup may have them).")
        header = scan.header or {}
        theirs = header.get("generation")
        if schema is None:  # the snapshot's header was damaged: the journal's says the schema
            schema = header.get("schema") if isinstance(header.get("schema"), int) else SCHEMA
        if generation is None:  # the snapshot's header was damaged: the journal's must match
            generation = theirs if isinstance(theirs, int) else 1
        _replay(scan, tables, next_ids, generation, has_snapshot, report)
        if isinstance(theirs, int):
            generation = max(generation, theirs)
    generation = _replay_next(folder, tables, next_ids, generation, acknowledged, report)
    generation = generation or 1
    report.documents = sum(len(docs) for docs in tables.values())
    if report.aside is None:
        report.aside = keep_aside(folder, folder, names=ORIGINALS)  # before anything is written
    _write_fresh(folder, tables, next_ids, schema or SCHEMA, generation + 1, fsync)
    if os.path.exists(os.path.join(folder, NEXT_JOURNAL)):
        os.remove(os.path.join(folder, NEXT_JOURNAL))  # kept aside above; its writes are in
    report.changed = True
    report.recounted, report.orphans = recount(folder, fsync)
    return report


def recount(folder, fsync=True):
    """Count again what the documents derive (the caller holds the store's lock); returns how
    many tasks' counters changed, and how many tasks have no project. Uses the very code that
    keeps the counters while LabelDesk runs."""
    from desktop.core.errors import LabelDeskError
    from desktop.core.projects import Projects
    from desktop.core.records import Records
    from desktop.core.tasks import Tasks
    from desktop.core.users import Users
    from desktop.db import Store
    store = Store(folder, fsync=fsync, lock_held=True)
    try:
        records = Records(store)
        users = Users(store)
        tasks = Tasks(records, Projects(records, users), users)
        before = {i: dict(records.tasks.doc(i)) for i in records.tasks.docs()}
        orphans = 0
        with records.transaction():
            for task_id in before:
                try:
                    tasks.recount(task_id)
                except LabelDeskError:
                    orphans += 1  # its project's record was skipped: kept, not shown
        changed = sum(1 for i, doc in before.items() if records.tasks.doc(i) != doc)
        return changed, orphans
    finally:
        store.close()


def _read_base(snapshot_path, report):
    """(tables, next_ids, schema or None, generation or None) of the snapshot; empty without
    one.

    A snapshot whose header alone is damaged (its own checksum fails, a field is unreadable)
    is kept when its body still reads: against the header's length and CRC where those are
    intact, else as JSON of the right shape (said in the report). Its generation is then
    unknown (None): the journal's is taken. A body that fails its checks is beyond reading."""
    if not os.path.exists(snapshot_path):
        return {}, {}, None, 1
    try:
        header, stored = read_snapshot(snapshot_path)
    except NewerFormat as e:
        raise CannotRepair(f"{e.path}: {e.reason}") from None
    except CorruptFile as e:
        header, stored = _read_body_only(snapshot_path, e)
        report.notes.append(f"snapshot.ldb: its header was damaged ({e.reason}); its body "
                            + ("passes its checksum" if header.get("verified") else
                               "reads as a complete snapshot, but its checksum could not be "
                               "checked (it was in the damaged header)")
                            + ": it was kept.")
    try:
        tables = {name: {int(i): d for i, d in table["docs"]} for name, table in stored.items()}
        next_ids = {name: table["next_id"] for name, table in stored.items()}
    except (TypeError, ValueError, KeyError) as e:
        raise _beyond_reading(f"unexpected content: {e}") from None
    schema = header.get("schema")  # None when the header was damaged: the journal's is taken
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        schema = None
    return tables, next_ids, schema, header.get("generation")


def _beyond_reading(reason):
    return CannotRepair(f"snapshot.ldb is damaged beyond reading ({reason}). It holds "
                        "everything up to the last compaction, so repair can't rebuild the "
                        "store without it. Nothing was changed. Restore a backup "
                        "(`labeldesk restore`), or keep the folder for an expert.")


def _read_body_only(path, error):
    """(what is left of the header, tables) of a snapshot whose header is damaged; raises
    CannotRepair when the damage is in the body (the header reads and the body fails it)."""
    with open(path, "rb") as f:
        raw = f.read()
    newline = raw.find(b"\n")
    try:
        header = orjson.loads(raw[:newline]) if newline > 0 else {}
    except orjson.JSONDecodeError:
        header = {}
    if not isinstance(header, dict):
        header = {}
    if "header" not in error.reason:
        raise _beyond_reading(error.reason)  # the header is fine: the body is what is damaged
    body = raw[newline + 1:] if newline >= 0 else b""
    verified = header.get("length") == len(body) and header.get("crc") == zlib.crc32(body)
    try:  # the version the header said is not trusted: the body's first bytes say it
        stored = read_body(body, path, lines=not body.startswith(b'{"tables"'))
    except CorruptFile:
        raise _beyond_reading(error.reason) from None
    return {"verified": verified}, stored  # no field of a header that failed is trusted


def _replay(scan, tables, next_ids, generation, has_snapshot, report):
    header = scan.header
    records = scan.good
    if header is None:
        report.notes.append("The journal's header record could not be read: its records were "
                            "taken as the writes after the snapshot (the usual case).")
    else:
        records = records[1:]
        theirs = header.get("generation")
        if not has_snapshot and header.get("base_empty") is True:
            report.notes.append("snapshot.ldb is missing, but the snapshot below this journal "
                                "held nothing: the journal holds everything since then, and "
                                "the store was rebuilt from it alone.")
        elif isinstance(theirs, int) and theirs > generation:
            if has_snapshot:
                raise CannotRepair(
                    f"journal.ldb (generation {theirs}) is newer than snapshot.ldb (generation "
                    f"{generation}): the snapshot is an older copy, and the journal holds only "
                    "the writes after the newer one. Nothing was changed. Put the matching "
                    "snapshot.ldb back, or restore a backup.")
            raise CannotRepair("snapshot.ldb is missing, and journal.ldb holds only the writes "
                               "since the last compaction. Nothing was changed. Restore a "
                               "backup (`labeldesk restore`).")
        if isinstance(theirs, int) and theirs < generation:
            report.notes.append(f"journal.ldb is of an earlier generation ({theirs}) than the "
                                f"snapshot ({generation}): its writes are all in the snapshot "
                                "already; none was applied again.")
            records = []
    for number, start, end, ops in records:
        try:
            _apply(tables, next_ids, ops)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError):
            report.skipped.append((number, start, end, "its checksum passes but its content "
                                                       "isn't a list of operations"))
            continue
        report.kept_records += 1
    report.skipped.extend(scan.bad)
    if scan.torn is not None:
        start, end = scan.torn
        report.skipped.append((scan.records, start, end,
                               "an unfinished last write (never acknowledged)"))
    report.skipped.sort()


def _replay_next(folder, tables, next_ids, generation, acknowledged, report):
    """The writes of journal-next.ldb (a compaction in the background had not finished) on top
    of what was kept: when it follows the snapshot (or journal.ldb). Returns the generation."""
    path = os.path.join(folder, NEXT_JOURNAL)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return generation
    scan = JournalScan(raw, resync=True)
    newer = scan.newer(path)
    if newer is not None:
        raise CannotRepair(f"{newer.path}: {newer.reason}")
    theirs = (scan.header or {}).get("generation")
    if not isinstance(theirs, int) or generation is None or \
            theirs not in (generation, generation + 1):
        report.notes.append(f"{NEXT_JOURNAL} (generation {theirs}) doesn't follow the snapshot "
                            f"(generation {generation}): none of its writes was applied.")
        return generation
    short = scan.against(acknowledged)
    if short is not None:
        report.notes.append(f"{NEXT_JOURNAL}: {short}; those writes can't be recovered from "
                            "this folder (a backup may have them).")
    _replay(scan, tables, next_ids, theirs, True, report)
    return theirs


def _apply(tables, next_ids, ops):
    """One record onto plain dicts: validated as a whole first, so a record applies or not."""
    check_ops(ops)
    for op in ops:
        table = tables.setdefault(op[0], {})
        if op[1] == "p":
            table[op[2]] = op[3]
            next_ids[op[0]] = max(next_ids.get(op[0], 1), op[2] + 1)
        elif op[1] == "d":
            table.pop(op[2], None)
        else:
            table.clear()


def _write_fresh(folder, tables, next_ids, schema, generation, fsync):
    """A new snapshot and an empty journal, put in place in a compaction's order (Staged)."""
    snapshot = {name: {"next_id": max(next_ids.get(name, 1), max(docs, default=0) + 1),
                       "docs": sorted(docs.items())} for name, docs in tables.items()}
    Staged(folder, snapshot, generation, fsync=fsync, schema=schema).commit()
