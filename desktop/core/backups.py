"""Backups of the whole store: automatic and rotated, made and restored from the CLI and the UI.

What a user can count on:

* Where and what: ``<data dir>/backups/`` (0700, files 0600). Each backup is one file, a complete,
  checksummed snapshot of the whole store at one moment (every project, task, annotation,
  prediction, view, storage and ML setting, user and token, the trash), in the format of
  db/snapshot.ldb, named ``snapshot-<UTC time>-g<generation>-<kind>-n<number>.ldb``. With it
  are kept the files it names: the uploads in media/ and the export files in export/ (the
  trash's too), as hard links in backups/files/ (no copy; a copy across file systems), one link
  for all the backups that name a file, removed once none does. Not in it: settings.json.
* Order: by the number, one more than the highest before (across restarts), never by the
  clock: a clock set back or ahead changes no order, and rotation never deletes the newest.
* When: "Back up now" in Settings and `labeldesk backup`; in the background, at start and then
  every hour while the app runs, when there are projects and the newest backup is older than a
  day, or dated over an hour ahead of the clock (its age is unknown: the clock was set back)
  (``daily``); and at every compaction,
  the snapshot it replaces (``compaction``: a hard link, free). A backup is made of the state
  taken under the store's lock (consistent) and written outside it (writes go on meanwhile):
  its files linked first, then temp file, fsync, rename.
* How many: the newest ``backups_keep`` (settings.json, default 7); after each new backup the
  older ones are deleted. The backup just made, the one being restored and the one a restore
  made are never the ones deleted.
* Restore: first the current state is backed up (``before-restore``, its files kept with it),
  the files the chosen backup names are put back into media/ and export/, then the backup
  becomes the store, with an empty journal (the steps of a compaction: nothing is deleted
  first, so a crash at any step leaves the old state or the new, and the next start says which
  and where the state before is). Files the restored store no longer names are not deleted as
  orphans: a backup keeps them, so restoring the before-restore backup gives everything back.
  A damaged backup (checksum, truncation, not a snapshot, a newer schema) is refused before
  anything changes. `labeldesk restore` needs LabelDesk closed (it takes the store's lock); a
  store that can't be read at all is kept as it is in backups/damaged-<time>/ first. In the
  app (Settings > Backups, POST /api/ui/backups/restore) the running LabelDesk switches to the
  restored data in place (app.Reopenable.reopen); a write that races the switch is refused
  with 503 and not saved.
* Failures: a backup that fails (a full disk) leaves no partial file. An automatic one is only
  logged: it never breaks a write, a compaction or the start; "Back up now" answers 507.
"""

import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from desktop.core.errors import Conflict, NotFound, StoreError, ValidationError
from desktop.core.history import restored_state
from desktop.db import CorruptFile
from desktop.db.backupfiles import files_named, keep_files, put_back_files
from desktop.db.backups import (
    Staged,
    capture,
    generation_of_files,
    keep_damaged,
    keep_previous_generations,
    list_backups,
    now,
    parse,
    prune,
    prune_files,
    read_backup,
    remove_leftovers,
    seal,
    step,
    write_backup,
)
from desktop.db.journal import NewerFormat

log = logging.getLogger("labeldesk.backups")

DEFAULT_KEEP = 7
DAILY_SECONDS = 24 * 3600
# A newest backup dated more than this ahead of the clock: the clock was set back since, and
# how old the backup really is can't be known, so the daily backup is made.
AHEAD_SECONDS = 3600
# How often a running app looks whether the daily backup is due; LABELDESK_BACKUP_CHECK_SECONDS
# shortens it for tests (docs/reliability.md, knobs).
CHECK_SECONDS = float(os.environ.get("LABELDESK_BACKUP_CHECK_SECONDS") or 3600)


class StoreSwitched(StoreError, OSError):
    """A write to the store a restore replaced while the write was on its way (503)."""

    def __init__(self):
        super().__init__("LabelDesk switched to a restored backup while this request ran; "
                         "nothing of it was saved. Reload and try again.")


def backups_dir(settings):
    return Path(settings.data_dir) / "backups"


