"""Drafts (the labeling editor's unsaved work) and the label stream's history."""

from bottle import request

from desktop.api.web import created, current_user, path_id, read_json


def install(app, core):
    drafts = core.drafts

    @app.get("/api/tasks/<task_id>/drafts")
    def task_drafts(task_id):
        return drafts.list(path_id(task_id, "Task"))

    @app.post("/api/tasks/<task_id>/drafts")
    def create_task_draft(task_id):
        task_id = path_id(task_id, "Task")
        body = read_json()
        return created(drafts.get_json(drafts.create(task_id, body, current_user())))

    @app.get("/api/tasks/<task_id>/annotations/<annotation_id>/drafts")
    def annotation_drafts(task_id, annotation_id):
        path_id(annotation_id, "Annotation")
        return drafts.list(path_id(task_id, "Task"))  # LS lists the task's drafts here too

    @app.post("/api/tasks/<task_id>/annotations/<annotation_id>/drafts")
    def create_annotation_draft(task_id, annotation_id):
        task_id, annotation_id = path_id(task_id, "Task"), path_id(annotation_id, "Annotation")
        body = read_json()
        return created(drafts.get_json(drafts.create(task_id, body, current_user(),
                                                     annotation_id)))

    @app.get("/api/drafts/<draft_id>")
    def get_draft(draft_id):
        return drafts.get_json(path_id(draft_id, "AnnotationDraft"))

    @app.route("/api/drafts/<draft_id>", method=["PATCH", "PUT"])
    def update_draft(draft_id):
        draft_id = path_id(draft_id, "AnnotationDraft")
        body = read_json()
        drafts.update(draft_id, body, partial=request.method == "PATCH")
        return drafts.get_json(draft_id)

    @app.delete("/api/drafts/<draft_id>")
    def delete_draft(draft_id):
        drafts.delete(path_id(draft_id, "AnnotationDraft"))

    @app.post("/api/annotations/<annotation_id>/convert-to-draft")
    def convert_to_draft(annotation_id):
        annotation_id = path_id(annotation_id, "Annotation")
        return created(drafts.get_json(drafts.from_annotation(annotation_id, current_user())))

    @app.get("/api/projects/<project_id>/label-stream-history")
    def label_stream_history(project_id):
        return core.stream_history.get(path_id(project_id, "Project"), current_user())

    @app.get("/api/label_links")
    def label_links():
        """Custom labels linked to projects: none in Label Studio Community, an empty page. A
        `project` must name one (django-filter's choice), a page past the first is 404."""
        return core.data_manager.label_links(request.query.getunicode("project"),
                                             request.query.getunicode("page"))
