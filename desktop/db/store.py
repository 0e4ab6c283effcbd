"""The store: one TinyDB database in a folder, with transactions and a single-instance lock."""

import logging
import os
from contextlib import contextmanager

from desktop.db.indexes import Counts, Index, Totals, Watermark
from desktop.db.journal import CorruptFile
from desktop.db.lockfile import (
    Marker,
    StoreLocked,
    acknowledged_in,
    lock_folder,
    owner_of,
    read_acknowledged,
)
from desktop.db.storage import Database, make_private_folder, paused_gc

log = logging.getLogger("labeldesk.store")


class Store:
    """All LabelDesk data. Every write is durable when the call (or the transaction) returns."""

    def __init__(self, folder, fsync=True, readonly=False, readonly_reason=None,
                 lock_held=False):
        """Open (or create) the store in `folder`.

        `readonly` opens a store another process holds, for a look (`labeldesk user`), or one
        on a folder LabelDesk can't write to: no lock, no repair; every write raises
        OSError(EROFS) saying why (`readonly_reason`). `lock_held`: the caller holds the
        folder's lock already (repair, which counts again in the store it just wrote).
        """
        self.folder = str(folder)
        self._lock_handle = None
        self._marker = None
        self.readonly = readonly
        previous = ""
        lock_path = os.path.join(self.folder, "LOCK")
        if readonly or lock_held:
            acknowledged = None if lock_held else read_acknowledged(lock_path)
        else:
            make_private_folder(self.folder)
            self._lock_handle, previous = lock_folder(lock_path)
            acknowledged = acknowledged_in(previous)
        try:
            self.db = Database(self.folder, fsync=fsync, readonly=readonly,
                               readonly_reason=readonly_reason, acknowledged=acknowledged)
        except BaseException:
            if self._lock_handle:
                self._lock_handle.seek(0)
                self._lock_handle.truncate()
                self._lock_handle.write(previous)  # still the earlier session's to report
                self._lock_handle.close()
            raise
        self.storage = self.db.storage
        self.lock = self.storage.lock
        self.storage.on_folder_lost.append(self._lock_again)
        if self._lock_handle is not None:
            self.storage.on_acknowledged = self._mark
            self.storage.acknowledge()
        self.unclean = []
        if owner_of(previous):
            self.unclean.append(f"the last session ({owner_of(previous)}) ended without closing "
                                "the store (a crash, kill or power loss); its acknowledged "
                                "writes were read back from the journal")

    @property
    def recovered(self):
        """What opening found and repaired (an unclean end, a torn unacknowledged write, an
        unfinished compaction), for the log. Empty after a clean close."""
        return self.unclean + self.storage.recovered

    @property
    def warnings(self):
        """What went wrong while serving that the user must hear of (the data folder deleted
        under the app, and written again from memory), oldest first."""
        return self.storage.warnings

    def _lock_again(self):
        """The folder was made again (storage._recreate): lock its new LOCK file, so that no
        other LabelDesk opens the data written there while this one runs."""
        path = os.path.join(self.folder, "LOCK")
        handle = self._lock_handle
        if handle is not None and os.path.exists(path) and os.path.samestat(
                os.fstat(handle.fileno()), os.stat(path)):
            return  # only the data files went: the lock we hold is still the folder's
        self._lock_handle = lock_folder(path)[0]
        if handle is not None:
            handle.close()

    def _mark(self, generation, size, records):
        """What the journal acknowledged, noted in LOCK (lockfile.py): never breaks a write."""
        handle = self._lock_handle
        if handle is None:
            return
        marker = self._marker
        if marker is None or marker.handle is not handle:
            marker = self._marker = Marker(handle)
        try:
            marker.write(generation, size, records)
        except OSError:
            pass  # a read-only or vanished LOCK: the journal's own checks still hold

    def table(self, name):
        return self.db.table(name)

    @contextmanager
    def transaction(self):
        """Group writes into one journal record: all of them are on disk, or none."""
        with self.lock:
            outer = self.storage.begin()
            try:
                yield self
            except BaseException:
                if outer:
                    self.storage.rollback()
                    self._forget_queries()
                raise
            if outer:
                try:
                    self.storage.commit()
                except BaseException:
                    self._forget_queries()  # commit rolled the changes back
                    raise

    def _forget_queries(self):
        """Drop TinyDB's cached query results: they may hold rolled-back documents."""
        for table in self.db._tables.values():
            table.clear_cache()

    # Wrap the building of many documents (imports): see storage.paused_gc.
    bulk = staticmethod(paused_gc)

    def building(self):
        """Indexes made inside are built at its end, each table decoded once for all."""
        return self.storage.building()

    def index(self, table, key):
        return Index(self.storage, table, key)

    def totals(self, table, key, values, width):
        return Totals(self.storage, table, key, values, width)

    def watermark(self, table, key, test):
        return Watermark(self.storage, table, key, test)

    def counts(self, table, key, items):
        return Counts(self.storage, table, key, items)

    def compact(self):
        self.storage.compact()

    def close(self):
        """Close the journal and free the lock; closing twice is harmless."""
        self.storage.settle()  # a compaction in the background finishes (it needs the lock)
        with self.lock:
            handle, self._lock_handle = self._lock_handle, None
            if handle is not None:
                self.storage.compact_at_close()  # a long journal: the next start reads less
            self.db.close()
            if handle is not None:
                try:
                    self.storage.save_indexes()  # for the next start, beside these files
                except Exception as e:  # noqa: BLE001 - only a saving: the next start builds
                    log.warning("the indexes were not saved for the next start: %r", e)
                try:
                    # a clean end: the next open has no unclean end to report, and still knows
                    # how much of the journal was acknowledged
                    Marker(handle).close_cleanly(self.storage.acknowledged())
                except OSError:
                    pass  # the disk went read-only or away: the next open reports an unclean end
                finally:
                    try:
                        handle.close()
                    except OSError:
                        pass


__all__ = ["Store", "StoreLocked", "CorruptFile"]
