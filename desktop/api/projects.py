"""Projects (ref. §2): list, create, get, update, delete, label-config validation."""

from bottle import request

from desktop import labelconfig
from desktop.api.web import created, current_user, path_id, query, read_json
from desktop.core.errors import Bare
from desktop.core.paging import page_params

PAGE_SIZE, MAX_PAGE_SIZE = 30, 100


def paginated(projects, counts=False):
    """One page of the project list the query asks for, with Label Studio's page links."""
    page, size = page_params(query("page"), query("page_size"), PAGE_SIZE, MAX_PAGE_SIZE)
    ids = query("ids")
    wanted = None
    if ids:
        wanted = {int(x) for x in ids.replace(" ", "").split(",") if x.isdecimal()}
    total, results = projects.page(page, size, counts, title=query("title"), ids=wanted,
                                   ordering=query("ordering"), pinned=query("filter"))
    stop = (page - 1) * size + len(results)
    base = request.url.split("?")[0]

    def link(number):
        params = dict(request.query.decode())
        params.update(page=str(number))
        return base + "?" + "&".join(f"{k}={v}" for k, v in params.items())

    return {"count": total, "next": link(page + 1) if stop < total else None,
            "previous": link(page - 1) if page > 1 else None, "results": results}


def install(app, core):
    projects = core.projects

    @app.get("/api/projects")
    def list_projects():
        return paginated(projects)

    @app.get("/api/projects/counts")
    def project_counts():
        return paginated(projects, counts=True)

    @app.post("/api/projects")
    def create_project():
        project_id = projects.create(read_json(), current_user())
        return created(projects.as_json(project_id, counters=False))

    @app.get("/api/projects/<project_id>")
    def get_project(project_id):
        return projects.as_json(path_id(project_id, "Project"))

    @app.route("/api/projects/<project_id>", method=["PATCH", "PUT"])
    def update_project(project_id):
        project_id = path_id(project_id, "Project")
        projects.update(project_id, read_json())
        return projects.as_json(project_id)

    @app.delete("/api/projects/<project_id>")
    def delete_project(project_id):
        projects.delete(path_id(project_id, "Project"), on_delete=core.on_project_delete)

    @app.post("/api/projects/validate", auth=False)
    def validate_config():
        body = read_json()
        xml = body.get("label_config") if isinstance(body, dict) else None
        if xml is None:
            raise Bare({"label_config": ["This field is required."]})
        if not isinstance(xml, str) or not xml.strip():
            raise Bare({"label_config": ["This field may not be blank."]})
        errors = labelconfig.validate(xml)
        if errors:
            raise Bare({"label_config": errors})

    @app.post("/api/projects/<project_id>/validate")
    def validate_project_config(project_id):
        project_id = path_id(project_id, "Project")
        body = read_json()
        return projects.validate_config(project_id, body.get("label_config")
                                        if isinstance(body, dict) else None)

    @app.get("/api/projects/<project_id>/summary")
    def summary(project_id):
        return projects.summary(path_id(project_id, "Project"))
