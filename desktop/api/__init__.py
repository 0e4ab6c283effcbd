"""Bottle routes, one module per resource. Thin: parse the request, call the core, serialize."""

from . import misc, projects, users
from .web import ApiPlugin, App, Guard

MODULES = (misc, users, projects)


def create_api(core):
    """The WSGI app: the guard in front of a Bottle app with every route module installed."""
    app = App()
    app.install(ApiPlugin(core))
    for module in MODULES:
        module.install(app, core)
    return Guard(app, core.settings.max_body_bytes)
