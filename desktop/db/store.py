"""The store: one TinyDB database in a folder, with transactions and a single-instance lock."""

import os
from contextlib import contextmanager

from .indexes import Index, Totals, Watermark
from .journal import FILE_MODE, CorruptFile, tighten
from .storage import Database, make_private_folder, paused_gc


class StoreLocked(Exception):
    """Another process has the store open."""


def lock_folder(path):
    """Hold an exclusive lock on `path` for the life of the process; the OS frees it on exit."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    tighten(path, FILE_MODE)
    handle = os.fdopen(fd, "r+")
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

    def __init__(self, folder, fsync=True, readonly=False, readonly_reason=None):
        """Open (or create) the store in `folder`.

        `readonly` opens a store another process holds, for a look (`labeldesk user`), or one
        on a folder LabelDesk can't write to: no lock, no repair; every write raises
        OSError(EROFS) saying why (`readonly_reason`).
        """
        self.folder = str(folder)
        self._lock_handle = None
        self.readonly = readonly
        previous = ""
        if not readonly:
            make_private_folder(self.folder)
            self._lock_handle, previous = lock_folder(os.path.join(self.folder, "LOCK"))
        try:
            self.db = Database(self.folder, fsync=fsync, readonly=readonly,
                               readonly_reason=readonly_reason)
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
                try:
                    handle.seek(0)
                    handle.truncate()  # a clean end: the next open has nothing to report
                except OSError:
                    pass  # the disk went read-only or away: the next open reports an unclean end
                finally:
                    try:
                        handle.close()
                    except OSError:
                        pass


__all__ = ["Store", "StoreLocked", "CorruptFile"]
