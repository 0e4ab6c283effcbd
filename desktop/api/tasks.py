"""Tasks (ref. §4): the data-manager list, single tasks, a project's tasks, the label stream."""

import math

from bottle import request

from desktop.api.web import (
    created,
    current_user,
    ls_int,
    one_x_client,
    path_id,
    query,
    read_json,
)
from desktop.core import taskquery
from desktop.core.errors import Bare, NotFound, ValidationError
from desktop.core.paging import page_params, parse_bool
from desktop.core.tasks import MISSING

TASK_PAGE_SIZE = 100


def project_ref(value):
    """POST /api/tasks's `project`, as Label Studio reads it: an id (a number, or a string of
    digits); 0 is an invalid pk (400), any other unknown id the create's 404 (Tasks.create); a
    bool or an object is the wrong type (400), anything else a bare 404 "Not found."."""
    if isinstance(value, (bool, dict)):
        raise ValidationError({"project": ["Incorrect type. Expected pk value, received "
                                           f"{type(value).__name__}."]})
    if isinstance(value, float) and math.isfinite(value) or (isinstance(value, str)
                                                             and value.strip().isdigit()):
        value = int(value)  # as Django's int(): 1.5 names project 1
    if not isinstance(value, int):
        raise NotFound()
    if value == 0:
        raise ValidationError({"project": ['Invalid pk "0" - object does not exist.']})
    return value


def install(app, core):
    tasks = core.tasks

    def full_json(task_id, annotation_json=core.annotations.as_json):
        return tasks.get_json(task_id, annotation_json, core.predictions.as_json,
                              user_id=current_user())  # `drafts`: the user's own

    @app.get("/api/tasks")
    def list_tasks():
        project_id = ls_int("project", None)  # LS's int_from_request and its 400
        view_id = ls_int("view", None)
        if project_id is None and view_id is None:
            if one_x_client():
                raise Bare({"detail": "Neither project nor view id specified"}, 404)
            # Otherwise this is the 0.8 API's task list (docs/legacy-api.md).
            return core.legacy.list_tasks(request.query)
        filters, ordering, selected = taskquery.parse_query(query("query"))
        hidden = None
        if view_id is not None:
            view = core.views.get(view_id)
            project_id = project_id or view["project"]
            filters = filters or view["data"].get("filters")
            ordering = ordering or view["data"].get("ordering") or []
            hidden = view["data"].get("hiddenColumns")
        page, size = page_params(query("page"), query("page_size"), TASK_PAGE_SIZE)
        fields = query("fields", "task_only")
        include = [f for f in (query("include") or "").split(",") if f]
        only_annotated = parse_bool("only_annotated", query("only_annotated"), False)
        resolve = parse_bool("resolve_uri", query("resolve_uri"), True)
        return tasks.list_page(project_id, (filters, ordering, selected), page, size, fields,
                               include, resolve, only_annotated, core.annotations.as_json,
                               core.predictions.as_json, user_id=current_user(),
                               hidden_columns=hidden)

    @app.post("/api/tasks")
    def create_task():
        body = read_json()
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(body).__name__}.")
        if body.get("project") is None:
            raise ValidationError({"project": ["This field is required."]})
        task_id = tasks.create(project_ref(body["project"]), body.get("data", MISSING),
                               body.get("meta"))
        return created(tasks.get_base_json(task_id))

    @app.get("/api/tasks/<task_id>")
    def get_task(task_id):
        if core.legacy.wants(request.query) and not one_x_client():
            return core.legacy.get_task(task_id)
        # LS expands the annotations' completed_by here only (not in /next or the list)
        return full_json(path_id(task_id, "Task"), core.annotations.expanded_json)

    @app.route("/api/tasks/<task_id>", method=["PATCH", "PUT"])
    def update_task(task_id):
        task_id = path_id(task_id, "Task")
        body = read_json()
        if core.legacy.wants_rewrite(body):
            return core.legacy.rewrite_task(task_id, body, current_user())
        tasks.update(task_id, body, current_user())
        return tasks.detail_json(task_id, core.annotations.as_json, core.predictions.as_json)

    @app.delete("/api/tasks/<task_id>")
    def delete_task(task_id):
        tasks.delete(path_id(task_id, "Task"))

    @app.get("/api/projects/<project_id>/tasks")
    def project_tasks(project_id):
        return tasks.of_project_json(path_id(project_id, "Project"), query("page"),
                                     query("page_size"), core.annotations.as_json,
                                     core.predictions.as_json)

    @app.post("/api/projects/<project_id>/tasks")
    def create_project_task(project_id):
        project_id = path_id(project_id, "Project")
        body = read_json()
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(body).__name__}.")
        task_id = tasks.create(project_id, body.get("data", MISSING), body.get("meta"))
        return created(tasks.get_base_json(task_id))

    @app.delete("/api/projects/<project_id>/tasks")
    def delete_project_tasks(project_id):
        tasks.delete_of_project(path_id(project_id, "Project"))

    @app.get("/api/projects/<project_id>/next")
    def next_task(project_id):
        project_id = path_id(project_id, "Project")
        core.ml.before_next(project_id)  # a model learning on submit has the last annotation
        task_id, queue = tasks.next_task(project_id, current_user())
        core.ml.predict_next(project_id, task_id)  # pre-labels it; talks to no model under lock
        return tasks.next_json(task_id, current_user(), core.predictions.as_json, queue)
