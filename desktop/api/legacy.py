"""The Label Studio 0.8–0.9 API (ref. §10), on the current project: see docs/legacy-api.md.

/api/tasks and /api/tasks/<id> are also 1.x paths: desktop/api/tasks.py serves them and hands
0.x requests to core.legacy. Everything else 0.x had lives here.
"""

from datetime import datetime

from bottle import HTTPError, HTTPResponse, request

from desktop.api.imports import inline_json, uploaded_files
from desktop.api.web import content_type, created, current_user, json_response, query, read_json
from desktop.core.errors import Bare, NotFound
from desktop.core.paging import parse_bool
from desktop.legacy.files import example_file

XML_TYPES = ("application/xml", "text/xml", "text/plain")
# Label Studio's Allow header for /api/tasks/<id> (its 405 to a POST there)
TASK_METHODS = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
# /api/import-example-file: q= -> its type (example_file refuses any other q)
EXAMPLE_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                 "tsv": "text/tab-separated-values; charset=utf-8",
                 "txt": "text/plain; charset=utf-8"}


def empty(status):
    return HTTPResponse(status=status, body="")


def text(body, status):
    return HTTPResponse(status=status, body=body, headers={"Content-Type": "text/plain"})


def read_body():
    """JSON or form fields, as 0.x's Flask read them (request.json or request.form)."""
    return read_json(allow_form=True)


def label_config_from_request():
    """A config from ?label_config=, an XML body, a JSON body or a form field (None if absent)."""
    xml = query("label_config")
    if xml is not None:
        return xml
    if content_type() in XML_TYPES:
        raw = request.body.read()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Bare({"label_config": ["Label config must be UTF-8 text"]}) from None
    body = read_body()
    if isinstance(body, dict):
        return body.get("label_config")
    return body if isinstance(body, str) else None


