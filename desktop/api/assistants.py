"""Built-in assistants (desktop/assistants): which fit a project, turning one on or off, and
"predict all tasks" with progress. An assistant turned on is an ML backend of the project
(/api/ml shows it, as the web app's Model tab does)."""

from bottle import request

from desktop.api.web import created, path_id, query, query_int, read_object
from desktop.core.errors import ValidationError


def project_of(body):
    project = body.get("project")
    if isinstance(project, bool) or not isinstance(project, int):
        raise ValidationError({"project": ["A valid integer is required."]})
    return project


def install(app, core):
    assistants = core.assistants

    @app.hook("before_request")
    def remember_address():
        """Where this server is, for the model servers' /setup (`hostname`: they fetch task
        files and exports from it) — the port may differ from the one asked for."""
        if getattr(core, "base_url", None) is None:
            port = request.environ.get("SERVER_PORT")
            if port and port.isdigit():
                core.base_url = f"http://127.0.0.1:{port}"

    @app.get("/api/assistants")
    def list_assistants():
        project = query_int("project")
        if project is None:
            raise ValidationError({"project": ["This field is required."]})
        return assistants.list(project)

    @app.post("/api/assistants/<name>/enable")
    def enable(name):
        body = read_object()
        return assistants.enable(name, project_of(body), body.get("label_map"))

    @app.post("/api/assistants/<name>/disable")
    def disable(name):
        return assistants.disable(name, project_of(read_object()))

    @app.post("/api/assistants/<name>/predict")
    def predict_all(name):
        return assistants.predict_all(name, project_of(read_object()))

    @app.post("/api/assistants/install")
    def install_pack():
        """An assistant pack (make assistant-pack), as a multipart 'file' or the body: checked
        now, installed offline in the background (a job)."""
        upload = request.files.get("file")
        if upload is None and len(request.files) == 1:
            upload = next(iter(request.files.values()))
        if upload is None and not request.content_length:
            raise ValidationError({"file": ["Send the assistant pack (.zip) as the body or as "
                                            "a multipart 'file'."]})
        source = upload.file if upload is not None else request.body
        name = upload.raw_filename if upload is not None else query("name")
        return created(assistants.install_pack(source, name).as_json())

    @app.get("/api/assistants/jobs/<job_id>")
    def job(job_id):
        return assistants.job(path_id(job_id, "Job")).as_json()
