"""The HTTP plumbing every route module shares: JSON in and out, Label Studio's error envelope,
authentication, and the guard in front of the app (loopback Host, same Origin, body size)."""

import errno
import json
import logging
import os
import socket
import ssl
import traceback
import uuid
from urllib.error import URLError
from urllib.parse import urlsplit

import bottle
import orjson
from bottle import HTTPResponse, request

from desktop import LABEL_STUDIO_COMPAT
from desktop.api import bodies
from desktop.core import jsonload
from desktop.core.errors import (
    Bare,
    LabelDeskError,
    NotFound,
    PermissionDenied,
    StorageFailed,
    ValidationError,
)

log = logging.getLogger("labeldesk.api")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
# What a disk says when it can't keep data: full, read-only, failing, not ours to write.
# Answered 507 (StorageFailed), not as a bug (docs/reliability.md).
STORAGE_ERRNOS = {getattr(errno, name) for name in StorageFailed.CAUSES if hasattr(errno, name)}
# OSErrors of the network (an ML backend, a bucket, a Label Studio server): never the disk's
NETWORK_ERRORS = (ConnectionError, TimeoutError, socket.herror, socket.gaierror, ssl.SSLError,
                  URLError)
JSON_TYPE = "application/json"
TOKEN_ONLY = ("The API token is given only to a request that sends it (Authorization: Token "
              "…), not to a browser session. The window's Settings page shows it; "
              "`labeldesk user` prints it.")


class UnsupportedMediaType(LabelDeskError):
    status = 415


def envelope(status, detail, validation_errors=None):
    body = {"id": str(uuid.uuid4()), "status_code": status, "version": LABEL_STUDIO_COMPAT,
            "detail": detail, "exc_info": None}
    if validation_errors is not None:
        body["validation_errors"] = validation_errors
    return body


def json_response(data, status=200, headers=None):
    response = HTTPResponse(body=orjson.dumps(data), status=status)
    response.set_header("Content-Type", JSON_TYPE)
    for key, value in (headers or {}).items():
        response.set_header(key, value)
    return response


def created(data):
    return json_response(data, status=201)


def no_content():
    return HTTPResponse(status=204)


def from_data_folder(error, data_dir):
    """Whether an OSError is the data folder failing (answered 507) rather than a bug or the
    network (a route that talks to a model or a bucket reports those itself).

    A file name says it: inside the data folder, or not. Without one (a write or fsync on an
    open file: the store's journal, a media or export file), the kind of error says it: full,
    read-only, I/O error, permission, and not a network error."""
    if isinstance(error, NETWORK_ERRORS):
        return False
    names = [n for n in (error.filename, error.filename2) if isinstance(n, (str, os.PathLike))]
    if names:
        root = os.path.realpath(data_dir)
        return any(_inside(os.path.realpath(n), root) for n in names)
    return error.errno in STORAGE_ERRNOS


def _inside(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def error_response(error):
    """The response for a domain error: Label Studio's envelope (or its bare exceptions)."""
    if isinstance(error, Bare):
        return json_response(error.bare, status=error.status)
    if isinstance(error, ValidationError):
        body = envelope(error.status, error.detail, error.errors)
    else:
        body = envelope(error.status, error.detail)
    headers = {"WWW-Authenticate": "Token"} if error.status == 401 else None
    return json_response(body, status=error.status, headers=headers)


# -- reading requests -----------------------------------------------------------------------

def content_type():
    return (request.content_type or "").split(";")[0].strip().lower()


def _strict_constant(name):
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def python_json_error(raw):
    """What DRF's JSONParser says of a body orjson refused: Python json's message (LS:
    "JSON parse error - Expecting value: line 1 column 1 (char 0)"), None if json takes it."""
    try:
        json.loads(raw.decode("utf-8"), parse_constant=_strict_constant)
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        return str(e)
    return None


def read_json(allow_form=True, default=None):
    """The request body as JSON (or form fields), with Label Studio's 400/415 answers."""
    kind = content_type()
    if allow_form and kind in bodies.FORM_TYPES and request.content_length > 0:
        # parsed already (bodies.py); reading it raw would put a 200 MB upload in memory
        return {key: request.forms.getunicode(key) for key in request.forms}
    raw = request.body.read()
    if not raw.strip():
        return {} if default is None else default
    if kind in ("", JSON_TYPE) or kind.endswith("+json"):
        try:
            return jsonload.loads(raw)  # nesting capped: see desktop/core/jsonload.py
        except jsonload.TooDeep as e:
            raise LabelDeskError(f"JSON parse error - {e}") from None
        except orjson.JSONDecodeError as e:
            raise LabelDeskError(f"JSON parse error - {python_json_error(raw) or e}") from None
    raise UnsupportedMediaType(f'Unsupported media type "{kind}" in request.')


def read_object(allow_form=True):
    """The request body as a JSON object; any other JSON value is DRF's 400."""
    data = read_json(allow_form=allow_form)
    if not isinstance(data, dict):
        raise ValidationError(f"Invalid data. Expected a dictionary, but got "
                              f"{type(data).__name__}.")
    return data


SLASHED = "labeldesk.slashed"  # the request's path ended in "/" (Guard takes it off)


def one_x_client():
    """The request comes from a Label Studio 1.x client: its path ended in "/" (1.x's URLs
    do; 0.8's Flask routes had none) or it carries the 1.x SDK's X-Fern-SDK-Name header. Where
    the two APIs share a route, such a request gets exactly 1.x's answer."""
    return bool(request.environ.get(SLASHED)) or "X-Fern-SDK-Name" in request.headers


def query(name, default=None):
    value = request.query.getunicode(name)
    return default if value is None else value


def query_int(name, default=None, model=None):
    value = request.query.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: ["A valid integer is required."]}) from None


