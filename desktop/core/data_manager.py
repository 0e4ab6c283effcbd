"""Data-manager views (saved tabs) and actions over selected tasks (ref. §4.4, §9)."""

from desktop.core import taskquery
from desktop.core.errors import NotFound, ValidationError
from desktop.core.records import locked

ACTIONS = [
    {"id": "retrieve_tasks_predictions", "title": "Retrieve Predictions", "order": 90,
     "dialog": {"text": "Send the selected tasks to all ML backends connected to the project.",
                "type": "confirm"}},
    {"id": "predictions_to_annotations", "title": "Create Annotations From Predictions",
     "order": 91, "dialog": {"text": "Create annotations from predictions using the selected "
                                     "predictions set for each selected task.",
                             "type": "confirm"}},
    {"id": "remove_duplicates", "title": "Remove Duplicated Tasks", "order": 95,
     "dialog": {"text": "Remove tasks with the same data; annotations move to the kept task.",
                "type": "confirm"}},
    {"id": "delete_tasks", "title": "Delete Tasks", "order": 100,
     "dialog": {"text": "You are going to delete the selected tasks. Please confirm your "
                        "action.", "type": "confirm"}},
    {"id": "delete_tasks_annotations", "title": "Delete Annotations", "order": 101,
     "dialog": {"text": "You are going to delete all annotations from the selected tasks. "
                        "Please confirm your action.", "type": "confirm"}},
    {"id": "delete_tasks_predictions", "title": "Delete Predictions", "order": 102,
     "dialog": {"text": "You are going to delete all predictions from the selected tasks. "
                        "Please confirm your action.", "type": "confirm"}},
]


class Views:
    def __init__(self, records, projects):
        self.r = records
        self.projects = projects

    def get(self, view_id):
        doc = self.r.views.doc(view_id) if isinstance(view_id, int) else None
        if doc is None:
            raise NotFound("View")
        return doc

    @locked
    def as_json(self, view_id):
        doc = self.get(view_id)
        return {"id": view_id, "data": doc["data"], "order": doc.get("order", 0),
                "user": doc.get("user"), "project": doc["project"]}

    @locked
    def list(self, project_id=None):
        views = self.r.views.docs()
        ids = [i for i, v in views.items() if project_id is None or v["project"] == project_id]
        ids.sort(key=lambda i: (views[i].get("order", 0), i))
        return [self.as_json(i) for i in ids]

    def _data(self, data):
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ValidationError({"data": ["Value must be a JSON object."]})
        return data

    @locked
    def create(self, fields, user_id):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary.")
        project_id = fields.get("project")
        if not isinstance(project_id, int) or self.r.projects.doc(project_id) is None:
            raise ValidationError({"project": ["This field is required."]
                                   if project_id is None else
                                   [f'Invalid pk "{project_id}" - object does not exist.']})
        order = fields.get("order")
        if order is None:
            order = len(self.list(project_id))
        return self.r.views.insert({"project": project_id, "data": self._data(fields.get("data")),
                                    "order": order, "user": user_id})

    @locked
    def update(self, view_id, fields, partial=True):
        with self.r.transaction():
            self.get(view_id)
            if not isinstance(fields, dict):
                raise ValidationError("Invalid data. Expected a dictionary.")
            changes = {}
            if "data" in fields or not partial:
                changes["data"] = self._data(fields.get("data"))
            if isinstance(fields.get("order"), int):
                changes["order"] = fields["order"]
            if changes:
                self.r.views.update(changes, doc_ids=[view_id])

    @locked
    def delete(self, view_id):
        self.get(view_id)
        self.r.views.remove(doc_ids=[view_id])

    @locked
    def reorder(self, project_id, ids):
        if not isinstance(ids, list):
            raise ValidationError({"ids": ["Expected a list of view ids."]})
        with self.r.transaction():
            for order, view_id in enumerate(ids):
                if isinstance(view_id, int) and self.r.views.doc(view_id) is not None:
                    self.r.views.update({"order": order}, doc_ids=[view_id])

    @locked
    def reset(self, project_id):
        ids = [i for i, v in self.r.views.docs().items() if v["project"] == project_id]
        self.r.views.remove(doc_ids=ids)


class Actions:
    def __init__(self, core):
        self.core = core
        self.r = core.records

    def selected_ids(self, project_id, body, view_id=None):
        # A malformed body must never fall back to "all tasks" (that would delete them all).
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary.")
        selected = body.get("selectedItems") or body.get("selected_items") or {"all": True}
        filters, ordering = body.get("filters"), body.get("ordering") or []
        if view_id is not None:
            view = self.core.views.get(view_id)
            filters = filters or view["data"].get("filters")
        # taskquery.select checks the shapes of selectedItems, filters and ordering
        return taskquery.select(self.core.records, self.core.tasks, project_id, filters,
                                ordering, selected)

    @locked
    def run(self, action, project_id, body, user_id, view_id=None):
        """Run a bulk action under the store lock; retrieve_tasks_predictions answers a job
        that MLBackends.finish_action waits for outside it."""
        core = self.core
        core.projects.get(project_id)
        if action not in {a["id"] for a in ACTIONS}:
            raise NotFound(detail=f"Action {action!r} not found")
        ids = self.selected_ids(project_id, body, view_id)
        if action == "delete_tasks":
            count = core.tasks.delete_many(ids)
            return {"processed_items": count, "reload": False, "detail": f"Deleted {count} tasks"}
        if action == "delete_tasks_annotations":
            count = core.annotations.delete_of_tasks(ids)
            return {"processed_items": count, "detail": f"Deleted {count} annotations"}
        if action == "delete_tasks_predictions":
            count = core.predictions.delete_of_tasks(ids)
            return {"processed_items": count, "detail": f"Deleted {count} predictions"}
        if action == "predictions_to_annotations":
            version = body.get("model_version") if isinstance(body, dict) else None
            count = self.predictions_to_annotations(ids, version, user_id)
            return {"detail": f"Created {count} annotations"}
        if action == "remove_duplicates":
            count = self.remove_duplicates(ids)
            return {"processed_items": count, "detail": f"Removed {count} tasks"}
        if action == "retrieve_tasks_predictions":
            ml = getattr(core, "ml", None)
            if ml is None:
                raise ValidationError("No ML backend is connected to this project.")
            return ml.retrieve_predictions(project_id, ids)

    def predictions_to_annotations(self, task_ids, version, user_id):
        core = self.core
        created = 0
        with core.records.transaction():
            for task_id in task_ids:
                used = {a.get("parent_prediction") for _, a in core.tasks.annotations_of(task_id)}
                candidates = [(i, p) for i, p in core.tasks.predictions_of(task_id)
                              if (version is None or p.get("model_version") == version)
                              and i not in used]
                if not candidates:
                    continue
                prediction_id, prediction = candidates[-1]
                core.annotations.create(task_id, {"result": prediction.get("result") or [],
                                                  "parent_prediction": prediction_id,
                                                  "last_action": "prediction"}, user_id)
                created += 1
        return created

    def remove_duplicates(self, task_ids):
        core = self.core
        seen, duplicates = {}, []
        for task_id in task_ids:
            key = repr(sorted(core.tasks.get(task_id)["data"].items()))
            if key in seen:
                if not core.tasks.get(task_id).get("total_annotations"):
                    duplicates.append(task_id)
            else:
                seen[key] = task_id
        core.tasks.delete_many(duplicates)
        return len(duplicates)
