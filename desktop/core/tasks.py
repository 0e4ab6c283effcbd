"""Tasks: their counters, their shapes, and the label stream (`next`)."""

import base64
import bisect
import json
import logging
import random
import uuid

from desktop.core import clock, drafts, taskquery
from desktop.core.errors import NotFound, ValidationError
from desktop.core.paging import page_params, page_slice
from desktop.core.records import locked
from desktop.core.stream_history import StreamHistory
from desktop.core.task_index import TaskIndex

log = logging.getLogger("labeldesk")

UNDEFINED = "$undefined$"
MISSING = object()  # a task body without `data`


def storage_url(task_id, uri):
    """The URL the labeling UI loads for a storage URI (s3://...), as Label Studio's."""
    token = base64.urlsafe_b64encode(uri.encode()).decode().rstrip("=")
    return f"/tasks/{task_id}/resolve/?fileuri={token}"


def resolved(task_id, data):
    """Task data with storage URIs turned into URLs served by LabelDesk (`resolve_uri`)."""
    if not any(isinstance(v, str) and v.startswith("s3://") for v in data.values()):
        return data
    return {k: storage_url(task_id, v) if isinstance(v, str) and v.startswith("s3://") else v
            for k, v in data.items()}


def pseudo_json(results):
    """Label Studio's `annotations_results` / `predictions_results` (on SQLite): each
    annotation's result as Django stores it (json.dumps), joined with ",", cut at 500
    characters, without quotes."""
    if not results:
        return ""
    text = ",".join(json.dumps(r) for r in results)[:500]
    return text.replace(',"', ', "').replace("],[", "] [").replace('"', "")


# The task list's columns LS computes in its query (DATA_MANAGER_ANNOTATIONS_MAP): without
# fields=all, only those the filters or the ordering use; the others answer these blanks.
# (storage_filename is not among them: LS's serializer asks the task's storage link.)
EVALUATED = {"annotators": [], "annotations_results": "", "predictions_results": "",
             "annotations_ids": "", "predictions_model_versions": "", "file_upload": None,
             "completed_at": None, "predictions_score": None,
             "avg_lead_time": None, "draft_exists": None}


FULL_ONLY = {"completed_at", "predictions_score", "avg_lead_time", "draft_exists"}


def shown_columns(hidden):
    """The task columns a view shows (LS evaluates them): those not hidden in both its
    explore and labeling modes (hiddenColumns); none without hiddenColumns."""
    if not isinstance(hidden, dict):
        return set()
    both = set(hidden.get("explore") or []) & set(hidden.get("labeling") or [])
    return {key for key in EVALUATED if f"tasks:{key}" not in both}


def evaluated_columns(filters, ordering):
    """The task columns the filters and the ordering name (LS's get_fields_for_filter_ordering)."""
    names = [item.get("filter") for item in ((filters or {}).get("items") or [])
             if isinstance(item, dict)] if isinstance(filters, dict) else []
    names += list(ordering or []) if isinstance(ordering, (list, tuple)) else [ordering]
    return {name.lstrip("-").split(":")[-1] for name in names if isinstance(name, str)}


