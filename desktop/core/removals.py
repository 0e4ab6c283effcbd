"""Files that go with deleted records (media, export snapshots), removed only once the
deletion is on disk.

A delete is one store transaction; the files of what it deletes are collected while it runs
and unlinked after its commit succeeded. So a failed commit (a full or read-only disk) touches
no file and leaves the data whole, and a kill between the commit and the unlinks leaves only
files no record references: the start-up cleanup (Uploads/Exports.remove_orphans) removes
those. Never the other way round (a record whose file is gone).
"""

import logging
import os
from contextlib import contextmanager

log = logging.getLogger("labeldesk")


class Removals:
    def __init__(self, store):
        self.store = store
        self._depth = 0  # collecting transactions open (all in the thread holding the lock)
        self._pending = []  # (what, path) for the outermost one's commit

    @contextmanager
    def transaction(self):
        """The store's transaction; file removals asked for inside it happen after it commits
        (nested ones: after the outermost commits); none if it fails."""
        with self.store.lock:
            self._depth += 1
            try:
                with self.store.transaction():
                    yield self.store
            except BaseException:
                if self._depth == 1:
                    self._pending = []  # rolled back: every file stays
                raise
            finally:
                self._depth -= 1
            if self._depth:
                return
            pending, self._pending = self._pending, []
        for what, path in pending:  # committed: outside the lock, a big project takes a while
            self._do(what, path)

    @contextmanager
    def withheld(self):
        """Inside a transaction: the file removals asked for in the block are not done. The
        list yielded holds them, (what, path) each, once the block is over: the trash keeps
        those files with what it keeps (desktop/core/trash.py), or hands them back (`later`)."""
        with self.store.lock:
            if not self._depth:
                raise RuntimeError("withheld() outside records.transaction()")
            mark = len(self._pending)
            held = []
            try:
                yield held
            finally:
                held.extend(self._pending[mark:])
                del self._pending[mark:]

    def later(self, entries):
        """Removals `withheld` handed over, done after the transaction commits after all."""
        for what, path in entries:
            self._later(what, path)

    def unlink(self, path):
        """Remove the file `path` once the deletion in progress is committed."""
        self._later("unlink", path)

    def rmdir(self, path):
        """Remove the folder `path` once committed, if it is empty by then."""
        self._later("rmdir", path)

    def _later(self, what, path):
        with self.store.lock:
            if self._depth:
                self._pending.append((what, path))
                return
            if self.store.storage.txn is not None:
                raise RuntimeError("a file removal inside a transaction that can't defer it: "
                                   "use records.transaction()")
        self._do(what, path)  # no transaction: the record's removal is already on disk

    @staticmethod
    def _do(what, path):
        try:
            os.unlink(path) if what == "unlink" else os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError as e:
            # the deletion stands; the file is an orphan the next start removes
            if what == "unlink":
                log.warning("could not remove %s (%s): removed at the next start", path,
                            e.strerror)
