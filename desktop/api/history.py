"""Annotation history: Label Studio Enterprise's endpoints, and LabelDesk's restore."""

from bottle import request

from desktop.api.web import current_user, path_id, query


def install(app, core):
    history = core.annotation_history

    @app.get("/api/annotation-history")
    def list_history():
        return history.of_annotation(query("annotation"), query("ordering"))

    @app.delete("/api/annotation-history")
    def delete_history():
        return history.delete(query("annotation"), query("task"), query("project"))

    @app.get("/api/annotation-history/<version_id>")
    def get_version(version_id):
        return history.get_json(path_id(version_id, "AnnotationHistory"))

    @app.post("/api/annotation-history/<version_id>/restore")
    def restore_version(version_id):
        return history.restore(path_id(version_id, "AnnotationHistory"), current_user())

    @app.get("/api/projects/<project_id>/annotation-history")
    def project_history(project_id):
        base = request.url.split("?")[0].rstrip("/") + "/"
        return history.of_project(path_id(project_id, "Project"), query("page"),
                                  query("page_size"), query("created_at_from"),
                                  query("created_at_to"), base_url=base)
