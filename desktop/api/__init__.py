"""Bottle routes, one module per resource. Thin: parse the request, call the core, serialize."""

from desktop.api import (
    annotations,
    assistants,
    backups,
    dm,
    drafts,
    exports,
    handovers,
    history,
    imports,
    legacy,
    misc,
    ml,
    projects,
    schema,  # the OpenAPI description: /api/schema, /docs/api
    storages,
    tasks,
    trash,
    ui,
    users,
    webhooks,
)
from desktop.api.web import ApiPlugin, App, Guard

MODULES = (misc, users, projects, tasks, annotations, history, imports, dm, drafts, exports, ml,
           storages, webhooks, assistants,
           legacy, ui, backups, handovers, trash, schema)


def create_api(core):
    """The WSGI app: the guard in front of a Bottle app with every route module installed."""
    app = App()
    app.install(ApiPlugin(core))
    for module in MODULES:
        module.install(app, core)
    return Guard(app, core.settings.max_body_bytes, ui_host=lambda: core.sessions.host)
