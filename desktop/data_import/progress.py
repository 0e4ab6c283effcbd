"""How far the imports under way have got, per project, for the web app's progress bar
(GET /api/ui/imports/progress; desktop/ui/js/webapp-import.js): an import of a million tasks
takes seconds, while Label Studio's Import dialog shows only a busy button.

An import reads its files ("reading"), checks its items and makes their documents
("checking", done of total items), then writes them in one record ("saving", total tasks).
Written by the importing thread, read by any: each update replaces one small dict.
"""

import threading
from contextlib import contextmanager

STEP = 5000  # an import says how far its check is every this many items


class ImportProgress:
    def __init__(self):
        self._lock = threading.Lock()
        self._running = {}  # project id -> [imports under way, {phase, done, total}]

    @contextmanager
    def tracking(self, project_id):
        """An import of `project_id` is under way within this block (two at once in one
        project share the entry, which goes when both have ended)."""
        with self._lock:
            entry = self._running.setdefault(project_id, [0, {"phase": "reading", "done": 0,
                                                              "total": 0}])
            entry[0] += 1
        try:
            yield
        finally:
            with self._lock:
                entry[0] -= 1
                if not entry[0] and self._running.get(project_id) is entry:
                    del self._running[project_id]

    def update(self, project_id, phase, done=0, total=0):
        entry = self._running.get(project_id)
        if entry is not None:
            entry[1] = {"phase": phase, "done": done, "total": total}

    def of(self, project_id):
        """{"importing": bool, "phase", "done", "total"} of the project's import under way
        (the newest one, if several)."""
        entry = self._running.get(project_id)
        if entry is None:
            return {"importing": False, "phase": None, "done": 0, "total": 0}
        return {"importing": True, **entry[1]}
