"""The data manager (ref. §4.4, §9): columns, the project's state, views (tabs), actions."""

from bottle import HTTPResponse, request

from desktop.api.web import created, current_user, ls_int, path_id, query, read_json


def install(app, core):
    views, dm = core.views, core.data_manager

    @app.get("/api/dm/columns")
    def columns():
        return dm.columns(ls_int("project", 1))  # LS's default project is 1 ("for debug")

    @app.get("/api/dm/project")
    def project_state():
        return dm.project(ls_int("project", 1), current_user())

    @app.get("/api/dm/views")
    def list_views():
        return views.list(views.list_filter(query("project")))

    @app.post("/api/dm/views")
    def create_view():
        return created(views.as_json(views.create(read_json(), current_user())))

    @app.get("/api/dm/views/<view_id>")
    def get_view(view_id):
        return views.as_json(path_id(view_id, "View"))

    @app.route("/api/dm/views/<view_id>", method=["PATCH", "PUT"])
    def update_view(view_id):
        view_id = path_id(view_id, "View")
        views.update(view_id, read_json(), partial=request.method == "PATCH")
        return views.as_json(view_id)

    @app.delete("/api/dm/views/<view_id>")
    def delete_view(view_id):
        views.delete(path_id(view_id, "View"))

    @app.post("/api/dm/views/order")
    def order_views():
        views.reorder(read_json())
        return HTTPResponse(status=200)  # LS answers 200 without a body

    @app.delete("/api/dm/views/reset")
    def reset_views():
        body = read_json()
        views.reset(body["project"] if isinstance(body, dict) and "project" in body
                    else query("project"))

    @app.get("/api/dm/actions")
    def list_actions():
        return dm.actions(ls_int("project", 0))

    @app.get("/api/dm/actions/<action_id>/form")
    def action_form(action_id):
        return dm.form(action_id, ls_int("project", 0))

    @app.post("/api/dm/actions")
    def run_action():
        action, project_id = request.query.getunicode("id"), ls_int("project", 0)
        body = read_json()
        view_id = ls_int("view", 0) or None
        user = current_user()
        if action == "next_task":  # the label stream: the model pre-labels outside the lock
            core.ml.before_next(project_id)
            task_id, queue = core.actions.next_task(project_id, body, user, view_id)
            core.ml.predict_next(project_id, task_id)
            return core.tasks.next_json(task_id, user, core.predictions.as_json, queue)
        answer = core.actions.run(action, project_id, body, user, view_id)
        if action == "retrieve_tasks_predictions":  # waits for the model outside the lock
            answer = core.ml.finish_action(answer)
        return answer
