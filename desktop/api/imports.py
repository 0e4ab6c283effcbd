"""Import (ref. §3): JSON bodies and file uploads; serving uploaded files."""

import bottle
import orjson
from bottle import request

from desktop.api.web import created, current_user, path_id, query, query_int, read_json
from desktop.core import jsonload
from desktop.core.errors import ValidationError
from desktop.core.paging import parse_bool
from desktop.data_import.importers import is_media
from desktop.data_import.uploads import content_type


def uploaded_files():
    """(filename, data) of every file part of a multipart request, whatever its field name.

    The body was parsed before the route ran (api/bodies.py: a malformed one is a 400 there);
    each part is a temporary file. Media files stay files (data is the open file, copied into
    the media folder in blocks: a 200 MB video is never whole in memory); files that are read
    as tasks (JSON, CSV, text...) are read into bytes.
    """
    files = []
    for key, part in request.files.allitems():
        name = part.raw_filename or key
        files.append((name, part.file if is_media(name) else part.file.read()))
    return files


def install(app, core):
    imports, uploads = core.imports, core.uploads

    @app.post("/api/projects/<project_id>/import")
    def import_tasks(project_id):
        project_id = path_id(project_id, "Project")
        options = {
            "return_task_ids": parse_bool("return_task_ids", query("return_task_ids"), False),
            "commit": parse_bool("commit_to_project", query("commit_to_project"), True),
            "preannotated_from_fields": [f.strip() for f in
                                         (query("preannotated_from_fields") or "").split(",")
                                         if f.strip()],
        }
        kind = (request.content_type or "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            files = uploaded_files()
            if files:
                return created(imports.import_files(project_id, files, current_user(),
                                                    **options))
            body = {k: request.forms.getunicode(k) for k in request.forms}
        else:
            body = read_json(default={})  # LS: an empty body is one empty task
        if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            body = inline_json(body)
        return created(imports.import_json(project_id, body, current_user(), **options))

    @app.post("/api/projects/<project_id>/reimport")
    def reimport(project_id):
        answer = imports.reimport(path_id(project_id, "Project"), read_json(), current_user())
        # LS: 201 when files were named, a 200 of zeros when none were
        return created(answer) if answer["file_upload_ids"] else answer

    @app.get("/api/ui/imports/progress")
    def import_progress():
        """How far the project's import under way has got (the web app's Import dialog shows
        it). Answered without the store's lock, which the import's write holds."""
        project_id = query_int("project")
        if project_id is None:
            raise ValidationError({"project": ["This field is required."]})
        return imports.progress.of(project_id)

    @app.get("/data/upload/<project_id>/<name:path>")
    def serve_upload(project_id, name):
        path = uploads.path(project_id, name)
        response = bottle.static_file(path.name, root=str(path.parent),
                                      mimetype=content_type(path))
        response.set_header("Content-Security-Policy", "sandbox")
        return response

    @app.get("/api/projects/<project_id>/file-uploads")
    def list_uploads(project_id):
        """As LS: every upload of a draft project (the wizard's) or with `all`, else only
        those `ids` names ([] without it: the import page of a project starts empty)."""
        project_id = path_id(project_id, "Project")
        project, chosen = core.projects.get(project_id), None
        if not (project.get("is_draft") or parse_bool("all", query("all"), False)):
            try:
                chosen = orjson.loads(query("ids") or "[]")
                chosen = set(chosen if isinstance(chosen, list) else [chosen])
            except (orjson.JSONDecodeError, TypeError):
                raise ValidationError({"ids": ["Must be a JSON list of ids."]}) from None
        return uploads.list_json(project_id, chosen)

    @app.delete("/api/projects/<project_id>/file-uploads")
    def delete_uploads(project_id):
        project_id = path_id(project_id, "Project")
        body = read_json()
        chosen = body.get("file_upload_ids") if isinstance(body, dict) else None
        return {"deleted": uploads.delete_chosen(project_id, chosen)}

    @app.get("/api/import/file-upload/<upload_id>")
    def get_upload(upload_id):
        return uploads.as_json(path_id(upload_id, "FileUpload"))

    @app.delete("/api/import/file-upload/<upload_id>")
    def delete_upload(upload_id):
        uploads.delete_one(path_id(upload_id, "FileUpload"))


def inline_json(form):
    """`url=<JSON text>` as Label Studio takes it; fetching real URLs is not done (offline)."""
    url = form.get("url") if isinstance(form, dict) else None
    if not url:
        raise ValidationError("load_tasks: No data found in DATA or in FILES")
    try:
        return jsonload.loads(url.replace("'", '"'))
    except jsonload.TooDeep as e:
        raise ValidationError(str(e)) from None
    except orjson.JSONDecodeError:
        raise ValidationError("Importing from a URL is not available: LabelDesk makes no "
                              "network calls. Download the file and upload it instead.") \
            from None