def install(app, core):
    legacy, legacy_io, legacy_ml = core.legacy, core.legacy_io, core.legacy_ml

    # -- the project --------------------------------------------------------------------------

    @app.get("/api/project")
    def get_project():
        return legacy.project_json()

    @app.post("/api/project")
    def new_project():
        body = read_body()
        body = body if isinstance(body, dict) else {}
        title = query("desc") or body.get("desc") or body.get("title")
        return created(legacy.create_project(title, body.get("label_config"), current_user()))

    @app.patch("/api/project")
    def update_project():
        if content_type() in XML_TYPES:  # 0.x also took a bare "name=url" line
            return created(legacy.update_project(
                {"ml_backend": request.body.read().decode("utf-8", "replace").strip()}))
        return created(legacy.update_project(read_body()))

    @app.post("/api/project/config")
    def save_config():
        legacy.save_config(label_config_from_request())
        return empty(201)

    @app.post("/api/project/import")
    def import_tasks():
        kind = content_type()
        if kind == "multipart/form-data":
            files = uploaded_files()
            if files:
                return created(legacy_io.import_tasks(files=files, user_id=current_user()))
        body = read_body()
        if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            body = inline_json(body)
        return created(legacy_io.import_tasks(body=body, user_id=current_user()))

    @app.get("/api/project/export")
    def export():
        all_tasks = parse_bool("download_all_tasks", query("download_all_tasks"), False)
        out, name = legacy_io.export(query("format"), all_tasks)
        return HTTPResponse(body=out, headers={
            "Content-Type": "application/zip", "filename": name,
            "Content-Disposition": f"attachment; filename={name}"})

    @app.get("/api/project/next")
    def next_task():
        try:
            return legacy.next_task(current_user())
        except NotFound:
            return empty(404)  # 0.x: an empty 404 when every task is done

    @app.get("/api/project/storage-settings")
    def storage_settings():
        return legacy_io.storage_settings()

    @app.post("/api/project/storage-settings")
    def set_storage():
        body = read_body()
        return created(legacy_io.set_storage(query("storage_for") or "source",
                                             query("type") or (body.get("type") if isinstance(
                                                 body, dict) else None)))

    # POST only (0.x also took GET): a GET that switches the project of every client could be
    # fired by any web page's <img src>. GET is a 405 in the envelope.
    @app.post("/api/project-switch")
    def project_switch():
        value = query("uuid") or query("project") or query("id")
        if value is None:
            raise Bare({"detail": "Not a valid UUID"})
        return legacy.switch(value)

    # -- tasks and completions (GET/DELETE /api/tasks/<id> and PATCH are in api/tasks.py) -----

    @app.delete("/api/tasks")
    def delete_tasks():
        legacy.delete_tasks()

    @app.post("/api/tasks/<task_id>")
    def rewrite_task(task_id):
        # 1.x answers any POST here with a 405; 0.9's rewrite is kept for the bodies only it
        # reads (completions or predictions), as PATCH does (docs/legacy-api.md).
        body = read_body()
        if not legacy.wants_rewrite(body):
            raise HTTPError(405, "Method not allowed.", Allow=TASK_METHODS)
        return legacy.rewrite_task(task_id, body, current_user())

    @app.post("/api/tasks/<task_id>/completions")
    def create_completion(task_id):
        cancelled = parse_bool("was_cancelled", query("was_cancelled"), False)
        return created(legacy.create_completion(task_id, read_body(), current_user(),
                                                cancelled))

    @app.delete("/api/tasks/<task_id>/completions")
    def delete_task_completions(task_id):
        legacy.delete_task_completions(task_id)

    @app.patch("/api/tasks/<task_id>/completions/<completion_id>")
    def update_completion(task_id, completion_id):
        if completion_id == "null":  # 0.x's editor sent this for a completion not saved yet
            return json_response({"detail": "ok"})
        legacy.update_completion(task_id, completion_id, read_body(), current_user())
        return created({"detail": "created"})

    @app.delete("/api/tasks/<task_id>/completions/<completion_id>")
    def delete_completion(task_id, completion_id):
        legacy.delete_completion(task_id, completion_id)

    @app.get("/api/completions")
    def completion_ids():
        return {"ids": legacy.completed_task_ids()}

    @app.delete("/api/completions")
    def delete_completions():
        legacy.delete_all_completions()
        return text("done", 201)

    # -- ML models ----------------------------------------------------------------------------

    @app.get("/api/models")
    def models():
        return {"models": legacy_ml.model_names()}

    @app.delete("/api/models")
    def delete_model():
        body = read_body()
        name = body.get("name") if isinstance(body, dict) else None
        if not name:
            raise Bare({"detail": 'A "name" is expected in the request body'})
        legacy_ml.delete_model(name)

    @app.post("/api/models/train")
    def train():
        return legacy_ml.train()

    # POST only (0.x also took GET): mode=all_tasks calls the model and stores predictions.
    @app.post("/api/models/predictions")
    def predictions():
        body = read_body()
        ids = [int(x) for x in (query("task_ids") or "").split(",") if x.strip().isdecimal()]
        return legacy_ml.predict(query("mode") or "data", body, ids)

    # -- helpers ------------------------------------------------------------------------------

    @app.post("/api/validate-config")
    def validate_config():
        xml = label_config_from_request()
        if xml is None:
            return text("No label_config in POST", 417)
        errors = legacy.validate_config(xml)
        if errors:
            raise Bare({"label_config": errors})
        return empty(204)

    @app.route("/api/import-example", method=["GET", "POST"])
    def import_example():
        xml = label_config_from_request() if request.method == "POST" else query("label_config")
        return legacy_io.example(xml, host())

    @app.get("/api/import-example-file")
    def import_example_file():
        """0.9's sample file, always as a download (0.9 did the same): its body holds text from
        the caller's ?label_config=, so it is never served inline or with a type a page could
        run as a script or render; ?raw=1 (our old inline variant) gives the same download."""
        kind = (query("q") or "json").lower()
        data = example_file(legacy_io.example(query("label_config"), host()), kind)
        name = f"sample-{datetime.now().strftime('%Y-%m-%d-%H-%M')}.{kind}"
        return HTTPResponse(body=data, headers={
            "Content-Type": EXAMPLE_TYPES[kind], "filename": name,
            "Content-Disposition": f"attachment; filename={name}",
            "Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"})


def host():
    parts = request.urlparts
    return f"{parts.scheme}://{parts.netloc}"
