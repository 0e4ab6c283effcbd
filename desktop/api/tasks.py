"""Tasks (ref. §4): the data-manager list, single tasks, a project's tasks, the label stream."""

import uuid

from bottle import request

from desktop.core import taskquery
from desktop.core.errors import ValidationError
from desktop.core.paging import page_params, page_slice, parse_bool
from desktop.api.web import created, current_user, path_id, query, query_int, read_json

TASK_PAGE_SIZE = 100


def install(app, core):
    tasks, records = core.tasks, core.records

    def full_json(task_id, task=None, resolve_uri=True):
        return tasks.as_json(task_id, full=True, annotation_json=core.annotations.as_json,
                             prediction_json=core.predictions.as_json, task=task,
                             resolve_uri=resolve_uri)

    @app.get("/api/tasks")
    def list_tasks():
        project_id = query_int("project")
        view_id = query_int("view")
        if project_id is None and view_id is None:
            # Without project/view this is the 0.8 API's task list (docs/legacy-api.md).
            return core.legacy.list_tasks(request.query)
        filters, ordering, selected = taskquery.parse_query(query("query"))
        if view_id is not None:
            view = core.views.get(view_id)
            project_id = project_id or view["project"]
            filters = filters or view["data"].get("filters")
            ordering = ordering or view["data"].get("ordering") or []
        page, size = page_params(query("page"), query("page_size"), TASK_PAGE_SIZE)
        fields = query("fields", "task_only")
        include = [f for f in (query("include") or "").split(",") if f]
        only_annotated = parse_bool("only_annotated", query("only_annotated"), False)
        resolve = parse_bool("resolve_uri", query("resolve_uri"), True)
        with records.lock:
            core.projects.get(project_id)
        # Filtering and sorting take the store lock a chunk at a time (see taskquery.select).
        ids = taskquery.select(records, tasks, project_id, filters, ordering, selected,
                               only_annotated)
        if len(ids) == tasks.r.tasks_by_project.count(project_id):
            with records.lock:
                numbers = records.counters(project_id)
            total_annotations = numbers["total_annotations_number"]
            total_predictions = numbers["total_predictions_number"]
        else:
            sums = [0, 0]

            def add(task_id, task):
                sums[0] += task.get("total_annotations", 0)
                sums[1] += task.get("total_predictions", 0)
            taskquery.chunked(records, ids, add)
            total_annotations, total_predictions = sums
        start, stop = page_slice(len(ids), page, size)
        with records.lock:
            docs = records.tasks
            full = fields == "all"
            page_tasks = []
            for task_id in ids[start:stop]:
                task = docs.doc(task_id)
                if task is None:
                    continue  # deleted while the list was being made
                data = full_json(task_id, task, resolve) if full else tasks.as_json(
                    task_id, full=False, resolve_uri=resolve, task=task)
                if include:
                    data = {k: data.get(k) for k in include}
                page_tasks.append(data)
        return {"total_annotations": total_annotations, "total_predictions": total_predictions,
                "total": len(ids), "tasks": page_tasks}

    @app.post("/api/tasks")
    def create_task():
        body = read_json()
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary.")
        if body.get("project") is None:
            raise ValidationError({"project": ["This field is required."]})
        project_id = body["project"]
        if not isinstance(project_id, int) or records.projects.doc(project_id) is None:
            raise ValidationError({"project": [f'Invalid pk "{project_id}" - object does '
                                               "not exist."]})
        with records.lock:
            task_id = tasks.create(project_id, body.get("data"), body.get("meta"),
                                   current_user())
            return created(tasks.base_json(task_id))

    @app.get("/api/tasks/<task_id>")
    def get_task(task_id):
        if core.legacy.wants(request.query):
            return core.legacy.get_task(task_id, request.query)
        with records.lock:
            return full_json(path_id(task_id, "Task"))

    @app.route("/api/tasks/<task_id>", method=["PATCH", "PUT"])
    def update_task(task_id):
        task_id = path_id(task_id, "Task")
        body = read_json()
        if core.legacy.wants_rewrite(body):
            return core.legacy.rewrite_task(task_id, body, current_user())
        with records.lock:
            tasks.update(task_id, body, current_user())
            data = tasks.base_json(task_id)
            data["annotations"] = core.annotations.list(task_id)
            data["predictions"] = core.predictions.list(task_id=task_id)
            return data

    @app.delete("/api/tasks/<task_id>")
    def delete_task(task_id):
        task_id = path_id(task_id, "Task")
        with records.lock:
            tasks.get(task_id)
            tasks.delete_many([task_id])

    @app.get("/api/projects/<project_id>/tasks")
    def project_tasks(project_id):
        project_id = path_id(project_id, "Project")
        with records.lock:
            core.projects.get(project_id)
            docs = records.tasks
            ids = sorted(tasks.ids(project_id), key=lambda i: docs.doc(i)["updated_at"],
                         reverse=True)
            if query("page_size") or query("page"):
                page, size = page_params(query("page"), query("page_size"), len(ids) or 1)
                start, stop = page_slice(len(ids), page, size, detail="Not found.")
                ids = ids[start:stop]
            out = []
            for task_id in ids:
                data = tasks.base_json(task_id)
                data["annotations"] = core.annotations.list(task_id)
                data["predictions"] = core.predictions.list(task_id=task_id)
                out.append(data)
            return out

    @app.post("/api/projects/<project_id>/tasks")
    def create_project_task(project_id):
        project_id = path_id(project_id, "Project")
        body = read_json()
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary.")
        with records.lock:
            task_id = tasks.create(project_id, body.get("data"), body.get("meta"),
                                   current_user())
            return created(tasks.base_json(task_id))

    @app.delete("/api/projects/<project_id>/tasks")
    def delete_project_tasks(project_id):
        project_id = path_id(project_id, "Project")
        with records.lock:
            core.projects.get(project_id)
            tasks.delete_many(list(tasks.ids(project_id)))

    @app.get("/api/projects/<project_id>/next")
    def next_task(project_id):
        project_id = path_id(project_id, "Project")
        with records.lock:
            task_id, queue = tasks.next_task(project_id, current_user())
        core.ml.predict_next(project_id, task_id)  # pre-labels it; talks to no model under lock
        with records.lock:
            data = full_json(task_id)
            data["updated_by"] = [{"user_id": current_user()}]
            data["unique_lock_id"] = str(uuid.uuid4())
            data["queue"] = queue
            return data