def keep_setting(settings):
    keep = getattr(settings, "backups_keep", DEFAULT_KEEP)
    return keep if isinstance(keep, int) and not isinstance(keep, bool) and keep >= 1 \
        else DEFAULT_KEEP


def as_json(info):
    """A backup as the API and the CLI show it."""
    counts = info.get("counts") or {}
    created = datetime.fromtimestamp(info["time"], timezone.utc)
    return {"name": info["name"], "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "kind": info["kind"], "generation": info["generation"], "size": info["size"],
            "projects": counts.get("projects"), "tasks": counts.get("tasks"),
            "annotations": counts.get("annotations"), "damaged": counts.get("damaged")}


def locate(folder, given, paths=True):
    """The file a user named: a backup's name in `folder`, or (`paths`) any file's path."""
    given = given.strip() if isinstance(given, str) else ""
    if not given:
        raise ValidationError({"name": ["Name a backup."]})
    if "/" not in given and os.sep not in given and parse(given):
        path = os.path.join(folder, given)
        if os.path.isfile(path):
            return path
    if paths:
        path = Path(given).expanduser()
        if path.is_file():
            return str(path.resolve())
    raise NotFound(detail=f"No backup named {given!r} in {folder}.")


def read_restorable(path):
    try:
        return read_backup(path)
    except NewerFormat as e:
        raise ValidationError({"name": [
            f"{os.path.basename(path)} can't be restored here: it was {e.reason}"]}) from None
    except CorruptFile as e:
        raise ValidationError({"name": [
            f"{os.path.basename(path)} can't be restored: it is damaged or not a LabelDesk "
            f"backup ({e.reason}). Nothing was changed."]}) from None
    except OSError as e:
        raise ValidationError({"name": [
            f"{path} can't be read ({e.strerror or e}). Nothing was changed."]}) from None


