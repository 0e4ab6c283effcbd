"""The trash (desktop/core/trash.py) for the Trash page and `labeldesk trash`: list, restore
one, delete one, empty; and what a data-manager action that deletes would put there.

LabelDesk's own, so under /api/ui/ with the UI's other routes; token- or session-protected
like every /api/ route, and a session's POSTs and DELETEs need its CSRF token."""

from bottle import request

from desktop.api.web import ls_int, path_id, read_json


def install(app, core):
    trash = core.trash

    @app.get("/api/ui/trash")
    def listing():
        return trash.listing()

    @app.delete("/api/ui/trash")
    def empty():
        return trash.purge()

    @app.post("/api/ui/trash/preview")
    def preview():
        """The counts and the sentence the web app's confirm dialog shows before a bulk
        delete (POST /api/dm/actions' query and body); with id=reimport, what POST
        /api/projects/{id}/reimport with the same body would replace."""
        if request.query.getunicode("id") == "reimport":
            return core.imports.reimport_preview(ls_int("project", 0), read_json(),
                                                 core.records.trash.days())
        return core.actions.preview(request.query.getunicode("id"), ls_int("project", 0),
                                    read_json(), ls_int("view", 0) or None)

    @app.get("/api/ui/trash/<item_id>")
    def item(item_id):
        return trash.get_json(path_id(item_id, "trash item"))

    @app.delete("/api/ui/trash/<item_id>")
    def delete(item_id):
        return trash.purge([path_id(item_id, "trash item")])

    @app.post("/api/ui/trash/<item_id>/restore")
    def restore(item_id):
        return trash.restore(path_id(item_id, "trash item"))
