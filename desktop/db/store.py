"""The store: one TinyDB database in a folder, with transactions and a single-instance lock."""

import os
from contextlib import contextmanager

from .indexes import Index, Totals, Watermark
from .journal import CorruptFile
from .storage import Database, paused_gc


class StoreLocked(Exception):
    """Another process has the store open."""


def _lock(path):
    """Hold an exclusive lock on `path` for the life of the process; the OS frees it on exit."""
    handle = open(path, "a+")
    try:
        if os.name == "nt":  # pragma: no cover - exercised by Windows builds only
            import msvcrt
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise StoreLocked(f"{os.path.dirname(path)} is in use by {owner}") from None
    handle.seek(0)
    previous = handle.read().strip()  # left by a process that never closed the store
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle, previous


class Store:
    """All LabelDesk data. Every write is durable when the call (or the transaction) returns."""

    def __init__(self, folder, fsync=True, readonly=False):
        """Open (or create) the store in `folder`.

        `readonly` opens a store another process holds, for a look (`labeldesk user`): no lock,
        no repair, no writes.
        """
        self.folder = str(folder)
        self._lock_handle = None
        previous = ""
        if not readonly:
            os.makedirs(self.folder, exist_ok=True)
            self._lock_handle, previous = _lock(os.path.join(self.folder, "LOCK"))
        try:
            self.db = Database(self.folder, fsync=fsync, readonly=readonly)
        except BaseException:
            if self._lock_handle:
                self._lock_handle.seek(0)
                self._lock_handle.truncate()
                self._lock_handle.write(previous)  # still the earlier session's to report
                self._lock_handle.close()
            raise
        self.storage = self.db.storage
        self.lock = self.storage.lock
        self.unclean = []
        if previous:
            self.unclean.append(f"the last session ({previous}) ended without closing the store "
                                "(a crash, kill or power loss); its acknowledged writes were "
                                "read back from the journal")

    @property
    def recovered(self):
        """What opening found and repaired (an unclean end, a torn unacknowledged write, an
        unfinished compaction), for the log. Empty after a clean close."""
        return self.unclean + self.storage.recovered

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

    def index(self, table, key):
        return Index(self.storage, table, key)

    def totals(self, table, key, values, width):
        return Totals(self.storage, table, key, values, width)

    def watermark(self, table, key, test):
        return Watermark(self.storage, table, key, test)

    def compact(self):
        self.storage.compact()

    def close(self):
        """Close the journal and free the lock; closing twice is harmless."""
        with self.lock:
            self.db.close()
            handle, self._lock_handle = self._lock_handle, None
            if handle is not None:
                handle.seek(0)
                handle.truncate()  # a clean end: the next open has nothing to report
                handle.close()


__all__ = ["Store", "StoreLocked", "CorruptFile"]
