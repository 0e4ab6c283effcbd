"""The tables and in-memory indexes the core modules share, opened once per store."""

import functools

from desktop.core.project_summary import Summaries
from desktop.core.removals import Removals
from desktop.core.trash import Trash

PROJECT_COUNTERS = ("task_number", "num_tasks_with_annotations", "total_annotations_number",
                    "skipped_annotations_number", "ground_truth_number",
                    "useful_annotation_number", "finished_task_number",
                    "total_predictions_number")


def task_counts(task):
    """One task's share of its project's counters, in PROJECT_COUNTERS order.

    As Label Studio 1.23 computes them (projects/functions/__init__.py): total = annotations
    not cancelled; useful = not cancelled, not ground truth, with a result; tasks with
    annotations = tasks holding a useful one; ground truth and skipped counted on their own.
    """
    useful = task.get("_useful", 0)
    return (1, 1 if useful else 0, task.get("total_annotations", 0),
            task.get("cancelled_annotations", 0), task.get("_gt", 0), useful,
            1 if task.get("is_labeled") else 0, task.get("total_predictions", 0))


def task_data_keys(task):
    data = task.get("data")
    return data.keys() if isinstance(data, dict) else ()


def locked(method):
    """Run `method` holding the store's lock (`self.r.lock`, re-entrant).

    For the domain's reads and read-then-write steps: what they see is one moment of the
    store, whoever calls them (a route, the CLI, push/pull, the window's bridge). Writes that
    must be durable together use `records.transaction()` instead (it takes the lock too).
    """
    @functools.wraps(method)
    def holding_lock(self, *args, **kwargs):
        with self.r.lock:
            return method(self, *args, **kwargs)
    return holding_lock


class Records:
    def __init__(self, store):
        self.store = store
        # a transaction that removes the files of what it deletes once it is committed
        self.removals = Removals(store)
        self.transaction = self.removals.transaction
        self.lock = store.lock
        for name in ("projects", "tasks", "annotations", "predictions", "views", "exports",
                     "uploads", "ml_backends", "storages", "webhooks", "drafts",
                     "stream_history"):
            setattr(self, name, store.table(name))
        with store.building():  # each table decoded once for all of them
            self.tasks_by_project = store.index("tasks", "project")
            self.annotations_by_task = store.index("annotations", "task")
            self.annotations_by_project = store.index("annotations", "project")
            self.predictions_by_task = store.index("predictions", "task")
            self.predictions_by_project = store.index("predictions", "project")
            self.drafts_by_task = store.index("drafts", "task")
            self.drafts_by_annotation = store.index("drafts", "annotation")
            self.stream_history_by_key = store.index(
                "stream_history", lambda doc: (doc.get("user"), doc.get("project")))
            self.project_totals = store.totals("tasks", "project", task_counts,
                                               len(PROJECT_COUNTERS))
            # a project's data keys, with how many of its tasks have each (its data columns)
            self.data_keys = store.counts("tasks", "project", task_data_keys)
            # where a project's unlabeled tasks start (/next scans from there)
            self.labeled_below = store.watermark("tasks", "project",
                                                 lambda task: bool(task.get("is_labeled")))
            # the project summary's figures, kept current
            self.summaries = Summaries(self)
        # deletes keep what they remove there (desktop/core/trash.py)
        self.trash = Trash(self)

    def counters(self, project_id):
        return dict(zip(PROJECT_COUNTERS, self.project_totals.get(project_id)))
