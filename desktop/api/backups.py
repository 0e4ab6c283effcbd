"""Backups of the data (desktop/core/backups.py) for the Settings page: list, back up now, restore.

Desktop-only, so under /api/ui/ with the UI's other routes; token- or session-protected like
every /api/ route, and a session's POSTs need its CSRF token."""

from bottle import request

from desktop.api.web import created, read_object


def install(app, core):
    @app.get("/api/ui/backups")
    def backups():
        return core.backups.listing()

    @app.post("/api/ui/backups")
    def backup_now():
        return created(core.backups.make())

    @app.post("/api/ui/backups/restore")
    def restore():
        """The running app switches to the backup; the state it replaces is backed up first."""
        answer, new = core.backups.restore(read_object().get("name"))
        if core.sessions.cookie(request) or not core.settings.auth:
            # the UI reloads signed in to the restored data (its sessions may differ)
            answer["url"] = f"/desktop#secret={new.sessions.one_time_secret()}"
        return answer
