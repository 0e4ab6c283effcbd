"""Predictions: model output shown as pre-annotations; bulk import; model versions."""

from desktop.core import clock
from desktop.core.annotations import parse_result
from desktop.core.errors import NotFound, ValidationError
from desktop.core.records import locked

SINGLE_VALUE = {"choices": str, "rating": int, "number": float, "textarea": str}


def normalize_result(result, parsed_config):
    """Label Studio's shortcuts for a prediction result (its prepare_prediction_result): a
    region list as is; a dict wrapped as one region of the first control whose type is one of
    its keys; a string or an integer as one region of the first single-value control of its
    type (`"Pos"` a Choices, `5` a Rating). What fits no control is stored with result null,
    as LS stores it (the legacy Client's `create_prediction(task, result="Airplane")` on a
    rectangles config succeeds there); other types are a 400."""
    if isinstance(result, list) or result is None:
        return parse_result(result, "prediction")
    if isinstance(result, str) and result[:1] in "[{":
        return parse_result(result, "prediction")
    controls = [(name, info) for name, info in (parsed_config or {}).items()]
    if isinstance(result, dict):
        for name, info in controls:
            kind = info["type"].lower()
            if kind in result:
                return [{"from_name": name, "to_name": info["to_name"][0], "type": kind,
                         "value": {kind: result[kind]}}]
        return None
    if not isinstance(result, (str, int)):
        raise ValidationError({"result": [
            f"Incorrect format {type(result).__name__} for prediction result {result!r}"]})
    for name, info in controls:
        kind = info["type"].lower()
        # LS's isinstance test: 5 fits a Rating, not a Choices ("5" does)
        if kind in SINGLE_VALUE and isinstance(result, SINGLE_VALUE[kind]):
            return [{"from_name": name, "to_name": info["to_name"][0], "type": kind,
                     "value": {kind: [result]}}]
    return None


def clean_score(score):
    """An imported prediction's score: what isn't a number is stored as null."""
    if score is None or isinstance(score, bool):
        return None
    try:
        return float(score)
    except (TypeError, ValueError):
        return None


def checked_score(score):
    """A score given to the API (as Label Studio's FloatField): a number, a bool or a numeric
    string is a float; anything else is a 400."""
    if score is None:
        return None
    try:
        value = float(score) if isinstance(score, (int, float, str)) else None
    except ValueError:
        value = None
    if value is None or value != value or value in (float("inf"), float("-inf")):
        # LS answers 500 for "nan"/"inf" (its database refuses them); a 400 here.
        raise ValidationError({"score": ["A valid number is required."]})
    return value