def ls_int(name, default):
    """A query parameter as LS's int_from_request reads it: absent, the default; a value that
    isn't an integer, its 400 (the message a string, not a list)."""
    value = request.query.getunicode(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: f'Incorrect value in key "{name}" = "{value}". It should '
                                     "be digit string."}) from None


def path_id(value, model):
    """An id from the URL; anything that isn't one is simply not found."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound(model) from None
    if number < 1 or number > 2 ** 53:
        raise NotFound(model)
    return number


def header(key):
    """A request header as text; bytes that aren't UTF-8 (bottle's headers raise on them) are
    replaced, so a garbled credential is a 401, not a 500."""
    raw = request.environ.get(key) or ""
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


def current_user():
    return request.environ.get("labeldesk.user")


# -- the plugin wrapped around every route --------------------------------------------------

class ApiPlugin:
    """Authenticates, runs the route, turns results into JSON and errors into envelopes.

    A route declares `auth=False` in its config to be reachable without credentials.
    """

    name = "labeldesk-api"
    api = 2

    def __init__(self, core):
        self.core = core

    def authenticate(self, credentials=False):
        """The user id; `labeldesk.via` says how: "token" (a header), "session" (the UI's
        cookie) or "open" (authentication is off). A token sent wins over the cookie.

        `credentials`: the route hands out a lasting credential (the API token, a personal
        access token) or switches authentication off, so a cookie alone is refused: a cookie
        that ever leaked must not outlive its session (issue 17)."""
        environ = request.environ
        if not self.core.settings.auth:
            environ["labeldesk.via"] = "open"
            return 1
        authorization, api_key = header("HTTP_AUTHORIZATION"), header("HTTP_X_API_KEY")
        if not (authorization.strip() or api_key.strip()):
            user = self.core.sessions.user(request)
            if user is not None:
                if credentials:
                    raise PermissionDenied(TOKEN_ONLY)
                environ["labeldesk.via"] = "session"
                return user
        environ["labeldesk.via"] = "token"
        return self.core.users.authenticate(authorization, api_key)

    def apply(self, callback, route):
        needs_auth = route.config.get("auth", True)
        credentials = route.config.get("credentials", False)

        def wrapper(*args, **kwargs):
            try:
                if needs_auth:
                    request.environ["labeldesk.user"] = self.authenticate(credentials)
                else:
                    request.environ["labeldesk.user"] = 1
                # the body, spooled and its form parsed by our reader (see bodies.py)
                bodies.prepare(request.environ, self.core.settings.data_dir,
                               self.core.settings.max_body_bytes)
                result = callback(*args, **kwargs)
            except LabelDeskError as e:
                return error_response(e)
            except HTTPResponse:
                raise
            except OSError as e:
                if not from_data_folder(e, self.core.settings.data_dir):
                    return self.bug(e)
                # the store cut the failed write off and kept its state: nothing was saved
                failed = StorageFailed(e)
                log.error("%s on %s %s: %s", failed.cause, request.method, request.path, e)
                return error_response(failed)
            except Exception as e:
                return self.bug(e)
            finally:
                bodies.release(request.environ)
            if isinstance(result, (dict, list)):
                return json_response(result)
            if result is None:
                return no_content()
            return result

        return wrapper

    @staticmethod
    def bug(e):
        """An unexpected error: log it, answer 500 in the envelope, keep serving."""
        log.error("unhandled error on %s %s\n%s", request.method, request.path,
                  traceback.format_exc())
        return json_response(envelope(500, f"{type(e).__name__}: {e}"), status=500)


class App(bottle.Bottle):
    """Bottle, with every error (404, 405, ...) in Label Studio's JSON envelope."""

    def default_error_handler(self, res):
        status = res.status_code
        if status == 404:
            detail = "Not found."
        elif status == 405:
            detail = f'Method "{request.method}" not allowed.'
        elif status == 413:
            detail = "Request body is too large."
        else:
            detail = res.body if isinstance(res.body, str) else res.status_line
        bottle.response.set_header("Content-Type", JSON_TYPE)
        return orjson.dumps(envelope(status, detail))


