"""Backups of the store as files: each one a whole snapshot (journal.write_snapshot's format).

A backup is an ordinary snapshot file, checksummed like snapshot.ldb, in the data folder's
backups/ (0700; files 0600), named so that names sort by time and say what they hold:
``snapshot-20261204T121500Z-g7-manual.ldb`` is the whole store as it was at 12:15:00 UTC, at
store generation 7, made by "Back up now". Kinds: ``manual``, ``daily`` (made at start),
``before-restore`` (the state a restore replaced) and ``compaction`` (the snapshot a compaction
replaced; a hard link, so it costs no copy). Two backups in the same second get ``-2``, ``-3``.
Beside each, ``<name>.json`` holds its task and project counts, so that a list needs no reading
of big files; a backup without one is counted once, when listed.

Policy (how many, when) is desktop/backups.py's; this module only reads and writes files.
"""

import calendar
import logging
import os
import re
import threading
import time

import orjson

from .journal import (CorruptFile, Journal, fsync_dir, keep_aside, read_snapshot,
                      write_snapshot)
from .storage import SCHEMA, make_private_folder, remove_file

log = logging.getLogger("labeldesk.backups")

NAME = re.compile(r"^snapshot-(\d{8}T\d{6}Z)-g(\d+)-([a-z]+(?:-[a-z]+)*)(?:-(\d+))?\.ldb$")
KINDS = ("manual", "daily", "before-restore", "compaction")
STAMP = "%Y%m%dT%H%M%SZ"
COUNTED = ("projects", "tasks", "annotations")
_writing = threading.Lock()  # one backup written at a time in a process: names stay unique


def stamp(seconds):
    return time.strftime(STAMP, time.gmtime(seconds))


def parse(name):
    """What a backup's file name says: {name, time, generation, kind, seq}; None if it isn't one."""
    match = NAME.match(name)
    if not match:
        return None
    try:
        when = calendar.timegm(time.strptime(match[1], STAMP))
    except ValueError:
        return None
    return {"name": name, "time": int(when), "generation": int(match[2]), "kind": match[3],
            "seq": int(match[4] or 1)}


def _sort_key(info):
    return info["time"], info.get("mtime", 0), info["seq"], info["name"]


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
        counts = counts_of(tables)
    except CorruptFile as e:
        counts = {"damaged": e.reason}
    except OSError:
        return None
    _write_counts(path, counts)
    return counts


def counts_of(tables):
    return {name: len((tables.get(name) or {}).get("docs") or ()) for name in COUNTED}


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
        tables = {name: {"next_id": storage.next_ids.get(name, 1), "docs": sorted(docs.items())}
                  for name, docs in storage.tables.items()}
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
    base = f"snapshot-{stamp(when)}-g{generation}-{kind}"
    name, seq = f"{base}.ldb", 1
    while os.path.lexists(os.path.join(folder, name)):
        seq += 1
        name = f"{base}-{seq}.ldb"
    return name


def write_backup(folder, tables, generation, kind, when=None):
    """Write `tables` as a new backup (temp file, fsync, rename); returns its list entry.

    On failure (a full disk) no partial file is left and the OSError is raised."""
    when = time.time() if when is None else when
    with _writing:
        make_private_folder(folder)
        name = _free_name(folder, when, generation, kind)
        path = os.path.join(folder, name)
        try:
            write_snapshot(path, tables, SCHEMA, generation)
            os.chmod(path, 0o600)
        except BaseException:
            remove_file(path + ".tmp")
            remove_file(path)
            raise
        counts = counts_of(tables)
        _write_counts(path, counts)
    info = parse(name)
    info.update(path=path, size=os.path.getsize(path), counts=counts)
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
    link made before the rename, so no byte is copied. A failure (no hard links on this file
    system, a full disk) is logged; the compaction goes on."""

    def before_replace(snapshot_path):
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

    storage.before_replace = before_replace


def read_backup(path):
    """(header, tables) of a backup that may be restored; CorruptFile if it can't be."""
    try:
        header, tables = read_snapshot(path)
    except (IsADirectoryError, UnicodeDecodeError):
        raise CorruptFile(path, "not a LabelDesk snapshot") from None
    if header.get("schema", SCHEMA) > SCHEMA:
        raise CorruptFile(path, f"written by a newer LabelDesk (schema {header['schema']})")
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
    two renames is recognised and discarded at the next open."""

    def __init__(self, store_folder, tables, generation, fsync=True, schema=SCHEMA):
        self.snapshot = os.path.join(store_folder, "snapshot.ldb")
        self.journal = os.path.join(store_folder, "journal.ldb")
        self.staged_snapshot = self.snapshot + ".restore"
        self.staged_journal = self.journal + ".tmp"
        self.generation = generation
        self.discard()
        try:
            Journal(self.staged_journal, generation, SCHEMA, fsync=fsync).close()
            write_snapshot(self.staged_snapshot, tables, schema, generation)
        except BaseException:
            self.discard()
            raise

    def commit(self):
        os.replace(self.staged_snapshot, self.snapshot)
        os.replace(self.staged_journal, self.journal)
        fsync_dir(os.path.dirname(self.snapshot))

    def discard(self):
        for path in (self.staged_snapshot, self.staged_snapshot + ".tmp", self.staged_journal):
            remove_file(path)


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
    journal = storage.journal
    if journal is None or isinstance(journal, _Sealed):
        return
    journal.close()
    storage.journal = _Sealed(journal, error)
