"""Backups of the store as files: each one a whole snapshot (journal.write_snapshot's format).

A backup is an ordinary snapshot file, checksummed like snapshot.ldb, in the data folder's
backups/ (0700; files 0600), named to say what it holds:
``snapshot-20261204T121500Z-g7-manual-n12.ldb`` is the whole store as it was at 12:15:00 UTC
(by the clock of then), at store generation 7, made by "Back up now", the 12th backup of this
folder. Kinds: ``manual``, ``daily``, ``before-restore`` (the state a restore replaced) and
``compaction`` (the snapshot a compaction replaced; a hard link, so it costs no copy).

Backups are ordered by their number, never by the clock: a number is one more than the highest
in the folder (and than any this process gave out), so a clock set back or ahead changes no
order and no rotation. Names of the first format (no ``-n``; ``-2``, ``-3`` for two in one
second) still parse and count as older than every numbered one.

Beside each, ``<name>.json`` holds its counts and the media and export files it names, so that
a list needs no reading of big files; a backup without one is read once, when listed.

The files a backup names (uploads in media/, export files in export/) are kept with it in
backups/files/ (desktop/db/backupfiles.py), linked before the backup itself is written, so a
backup never exists without its files; prune_files drops the links no backup, and no state of
the store a compaction could still turn into a backup, names.

Policy (how many, when) is desktop/core/backups.py's; this module only reads and writes files.
"""

import calendar
import logging
import os
import re
import signal
import threading
import time

import orjson

from desktop.db.backupfiles import FILES, files_named, keep_files, pool_entries, remove_empty_dirs
from desktop.db.history import TABLE as HISTORY
from desktop.db.journal import (
    NEXT_JOURNAL,
    CorruptFile,
    Journal,
    fsync_dir,
    keep_aside,
    read_snapshot,
    write_snapshot,
)
from desktop.db.storage import SCHEMA, journal_generation, make_private_folder, remove_file

log = logging.getLogger("labeldesk.backups")

NAME = re.compile(r"^snapshot-(\d{8}T\d{6}Z)-g(\d+)-([a-z]+(?:-[a-z]+)*)(?:-n(\d+))?(?:-(\d+))?"
                  r"\.ldb$")
STAMP = "%Y%m%dT%H%M%SZ"
COUNTED = ("projects", "tasks", "annotations")
# Where a restore writes what it is doing (db/restore.json) until it is done: the next start
# says what an interrupted restore left (interrupted_restore).
MARKER = "restore.json"
STAGED = "snapshot.ldb.restore"
_writing = threading.Lock()  # one backup written (or the files pruned) at a time in a process
_numbering = threading.Lock()
_last_number = {}  # backups folder -> the highest number this process gave out
# Moves of the clock the backups see, for tests of clock changes (docs/reliability.md, knobs).
CLOCK_OFFSET = float(os.environ.get("LABELDESK_CLOCK_OFFSET_SECONDS") or 0)

# The steps of a restore, in order; LABELDESK_RESTORE_KILL_AT=<step> makes the process SIGKILL
# itself there (tests/api/test_crash_more.py proves each moment opens to the old state or the new).
RESTORE_STEPS = ("locked", "previous-state-kept", "files-put-back", "marked", "journal-staged",
                 "snapshot-staged", "snapshot-replaced", "journal-replaced", "done")