# -- the guard: WSGI middleware in front of the app -----------------------------------------

def split_host(value):
    """A Host header (or an origin's host part) as (name, port): port None when absent; None
    for anything that is not `name[:port]` or `[ipv6][:port]` with a port of 1 to 65535 in
    ASCII digits. Never raises: odd values are refused by the caller, not answered with a 500."""
    if not value or len(value) > 300 or not value.isascii():
        return None
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    elif value.count(":") > 1:
        return None  # an IPv6 address without brackets
    else:
        name, colon, port = value.partition(":")
        port = port if colon else None
    if port is not None and not (port.isdigit() and len(port) <= 5
                                 and 1 <= int(port) <= 65535):
        return None
    return name.lower(), int(port) if port is not None else None


def origin_parts(origin):
    """An Origin header as (scheme, host name, port), the port filled in from the scheme;
    None for 'null', userinfo, a path, or anything else no browser sends as an origin."""
    if not origin or len(origin) > 300 or not origin.isascii():
        return None
    try:
        parts = urlsplit(origin)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or parts.path or parts.query or parts.fragment \
            or "@" in parts.netloc or "?" in origin or "#" in origin:
        return None
    host = split_host(parts.netloc)
    if host is None:
        return None
    name, port = host
    return scheme, name, port if port is not None else (443 if scheme == "https" else 80)


# Headers of every response (pages, API, static files, errors, 304s, downloads).
# nosniff: a browser runs as a script only what is served with a JavaScript type, never an echo
# served as text/plain (issue 13). same-origin referrers: a link or request from the UI to
# another site never names the UI's host (the name keeps its cookie from other ports, issue 17);
# not no-referrer, which would make the UI's own POSTs send `Origin: null`.
EVERY_RESPONSE = (("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"))


def with_every_response_headers(start_response):
    """start_response that adds EVERY_RESPONSE's headers, where the response has not."""
    def wrapped(status, headers, exc_info=None):
        present = {name.lower() for name, _ in headers}
        missing = [(k, v) for k, v in EVERY_RESPONSE if k.lower() not in present]
        if missing:
            headers = list(headers) + missing
        return start_response(status, headers, exc_info) if exc_info is not None \
            else start_response(status, headers)
    return wrapped


class Guard:
    """Refuses what no local client sends: a foreign Host (DNS rebinding), a cross-site Origin
    (CSRF from a web page), an oversized body. Makes trailing slashes optional.

    Ours are the loopback names and the UI's own host (`ui_host()`, desktop/core/uihost.py)."""

    def __init__(self, app, max_body_bytes, ui_host=lambda: None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.ui_host = ui_host

    def ours(self, name):
        return name in LOOPBACK_NAMES or name == self.ui_host()

    def refuse(self, start_response, status, detail):
        body = orjson.dumps(envelope(status, detail))
        reason = {403: "Forbidden", 413: "Request Entity Too Large"}[status]
        start_response(f"{status} {reason}", [("Content-Type", JSON_TYPE),
                                              ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        start_response = with_every_response_headers(start_response)
        host = environ.get("HTTP_HOST") or ""
        parts = split_host(host)
        if parts is None or not self.ours(parts[0]):
            return self.refuse(start_response, 403, f"Invalid Host header: {host!r}. "
                               "LabelDesk answers on loopback names only.")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self.same_origin(origin, environ):
            return self.refuse(start_response, 403, f"Cross-origin request refused: {origin!r}")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_body_bytes:
            return self.refuse(start_response, 413, f"Request body is too large: {length} bytes; "
                               f"the limit is {self.max_body_bytes} bytes.")
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            environ["PATH_INFO"] = path.rstrip("/") or "/"
            environ[SLASHED] = True
        return self.app(environ, start_response)

    def same_origin(self, origin, environ):
        parts = origin_parts(origin)
        if parts is None or parts[0] != "http" or not self.ours(parts[1]):
            return False
        return str(parts[2]) == str(environ.get("SERVER_PORT"))
