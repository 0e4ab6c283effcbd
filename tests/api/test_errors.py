"""Error answers: bad JSON, media types, wrong types, unknown ids and routes, methods, body
size, hostile label configs, and a sweep of every route with garbage that must never be a 500."""

import re
import socket

import pytest
import requests

from datahelp import LABEL_CONFIG


def envelope(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status and body["version"] == "1.23.2"
    assert set(body) >= {"id", "status_code", "version", "detail", "exc_info"}
    return body


# -- request bodies --------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"{bad", b"{'single': 1}", b'{"a": 1,}', b"nul", b"\xff\xfe"])
def test_malformed_json(api, raw):
    response = api.post("/api/projects", data=raw, headers={"Content-Type": "application/json"})
    body = envelope(response, 400)
    assert body["detail"].startswith("JSON parse error - ")


def test_malformed_json_on_patch(api):
    project = api.project()
    response = api.patch(f"/api/projects/{project['id']}", data=b"[1,",
                         headers={"Content-Type": "application/json; charset=utf-8"})
    assert envelope(response, 400)["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize("raw, detail", [
    (b"{bad", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b"[1,", "Expecting value: line 1 column 4 (char 3)"),
    (b'{"a": 1} x', "Extra data: line 1 column 10 (char 9)")])
def test_json_parse_errors_in_python_json_words(api, raw, detail):
    """LS (DRF's JSONParser) words them as Python's json module does."""
    response = api.post("/api/projects", data=raw, headers={"Content-Type": "application/json"})
    assert envelope(response, 400)["detail"] == f"JSON parse error - {detail}"


@pytest.mark.parametrize("kind", ["text/plain", "application/xml", "image/png"])
def test_unsupported_media_type(api, kind):
    response = api.post("/api/projects", data=b'{"title": "abc"}', headers={"Content-Type": kind})
    body = envelope(response, 415)
    assert body["detail"] == f'Unsupported media type "{kind}" in request.'


def test_wrong_types_are_validation_errors(api):
    body = envelope(api.post("/api/projects", json={"title": ["x"], "is_draft": "perhaps",
                                                    "maximum_annotations": {}}), 400)
    assert body["detail"] == "Validation error"
    assert set(body["validation_errors"]) == {"title", "is_draft", "maximum_annotations"}
    for value in ([], "text", 5, None, True):
        response = api.post("/api/projects", json=value)
        if value is None:
            assert response.status_code in (201, 400)
            continue
        body = envelope(response, 400)
        assert "non_field_errors" in body["validation_errors"]


# -- unknown things --------------------------------------------------------------------------

@pytest.mark.parametrize("project_id", ["999999", "abc", "-1", "0", "1.5", "1e3",
                                        "99999999999999999999999999", "%20", "0x10"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_project_ids(api, project_id, method):
    response = api.request(method, f"/api/projects/{project_id}", json={"title": "abcd"})
    body = envelope(response, 404)
    assert body["detail"] == "No Project matches the given query."


def test_unknown_user_ids(api):
    for user_id in ("424242", "x", "-3", "9" * 30):
        assert envelope(api.get(f"/api/users/{user_id}"), 404)["detail"] == \
            "No User matches the given query."


@pytest.mark.parametrize("path", ["/api/nope", "/api/projects/1/nope", "/nothing/here",
                                  "/api/projects/1/import/x/y", "/api/current-user/nope"])
def test_unknown_route_is_a_json_404(api, path):
    body = envelope(api.get(path), 404)
    assert body["detail"] == "Not found."
    envelope(api.post(path, json={}), 404)


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/api/projects"), ("PUT", "/api/version"), ("DELETE", "/api/version"),
    ("POST", "/api/health"), ("GET", "/api/token/refresh"), ("PATCH", "/api/users"),
])
def test_method_not_allowed(api, method, path):
    response = api.request(method, path, json={})
    body = envelope(response, 405)
    assert body["detail"] == f'Method "{method}" not allowed.'
    assert "Allow" in response.headers


def test_error_ids_are_unique(api):
    first = api.get("/api/projects/999999").json()["id"]
    second = api.get("/api/projects/999999").json()["id"]
    assert first != second


# -- body size -------------------------------------------------------------------------------

def test_body_over_the_limit_is_413(make_live):
    server = make_live(max_body_bytes=1000, fsync=False)
    small = server.api.post("/api/projects", json={"title": "fits", "description": "x" * 500})
    assert small.status_code == 201
    big = server.api.post("/api/projects", json={"title": "too big", "description": "x" * 2000})
    body = envelope(big, 413)
    assert "1000" in body["detail"]
    assert server.api.get("/api/projects").json()["count"] == 1
    # the limit holds for a chunked body (no Content-Length) too
    def body_chunks():
        yield b'{"title": "chunked", "description": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    chunked = server.api.post("/api/projects", data=body_chunks(),
                              headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413, chunked.text
    assert server.api.get("/api/projects").json()["count"] == 1