def step(name):
    if os.environ.get("LABELDESK_RESTORE_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def now():
    """The wall clock (seconds) backups are dated by."""
    return time.time() + CLOCK_OFFSET


def stamp(seconds):
    return time.strftime(STAMP, time.gmtime(seconds))


def parse(name):
    """What a backup's file name says: {name, time, generation, kind, number, dup}; None if it
    isn't one. `number` is 0 in names of the first format."""
    match = NAME.match(name)
    if not match:
        return None
    try:
        when = calendar.timegm(time.strptime(match[1], STAMP))
    except ValueError:
        return None
    return {"name": name, "time": int(when), "generation": int(match[2]), "kind": match[3],
            "number": int(match[4] or 0), "dup": int(match[5] or 1)}


def _sort_key(info):
    """Oldest first by number; the time only orders backups of the first format."""
    return info["number"], info["time"], info.get("mtime", 0), info["dup"], info["name"]


def list_backups(folder, count=True):
    """The backups in `folder`, newest first: name, path, time, generation, kind, size and the
    counts (None where unknown). `count`: count those without their .json now (reads them)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        info = parse(name)
        if info is None:
            continue
        path = os.path.join(folder, name)
        try:
            st = os.stat(path)
            info["size"], info["mtime"] = st.st_size, st.st_mtime_ns
        except OSError:
            continue  # deleted meanwhile (rotation in another process)
        info["path"] = path
        info["counts"] = _read_counts(path)
        if info["counts"] is None and count:
            info["counts"] = count_file(path)
        found.append(info)
    found.sort(key=_sort_key, reverse=True)
    return found


def _read_counts(path):
    try:
        counts = orjson.loads(open(path + ".json", "rb").read())
    except (OSError, orjson.JSONDecodeError):
        return None
    return counts if isinstance(counts, dict) else None


def count_file(path):
    """Read a backup once to count what it holds, and remember the counts beside it; a damaged
    one is {"damaged": reason}."""
    try:
        header, tables = read_snapshot(path)
        counts = sidecar_of(tables)
    except CorruptFile as e:
        counts = {"damaged": e.reason}
    except OSError:
        return None
    _write_counts(path, counts)
    return counts


def counts_of(tables):
    return {name: len((tables.get(name) or {}).get("docs") or ()) for name in COUNTED}


def sidecar_of(tables):
    """What <backup>.json holds: the counts, and the files the backup names."""
    return {**counts_of(tables), "files": sorted(files_named(tables))}


def _write_counts(path, counts):
    try:
        fd = os.open(path + ".json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(counts))
    except OSError:
        pass  # only a convenience: a list counts the file itself


def capture(storage):
    """The whole store at this moment, as write_snapshot takes it, and its generation.

    Taken under the store's lock, which writers hold; it copies references only (stored
    documents are replaced by writes, never changed in place), so writers wait a few
    milliseconds, not for the serializing and writing, which happen outside the lock."""
    with storage.lock:
        tables = {name: {"next_id": storage.next_ids.get(name, 1),
                         "docs": sorted(docs.raw.items())}  # the JSON bytes (db/docs.py)
                  for name, docs in storage.tables.items()}
        if HISTORY in storage.next_ids:  # the counter only: the versions stay in history.ldb
            tables[HISTORY] = {"next_id": storage.next_ids[HISTORY], "docs": []}
        journal = storage.journal
        generation = journal.generation if journal is not None else _generation(storage)
    return tables, generation


def _generation(storage):
    """The generation of a store opened read-only (it has no journal object): its snapshot's."""
    try:
        with open(storage.snapshot_path, "rb") as f:
            return int(orjson.loads(f.readline()).get("generation", 1))
    except (OSError, ValueError, AttributeError, orjson.JSONDecodeError):
        return 1


def _free_name(folder, when, generation, kind):
    """A new backup's name, with the next number (one more than the highest in `folder` and
    than any given out here): the order of backups never depends on the clock."""
    with _numbering:
        highest = max([_last_number.get(folder, 0)] + [
            info["number"] for info in map(parse, _names(folder)) if info is not None])
        number = _last_number[folder] = highest + 1
    return f"snapshot-{stamp(when)}-g{generation}-{kind}-n{number}.ldb"


