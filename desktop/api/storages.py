"""Routes for this feature; installed by desktop/api/__init__.py (filled in by its issue)."""


def install(app, core):
    pass
