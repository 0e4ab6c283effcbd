"""Batch prediction jobs: background threads over a project's tasks, in batches, with progress
and cancellation; one job at a time per project, as Label Studio. The model calls themselves are
MLBackends' (desktop/ml/backends.py)."""

import itertools
import logging
import threading
import time

from desktop.core import clock
from desktop.core.errors import LabelDeskError, NotFound, ValidationError

log = logging.getLogger("labeldesk.ml")

BATCH_SIZE = 100


class ModelDown(Exception):
    """The model server can't be reached at all (refused, time-out): stop asking it."""


class Job:
    """A batch prediction in the background: progress, errors, cancellation."""

    def __init__(self, job_id, backend_id, project_id, task_ids, batch_size):
        self.id = job_id
        self.backend_id, self.project_id = backend_id, project_id
        self.task_ids = task_ids
        self.batch_size = batch_size
        self.status = "queued"
        self.processed = self.predictions = 0
        self.errors = []
        self.error = None
        self.model_version = None
        self.created_at = clock.iso()
        self.started_at = self.finished_at = None
        self.cancelled = threading.Event()
        self.done = threading.Event()

    def as_json(self):
        return {"id": self.id, "ml_backend": self.backend_id, "project": self.project_id,
                "status": self.status, "total": len(self.task_ids), "processed": self.processed,
                "predictions": self.predictions, "model_version": self.model_version,
                "batch_size": self.batch_size, "error": self.error,
                "errors": self.errors[-20:], "error_count": len(self.errors),
                "created_at": self.created_at, "started_at": self.started_at,
                "finished_at": self.finished_at}

    def note(self, errors):
        self.errors.extend(errors)
        del self.errors[:-1000]


class Jobs:
    """The batch prediction jobs of this run (kept in memory: they end with the app)."""

    KEEP = 200

    def __init__(self, ml):
        self.ml = ml
        self.jobs = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.project_locks = {}

    def get(self, job_id):
        job = self.jobs.get(job_id) if isinstance(job_id, int) else None
        if job is None:
            raise NotFound("Job")
        return job

    def list(self, project_id=None):
        return [j.as_json() for j in self.jobs.values()
                if project_id is None or j.project_id == project_id]

    def start(self, backend_id, project_id, task_ids, batch_size=None, defer=False):
        try:
            batch_size = int(batch_size or BATCH_SIZE)
        except (TypeError, ValueError):
            raise ValidationError({"batch_size": ["A valid integer is required."]}) from None
        if not 1 <= batch_size <= 10000:
            raise ValidationError({"batch_size": ["Ensure this value is between 1 and 10000."]})
        with self.lock:
            job = Job(next(self.ids), backend_id, project_id, task_ids, batch_size)
            self.jobs[job.id] = job
            finished = [i for i, j in self.jobs.items() if j.done.is_set()]
            for old in finished[:max(0, len(self.jobs) - self.KEEP)]:
                del self.jobs[old]
            project_lock = self.project_locks.setdefault(project_id, threading.Lock())
        thread = threading.Thread(target=self._run, args=(job, project_lock, defer),
                                  name=f"labeldesk-ml-job-{job.id}", daemon=True)
        thread.start()
        return job

    def cancel(self, job_id):
        job = self.get(job_id)
        job.cancelled.set()
        if job.status == "queued":
            job.status = "cancelled"
        return job

    def cancel_backend(self, backend_id):
        for job in list(self.jobs.values()):
            if job.backend_id == backend_id:
                job.cancelled.set()

    def _run(self, job, project_lock, defer):
        if defer:
            time.sleep(0.05)  # let the request that started us release the store lock first
        with project_lock:  # one job at a time per project, as Label Studio
            try:
                if not job.cancelled.is_set():
                    self._predict_all(job)
            except ModelDown as e:
                job.status, job.error = "failed", f"The ML backend can't be reached: {e}"
            except LabelDeskError as e:
                job.status, job.error = "failed", e.detail or str(e)
            except Exception as e:  # a bug: the job fails, the app goes on
                log.exception("prediction job %s", job.id)
                job.status, job.error = "failed", f"{type(e).__name__}: {e}"
            finally:
                if job.cancelled.is_set() and job.status not in ("failed",):
                    job.status = "cancelled"
                job.finished_at = clock.iso()
                job.done.set()

    def _predict_all(self, job):
        ml = self.ml
        job.status, job.started_at = "running", clock.iso()
        doc = ml.update_state(job.backend_id)
        if doc.get("state") != "CO":
            raise ModelDown(doc.get("error_message") or "the ML backend is not connected")
        version = doc.get("model_version") or ""
        job.model_version = version
        for start in range(0, len(job.task_ids), job.batch_size):
            if job.cancelled.is_set():
                return
            batch = job.task_ids[start:start + job.batch_size]
            with ml.r.lock:
                tasks = [ml.serialize_task(i) for i in batch
                         if ml.r.tasks.doc(i) is not None and ml.needs_prediction(i, version)]
            if tasks:
                found, errors = ml.fetch_predictions(doc, tasks)
                stored, problems = ml.store_predictions(found)
                job.predictions += stored
                job.note(errors + problems)
            job.processed += len(batch)
        job.status = "completed"
