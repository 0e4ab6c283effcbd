"""Projects (ref. §2): list, create, get, update, delete, label-config validation, sample
tasks, and the label-config templates of the create-project wizard with their thumbnails."""

from urllib.parse import urlencode

import bottle
from bottle import HTTPResponse, request

from desktop import labelconfig
from desktop.api import bodies
from desktop.api.web import content_type, created, current_user, path_id, query, read_json
from desktop.core.errors import Bare, NotFound
from desktop.core.paging import page_params
from desktop.core.projects import only_fields
from desktop.labelconfig import templates

PAGE_SIZE, MAX_PAGE_SIZE = 30, 100


def paginated(projects, counts=False):
    """One page of the project list the query asks for, with Label Studio's page links."""
    page, size = page_params(query("page"), query("page_size"), PAGE_SIZE, MAX_PAGE_SIZE)
    ids = query("ids")
    wanted = None
    if ids:
        wanted = {int(x) for x in ids.replace(" ", "").split(",") if x.isdecimal()}
    total, results = projects.page(page, size, counts, user_id=queue_user(),
                                   title=query("title"), ids=wanted,
                                   ordering=query("ordering"), pinned=query("filter"))
    results = [included(project) for project in results]
    stop = (page - 1) * size + len(results)
    base = request.url.split("?")[0].rstrip("/") + "/"

    def link(number):
        """DRF's page link: LS's path (with its slash), the query sorted, no page=1."""
        params = dict(request.query.decode())
        params.pop("page", None)
        if number > 1:
            params["page"] = str(number)
        return base + "?" * bool(params) + urlencode(sorted(params.items()))

    return {"count": total, "next": link(page + 1) if stop < total else None,
            "previous": link(page - 1) if page > 1 else None, "results": results}


def queue_user():
    """The user whose queue the answer shows (LS's queue_total/queue_done), None when
    `?include=` leaves both out (counting it walks the project's annotations)."""
    include = request.query.get("include")
    if include is not None and not {"queue_total", "queue_done"} & {
            name.strip() for name in include.split(",")}:
        return None
    return current_user()


def included(project):
    """The fields `?include=a,b` asks for (all without it), as LS's serializers give them."""
    return only_fields(project, request.query.get("include"))


def base_url():
    """This server as the client reached it (LS's HOSTNAME, for sample data URLs)."""
    return f"{request.urlparts.scheme}://{request.urlparts.netloc}"


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
        project_id = projects.create(read_json(), current_user(),
                                     from_form=content_type() in bodies.FORM_TYPES)
        return created(included(projects.as_json(project_id, counters=False,
                                                 user_id=queue_user())))

    @app.get("/api/projects/<project_id>")
    def get_project(project_id):
        return included(projects.as_json(path_id(project_id, "Project"),
                                         user_id=queue_user()))

    @app.route("/api/projects/<project_id>", method=["PATCH", "PUT"])
    def update_project(project_id):
        project_id = path_id(project_id, "Project")
        projects.update(project_id, read_json())
        core.webhooks.project_updated(project_id)
        return included(projects.as_json(project_id, user_id=queue_user()))

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

    @app.post("/api/projects/<project_id>/sample-task")
    def sample_task(project_id):
        return projects.sample_task(path_id(project_id, "Project"), read_json(allow_form=False),
                                    current_user(), host=base_url())

    @app.get("/api/templates")
    def template_list():
        return templates.template_list()

    @app.get("/static/templates/<name:path>", auth=False)
    def template_image(name):
        """A template's thumbnail (its `image`), from the template images folder only."""
        path = templates.image_path(name)
        if path is None:
            raise NotFound()
        response = bottle.static_file(path.name, root=str(path.parent))
        if isinstance(response, HTTPResponse) and response.status_code == 200:
            response.set_header("Cache-Control", "public, max-age=86400")  # a pinned build
        return response