def _names(folder):
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def write_backup(folder, tables, generation, kind, when=None):
    """Write `tables` as a new backup (temp file, fsync, rename), its files kept first in
    backups/files/; returns its list entry.

    On failure (a full disk) no partial file is left and the OSError is raised."""
    when = now() if when is None else when
    with _writing:
        make_private_folder(folder)
        sidecar = sidecar_of(tables)
        keep_files(folder, sidecar["files"])
        name = _free_name(folder, when, generation, kind)
        path = os.path.join(folder, name)
        try:
            write_snapshot(path, tables, SCHEMA, generation)
            os.chmod(path, 0o600)
        except BaseException:
            remove_file(path + ".tmp")
            remove_file(path)
            raise
        _write_counts(path, sidecar)
    info = parse(name)
    info.update(path=path, size=os.path.getsize(path), counts=sidecar)
    return info


def prune(folder, keep, protect=()):
    """Delete the oldest backups beyond the newest `keep`, never one named in `protect`;
    returns the names deleted. A file that can't be deleted is logged and left."""
    deleted = []
    for info in list_backups(folder, count=False)[max(1, keep):]:
        if info["name"] in protect:
            continue
        try:
            os.remove(info["path"])
        except FileNotFoundError:
            continue
        except OSError as e:
            log.warning("could not delete the old backup %s: %s", info["path"], e)
            continue
        remove_file(info["path"] + ".json")
        deleted.append(info["name"])
    return deleted


def remove_leftovers(folder):
    """Temp files of backups a process was killed in the middle of (call with the store held)."""
    removed = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return removed
    for name in names:
        if name.startswith("snapshot-") and name.endswith(".ldb.tmp"):
            remove_file(os.path.join(folder, name))
            removed.append(name)
    return removed


def keep_previous_generations(storage, folder, keep):
    """From now on, a compaction of `storage` keeps the snapshot it replaces as a backup: a hard
    link made before the rename, so no byte is copied. The files the new snapshot names are
    linked into backups/files/ then too: that snapshot is the backup of the next compaction,
    and an upload deleted meanwhile must still be there for it. A failure (no hard links on
    this file system, a full disk) is logged; the compaction goes on."""

    def before_replace(snapshot_path):
        try:  # under the store's lock: its memory is the new snapshot's content
            keep_files(folder, files_named(storage.tables))
        except Exception as e:  # noqa: BLE001 - a backup must never break a write
            log.warning("could not keep the media files of the new snapshot: %s", e)
        try:
            st = os.stat(snapshot_path)
        except OSError:
            return  # the first compaction: there is no previous generation
        try:
            make_private_folder(folder)
            generation = storage.journal.generation
            for info in list_backups(folder, count=False):
                if info["kind"] == "compaction" and os.path.samefile(info["path"], snapshot_path):
                    return  # kept already (by a compaction that then failed)
            name = _free_name(folder, st.st_mtime, generation, "compaction")
            target = os.path.join(folder, name)
            os.link(snapshot_path, target)
            os.chmod(target, 0o600)
            fsync_dir(folder)
            prune(folder, keep(), protect=(name,))
        except Exception as e:  # noqa: BLE001 - a backup must never break a write
            log.warning("could not keep the previous snapshot as a backup: %s", e)

    def after_snapshot():
        try:  # a compaction in the background: its snapshot may name files made meanwhile
            keep_files(folder, files_named(storage.tables))
        except Exception as e:  # noqa: BLE001 - a backup must never break a write
            log.warning("could not keep the media files of the new snapshot: %s", e)

    storage.before_replace = before_replace
    storage.after_snapshot = after_snapshot


def read_backup(path):
    """(header, tables) of a backup that may be restored; CorruptFile if it can't be."""
    try:
        header, tables = read_snapshot(path)
    except (IsADirectoryError, UnicodeDecodeError):
        raise CorruptFile(path, "not a LabelDesk snapshot") from None
    if not isinstance(tables, dict) or not all(
            isinstance(t, dict) and isinstance(t.get("docs"), list) for t in tables.values()):
        raise CorruptFile(path, "not a LabelDesk snapshot (unexpected content)")
    return header, tables


