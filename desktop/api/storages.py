"""Import and export storages (ref. §8), and the files they serve.

Export routes are added first: `/api/storages/export/<type>` must win over
`/api/storages/<type>/<id>`.
"""

import bottle
from bottle import HTTPResponse, redirect

from desktop.api.web import created, current_user, path_id, query, query_int, read_object
from desktop.core.errors import ValidationError
from desktop.data_import.uploads import content_type
from desktop.io_storages.storages import TYPES, check_type

PREFIXES = (("export", "/api/storages/export"), ("import", "/api/storages"))


def install(app, core):
    storages = core.storages

    def types():
        return [{"name": name, "title": title} for name, title in TYPES.items()]

    for kind, prefix in PREFIXES:
        install_kind(app, core, kind, prefix, types)

    @app.get("/data/local-files")
    def serve_local_file():
        path = storages.local_file(query("d"))
        response = bottle.static_file(path.name, root=str(path.parent),
                                      mimetype=content_type(path))
        response.set_header("Content-Security-Policy", "sandbox")
        return response

    @app.get("/tasks/<task_id>/resolve")
    @app.get("/tasks/<task_id>/presign")
    def resolve_uri(task_id):
        task_id = path_id(task_id, "Task")
        fileuri = query("fileuri")
        if not fileuri:
            raise ValidationError({"fileuri": ["This field is required."]})
        url, body = storages.resolve(task_id, fileuri)
        if url:
            redirect(url, 303)
        data, kind = body
        return HTTPResponse(body=data, status=200, headers={
            "Content-Type": kind, "Content-Security-Policy": "sandbox"})



def install_kind(app, core, kind, prefix, types):
    storages = core.storages

    @app.get(prefix, name=f"{kind}-all")
    def list_all():
        project_id = query_int("project")
        if project_id is None:
            return []
        return storages.list(kind, project_id)

    @app.get(prefix + "/types", name=f"{kind}-types")
    def list_types():
        return types()

    @app.get(prefix + "/<kind_type>", name=f"{kind}-list")
    def list_of_type(kind_type):
        kind_type = check_type(kind_type)
        project_id = query_int("project")
        if project_id is None:
            raise ValidationError('query parameter "project" is required')
        return storages.list(kind, project_id, kind_type)

    @app.post(prefix + "/<kind_type>", name=f"{kind}-create")
    def create(kind_type):
        body = read_object()
        if body.get("project") is None and query_int("project") is not None:
            body["project"] = query_int("project")  # the legacy client's ?project=
        storage_id = storages.create(kind, kind_type, body)
        if kind == "export":  # LS syncs a new export storage at once, answering it queued
            return created(storages.sync(storage_id, kind, kind_type, current_user()))
        return created(storages.as_json(storage_id))

    @app.post(prefix + "/<kind_type>/validate", name=f"{kind}-validate")
    def validate(kind_type):
        storages.validate(kind, kind_type, read_object())
        return HTTPResponse(status=200, body="")

    @app.get(prefix + "/<kind_type>/<storage_id>", name=f"{kind}-get")
    def get(kind_type, storage_id):
        kind_type = check_type(kind_type)
        storage_id = path_id(storage_id, "Storage")
        return storages.as_json(storage_id, storages.get(storage_id, kind, kind_type))

    @app.route(prefix + "/<kind_type>/<storage_id>", method=["PATCH", "PUT"],
               name=f"{kind}-update")
    def update(kind_type, storage_id):
        storage_id = path_id(storage_id, "Storage")
        body = read_object()
        storages.update(storage_id, kind, kind_type, body)
        return storages.updated_json(storage_id)

    @app.delete(prefix + "/<kind_type>/<storage_id>", name=f"{kind}-delete")
    def delete(kind_type, storage_id):
        storages.delete(path_id(storage_id, "Storage"), kind, kind_type)

    @app.post(prefix + "/<kind_type>/<storage_id>/sync", name=f"{kind}-sync")
    def sync(kind_type, storage_id):
        storage_id = path_id(storage_id, "Storage")
        storages.sync(storage_id, kind, kind_type, current_user())
        return storages.as_json(storage_id)