class Backups:
    """The backups of one opened data folder."""

    def __init__(self, core):
        self.core = core
        self.settings = core.settings
        self.folder = str(backups_dir(core.settings))
        self.thread = None
        self.stopped = threading.Event()
        keep_previous_generations(core.store.storage, self.folder, self.keep)

    def keep(self):
        return keep_setting(self.settings)

    def listing(self):
        return {"folder": self.folder, "keep": self.keep(),
                "backups": [as_json(i) for i in list_backups(self.folder)]}

    def make(self, kind="manual"):
        """Back up the store now; returns the new backup. OSError (a full disk) is raised."""
        storage = self.core.store.storage
        tables, generation = capture(storage)
        info = write_backup(self.folder, tables, generation, kind)
        if prune(self.folder, self.keep(), protect=(info["name"],)):
            prune_files(self.folder, storage)
        return as_json(info)

    # -- at start ---------------------------------------------------------------------------

    def due(self, when=None):
        """Whether a daily backup is due: there are projects, and the newest backup (by number)
        is over a day old, or dated over AHEAD_SECONDS ahead of the clock (set back since: its
        age is unknown)."""
        if not len(self.core.records.projects):
            return False
        newest = list_backups(self.folder, count=False)
        when = now() if when is None else when
        return (not newest or newest[0]["time"] < when - DAILY_SECONDS
                or newest[0]["time"] > when + AHEAD_SECONDS)

    def start(self):
        """At the start of the app (and after a reopen): remove what a killed backup left, then
        watch in a background thread: the daily backup is made whenever one is due, at once
        and, while the app runs, checked again every CHECK_SECONDS. Never raises."""
        try:
            for name in remove_leftovers(self.folder):
                log.warning("backups: removed %s, left by a backup that was interrupted", name)
        except Exception as e:  # noqa: BLE001 - backups must never stop the app
            log.warning("backups: could not check the backups folder: %s", e)
        self.thread = threading.Thread(target=self._watch, name="labeldesk-backup", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self):
        """No more daily backups from this LabelDesk (it is being closed)."""
        self.stopped.set()

    def _watch(self):
        self._keep_current_files()
        while not self.stopped.is_set():
            try:
                if self.due():
                    self._daily()
            except Exception as e:  # noqa: BLE001 - logged; tried again at the next check
                log.warning("backups: could not check whether a backup is due: %s", e)
            if self.stopped.wait(CHECK_SECONDS):
                return

    def _keep_current_files(self):
        """The files the store names now, linked into backups/files/ (the first time: a data
        folder of an older LabelDesk; then nothing to do): snapshot.ldb, which the next
        compaction makes a backup of, names them."""
        storage = self.core.store.storage
        if storage.readonly:
            return
        try:
            with storage.lock:
                names = files_named({name: dict(storage.tables.get(name) or {})
                                     for name in ("uploads", "exports", "trash")})
            keep_files(self.folder, names)
        except Exception as e:  # noqa: BLE001 - logged; backups made later keep their files
            log.warning("backups: could not keep the media files: %s", e)

    def _daily(self):
        started = time.monotonic()
        try:
            info = self.make("daily")
        except Exception as e:  # noqa: BLE001 - logged; the next check tries again
            log.error("backups: the daily backup failed: %s", e)
            return
        log.info("backups: made %s (%s bytes) in %.1fs", info["name"], info["size"],
                 time.monotonic() - started)

    # -- restore in the running app -------------------------------------------------------

    def restore(self, name):
        """Switch the running app to the backup `name`, the current state backed up first.

        Returns (answer, the new LabelDesk)."""
        path = locate(self.folder, name, paths=False)
        header, tables = read_restorable(path)
        if self.core.reopen is None:
            raise Conflict("This LabelDesk can't switch its data while it runs. Close it and "
                           f"run `labeldesk restore {os.path.basename(path)}`.")
        made = {}

        def prepare(old):
            """Under the switch: the old store's state backed up, the backup put in its
            place, the old store sealed and closed so the new LabelDesk can open the folder."""
            storage = old.store.storage
            with old.store.lock:
                storage.history.flush()  # the versions its journal holds: kept for good
                current, generation = capture(storage)
                made["before"] = write_backup(self.folder, current, generation, "before-restore")
                restore_files(self.folder, tables)
                staged_tables, versions = restored_state(tables, current,
                                                         os.path.basename(path))
                staged = Staged(storage.folder, staged_tables, generation + 1,
                                fsync=old.settings.fsync,
                                restoring={"backup": os.path.basename(path),
                                           "previous_state": "backups/" + made["before"]["name"]},
                                history=versions)
                seal(storage, StoreSwitched)
                staged.commit()
                made["switched"] = True
            old.store.close()

        try:
            new = self.core.reopen(self.settings.data_dir, prepare=prepare)
        except Exception as e:
            if "switched" in made:  # the switch happened on disk, the new LabelDesk didn't open
                log.error("backups: restored %s but could not open it: %s", path, e)
                raise StoreError(f"{os.path.basename(path)} was put in place, but LabelDesk "
                                 f"could not open it ({e}). Restart LabelDesk.") from None
            raise
        new.settings.data_dir_source = self.settings.data_dir_source  # the same folder
        before = made["before"]
        prune(self.folder, keep_setting(new.settings),
              protect=(before["name"], os.path.basename(path)))
        prune_files(self.folder, new.store.storage)
        log.warning("backups: restored %s; the state before is in %s", path, before["name"])
        restored = next((i for i in list_backups(self.folder, count=False)
                         if i["path"] == path), None)
        return {"restored": as_json(restored) if restored else {"name": os.path.basename(path)},
                "previous_state": as_json(before), "reopened": True, "url": None}, new


def restore_files(folder, tables):
    """Before a restore puts `tables` in place: the files they name, back in media/ and
    export/ from backups/files/. One that no backup kept (a backup of an older LabelDesk,
    whose file was deleted since) is logged: its task shows a missing file."""
    put, missing = put_back_files(folder, files_named(tables))
    if put:
        log.info("backups: put back %s file(s) the restored backup names", put)
    for name in missing[:20]:
        log.warning("backups: %s is named by the restored backup but no backup kept it", name)
    return put, missing


# -- the CLI: the store opened here, without the app -------------------------------------------

def open_store(settings):
    """The store, locked when no LabelDesk runs; read-only beside a running one. (store,
    running)."""
    from desktop.db import Store, StoreLocked
    try:
        return Store(settings.store_dir, fsync=settings.fsync), False
    except StoreLocked:
        return read_beside(settings), True


