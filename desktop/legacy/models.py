"""The 0.8–0.9 API's /api/models* over the 1.x ML backends of the current project
(desktop/ml/backends.py).

With none connected they answer what 0.8 answered: {"models": []} and 400 "No ML backend". A
model that fails or can't be reached is a 400, not a 500. Routes: desktop/api/legacy.py.
"""

from desktop.core.errors import Bare, LabelDeskError, NotFound, ValidationError
from desktop.legacy.project import messages

PREDICT_MODES = ("data", "all_tasks", "specific_tasks")


class LegacyML:
    def __init__(self, core):
        self.core = core
        self.r = core.records
        self.ml = core.ml
        self.legacy = core.legacy

    def _backends(self, project_id):
        return [self.ml.as_json(i) for i in self.ml.of_project(project_id)]

    def model_names(self, project_id=None):
        with self.r.lock:
            project_id = project_id or self.legacy.current_project()
            return [str(b.get("title") or b.get("url") or b.get("id"))
                    for b in self._backends(project_id)]

    def add_model(self, project_id, value):
        """PATCH /api/project {"ml_backend": "<url>" or "<name>=<url>"}."""
        value = str(value).strip()
        name, _, url = value.partition("=") if "=" in value.split("://")[0] else ("", "", value)
        try:
            self.ml.create({"project": project_id, "url": url, "title": name or "default"})
        except ValidationError as e:
            raise Bare(messages(e)) from None

    def delete_model(self, name):
        with self.r.lock:
            for backend in self._backends(self.legacy.current_project()):
                if name in (backend.get("title"), backend.get("url")):
                    self.ml.delete(backend["id"])
                    return
        raise NotFound("ML backend")

    def _first_backend(self):
        with self.r.lock:
            backends = self._backends(self.legacy.current_project())
        if not backends:
            raise Bare("No ML backend")
        return backends[0]

    def train(self):
        backend = self._first_backend()
        self._model_call(self.ml.train, backend["id"])
        return {"details": "Training started"}

    def predict(self, mode, body, task_ids):
        """/api/models/predictions?mode=data|all_tasks|specific_tasks."""
        if mode not in PREDICT_MODES:
            raise Bare({"detail": f'Unknown mode "{mode}": use data, all_tasks or '
                                  "specific_tasks"})
        backend = self._first_backend()
        if mode == "data":
            return self._predict_data(backend, body)
        with self.r.lock:
            project_id = self.legacy.current_project()
            ids = list(self.core.tasks.ids(project_id))
            if mode == "specific_tasks":
                wanted = task_ids or (body.get("task_ids") if isinstance(body, dict) else None)
                if not isinstance(wanted, list):
                    raise Bare(["task_ids are expected: ?task_ids=1,2,3 or {\"task_ids\": [...]}"])
                ids = [i for i in ids if i in set(wanted)]
            answer = self._model_call(self.ml.retrieve_predictions, project_id, ids,
                                      backend["id"])
        self._model_call(self.ml.finish_action, answer)
        return {"details": "predictions are ready"}

    def _predict_data(self, backend, body):
        """mode=data: predictions for task data in the body, nothing stored."""
        data = body.get("data", body) if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data:
            raise Bare(["Task data is expected in the request body"])
        doc = self.r.ml_backends.doc(backend["id"])
        found, errors = self._model_call(self.ml.fetch_predictions, doc,
                                         [{"id": 0, "data": data}])
        if errors and not found:
            raise Bare(errors)
        return {"data": data, "predictions": [
            {k: p.get(k) for k in ("result", "score", "model_version")} for p in found]}

    @staticmethod
    def _model_call(method, *args):
        """Call the ML module; a model that fails or can't be reached is a 400, not a 500."""
        try:
            return method(*args)
        except LabelDeskError as e:
            raise Bare(messages(e) if isinstance(e, ValidationError) else [e.detail]) from None
        except Exception as e:  # noqa: BLE001 (network and model-server failures)
            raise Bare([f"ML backend error: {e}"]) from None