class Staged:
    """A store's next content, written beside it and not yet in place: commit() puts it there.

    The steps are a compaction's (storage.JournalStorage.compact), so a crash at any point
    leaves either the old content or the new: a fresh journal is made under a temporary name,
    the new snapshot is renamed over the old one, then the journal over the old journal. The
    new generation is above the old journal's, so an old journal left by a crash between the
    two renames is recognised and discarded at the next open. Nothing is deleted first: the old
    files stay until a rename replaces them.

    `restoring` (a restore: {"backup", "previous_state"}) is written to db/restore.json before
    anything else and removed once the new content is in place, so the start after a crash
    can say what happened and where the state before the restore is (interrupted_restore).
    `history`: history operations the new journal starts with (the versions a restore makes),
    so that they are there exactly when the new content is."""

    def __init__(self, store_folder, tables, generation, fsync=True, schema=SCHEMA,
                 restoring=None, history=None):
        self.folder = store_folder
        self.snapshot = os.path.join(store_folder, "snapshot.ldb")
        self.journal = os.path.join(store_folder, "journal.ldb")
        self.staged_snapshot = os.path.join(store_folder, STAGED)
        self.staged_journal = self.journal + ".tmp"
        self.marker = os.path.join(store_folder, MARKER) if restoring is not None else None
        self.generation = generation
        self.discard()
        try:
            if self.marker is not None:
                _write_json(self.marker, {**restoring, "generation": generation})
                step("marked")
            journal = Journal(self.staged_journal, generation, SCHEMA, fsync=fsync)
            try:
                if history:
                    journal.append(history)
            finally:
                journal.close()
            step("journal-staged")
            write_snapshot(self.staged_snapshot, tables, schema, generation)
            step("snapshot-staged")
        except BaseException:
            self.discard()
            if self.marker is not None:
                remove_file(self.marker)
            raise

    def commit(self):
        os.replace(self.staged_snapshot, self.snapshot)
        step("snapshot-replaced")
        os.replace(self.staged_journal, self.journal)
        # the next journal of a compaction that had not finished: older than the new files
        remove_file(os.path.join(self.folder, NEXT_JOURNAL))
        fsync_dir(self.folder)
        step("journal-replaced")
        if self.marker is not None:
            remove_file(self.marker)
            fsync_dir(self.folder)

    def discard(self):
        for path in (self.staged_snapshot, self.staged_snapshot + ".tmp", self.staged_journal):
            remove_file(path)


def _write_json(path, value):
    """A small file written whole or not at all (temp file, fsync, rename, folder fsync)."""
    tmp = path + ".tmp"
    remove_file(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(value))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(os.path.dirname(path))


def interrupted_restore(store_folder, generation):
    """At start, with the store open and locked: what a restore killed half-way left. Its staged
    files (a whole snapshot's size) are removed, and its db/restore.json read: the store's
    generation says whether the backup was put in place (the restore is then complete) or not
    (the data is as before it). Returns notes for the log."""
    notes = []
    removed = []
    for name in sorted(_names(store_folder)):
        if name.startswith(STAGED) or name == MARKER + ".tmp":
            remove_file(os.path.join(store_folder, name))
            removed.append(name)
    marker = os.path.join(store_folder, MARKER)
    try:
        with open(marker, "rb") as f:
            restoring = orjson.loads(f.read())
    except FileNotFoundError:
        restoring = None
    except (OSError, orjson.JSONDecodeError):
        restoring = {}
    if restoring is not None:
        restoring = restoring if isinstance(restoring, dict) else {}
        backup = restoring.get("backup") or "a backup"
        before = restoring.get("previous_state")
        where = (f"; the state from before it is kept in {before}" if before else "")
        if restoring.get("generation") == generation:
            notes.append(f"a restore of {backup} was interrupted (a crash, kill or power cut) "
                         f"after the backup was put in place: the restored data is open{where}")
        else:
            notes.append(f"a restore of {backup} was interrupted (a crash, kill or power cut) "
                         f"before it changed anything: the data is as it was{where}")
        remove_file(marker)
        fsync_dir(store_folder)
    if removed:
        notes.append(f"db/: removed {', '.join(removed)}, left by an interrupted restore (not "
                     "in use: the store is snapshot.ldb and journal.ldb)")
    return notes