class Predictions:
    def __init__(self, records, tasks, projects):
        self.r = records
        self.tasks = tasks
        self.projects = projects

    def get(self, prediction_id):
        doc = self.r.predictions.doc(prediction_id) if isinstance(prediction_id, int) else None
        if doc is None:
            raise NotFound("Prediction")
        return doc

    @locked
    def get_json(self, prediction_id):
        """as_json, holding the store's lock (as_json itself is for loops that hold it)."""
        return self.as_json(prediction_id)

    def as_json(self, prediction_id, doc=None):
        doc = doc or self.get(prediction_id)
        return {"id": prediction_id, "result": doc.get("result"),
                "model_version": doc.get("model_version", ""),
                "created_ago": clock.ago(doc["created_at"]), "score": doc.get("score"),
                "cluster": None, "neighbors": None, "mislabeling": 0.0,
                "created_at": doc["created_at"], "updated_at": doc["updated_at"],
                "model": doc.get("model"), "model_run": None, "task": doc["task"],
                "project": doc["project"]}

    @locked
    def list(self, task_id=None, project_id=None):
        if task_id is not None:
            ids = self.r.predictions_by_task.ids(task_id)
        elif project_id is not None:
            ids = self.r.predictions_by_project.ids(project_id)
        else:
            ids = sorted(self.r.predictions.docs())
        docs = self.r.predictions
        return [self.as_json(i, docs.doc(i)) for i in ids
                if project_id is None or docs.doc(i)["project"] == project_id]

    def build(self, task_id, task, fields, default_version="", parsed=None):
        """A prediction document for a task, validated; not stored yet. `parsed`: the
        project's parsed config, when the caller read it already (an import, for each of its
        predictions)."""
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        if "result" not in fields:
            raise ValidationError({"result": ["This field is required."]})
        if parsed is None:
            parsed = self.projects.config(task["project"]).parsed
        version = fields.get("model_version", default_version)
        if version is None:
            version = default_version
        stamp = clock.iso()
        return {"task": task_id, "project": task["project"],
                "result": normalize_result(fields["result"], parsed),
                "score": clean_score(fields.get("score")), "model_version": str(version),
                "created_at": stamp, "updated_at": stamp, "model": fields.get("model")}

    @locked
    def create(self, fields, user_id=None):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        task_id = fields.get("task")
        if task_id is None:
            raise ValidationError({"task": ["This field is required."]})
        task = self.r.tasks.doc(task_id) if isinstance(task_id, int) else None
        if task is None:
            raise ValidationError({"task": [f'Invalid pk "{task_id}" - object does not exist.']})
        if fields.get("result", []) is None:
            raise ValidationError({"result": ["This field may not be null."]})
        score = checked_score(fields.get("score"))
        with self.r.transaction():
            doc = self.build(task_id, task, fields)
            doc["score"] = score
            prediction_id = self.r.predictions.insert(doc)
            self.tasks.recount(task_id)
            self.tasks.touch(task_id, user_id)
        return prediction_id

    @locked
    def update(self, prediction_id, fields, user_id=None):
        with self.r.transaction():
            doc = self.get(prediction_id)
            if not isinstance(fields, dict):
                raise ValidationError("Invalid data. Expected a dictionary, but got "
                                      f"{type(fields).__name__}.")
            changes = {"updated_at": clock.iso()}
            if "result" in fields and fields["result"] is None:
                raise ValidationError({"result": ["This field may not be null."]})
            if "score" in fields:
                changes["score"] = checked_score(fields["score"])
            if "result" in fields:
                parsed = self.projects.config(doc["project"]).parsed
                changes["result"] = normalize_result(fields["result"], parsed)
            if "model_version" in fields:
                changes["model_version"] = str(fields["model_version"] or "")
            self.r.predictions.update(changes, doc_ids=[prediction_id])
            self.tasks.touch(doc["task"], user_id)

    def delete(self, prediction_id, user_id=None):
        with self.r.trash.collect("predictions"), self.r.transaction():
            doc = self.get(prediction_id)
            self.r.predictions.remove(doc_ids=[prediction_id])
            self.tasks.recount(doc["task"])
            self.tasks.touch(doc["task"], user_id)

    def delete_of_tasks(self, task_ids):
        with self.r.trash.collect("predictions"), self.r.transaction():
            removed = 0
            for task_id in task_ids:
                ids = list(self.r.predictions_by_task.ids(task_id))
                if ids:
                    removed += len(self.r.predictions.remove(doc_ids=ids))
                    self.tasks.recount(task_id)
        return removed

    @locked
    def import_many(self, project_id, items):
        """POST /api/projects/{id}/import/predictions: [{"task", "result", ...}] -> count."""
        title = self.projects.get(project_id).get("title")
        if not isinstance(items, list):
            raise ValidationError("Expected a list of predictions.")
        docs = []
        for number, item in enumerate(items):
            task_id = item.get("task") if isinstance(item, dict) else None
            task = self.r.tasks.doc(task_id) if isinstance(task_id, int) else None
            if task is None or task["project"] != project_id:
                raise ValidationError([  # LS's words (its Project's str: "title (id=N)")
                    f'{item} contains invalid "task" field: corresponding task ID couldn\'t be '
                    f"retrieved from project {title} (id={project_id}) tasks"])
            try:
                score = checked_score(item.get("score"))
            except ValidationError:
                # LS 1.23.2 drops such a prediction (201, not counted in "created"), or with
                # its prediction validation on refuses the batch with this message: a 400 here
                raise ValidationError([f"Prediction {number}: Score must be a valid number, "
                                       f"got {item['score']}"]) from None
            docs.append(self.build(task_id, task, item, default_version="undefined"))
            docs[-1]["score"] = score
        with self.r.transaction():
            self.r.predictions.insert_multiple(docs)
            for task_id in {d["task"] for d in docs}:
                self.tasks.recount(task_id)
            self.adopt_model_version(project_id, docs)
        return len(docs)

    def adopt_model_version(self, project_id, docs):
        """A project without a model version takes the last imported one (as Label Studio)."""
        if docs and not self.projects.get(project_id).get("model_version"):
            self.r.projects.update({"model_version": docs[-1]["model_version"]},
                                   doc_ids=[project_id])

    @locked
    def model_versions(self, project_id, extended=False, limit=None):
        """The project's model versions, newest prediction first, as Label Studio 1.23.2's
        Project.get_model_versions(with_counters=True): {version: count} with the project's own
        version (0 when it has no prediction), or with `extended` the list of
        {model_version, count, latest} its settings' Predictions tab reads."""
        project = self.projects.get(project_id)
        versions = {}
        for prediction_id in self.r.predictions_by_project.ids(project_id):
            doc = self.r.predictions.doc(prediction_id)
            version = versions.setdefault(doc.get("model_version", ""),
                                          {"count": 0, "latest": doc["created_at"]})
            version["count"] += 1
            version["latest"] = max(version["latest"], doc["created_at"])
        newest = sorted(versions.items(), key=lambda item: item[1]["latest"], reverse=True)
        if extended:
            return [{"model_version": name, **v} for name, v in newest]
        counts = {name: v["count"] for name, v in (newest[:limit] if limit else newest)}
        own = project.get("model_version")
        if own and own not in counts and (not limit or len(counts) < limit):
            counts[own] = 0
        return counts
