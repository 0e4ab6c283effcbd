"""The Label Studio 0.8–0.9 single-project API, acting on the current project.

0.x served one project per process; LabelDesk keeps many, so the old calls act on the *current*
project: the one open in the window (`set_current`), or the one chosen with /api/project-switch.
Its id is kept in the store (table "legacy"), so it survives restarts. When a legacy call needs
a project and none exists, "Default project" is created, with a config without object tags so
that any task data imports (the docs' `[{"my_key": "my_value_1"}]` on a first start).

Completions are the 1.x annotations seen through the 0.x shape; their ids are the annotation
ids (docs/legacy-api.md explains why). No HTTP here: routes live in desktop/api/legacy.py.

Import, export, examples and storage settings are in desktop/legacy/files.py (core.legacy_io), the
/api/models* calls in desktop/legacy/models.py (core.legacy_ml); both act on this current project.
"""

import re

from desktop import labelconfig
from desktop.core import clock
from desktop.core.errors import Bare, NotFound, ValidationError
from desktop.core.projects import EMPTY_CONFIG

DEFAULT_TITLE = "Default project"
DEFAULT_CONFIG = EMPTY_CONFIG
DEFAULT_PAGE_SIZE = 10  # 0.8's /api/tasks default
ORDERS = ("id", "completed_at", "has_cancelled_completions")
SAMPLING = {"sequential": "Sequential sampling", "uniform": "Uniform sampling",
            "prediction-score-min": "Uncertainty sampling",
            "prediction-score-max": "Uncertainty sampling"}
SAMPLING_NAMES = {"Sequential sampling": "sequential", "Uniform sampling": "uniform",
                  "Uncertainty sampling": "prediction-score-min"}
# /api/tasks/<id> query parameters only 1.x clients send (the data manager, the SDKs' options)
ONE_X_PARAMS = ("project", "view", "fields", "include", "resolve_uri", "interaction")
STORAGE_TYPES = {"source": "tasks-json", "target": "completions-dir"}


def messages(error):
    """A ValidationError's messages as the flat list of strings 0.x answered."""
    out = []
    for field, items in error.errors.items():
        items = items if isinstance(items, list) else [items]
        out.extend(str(m) if field == "non_field_errors" else f"{field}: {m}" for m in items)
    return out or [error.detail]


def unix(stamp):
    try:
        return int(clock.parse(stamp).timestamp())
    except (TypeError, ValueError):
        return None