# -- hostile label configs -------------------------------------------------------------------

XXE = ('<?xml version="1.0"?><!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<View><Header value="&xxe;"/><Text name="t" value="$t"/></View>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} '
                    f'"{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10))
          + ']><View><Header value="&lol9;"/><Text name="t" value="$t"/></View>')
HUGE = "<View>" + '<Text name="t" value="$t"/>' + "<!--" + "x" * (50 * 1024 * 1024) + "--></View>"
DEEP = "<View>" * 3000 + '<Text name="t" value="$t"/>' + "</View>" * 3000


@pytest.mark.parametrize("name", ["xxe", "laughs", "huge", "deep"])
def test_hostile_configs_are_clear_400s(api, live, name):
    config = {"xxe": XXE, "laughs": LAUGHS, "huge": HUGE, "deep": DEEP}[name]
    created = api.post("/api/projects", json={"title": "hostile", "label_config": config},
                       timeout=60)
    body = envelope(created, 400)
    messages = body["validation_errors"]["label_config"]
    assert messages and all(isinstance(m, str) and m for m in messages)
    if name in ("xxe", "laughs"):
        assert "DTD" in messages[0] or "entit" in messages[0].lower()
    if name == "huge":
        assert "too large" in messages[0]
    assert "root:" not in str(body)  # /etc/passwd was not read

    validated = live.anonymous.post("/api/projects/validate", json={"label_config": config},
                                    timeout=60)
    assert validated.status_code == 400
    assert validated.json()["label_config"]

    if name == "huge":
        return  # 50 MB twice is enough; the per-project paths share the same check
    project = api.project()
    for method, path in (("PATCH", f"/api/projects/{project['id']}"),
                         ("POST", f"/api/projects/{project['id']}/validate")):
        response = api.request(method, path, json={"label_config": config}, timeout=60)
        assert response.status_code == 400, (method, response.text[:500])
        assert "root:" not in response.text
    assert api.get(f"/api/projects/{project['id']}").json()["label_config"] == LABEL_CONFIG


# -- the sweep -------------------------------------------------------------------------------

GARBAGE_IDS = ["abc", "-1", "0", "99999999999999999999", "1.5", "%FF", "null"]
GARBAGE_BODIES = [
    (b"{", "application/json"),
    (b"[]", "application/json"),
    (b'"text"', "application/json"),
    (b"123", "application/json"),
    (b"null", "application/json"),
    (b'{"title": [], "label_config": 5, "refresh": [], "custom_hotkeys": 1, "email": 3,'
     b' "project": "x", "data": 7, "result": "no", "task": {}, "ids": "x"}', "application/json"),
    (b'{"refresh": "a.b.c", "label_config": "<View", "id": -1, "page": "x"}', "application/json"),
    (b"\x00\xff", "text/plain"),
    (b"a=1&b=2", "application/x-www-form-urlencoded"),
]
QUERY_GARBAGE = "?page=-1&page_size=x&ids=a,b&ordering=nope&project=x&include=zz"


def route_paths(app):
    for route in app.routes:
        yield route.method, route.rule


def fill(rule, value):
    return re.sub(r"<[^>]+>", value, rule)


def test_no_route_answers_500_to_garbage(make_live):
    server = make_live(fsync=False)
    project = server.api.project()  # id 1: garbage bodies get past the id lookup
    assert project["id"] == 1
    app = server.app.wsgi.app
    session = requests.Session()
    failures = []
    routes = sorted(set(route_paths(app)))
    assert len(routes) >= 20

    def send(method, path, raw=None, kind=None):
        # the sweep may reset the token itself: always send the current one
        session.headers["Authorization"] = f"Token {server.app.users.get(1)['token']}"
        headers = {"Content-Type": kind} if kind else {}
        response = session.request(method, server.url + path, data=raw, headers=headers,
                                   timeout=30)
        if response.status_code >= 500:
            failures.append((method, path, raw, response.status_code, response.text[:300]))

    for method, rule in routes:
        writes = method in ("POST", "PATCH", "PUT")
        has_id = "<" in rule
        # a real id (never deleted, so the later routes still find it) with every bad body
        if not has_id or method != "DELETE":
            path = fill(rule, "1")
            for raw, kind in (GARBAGE_BODIES if writes else [(None, None)]):
                send(method, path, raw, kind)
            send(method, path + QUERY_GARBAGE, *GARBAGE_BODIES[5] if writes else ())
        # garbage ids, with a body that is wrong in every field
        if has_id:
            for garbage_id in GARBAGE_IDS:
                send(method, fill(rule, garbage_id), *GARBAGE_BODIES[5] if writes else ())
    assert not failures, "\n".join(map(repr, failures[:30]))


def test_server_survives_a_raw_garbage_request(live):
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01garbage that is not http\r\n\r\n")
        sock.recv(1024)
    assert live.anonymous.get("/health").status_code == 200