class Tasks:
    def __init__(self, records, projects, users):
        self.r = records
        self.projects = projects
        self.users = users
        self.history = StreamHistory(records, projects)  # what `next` handed out
        self.query_index = TaskIndex(records, self)  # the data manager's filters and sorts
        # {project id: rank(fresh) -> task id or None}: a model that ranks the tasks itself (an
        # assistant in teach mode, desktop/assistants) picks uncertainty sampling's next task,
        # the first of its ranking that fresh(task id) says is still to label for the user; in
        # memory, called under the store lock, so it must be quick and local
        self.rankers = {}

    # -- reading --------------------------------------------------------------------------

    def get(self, task_id):
        task = self.r.tasks.doc(task_id) if isinstance(task_id, int) else None
        if task is None:
            raise NotFound("Task")
        return task

    def ids(self, project_id):
        return self.r.tasks_by_project.ids(project_id)

    def annotations_of(self, task_id):
        docs = self.r.annotations
        return [(i, docs.doc(i)) for i in self.r.annotations_by_task.ids(task_id)]

    def predictions_of(self, task_id):
        docs = self.r.predictions
        return [(i, docs.doc(i)) for i in self.r.predictions_by_task.ids(task_id)]

    # -- shapes ---------------------------------------------------------------------------

    @locked
    def get_json(self, task_id, annotation_json, prediction_json, user_id=None):
        """The data manager's whole task (GET /api/tasks/{id}), holding the store's lock;
        `drafts` are `user_id`'s (LS: the requesting user's)."""
        data = self.as_json(task_id, full=True, annotation_json=annotation_json,
                            prediction_json=prediction_json, user_id=user_id)
        # LS's TaskAPI evaluates every column but these two (they are blank there)
        data["annotations_results"] = data["predictions_results"] = ""
        return data

    @locked
    def get_base_json(self, task_id):
        """base_json, holding the store's lock (base_json, as_json: for loops that hold it)."""
        return self.base_json(task_id)

    def base_json(self, task_id, task=None):
        """Label Studio's BaseTask shape (POST/PATCH answers, ML payloads)."""
        task = task or self.get(task_id)
        return {"id": task_id, "data": task["data"], "meta": task.get("meta", {}),
                "created_at": task["created_at"], "updated_at": task["updated_at"],
                "is_labeled": task.get("is_labeled", False), "overlap": task.get("overlap", 1),
                "inner_id": task["inner_id"],
                "total_annotations": task.get("total_annotations", 0),
                "cancelled_annotations": task.get("cancelled_annotations", 0),
                "total_predictions": task.get("total_predictions", 0),
                "comment_count": 0, "unresolved_comment_count": 0,
                "last_comment_updated_at": None, "project": task["project"],
                "updated_by": task.get("updated_by"), "file_upload": task.get("file_upload"),
                "comment_authors": []}

    def as_json(self, task_id, full=True, annotation_json=None, prediction_json=None,
                task=None, resolve_uri=True, user_id=None):
        """The data manager's task (GET /api/tasks/{id}, /api/tasks?fields=all). With `full`,
        `drafts` holds `user_id`'s drafts of the task (every user's when None) and
        `draft_exists` says whether anyone has one."""
        task = task or self.get(task_id)
        annotations = self.annotations_of(task_id) if (full or task.get("total_annotations")
                                                       or task.get("cancelled_annotations")) else []
        predictions = self.predictions_of(task_id) if task.get("total_predictions") else []
        data = {"id": task_id}
        if full:
            data["predictions"] = [prediction_json(i, p) for i, p in predictions]
            data["annotations"] = [annotation_json(i, a) for i, a in annotations]
        data["drafts"] = drafts.of_task(self.r, task_id, user_id) \
            if full and task_id in self.r.drafts_by_task else []
        data["annotators"] = sorted({a.get("completed_by") for _, a in annotations
                                     if a.get("completed_by") is not None})
        data["inner_id"] = task["inner_id"]
        data["cancelled_annotations"] = task.get("cancelled_annotations", 0)
        data["total_annotations"] = task.get("total_annotations", 0)
        data["total_predictions"] = task.get("total_predictions", 0)
        if full:
            data["completed_at"] = task.get("completed_at")
        data["annotations_results"] = pseudo_json(
            [a["result"] for _, a in annotations if a.get("result") is not None])
        data["predictions_results"] = pseudo_json(
            [p["result"] for _, p in predictions if p.get("result") is not None])
        if full:
            # LS: the average over the predictions of the project's model version
            version = self.projects.get(task["project"]).get("model_version") or ""
            scores = [p["score"] for _, p in predictions if p.get("score") is not None
                      and (p.get("model_version") or "") == version]
            data["predictions_score"] = sum(scores) / len(scores) if scores else None
        data["file_upload"] = task.get("file_upload")
        data["storage_filename"] = task.get("storage_filename")
        data["annotations_ids"] = ",".join(str(i) for i, _ in annotations)
        data["predictions_model_versions"] = ",".join(
            sorted({str(p.get("model_version")) for _, p in predictions}))
        if full:
            times = [a["lead_time"] for _, a in annotations if a.get("lead_time") is not None]
            data["avg_lead_time"] = sum(times) / len(times) if times else None
            data["draft_exists"] = task_id in self.r.drafts_by_task
        updated_by = task.get("updated_by")
        data["updated_by"] = [{"user_id": updated_by}] if updated_by else []
        for key in ("data", "meta", "created_at", "updated_at", "is_labeled", "overlap"):
            data[key] = task.get(key, {"meta": {}, "is_labeled": False, "overlap": 1}.get(key))
        if resolve_uri:
            data["data"] = resolved(task_id, data["data"])
        data.update(comment_count=0, unresolved_comment_count=0, last_comment_updated_at=None,
                    project=task["project"], comment_authors=[])
        if "near_duplicate_of" in task:  # LabelDesk's column, once a project was scanned
            data["near_duplicate_of"] = task["near_duplicate_of"]
        return data

    @locked
    def upload_id(self, task):
        """The id of the file upload a task came from (LS's TaskSerializer answers the id
        where the data manager answers the file's name), None for none."""
        name = task.get("file_upload")
        if not name:
            return None
        for upload_id, doc in self.r.uploads.docs().items():
            if doc.get("project") == task["project"] and \
                    str(doc.get("file", "")).rsplit("/", 1)[-1] == name:
                return upload_id
        return None

    def detail_json(self, task_id, annotation_json, prediction_json):
        """BaseTask with its annotations and predictions (PATCH answers, a project's tasks)."""
        data = self.base_json(task_id)
        data["file_upload"] = self.upload_id(self.get(task_id))
        data["annotations"] = [annotation_json(i, a) for i, a in self.annotations_of(task_id)]
        data["predictions"] = [prediction_json(i, p) for i, p in self.predictions_of(task_id)]
        return data

    @locked
    def of_project_json(self, project_id, page, page_size, annotation_json, prediction_json):
        """GET /api/projects/{id}/tasks: the project's tasks, last updated first; one page of
        them when `page` or `page_size` (query strings) is given."""
        self.projects.get(project_id)
        docs = self.r.tasks
        ids = sorted(self.ids(project_id), key=lambda i: (docs.doc(i)["updated_at"], i),
                     reverse=True)  # LS: -updated_at; one import's tasks: the last one first
        if page_size or page:
            page, size = page_params(page, page_size, len(ids) or 1)
            start, stop = page_slice(len(ids), page, size, detail="Not found.")
            ids = ids[start:stop]
        return [self.detail_json(i, annotation_json, prediction_json) for i in ids]

    def list_page(self, project_id, query, page, page_size, fields=None, include=(),
                  resolve_uri=True, only_annotated=False, annotation_json=None,
                  prediction_json=None, user_id=None, hidden_columns=None):
        """The data manager's task list (GET /api/tasks): one page of the tasks of the project
        that `query` (filters, ordering, selected items) picks, with the totals over all of
        them. Filtering and sorting take the store lock a chunk at a time (taskquery.select),
        so that a labeling write gets in during a pass over a big project."""
        filters, ordering, selected = query
        self.projects.get(project_id)
        ids = taskquery.select(self.r, self, project_id, filters, ordering, selected,
                               only_annotated)
        total_annotations, total_predictions = self._totals(project_id, ids)
        start, stop = page_slice(len(ids), page, page_size)
        evaluated = evaluated_columns(filters, ordering) | shown_columns(hidden_columns)
        blank = () if fields == "all" else EVALUATED.keys() - evaluated
        # the columns only fields=all writes; without it, LS writes those it evaluated
        extra = () if fields == "all" else FULL_ONLY & evaluated
        with self.r.lock:
            docs = self.r.tasks
            full = fields == "all"
            page_tasks = []
            for task_id in ids[start:stop]:
                task = docs.doc(task_id)
                if task is None:
                    continue  # deleted while the list was being made
                data = self.as_json(task_id, full=full or bool(extra),
                                    annotation_json=annotation_json,
                                    prediction_json=prediction_json, task=task,
                                    resolve_uri=resolve_uri, user_id=user_id)
                if extra:
                    data = {k: v for k, v in data.items() if k not in (
                        "predictions", "annotations") and (k not in FULL_ONLY or k in extra)}
                    data["drafts"] = []
                for key in blank:
                    if key in data:
                        data[key] = EVALUATED[key]
                if include:
                    data = {k: data.get(k) for k in include}
                    if data.get("annotations"):  # LS's serializer applies `include` to them too
                        data["annotations"] = [{k: v for k, v in a.items() if k in include}
                                               for a in data["annotations"]]
                page_tasks.append(data)
        return {"total_annotations": total_annotations, "total_predictions": total_predictions,
                "total": len(ids), "tasks": page_tasks}

    def _totals(self, project_id, ids):
        """(annotations, predictions) over the tasks `ids`: the project's counters when they
        are all its tasks, those kept with the query's answer (TaskIndex.totals), else a
        chunked pass."""
        if len(ids) == self.r.tasks_by_project.count(project_id):
            with self.r.lock:
                numbers = self.r.counters(project_id)
            return numbers["total_annotations_number"], numbers["total_predictions_number"]
        kept = self.query_index.totals(project_id, ids)
        if kept is not None:
            return kept
        sums = [0, 0]

        def add(task_id, task):
            sums[0] += task.get("total_annotations", 0)
            sums[1] += task.get("total_predictions", 0)
        taskquery.chunked(self.r, ids, add)
        return sums[0], sums[1]

    def export_json(self, task_id, annotation_export, task=None):
        """A task as Label Studio's JSON export writes it: predictions as ids.

        Exports call this for every task, so it is one dict literal, and it looks at the
        indexes only for tasks that have annotations or predictions.
        """
        task = task or self.get(task_id)
        get = task.get
        r = self.r
        annotations = r.annotations
        data = {"id": task_id,
                "annotations": [annotation_export(i, annotations.doc(i))
                                for i in r.annotations_by_task.ids(task_id)]
                if task_id in r.annotations_by_task else [],
                "file_upload": get("file_upload"), "drafts": [],
                "predictions": list(r.predictions_by_task.ids(task_id))
                if task_id in r.predictions_by_task else [],
                "data": task["data"], "meta": get("meta", {}), "created_at": task["created_at"],
                "updated_at": task["updated_at"], "allow_skip": True,
                "inner_id": task["inner_id"], "total_annotations": get("total_annotations", 0),
                "cancelled_annotations": get("cancelled_annotations", 0),
                "total_predictions": get("total_predictions", 0), "comment_count": 0,
                "unresolved_comment_count": 0, "last_comment_updated_at": None,
                "project": task["project"], "updated_by": get("updated_by"),
                "comment_authors": []}
        if not data["file_upload"]:
            del data["file_upload"]  # Label Studio writes the key only for uploaded files
        return data

    # -- writing --------------------------------------------------------------------------

    def next_inner_id(self, project_id):
        ids = self.r.tasks_by_project.ids(project_id)
        return self.r.tasks.doc(ids[-1])["inner_id"] + 1 if ids else 1

    def check_data(self, project_id, data):
        """Label Studio's data validation: a 400 naming the missing or mistyped key."""
        if not isinstance(data, dict):
            raise ValidationError({"data": ["Expected a dictionary of items but got type "
                                            f"\"{type(data).__name__}\"."]})
        config = self.projects.config(project_id)
        if UNDEFINED in data and config.data_keys:
            data[config.data_keys[0]] = data.pop(UNDEFINED)
        message = config.validate_task_data(data, "data")
        if message:
            raise ValidationError([message])
        return data

    @locked
    def create(self, project_id, data, meta=None):
        """One task (POST /api/tasks); `data` is MISSING when the body has none."""
        self.projects.get(project_id)
        if data is MISSING or data is None:  # LS's TaskSerializer
            raise ValidationError({"data": ["This field is required." if data is MISSING
                                            else "This field may not be null."]})
        if not isinstance(data, (dict, list)):  # LS's TaskValidator
            raise ValidationError("Task[data] must be dict or list")
        data = self.check_data(project_id, data)
        if meta is not None and not isinstance(meta, dict):
            raise ValidationError({"meta": ["Value must be valid JSON."]})
        stamp = clock.iso()
        doc = {"project": project_id, "inner_id": self.next_inner_id(project_id), "data": data,
               "created_at": stamp, "updated_at": stamp,
               "overlap": 1}  # LS: the model's default (an import gives maximum_annotations)
        if meta:
            doc["meta"] = meta
        return self.r.tasks.insert(doc)

    def update(self, task_id, fields, user_id=None):
        with self.r.transaction():
            task = self.get(task_id)
            if not isinstance(fields, dict):
                raise ValidationError("Invalid data. Expected a dictionary, but got "
                                      f"{type(fields).__name__}.")
            changes = {}
            if "data" in fields:
                # Label Studio's update checks the type only: data without the config's keys
                # is saved as sent (a create checks them).
                if not isinstance(fields["data"], dict):
                    self.check_data(task["project"], fields["data"])
                changes["data"] = fields["data"]
            if "meta" in fields:
                if fields["meta"] is not None and not isinstance(fields["meta"], dict):
                    raise ValidationError({"meta": ["Value must be valid JSON."]})
                changes["meta"] = fields["meta"] or {}
            for key in ("is_labeled", "overlap"):
                if key in fields:
                    changes[key] = fields[key]
            changes["updated_at"] = clock.iso()  # not updated_by: LS's PATCH leaves it
            self.r.tasks.update(changes, doc_ids=[task_id])

    def touch(self, task_id, user_id):
        """LS's Annotation/Prediction.update_task(): saving or deleting one through the API
        marks its task updated, by the requesting user (imports, in bulk, do not)."""
        if user_id is not None and self.r.tasks.doc(task_id) is not None:
            self.r.tasks.update({"updated_at": clock.iso(), "updated_by": user_id},
                                doc_ids=[task_id])

    @locked
    def delete(self, task_id):
        """One task, with its annotations and predictions (404 when there is none)."""
        self.get(task_id)
        self.delete_many([task_id])

    @locked
    def delete_of_project(self, project_id):
        """All the tasks of a project (404 when there is no such project)."""
        self.projects.get(project_id)
        return self.delete_many(list(self.ids(project_id)))

    def delete_many(self, task_ids):
        """Delete tasks with their annotations, predictions and drafts, in one durable
        write (into the trash)."""
        task_ids = [i for i in task_ids if self.r.tasks.doc(i) is not None]
        with self.r.trash.collect("tasks"), self.r.transaction():
            annotation_ids, prediction_ids = [], []
            for task_id in task_ids:
                annotation_ids.extend(self.r.annotations_by_task.ids(task_id))
                prediction_ids.extend(self.r.predictions_by_task.ids(task_id))
            draft_ids = set(drafts.ids_of_tasks(self.r, task_ids))
            for annotation_id in annotation_ids:  # an annotation's drafts go with it (LS)
                draft_ids.update(self.r.drafts_by_annotation.ids(annotation_id))
            self.r.drafts.remove(doc_ids=list(draft_ids))
            self.r.annotations.remove(doc_ids=annotation_ids)
            self.r.predictions.remove(doc_ids=prediction_ids)
            self.r.tasks.remove(doc_ids=task_ids)
        return len(task_ids)

    def mark_near_duplicates(self, project_id, originals, stamp):
        """Record a scan for near-duplicates: `originals` {task id: the task it nearly
        repeats}; a task marked before and not now is marked null. `stamp` None: the column
        goes (the assistant was turned off). One write."""
        with self.r.transaction():
            self.projects.get(project_id)
            docs = self.r.tasks
            for task_id in self.ids(project_id):
                task = docs.doc(task_id)
                value = originals.get(task_id)
                if task is not None and task.get("near_duplicate_of") != value:
                    docs.update({"near_duplicate_of": value}, doc_ids=[task_id])
            self.r.projects.update({"near_duplicates": {"scanned_at": stamp,
                                                        "found": len(originals)}
                                    if stamp else None}, doc_ids=[project_id])

    def merge_into(self, task_id, original_id):
        """Move a task's annotations and predictions to `original_id`, then delete it (LS's
        remove_duplicates moves annotations to the first task the same way)."""
        with self.r.transaction():
            annotations = list(self.r.annotations_by_task.ids(task_id))
            predictions = list(self.r.predictions_by_task.ids(task_id))
            if annotations:
                self.r.annotations.update({"task": original_id}, doc_ids=annotations)
            if predictions:
                self.r.predictions.update({"task": original_id}, doc_ids=predictions)
            self.delete_many([task_id])
            self.recount(original_id)
        return len(annotations)

    def recount(self, task_id):
        """Recompute a task's counters from its annotations and predictions (exact by design)."""
        task = self.r.tasks.doc(task_id)
        if task is None:
            return
        # is_labeled as Label Studio: enough distinct annotators of finished annotations (not
        # skipped, with a result), or of any annotation when the project ignores skips.
        count_all = self.projects.get(task["project"]).get("skip_queue") == "IGNORE_SKIPPED"
        changes = counters(task, [a for _, a in self.annotations_of(task_id)],
                           self.r.predictions_by_task.count(task_id), count_all)
        if changes:
            self.r.tasks.update(changes, doc_ids=[task_id])

    # -- the label stream -----------------------------------------------------------------

    @locked
    def next_task(self, project_id, user_id, prepared=None, dm_queue=False):
        """The next task to label, by the project's sampling; (task id, queue name) or 404.

        `prepared`: the ids the data manager's selection picked, in its order (None: all the
        project's, from its labeled prefix on); `dm_queue`: that selection had filters,
        ordering or selected items, so the first task in its order is next (LS's "Data
        manager queue"). Tasks the user postponed (a draft with `was_postponed`) come after
        every other unlabeled task, then the user's skipped ones (REQUEUE_FOR_ME). The task
        handed out joins the user's label stream history."""
        project = self.projects.get(project_id)
        sampling = project.get("sampling", "Sequential sampling")
        skip_queue = project.get("skip_queue", "REQUEUE_FOR_OTHERS")
        postponed = self._postponed(project_id, user_id)
        ranker = self.rankers.get(project_id)
        if ranker is not None and sampling == "Uncertainty sampling" and not dm_queue \
                and prepared is None:
            # the model's ranking first: only its candidates are looked at, not every task
            chosen = self._ranked(ranker, project_id, user_id, postponed)
            if chosen is not None:
                self.history.add(user_id, project_id, chosen)
                return chosen, "Active learning or random queue"
        one = dm_queue or sampling == "Sequential sampling"
        fresh, skipped = [], []
        docs = self.r.tasks
        if prepared is None:
            ids, mark = self.ids(project_id), self.r.labeled_below
            first = bisect.bisect_left(ids, mark.get(project_id))
        else:
            ids, mark, first = prepared, None, 0
        for position in range(first, len(ids)):
            task_id = ids[position]
            task = docs.doc(task_id)
            if task is None:
                continue
            if task.get("is_labeled"):
                if mark is not None and position == first:  # the labeled prefix: skip it
                    first += 1
                    mark.advance(project_id, task_id + 1)
                continue
            mine = [a for _, a in self.annotations_of(task_id) if a.get("completed_by") == user_id]
            if not mine and task_id not in postponed:
                fresh.append(task_id)
                if one:
                    break
            elif mine and all(a.get("was_cancelled") for a in mine) \
                    and skip_queue == "REQUEUE_FOR_ME":
                skipped.append(task_id)
        chosen = self._pick(fresh, sampling, dm_queue) if fresh else None
        if chosen is None:
            chosen = self._first_postponed(postponed, project_id, prepared)
        if chosen is None and skipped:
            chosen = skipped[0], "Skipped queue"
        if chosen is None:
            email = self.users.get(user_id)["email"]
            raise NotFound(detail=f"There are no tasks for {email}")
        self.history.add(user_id, project_id, chosen[0])
        return chosen

    def _pick(self, fresh, sampling, dm_queue):
        if dm_queue:
            return fresh[0], "Data manager queue"
        if sampling == "Sequential sampling":
            return fresh[0], "Sequence queue"
        if sampling == "Uncertainty sampling":
            return self._least_certain(fresh), "Active learning or random queue"
        return random.choice(fresh), "Uniform random queue"

    def _postponed(self, project_id, user_id):
        """{task id: when postponed} of the user's postponed drafts in the project."""
        found = {}
        for doc in self.r.drafts.docs().values():
            if doc.get("was_postponed") and doc.get("user") == user_id:
                task = self.r.tasks.doc(doc.get("task"))
                if task is not None and task.get("project") == project_id:
                    found[doc["task"]] = max(found.get(doc["task"], ""), doc["updated_at"])
        return found

    def _first_postponed(self, postponed, project_id, prepared):
        """LS's postponed queue: the unlabeled tasks the user postponed, longest ago first."""
        allowed = set(prepared) if prepared is not None else None
        for task_id in sorted(postponed, key=postponed.get):
            if (allowed is None or task_id in allowed) \
                    and not self.r.tasks.doc(task_id).get("is_labeled"):
                return task_id, "Postponed draft queue"
        return None

    @locked
    def next_json(self, task_id, user_id, prediction_json, queue):
        """A task as the label stream hands it out (LS's NextTaskSerializer): the predictions
        of the project's model version, no annotations, the user's drafts, a lock id."""
        task = self.get(task_id)
        project = self.projects.get(task["project"])
        predictions = []
        if project.get("show_collab_predictions", True):
            versions = {project.get("model_version") or ""}
            for backend in self.r.ml_backends.docs().values():
                if backend.get("project") == task["project"] \
                        and backend.get("title") in versions:
                    versions.add(backend.get("model_version") or "")
            predictions = [prediction_json(i, p) for i, p in self.predictions_of(task_id)
                           if (p.get("model_version") or "") in versions]
        updated_by = task.get("updated_by")
        data = {"id": task_id, "predictions": predictions, "annotations": [],
                "drafts": drafts.of_task(self.r, task_id, user_id),
                "updated_by": [{"user_id": updated_by}] if updated_by else [],
                "unique_lock_id": str(uuid.uuid4())}
        base = self.base_json(task_id, task)
        for key in ("data", "meta", "created_at", "updated_at", "is_labeled", "overlap",
                    "inner_id", "total_annotations", "cancelled_annotations",
                    "total_predictions", "comment_count", "unresolved_comment_count",
                    "last_comment_updated_at", "project", "file_upload", "comment_authors"):
            data[key] = base[key]
        data["data"] = resolved(task_id, data["data"])
        data["file_upload"] = self.upload_id(task)
        data["queue"] = queue
        return data

    def _ranked(self, ranker, project_id, user_id, postponed):
        """The first task of a ranker's that is still to label for the user, or None."""
        docs = self.r.tasks

        def fresh(task_id):
            task = docs.doc(task_id) if isinstance(task_id, int) else None
            return task is not None and task["project"] == project_id and \
                not task.get("is_labeled") and task_id not in postponed and \
                not any(a.get("completed_by") == user_id for _, a in self.annotations_of(task_id))
        try:
            return ranker(fresh)
        except Exception:  # a ranker's bug must not stop the label stream
            log.exception("ranking the tasks of project %s", project_id)
            return None

    def _least_certain(self, task_ids, project_id=None):
        def score(task_id):
            scores = [p["score"] for _, p in self.predictions_of(task_id)
                      if isinstance(p.get("score"), (int, float))]
            return min(scores) if scores else float("inf")
        best = min(task_ids, key=score)
        return best if score(best) != float("inf") else random.choice(task_ids)


