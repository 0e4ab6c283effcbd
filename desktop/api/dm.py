"""Data-manager views and actions (ref. §4.4, §9)."""

from bottle import request

from desktop.api.web import created, current_user, path_id, query_int, read_json
from desktop.core.data_manager import ACTIONS
from desktop.core.errors import ValidationError


def install(app, core):
    views = core.views

    @app.get("/api/dm/views")
    def list_views():
        return views.list(query_int("project"))

    @app.post("/api/dm/views")
    def create_view():
        body = read_json()
        return created(views.as_json(views.create(body, current_user())))

    @app.get("/api/dm/views/<view_id>")
    def get_view(view_id):
        return views.as_json(path_id(view_id, "View"))

    @app.route("/api/dm/views/<view_id>", method=["PATCH", "PUT"])
    def update_view(view_id):
        view_id = path_id(view_id, "View")
        body = read_json()
        views.update(view_id, body, partial=request.method == "PATCH")
        return views.as_json(view_id)

    @app.delete("/api/dm/views/<view_id>")
    def delete_view(view_id):
        views.delete(path_id(view_id, "View"))

    @app.post("/api/dm/views/order")
    def order_views():
        body = read_json()
        views.reorder(body.get("project") if isinstance(body, dict) else None,
                      body.get("ids") if isinstance(body, dict) else None)
        return {}

    @app.delete("/api/dm/views/reset")
    def reset_views():
        views.reset(query_int("project"))

    @app.get("/api/dm/actions")
    def list_actions():
        return ACTIONS

    @app.post("/api/dm/actions")
    def run_action():
        action = request.query.get("id")
        project_id = query_int("project")
        if not action or project_id is None:
            raise ValidationError("Both `id` (the action) and `project` are required.")
        body = read_json()
        answer = core.actions.run(action, project_id, body, current_user(), query_int("view"))
        if action == "retrieve_tasks_predictions":  # waits for the model outside the lock
            answer = core.ml.finish_action(answer)
        return answer