def generation_of_files(store_folder):
    """The highest generation the headers of a store's files say, read as leniently as
    possible (the store may be damaged); 0 if none can be read. A restore goes above it, so
    that an old journal left beside the restored snapshot by a crash is taken as stale."""
    return max(journal_generation(os.path.join(store_folder, name)) or 0
               for name in ("snapshot.ldb", "journal.ldb", NEXT_JOURNAL))


# -- rotating the files backups name -----------------------------------------------------------

def backup_files(info):
    """The files a listed backup names: from its .json, else read from the backup (and then
    remembered in its .json); a damaged backup names none (it can't be restored)."""
    counts = info.get("counts") or _read_counts(info["path"])
    if not isinstance(counts, dict) or not isinstance(counts.get("files"), list):
        counts = count_file(info["path"]) or {}
    return set(counts.get("files") or ())


def prune_files(folder, storage=None, names=None):
    """Remove from backups/files/ what no backup names any more, nor the store: `storage` (an
    open store: its memory, and its snapshot.ldb, which the next compaction makes a backup of)
    or `names` (what a closed store the caller holds names). Returns how many were removed.

    The backups are read outside the store's lock; the removal happens under it (and under the
    backup writer's lock), and is given up when a backup or a compaction came meanwhile: the
    next prune does it."""
    pool = os.path.join(folder, FILES)
    if not os.path.isdir(pool) or (storage is not None and storage.journal is None):
        return 0
    listed = list_backups(folder, count=False)
    named = set().union(*(backup_files(info) for info in listed)) if listed else set()
    candidates = pool_entries(pool) - named
    if storage is None:
        current = lambda: set(names)  # noqa: E731
    else:
        def current():
            with storage.lock:
                return files_named({name: dict(storage.tables.get(name) or {})
                                    for name in ("uploads", "exports", "trash")})
        generation = storage.journal.generation
    candidates -= current()
    if candidates and storage is not None:
        try:
            candidates -= files_named(read_snapshot(storage.snapshot_path)[1])
        except (OSError, CorruptFile):
            return 0  # can't tell what it names: keep everything
    if not candidates:
        return 0
    lock = storage.lock if storage is not None else threading.Lock()
    removed = 0
    with lock, _writing:
        if (storage is not None and storage.journal.generation != generation) or \
                [i["name"] for i in list_backups(folder, count=False)] != \
                [i["name"] for i in listed]:
            return 0
        for name in sorted(candidates - current()):
            try:
                os.remove(os.path.join(pool, name))
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("could not remove %s from backups/files/: %s", name, e)
        remove_empty_dirs(pool)
    return removed


def keep_damaged(store_folder, folder):
    """Keep a store's files that can't be read in backups/damaged-<time>/, as they are."""
    make_private_folder(folder)
    return keep_aside(store_folder, folder)


class _Sealed:
    """The journal of a store that was replaced under it: every write is refused."""

    def __init__(self, journal, error):
        self.path, self.generation, self.size = journal.path, journal.generation, journal.size
        self.error = error

    def append(self, ops):
        raise self.error()

    def close(self):
        pass


def seal(storage, error):
    """Close `storage`'s journal and refuse its writes from now on with `error()` (an OSError,
    so that a transaction rolls back); reads of its memory go on. Call under its lock."""
    storage.stop_compacting()  # a compaction in the background must not rename over the new
    journal = storage.journal
    if journal is None or isinstance(journal, _Sealed):
        return
    journal.close()
    storage.journal = _Sealed(journal, error)