def local_time(stamp):
    """0.x's completed_at: "%Y-%m-%d %H:%M:%S" in local time."""
    try:
        return clock.parse(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return None


def config_line(xml):
    return re.sub(r">\s+<", "><", xml.replace("\r", " ").replace("\n", " ")).strip()


class Legacy:
    def __init__(self, core):
        self.core = core
        self.r = core.records
        self.meta = core.store.table("legacy")

    # -- the current project ------------------------------------------------------------------

    def current_project(self):
        """The current project's id; the first legacy call on an empty store creates one."""
        with self.r.lock:
            saved = self._saved()
            if saved is not None and self.r.projects.doc(saved) is not None:
                return saved
            ids = sorted(self.core.projects.ids())
            project_id = ids[0] if ids else self.core.projects.create(
                {"title": DEFAULT_TITLE, "label_config": DEFAULT_CONFIG}, 1)
            self.set_current(project_id)
            return project_id

    def _saved(self):
        for doc in self.meta.docs().values():
            return doc.get("current_project")
        return None

    def set_current(self, project_id):
        """Make a project current (the window calls this when it opens one)."""
        with self.r.lock:
            self.core.projects.get(project_id)
            ids = list(self.meta.docs())
            if ids:
                self.meta.update({"current_project": project_id}, doc_ids=ids[:1])
            else:
                self.meta.insert({"current_project": project_id})

    def switch(self, value):
        """/api/project-switch?uuid=: 0.x took a session UUID; LabelDesk takes a project id."""
        try:
            project_id = int(str(value).strip())
        except (TypeError, ValueError):
            raise Bare({"detail": "Not a valid UUID"}) from None
        with self.r.lock:
            if self.r.projects.doc(project_id) is None:
                raise NotFound("Project")
            self.set_current(project_id)
            return self.project_json(project_id)

    # -- the project --------------------------------------------------------------------------

    def project_json(self, project_id=None):
        """0.x's Project.serialize(), from the 1.x project."""
        with self.r.lock:
            project_id = project_id or self.current_project()
            project = self.core.projects.get(project_id)
            config = self.core.projects.config(project_id)
            numbers = self.r.counters(project_id)
            models = self.core.legacy_ml.model_names(project_id)
            return {
                "id": project_id,
                "project_name": project.get("title") or f"project-{project_id}",
                "task_count": numbers["task_number"],
                "completion_count": (numbers["total_annotations_number"]),
                "config": self._config_json(project, models),
                "instruction": project.get("expert_instruction", ""),
                "can_manage_tasks": True, "can_manage_completions": True,
                "can_delete_tasks": True,
                "target_storage": {"readable_path": "LabelDesk annotations"},
                "source_storage": {"readable_path": "LabelDesk tasks"},
                "available_storages": [[STORAGE_TYPES["source"], "Tasks in LabelDesk"],
                                       [STORAGE_TYPES["target"], "Annotations in LabelDesk"]],
                "source_syncing": False, "target_syncing": False,
                "data_types": config.data_types,
                "label_config_line": config_line(project["label_config"]),
                "multi_session_mode": True,
            }

    @staticmethod
    def _config_json(project, models):
        """0.x's project `config`: its config.json, with the settings 1.x keeps elsewhere."""
        source = {"type": "tasks-json", "path": "labeldesk://tasks",
                  "params": {}}
        target = {"type": "completions-dir", "path": "labeldesk://annotations",
                  "params": {}}
        return {
            "title": project.get("title", ""),
            "description": project.get("description", ""),
            "label_config": "config.xml", "label_config_full": project["label_config"],
            "input_path": "tasks.json", "output_dir": "completions",
            "instruction": project.get("expert_instruction", ""),
            "allow_delete_completions": True,
            "show_skip_button": project.get("show_skip_button", True),
            "enable_predictions_button": True,
            "sampling": SAMPLING_NAMES.get(project.get("sampling"), "sequential"),
            "ml_backends": [{"name": n} for n in models],
            "source": source, "target": target,
        }

    def create_project(self, title, label_config=None, user_id=1):
        """POST /api/project: a new project, which becomes current."""
        fields = {"title": (title or "New project")[:50],
                  "label_config": label_config or DEFAULT_CONFIG}
        with self.r.lock:
            project_id = self.core.projects.create(fields, user_id)
            self.set_current(project_id)
            return self.project_json(project_id)

    def update_project(self, fields):
        """PATCH /api/project: 0.x config keys, 1.x project fields, or an `ml_backend` to add."""
        if not isinstance(fields, dict):
            raise Bare(["Expected a JSON object"])
        fields = dict(fields)
        with self.r.lock:
            project_id = self.current_project()
            backend = fields.pop("ml_backend", None)
            if "instruction" in fields:
                fields["expert_instruction"] = fields.pop("instruction")
            if fields.get("sampling") in SAMPLING:
                fields["sampling"] = SAMPLING[fields["sampling"]]
            try:
                self.core.projects.update(project_id, fields)
            except ValidationError as e:
                raise Bare(messages(e)) from None
            if backend:
                self.core.legacy_ml.add_model(project_id, backend)
            return self.project_json(project_id)

    def save_config(self, xml):
        """POST /api/project/config: 400 {"label_config": [...]} unless valid for the project."""
        if not isinstance(xml, str) or not xml.strip():
            raise Bare({"label_config": ["Label config is empty"]})
        errors = labelconfig.validate(xml)
        if errors:
            raise Bare({"label_config": errors})
        with self.r.lock:
            project_id = self.current_project()
            try:
                self.core.projects.update(project_id, {"label_config": xml})
            except ValidationError as e:
                raise Bare({"label_config": e.errors.get("label_config") or messages(e)}) \
                    from None

    @staticmethod
    def validate_config(xml):
        """POST /api/validate-config: the messages, [] when valid."""
        if not isinstance(xml, str) or not xml.strip():
            return ["Label config is empty"]
        return labelconfig.validate(xml)

    # -- tasks and completions ----------------------------------------------------------------

    def completion_json(self, annotation_id, doc):
        return {"id": annotation_id, "created_at": unix(doc.get("created_at")),
                "updated_at": unix(doc.get("updated_at")), "lead_time": doc.get("lead_time"),
                "result": doc.get("result") or [],
                "was_cancelled": doc.get("was_cancelled", False),
                "honeypot": doc.get("ground_truth", False),
                "completed_by": doc.get("completed_by")}

    def prediction_json(self, prediction_id, doc):
        return {"id": prediction_id, "result": doc.get("result") or [],
                "score": doc.get("score"), "model_version": doc.get("model_version", ""),
                "created_ago": clock.ago(doc.get("created_at")),
                "created_date": doc.get("created_at")}

    def task_json(self, task_id, task=None):
        """A task in 0.x's shape: data, completions (unix times), predictions, completed_at."""
        tasks = self.core.tasks
        task = task or tasks.get(task_id)
        completions = [self.completion_json(i, a) for i, a in tasks.annotations_of(task_id)]
        return {"id": task_id, "data": task["data"], "completions": completions,
                "predictions": [self.prediction_json(i, p)
                                for i, p in tasks.predictions_of(task_id)],
                "completed_at": local_time(task.get("completed_at")) if completions else None,
                "has_cancelled_completions": any(c["was_cancelled"] for c in completions)}

    def wants(self, params):
        """GET /api/tasks/<id>: the 0.x answer unless a 1.x parameter is present."""
        return not any(params.get(name) is not None for name in ONE_X_PARAMS)

    @staticmethod
    def wants_rewrite(body):
        """PATCH /api/tasks/<id>: 0.9's rewrite when the body carries completions or
        predictions (1.x ignores both keys there); otherwise the 1.x update."""
        return isinstance(body, dict) and ("completions" in body or "predictions" in body)

    def get_task(self, task_id):
        """The 1.x task with 0.x's keys on top: old scripts find `completions`, 1.x clients
        every key they read (see docs/legacy-api.md, "One route, two APIs")."""
        task_id = self._task_id(task_id)
        with self.r.lock:
            core = self.core
            full = core.tasks.as_json(task_id, full=True,
                                      annotation_json=core.annotations.expanded_json,
                                      prediction_json=core.predictions.as_json)
            old = self.task_json(task_id)
            # `completed_at` keeps 1.x's ISO form: 1.x clients parse it; old scripts only
            # read `completions`.
            full.update(completions=old["completions"],
                        has_cancelled_completions=old["has_cancelled_completions"])
            return full

    def list_tasks(self, params=None):
        """GET /api/tasks without project/view: 0.8's bare, paged list of the current project."""
        page, page_size, field, descending, fields = self._list_params(params or {})
        with self.r.lock:
            project_id = self.current_project()
            docs = self.r.tasks
            ids = list(self.core.tasks.ids(project_id))
            if field == "id":
                ids.sort(reverse=descending)
            else:
                ids = self._sorted(ids, field, descending)
            out = []
            for task_id in ids[(page - 1) * page_size:page * page_size]:
                task = self.task_json(task_id, docs.doc(task_id))
                if "all" not in fields:
                    task = {k: v for k, v in task.items() if k in fields or k == "id"}
                out.append(task)
            return out

    @staticmethod
    def _list_params(params):
        """(page, page_size, order field, descending, fields) of 0.8's /api/tasks, or a 422."""
        try:
            page = int(params.get("page") or 1)
            page_size = int(params.get("page_size") or DEFAULT_PAGE_SIZE)
        except ValueError:
            page = page_size = 0
        if page < 1 or page_size < 1:
            raise Bare({"detail": "Incorrect page or page_size"}, status=422)
        order = params.get("order") or "id"
        descending = order.startswith("-")
        field = order[1:] if descending else order
        if field not in ORDERS:
            raise Bare({"detail": "Incorrect order"}, status=422)
        fields = [f for f in (params.get("fields") or "all").split(",") if f.strip()]
        return page, page_size, field, descending, fields

    def _sorted(self, ids, field, descending):
        docs = self.r.tasks

        def has_cancelled(task_id):
            return bool(docs.doc(task_id).get("cancelled_annotations"))

        def value(task_id):
            if field == "completed_at":
                return docs.doc(task_id).get("completed_at")
            return has_cancelled(task_id) if self.r.annotations_by_task.count(task_id) else None
        known = [i for i in ids if value(i) is not None]
        known.sort(key=lambda i: (value(i), i), reverse=descending)
        return known + [i for i in ids if value(i) is None]  # never-completed tasks last

    def delete_tasks(self):
        with self.r.lock:
            project_id = self.current_project()
            self.core.tasks.delete_many(list(self.core.tasks.ids(project_id)))

    def _task_id(self, value):
        try:
            task_id = int(value)
        except (TypeError, ValueError):
            raise NotFound("Task") from None
        if self.r.tasks.doc(task_id) is None:
            raise NotFound("Task")
        return task_id

    def rewrite_task(self, task_id, body, user_id):
        """PATCH|POST /api/tasks/<id> (0.9): rewrite data, completions and predictions given."""
        task_id = self._task_id(task_id)
        if not isinstance(body, dict):
            raise Bare(["Task must be a JSON object"])
        core = self.core
        with self.r.lock, self.r.transaction():
            if "data" in body or "meta" in body:
                core.tasks.update(task_id, {k: body[k] for k in ("data", "meta") if k in body},
                                  user_id)
            if "completions" in body or "annotations" in body:
                items = body.get("completions", body.get("annotations")) or []
                if not isinstance(items, list):
                    raise Bare(["completions must be a list"])
                core.annotations.delete_of_tasks([task_id])
                for item in items:
                    core.annotations.create(task_id, self._annotation_fields(item), user_id)
            if "predictions" in body:
                items = body["predictions"] or []
                if not isinstance(items, list):
                    raise Bare(["predictions must be a list"])
                core.predictions.delete_of_tasks([task_id])
                for item in items:
                    if not isinstance(item, dict):
                        raise Bare(["Each prediction must be a JSON object"])
                    core.predictions.create({**item, "task": task_id})
            return {"detail": "Task patched", "data": self.task_json(task_id)}

    @staticmethod
    def _annotation_fields(item):
        """A 0.x completion as annotation fields (skipped, honeypot: 0.x names)."""
        if not isinstance(item, dict):
            raise ValidationError("Completion must be a JSON object")
        fields = {k: item[k] for k in ("result", "lead_time", "was_cancelled", "ground_truth")
                  if k in item}
        if item.get("skipped"):
            fields["was_cancelled"] = True
        if "honeypot" in item and "ground_truth" not in item:
            fields["ground_truth"] = bool(item["honeypot"])
        return fields

    def create_completion(self, task_id, body, user_id, was_cancelled=False):
        task_id = self._task_id(task_id)
        with self.r.lock:
            annotation_id = self.core.annotations.create(
                task_id, self._annotation_fields(body), user_id, was_cancelled)
            return {"id": annotation_id}

    def _completion_id(self, task_id, completion_id):
        task_id = self._task_id(task_id)
        try:
            annotation_id = int(completion_id)
        except (TypeError, ValueError):
            raise NotFound("Completion") from None
        doc = self.r.annotations.doc(annotation_id)
        if doc is None or doc["task"] != task_id:
            raise NotFound("Completion")
        return annotation_id

    def update_completion(self, task_id, completion_id, body, user_id):
        with self.r.lock:
            annotation_id = self._completion_id(task_id, completion_id)
            self.core.annotations.update(annotation_id, self._annotation_fields(body), user_id)

    def delete_completion(self, task_id, completion_id):
        with self.r.lock:
            self.core.annotations.delete(self._completion_id(task_id, completion_id))

    def delete_task_completions(self, task_id):
        with self.r.lock:
            self.core.annotations.delete_of_tasks([self._task_id(task_id)])

    def completed_task_ids(self):
        with self.r.lock:
            project_id = self.current_project()
            return [i for i in self.core.tasks.ids(project_id)
                    if self.r.annotations_by_task.count(i)]

    def delete_all_completions(self):
        with self.r.lock:
            self.core.annotations.delete_of_tasks(self.completed_task_ids())

    def next_task(self, user_id):
        """/api/project/next: the next task by the project's sampling (NotFound when none)."""
        with self.r.lock:
            task_id, _ = self.core.tasks.next_task(self.current_project(), user_id)
            return self.task_json(task_id)
