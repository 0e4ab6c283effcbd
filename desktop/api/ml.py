"""ML backends (ref. §7.1) and LabelDesk's batch prediction jobs.

Model servers are contacted outside the store lock: the core takes the lock only for its reads
and writes, so a slow model never holds up anyone else's request.
"""

from bottle import HTTPResponse

from desktop.api.web import (
    created,
    json_response,
    path_id,
    query,
    query_int,
    read_json,
    read_object,
)
from desktop.core.errors import NotFound
from desktop.core.paging import parse_bool


def install(app, core):
    ml = core.ml

    @app.get("/api/ml")
    def list_backends():
        ids = ml.of_project(query_int("project"), check=True)
        interactive = query("is_interactive")
        out = []
        for backend_id in ids:
            try:
                doc = ml.update_state(backend_id)
            except NotFound:  # deleted meanwhile
                continue
            if interactive is not None and doc.get("is_interactive", False) != parse_bool(
                    "is_interactive", interactive):
                continue
            out.append(ml.as_json(backend_id, doc))
        return out

    @app.post("/api/ml")
    def create_backend():
        body = read_object()
        backend_id = ml.create(body)
        return created(ml.as_json(backend_id))

    @app.get("/api/ml/jobs")
    def list_jobs():
        return ml.jobs.list(query_int("project"))

    @app.get("/api/ml/jobs/<job_id>")
    def get_job(job_id):
        return ml.jobs.get(path_id(job_id, "Job")).as_json()

    @app.route("/api/ml/jobs/<job_id>/cancel", method=["POST"])
    @app.delete("/api/ml/jobs/<job_id>")
    def cancel_job(job_id):
        return ml.jobs.cancel(path_id(job_id, "Job")).as_json()

    @app.get("/api/ml/<backend_id>")
    def get_backend(backend_id):
        backend_id = path_id(backend_id, "MLBackend")
        return ml.as_json(backend_id, ml.update_state(backend_id))

    @app.route("/api/ml/<backend_id>", method=["PATCH", "PUT"])
    def update_backend(backend_id):
        backend_id = path_id(backend_id, "MLBackend")
        body = read_object()
        return ml.as_json(backend_id, ml.update(backend_id, body))

    @app.delete("/api/ml/<backend_id>")
    def delete_backend(backend_id):
        ml.delete(path_id(backend_id, "MLBackend"))

    @app.post("/api/ml/<backend_id>/train")
    def train(backend_id):
        backend_id = path_id(backend_id, "MLBackend")
        read_json()  # a malformed body is a 400; LS ignores use_ground_truth, and so do we
        ml.train(backend_id)
        return HTTPResponse(status=200, body="")

    @app.post("/api/ml/<backend_id>/predict/test")
    def predict_test(backend_id):
        backend_id = path_id(backend_id, "MLBackend")
        if not parse_bool("random", query("random"), False):
            ml.get(backend_id)
            return json_response({"error": "Not implemented - you must provide random=true "
                                           "query parameter"}, status=501)
        return ml.predict_test(backend_id)

    @app.post("/api/ml/<backend_id>/predict")
    def predict_all(backend_id):
        """SDK `ml.predict_all_tasks` (Enterprise in Label Studio): a background job."""
        return ml.predict_all(path_id(backend_id, "MLBackend"), query("batch_size")).as_json()

    @app.post("/api/ml/<backend_id>/interactive-annotating")
    def interactive(backend_id):
        backend_id = path_id(backend_id, "MLBackend")
        return ml.interactive(backend_id, read_json())

    @app.get("/api/ml/<backend_id>/versions")
    def versions(backend_id):
        return ml.versions(path_id(backend_id, "MLBackend"))

