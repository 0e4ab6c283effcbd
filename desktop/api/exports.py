"""Export (ref. §6): formats, direct export, snapshots."""

import os

from bottle import HTTPResponse, request

from desktop.api.web import created, current_user, path_id, query, read_json
from desktop.core.paging import parse_bool
from desktop.data_export.exports import MISSING

BLOCK = 1 << 20


def file_response(path, name, content_type, remove=False):
    """Stream a file as a download; a temporary one is removed once sent."""
    size = os.path.getsize(path)

    def body():
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(BLOCK), b""):
                    yield block
        finally:
            if remove:
                os.unlink(path)

    response = HTTPResponse(body=body())
    response.set_header("Content-Type", content_type)
    response.set_header("Content-Length", str(size))
    response.set_header("Content-Disposition", f'attachment; filename="{name}"')
    response.set_header("filename", name)
    return response


def task_ids_param():
    """Label Studio reads only `ids[]`; plain `ids` is ignored, as there."""
    values = request.query.getall("ids[]")
    if not values:
        return None
    ids = []
    for value in values:
        for part in str(value).split(","):
            if part.strip().isdecimal():
                ids.append(int(part))
    return ids


def escape_formulas(value):
    """LabelDesk's own `escape_formulas` (query or body): False writes CSV/TSV cells exactly as
    Label Studio does, formulas included (docs/export.md)."""
    return parse_bool("escape_formulas", value, True)


def install(app, core):
    exports = core.exports

    @app.get("/api/projects/<project_id>/export/formats")
    def export_formats(project_id):
        project_id = path_id(project_id, "Project")
        return exports.formats(project_id)

    @app.get("/api/projects/<project_id>/export")
    def export(project_id):
        project_id = path_id(project_id, "Project")
        export_type = query("exportType") or query("export_type") or "JSON"
        path, name, content_type = exports.direct(
            project_id, export_type,
            download_all_tasks=parse_bool("download_all_tasks", query("download_all_tasks"),
                                          False),
            download_resources=parse_bool("download_resources", query("download_resources"),
                                          True),
            ids=task_ids_param(), escape_formulas=escape_formulas(query("escape_formulas")))
        return file_response(path, name, content_type, remove=True)

    @app.get("/api/projects/<project_id>/export/files")
    def export_files(project_id):
        return exports.export_files(path_id(project_id, "Project"))

    @app.get("/api/projects/<project_id>/exports")
    def list_snapshots(project_id):
        return exports.list_snapshots(path_id(project_id, "Project"))

    @app.post("/api/projects/<project_id>/exports")
    def create_snapshot(project_id):
        project_id = path_id(project_id, "Project")
        export_id = exports.create_snapshot(project_id, read_json(), current_user())
        return created(exports.snapshot_json(export_id, created=True))

    @app.get("/api/projects/<project_id>/exports/<export_id>")
    def get_snapshot(project_id, export_id):
        project_id = path_id(project_id, "Project")
        export_id = path_id(export_id, "Export")
        exports.snapshot(export_id, project_id)
        return exports.snapshot_json(export_id)

    @app.delete("/api/projects/<project_id>/exports/<export_id>")
    def delete_snapshot(project_id, export_id):
        exports.delete_snapshot(path_id(project_id, "Project"), path_id(export_id, "Export"))

    @app.post("/api/projects/<project_id>/exports/<export_id>/convert")
    def convert_snapshot(project_id, export_id):
        body = read_json()
        body = body if isinstance(body, dict) else {}
        return exports.convert_snapshot(
            path_id(project_id, "Project"), path_id(export_id, "Export"),
            body.get("export_type", MISSING),  # LS: no exportType here
            bool(body.get("download_resources", False)),
            escape_formulas(body.get("escape_formulas")))

    @app.get("/api/projects/<project_id>/exports/<export_id>/download")
    def download_snapshot(project_id, export_id):
        path, name, content_type, temporary = exports.snapshot_file(
            path_id(project_id, "Project"), path_id(export_id, "Export"),
            query("exportType") or query("export_type") or "JSON",
            escape_formulas(query("escape_formulas")))
        return file_response(path, name, content_type, remove=temporary)

    install_more(app, core)


def install_more(app, core):
    """Whole-project files and live export folders (LabelDesk's own, beyond Label Studio)."""
    from desktop.core.errors import ValidationError
    from desktop.data_import import archive
    exports = core.exports

    @app.get("/api/projects/<project_id>/archive")
    def download_archive(project_id):
        import tempfile
        project_id = path_id(project_id, "Project")
        project = core.projects.get(project_id)
        exports.folder.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".zip", dir=exports.folder)
        try:
            with os.fdopen(handle, "wb") as out:
                archive.write_archive(core, project_id, out)
        except BaseException:
            os.unlink(tmp)
            raise
        return file_response(tmp, archive.archive_name(project_id, project.get("title")),
                             "application/zip", remove=True)

    @app.post("/api/projects/archive")
    def upload_archive():
        # The body is spooled (to <data>/tmp past 1 MB) and a multipart one parsed before
        # this runs (api/bodies.py): either way the zip is a seekable file, read in blocks.
        upload = request.files.get("file")
        if upload is None and len(request.files) == 1:
            upload = next(iter(request.files.values()))
        source = upload.file if upload is not None else request.body
        if upload is None and not request.content_length:
            raise ValidationError("Send the project .zip as the body or as a multipart 'file'.")
        title = request.forms.getunicode("title") or query("title")
        answer = archive.import_archive(
            core, source, current_user(), title=title,
            max_bytes=archive.HTTP_FACTOR * core.settings.max_body_bytes)
        body = {"id": answer["project"], "counts": answer["counts"],
                "project": core.projects.as_json(answer["project"])}
        if parse_bool("mapping", query("mapping"), False):
            body["mapping"] = {kind: {str(k): v for k, v in answer[kind].items()}
                               for kind in ("tasks", "annotations", "predictions")}
        return created(body)

    @app.get("/api/projects/<project_id>/live-export")
    def get_live(project_id):
        return exports.live.as_json(path_id(project_id, "Project"))

    @app.route("/api/projects/<project_id>/live-export", method=["PUT", "POST", "PATCH"])
    def set_live(project_id):
        return exports.live.configure(path_id(project_id, "Project"), read_json())

    @app.delete("/api/projects/<project_id>/live-export")
    def delete_live(project_id):
        exports.live.remove(path_id(project_id, "Project"))

    @app.post("/api/projects/<project_id>/live-export/sync")
    def sync_live(project_id):
        project_id = path_id(project_id, "Project")
        exports.live.as_json(project_id)
        exports.live.schedule_full(project_id)
        exports.live.flush()
        return exports.live.as_json(project_id)
