"""Bottle routes, one module per resource. Thin: parse the request, call the core, serialize."""

from contextlib import contextmanager

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
    with compiled_once(app.router):
        for module in MODULES:
            module.install(app, core)
    return Guard(app, core.settings.max_body_bytes, ui_host=lambda: core.sessions.host)


@contextmanager
def compiled_once(router):
    """Bottle's router compiles a method's combined pattern again after each route added
    (Router.add calls _compile): ~130 routes made that a quarter of a second of every start.
    Inside, compiles wait, then each method's is made once."""
    waiting, compile_method = set(), router._compile
    router._compile = waiting.add  # an instance attribute over the method
    try:
        yield
    finally:
        del router._compile
        for method in waiting:
            compile_method(method)
