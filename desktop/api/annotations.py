"""Annotations and predictions (ref. §5)."""

from desktop.api.web import created, current_user, path_id, query, query_int, read_json
from desktop.core.errors import ValidationError
from desktop.core.paging import parse_bool

# Django REST framework's BooleanField (a query serializer's): its words, any case here
DRF_TRUE = {"t", "y", "yes", "true", "on", "1"}
DRF_FALSE = {"f", "n", "no", "false", "off", "0"}


def drf_bool(name):
    """A query parameter read by DRF's BooleanField(required=False, default=False)."""
    value = (query(name) or "").strip().lower()
    if value in DRF_TRUE:
        return True
    if value in DRF_FALSE or value == "":
        return False
    raise ValidationError({name: ["Must be a valid boolean."]})


def install(app, core):
    annotations, predictions = core.annotations, core.predictions

    @app.get("/api/tasks/<task_id>/annotations")
    def list_annotations(task_id):
        return annotations.list(path_id(task_id, "Task"))

    @app.post("/api/tasks/<task_id>/annotations")
    def create_annotation(task_id):
        task_id = path_id(task_id, "Task")
        body = read_json()
        cancelled = parse_bool("was_cancelled", query("was_cancelled"), False)
        annotation_id = annotations.create(task_id, body, current_user(), cancelled)
        return created(annotations.get_json(annotation_id))

    @app.get("/api/annotations/<annotation_id>")
    def get_annotation(annotation_id):
        return annotations.get_json(path_id(annotation_id, "Annotation"))

    @app.route("/api/annotations/<annotation_id>", method=["PATCH", "PUT"])
    def update_annotation(annotation_id):
        annotation_id = path_id(annotation_id, "Annotation")
        body = read_json()
        annotations.update(annotation_id, body, current_user())
        return annotations.get_json(annotation_id)

    @app.delete("/api/annotations/<annotation_id>")
    def delete_annotation(annotation_id):
        annotations.delete(path_id(annotation_id, "Annotation"), current_user())

    @app.get("/api/predictions")
    def list_predictions():
        project = query_int("project") or query_int("task__project")
        return predictions.list(task_id=query_int("task"), project_id=project)

    @app.post("/api/predictions")
    def create_prediction():
        body = read_json()
        return created(predictions.get_json(predictions.create(body, current_user())))

    @app.get("/api/predictions/<prediction_id>")
    def get_prediction(prediction_id):
        return predictions.get_json(path_id(prediction_id, "Prediction"))

    @app.route("/api/predictions/<prediction_id>", method=["PATCH", "PUT"])
    def update_prediction(prediction_id):
        prediction_id = path_id(prediction_id, "Prediction")
        body = read_json()
        predictions.update(prediction_id, body, current_user())
        return predictions.get_json(prediction_id)

    @app.delete("/api/predictions/<prediction_id>")
    def delete_prediction(prediction_id):
        predictions.delete(path_id(prediction_id, "Prediction"), current_user())

    @app.post("/api/projects/<project_id>/import/predictions")
    def import_predictions(project_id):
        project_id = path_id(project_id, "Project")
        body = read_json()
        return created({"created": predictions.import_many(project_id, body)})

    @app.get("/api/projects/<project_id>/model-versions")
    def model_versions(project_id):
        """Label Studio 1.23.2's ProjectModelVersions: ?extended=true answers {"static": [...],
        "live": the project's ML backends with ?include_live_models=true, else null}."""
        project_id = path_id(project_id, "Project")
        extended = drf_bool("extended")
        live = drf_bool("include_live_models")
        versions = predictions.model_versions(project_id, extended, query_int("limit"))
        if not extended:
            return versions
        backends = None
        if live:
            backends = [core.ml.as_json(i, core.ml.update_state(i))
                        for i in core.ml.of_project(project_id)]
        return {"static": versions, "live": backends}