def read_beside(settings):
    """The store of the LabelDesk that holds it, read-only and unlocked (what a command reads
    while LabelDesk runs: `labeldesk backup`, app.ReadOnlyCore)."""
    from desktop.db import Store
    try:
        return Store(settings.store_dir, readonly=True)
    except CorruptFile:  # caught between a compaction's two renames: read again
        time.sleep(0.2)
        return Store(settings.store_dir, readonly=True)


def backup_now(settings):
    """`labeldesk backup`: (the new backup, whether a running LabelDesk holds the store)."""
    store, running = open_store(settings)
    try:
        tables, generation = capture(store.storage)
    finally:
        store.close()
    folder = str(backups_dir(settings))
    info = write_backup(folder, tables, generation, "manual")
    if prune(folder, keep_setting(settings), protect=(info["name"],)) and not running:
        prune_files(folder, names=files_named(tables))  # the store is as captured: closed
    return as_json(info), running


def restore_closed(settings, given):
    """`labeldesk restore`: with LabelDesk closed (StoreLocked otherwise), make the backup
    `given` (a name in backups/ or a path) the store, the current state backed up first.

    The steps (RESTORE_STEPS; each moment opens to the old state or the new): the current
    state backed up (or, unreadable, its files kept in backups/damaged-<time>/), the backup's
    files put back, db/restore.json written, the new journal and snapshot staged beside the
    old ones, the snapshot renamed over the old one, the journal over the old journal.

    Returns {"restored", "previous_state" (None if the store couldn't be read), "damaged"
    (where its unreadable files were kept, else None)}."""
    from desktop.db.lockfile import acknowledged_in
    from desktop.db.storage import JournalStorage
    from desktop.db.store import lock_folder
    folder = str(backups_dir(settings))
    path = locate(folder, given)
    header, tables = read_restorable(path)
    store_dir = str(settings.store_dir)
    os.makedirs(store_dir, exist_ok=True)
    handle, previous_lock = lock_folder(os.path.join(store_dir, "LOCK"))
    before = damaged = current = None
    try:
        step("locked")
        try:
            storage = JournalStorage(store_dir, fsync=settings.fsync,
                                     acknowledged=acknowledged_in(previous_lock))
        except NewerFormat as e:  # not damage: a restore would throw the newer data away
            raise Conflict(f"The data in {store_dir} can't be replaced: {e.path} was "
                           f"{e.reason}") from None
        except CorruptFile:
            # kept as they are, and left in place: the restored files replace them by rename
            damaged = keep_damaged(store_dir, folder)
            generation = generation_of_files(store_dir)
        else:
            try:
                storage.history.flush()  # the versions its journal holds: kept for good
                current, generation = capture(storage)
                if any(t["docs"] for t in current.values()):  # a new folder has nothing to keep
                    before = write_backup(folder, current, generation, "before-restore")
            finally:
                storage.close()
        step("previous-state-kept")
        restore_files(folder, tables)
        step("files-put-back")
        previous = "backups/" + before["name"] if before else (
            os.path.relpath(damaged, settings.data_dir) if damaged else None)
        staged_tables, versions = restored_state(tables, current, os.path.basename(path))
        Staged(store_dir, staged_tables, max(generation, header.get("generation", 0)) + 1,
               fsync=settings.fsync,
               restoring={"backup": os.path.basename(path), "previous_state": previous},
               history=versions).commit()
        step("done")
        if prune(folder, keep_setting(settings),
                 protect=(os.path.basename(path),) + ((before["name"],) if before else ())):
            prune_files(folder, names=files_named(tables))  # the store is the backup now
    finally:
        handle.seek(0)
        handle.truncate()
        handle.close()
    info = parse(os.path.basename(path))
    restored = {"name": os.path.basename(path), "path": path,
                "projects": len(tables.get("projects", {}).get("docs", ())),
                "tasks": len(tables.get("tasks", {}).get("docs", ())),
                "created_at": as_json({**info, "size": 0})["created_at"] if info else None}
    return {"restored": restored, "previous_state": as_json(before) if before else None,
            "damaged": damaged}
