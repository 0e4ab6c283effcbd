"""/api/schema and /docs/api: LabelDesk's OpenAPI 3.1 description, built from the data in
desktop/api/openapi_spec.py.

`/api/schema` serves it (no auth, like Label Studio's /docs/api/schema) and `/docs/api` shows it
with a small viewer from desktop/ui/ (apidocs.html, js/apidocs.js: no CDN). route_table and
spec_table are what tests/api/test_api_schema.py compares to keep the spec and the routes equal.
"""

import copy
import re

from desktop import LABEL_STUDIO_COMPAT, __version__
from desktop.api.openapi_spec import (
    DESCRIPTION,
    ID,
    JSON_OR_FORM,
    OBJ,
    OPERATIONS,
    PATH,
    QUERY,
    SCHEMAS,
    STR,
    obj,
    ref,
)
from desktop.api.web import json_response


def _schema(value):
    return ref(value) if isinstance(value, str) else copy.deepcopy(value)


def _request_body(body, files):
    if body is None:
        return None
    if body == "zip":
        content = {"application/zip": {"schema": {"type": "string", "format": "binary"}},
                   "multipart/form-data": {"schema": obj({"file": {
                       "type": "string", "format": "binary"}, "title": STR}, ["file"])}}
    elif body == "form":
        content = {"application/x-www-form-urlencoded": {"schema": obj({"token": STR},
                                                                       ["token"])}}
    elif body == JSON_OR_FORM:
        content = {"application/json": {"schema": OBJ},
                   "application/x-www-form-urlencoded": {"schema": OBJ}}
    else:
        content = {"application/json": {"schema": _schema(body)}}
    if files:
        content["multipart/form-data"] = {"schema": obj(
            {"file": {"type": "string", "format": "binary"}},
            description="One or more files, any field names")}
    return {"required": False, "content": content}


def _operation(method, path, tag, summary, options):
    operation = {"tags": [tag], "summary": summary,
                 "operationId": _operation_id(method, path)}
    params = [{"name": name, "in": "path", "required": True,
               "schema": copy.deepcopy(PATH.get(name, ID))}
              for name in re.findall(r"{(\w+)}", path)]
    params += [{"name": name, "in": "query", "required": False,
                "schema": copy.deepcopy(QUERY[name])} for name in options.get("q", ())]
    if params:
        operation["parameters"] = params
    body = _request_body(options.get("body"), options.get("files"))
    if body:
        operation["requestBody"] = body
    status, schema, *media = options["ok"]
    answer = {"description": "OK" if status < 300 else "Redirect"}
    if schema is not None:
        answer["content"] = {"application/json": {"schema": _schema(schema)}}
    elif media:
        answer["content"] = {media[0]: {"schema": {"type": "string", "format": "binary"}}}
    bare = options.get("bare")
    error = ref("FieldErrors") if bare is True else {} if bare == "any" else ref("Error")
    responses = {str(status): answer,
                 # other success statuses with the same body (a reimport naming no file: 200)
                 **{str(other): answer for other in options.get("also", ())},
                 "default": {"description": "An error" + (
                     " (bare, no envelope, for some answers)" if options.get("bare") else ""),
                     "content": {"application/json": {"schema": {
                         "anyOf": [ref("Error"), error]} if options.get("bare") else error}}}}
    operation["responses"] = responses
    if options.get("auth", True) is False:
        operation["security"] = []
    return operation


def _operation_id(method, path):
    words = re.sub(r"[{}]", "", path).strip("/").replace("-", "_").replace("/", "_") or "root"
    return f"{method.lower()}_{re.sub(r'[^A-Za-z0-9_]', '_', words)}"


def build():
    """The OpenAPI document, a fresh dict each call."""
    paths = {}
    for methods, path, tag, summary, options in OPERATIONS:
        for method in methods.split():
            entry = paths.setdefault(path, {})
            if method.lower() in entry:
                raise ValueError(f"{method} {path} is listed twice")
            entry[method.lower()] = _operation(method, path, tag, summary, options)
    return {
        "openapi": "3.1.0",
        "info": {"title": "LabelDesk API", "version": __version__,
                 "description": DESCRIPTION,
                 "x-label-studio-version": LABEL_STUDIO_COMPAT,
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "servers": [{"url": "/"}],
        "security": [{"Token": []}, {"Bearer": []}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "Token": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "`Token <legacy token>`"},
                "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "An access token from POST /api/token/refresh"},
            },
        },
    }


def openapi_path(rule):
    """A Bottle rule in OpenAPI's form: `/a/<id>/<name:path>` -> `/a/{id}/{name}`."""
    return re.sub(r"<(\w+)(?::[^>]*)?>", r"{\1}", rule)


def route_table(app):
    """{(METHOD, OpenAPI path)} of a Bottle app's routes."""
    return {(route.method.upper(), openapi_path(route.rule)) for route in app.routes}


def spec_table(spec):
    return {(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in ("get", "put", "post", "patch", "delete")}


def install(app, core):
    document = build()

    @app.get("/api/schema", auth=False)
    def schema():
        response = json_response(document)
        response.set_header("Cache-Control", "no-cache")
        return response

    @app.get("/docs/api", auth=False)
    def docs():
        from desktop.api.ui import page
        return page("apidocs.html")
