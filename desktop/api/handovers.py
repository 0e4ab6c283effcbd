"""Push and pull to a Label Studio server as jobs of the running app (desktop/pushpull/jobs.py),
for the Team server page and `labeldesk push/pull` beside a running LabelDesk.

Desktop-only, so under /api/ui/ with the UI's other routes; token- or session-protected like
every /api/ route, and a session's POSTs need its CSRF token. The Label Studio token a job is
started with is never in an answer."""

from desktop.api.web import created, current_user, path_id, read_object


def install(app, core):
    @app.get("/api/ui/handovers")
    def handovers():
        return core.handovers.listing()

    @app.post("/api/ui/handovers")
    def start():
        return created(core.handovers.start(read_object(), current_user()).as_json())

    @app.get("/api/ui/handovers/<job_id>")
    def handover(job_id):
        return core.handovers.get(path_id(job_id, "Hand-over")).as_json(full=True)

    @app.post("/api/ui/handovers/<job_id>/cancel")
    def cancel(job_id):
        return core.handovers.cancel(path_id(job_id, "Hand-over")).as_json()