def counters(task, annotations, predictions, count_all):
    """The counter fields of `task` that differ from what its `annotations` (documents) and
    number of `predictions` make them: {field: value}, empty when it is current. `count_all`:
    the project ignores skips (skipped annotations count towards is_labeled, as in Label
    Studio)."""
    done = cancelled = gt = useful = 0
    completed_at = None
    annotators = set()
    for annotation in annotations:
        finished = not annotation.get("was_cancelled") and annotation.get("result") is not None
        if annotation.get("was_cancelled"):
            cancelled += 1
        else:
            done += 1
            if finished and not annotation.get("ground_truth"):
                useful += 1
        if annotation.get("ground_truth"):
            gt += 1
        if finished or count_all:
            annotators.add(annotation.get("completed_by"))
        stamp = annotation.get("created_at")
        if stamp and (completed_at is None or stamp > completed_at):
            completed_at = stamp
    counts = {"total_annotations": done, "cancelled_annotations": cancelled,
              "total_predictions": predictions, "_gt": gt, "_useful": useful}
    changes = {k: v for k, v in counts.items() if task.get(k, 0) != v}
    labeled = len(annotators) >= max(task.get("overlap", 1), 1)
    if not labeled:  # Label Studio's completed_at is the newest annotation of a done task
        completed_at = None
    if task.get("is_labeled", False) != labeled:
        changes["is_labeled"] = labeled
    if task.get("completed_at") != completed_at:
        changes["completed_at"] = completed_at
    return changes
