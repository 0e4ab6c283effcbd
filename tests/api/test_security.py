"""What keeps other machines and web pages out: loopback-only socket, Host and Origin checks."""

import http.client
import json
import os
import re
import socket
from urllib.parse import quote, urlencode

import pytest


def raw_request(live, method, path, headers, body=b""):
    """A request with exactly these headers (requests would fill in Host itself)."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        connection.putheader(key, value)
    if body:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body or None)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


@pytest.mark.parametrize("host", ["evil.com", "127.0.0.1.evil.com", "evil.com:80",
                                  "localhost.evil.com", "127.0.0.2", "0.0.0.0", "[::2]",
                                  "192.168.1.1:8080", ""])
def test_foreign_host_is_refused(live, host):
    for path in ("/api/projects", "/api/version", "/health"):
        status, data = raw_request(live, "GET", path, {"Host": host,
                                                       "Authorization": f"Token {live.token}"})
        assert status == 403, (host, path, data)
        assert b"Host" in data


def test_missing_host_is_refused(live):
    status, _ = raw_request(live, "GET", "/api/version", {})
    assert status == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_loopback_hosts_pass(live, host):
    for value in (host, f"{host}:{live.port}"):
        status, data = raw_request(live, "GET", "/api/version", {"Host": value})
        assert status == 200, (value, data)


def test_host_check_covers_writes(live):
    status, _ = raw_request(live, "POST", "/api/projects",
                            {"Host": "evil.com", "Authorization": f"Token {live.token}",
                             "Content-Type": "application/json"}, b'{"title": "rebound"}')
    assert status == 403
    titles = [p["title"] for p in live.api.get("/api/projects?page_size=100").json()["results"]]
    assert "rebound" not in titles


@pytest.mark.parametrize("origin", ["http://evil.com", "https://127.0.0.1", "null",
                                    "http://127.0.0.1.evil.com", "http://localhost:1",
                                    "file://", "http://evil.com:{port}"])
def test_cross_site_origin_is_refused(live, origin):
    origin = origin.format(port=live.port)
    before = live.api.get("/api/projects").json()["count"]
    response = live.api.post("/api/projects", json={"title": "csrf"},
                             headers={"Origin": origin})
    assert response.status_code == 403, response.text
    assert response.json()["status_code"] == 403
    assert live.api.get("/api/projects").json()["count"] == before
    # the unauthenticated endpoint and reads are guarded too
    assert live.anonymous.post("/api/projects/validate", json={"label_config": "<View/>"},
                               headers={"Origin": origin}).status_code == 403
    assert live.api.get("/api/current-user/token",
                        headers={"Origin": origin}).status_code == 403


def test_same_origin_passes(live):
    for origin in (f"http://127.0.0.1:{live.port}", f"http://localhost:{live.port}"):
        response = live.api.post("/api/projects", json={"title": "same origin"},
                                 headers={"Origin": origin})
        assert response.status_code == 201, (origin, response.text)


def test_socket_is_bound_to_loopback_only(live):
    assert live.server.server.socket.getsockname()[0] == "127.0.0.1"
    if not os.path.exists("/proc/net/tcp"):
        return  # not Linux: the socket's own answer above has to do
    # the kernel's view: the listening socket's local address is 127.0.0.1
    wanted = f":{int(live.port):04X}"
    with open("/proc/net/tcp") as table:
        listening = [line.split() for line in table if " 0A " in line]
    mine = [row[1] for row in listening if row[1].endswith(wanted)]
    assert mine == ["0100007F" + wanted]
    try:
        with open("/proc/net/tcp6") as table:
            assert not any(line.split()[1].endswith(wanted) and " 0A " in line for line in table)
    except FileNotFoundError:
        pass


def non_loopback_address():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.123", 9))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_not_reachable_on_other_addresses(live):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(OSError):
        socket.create_connection((address, live.port), timeout=3).close()
    socket.create_connection(("127.0.0.1", live.port), timeout=3).close()


def test_child_server_is_loopback_only(serve_process, tmp_path):
    process = serve_process(tmp_path / "data")
    port = int(process.url.rsplit(":", 1)[1])
    assert process.url.startswith("http://127.0.0.1:")
    address = non_loopback_address()
    if address is not None:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=3).close()
    assert process.api.get("/api/version").status_code == 200


def test_error_pages_leak_no_traceback(live):
    response = live.api.get("/api/projects/abc")
    assert "Traceback" not in response.text and "File \"" not in response.text


def test_tokens_are_not_in_project_answers(live):
    project = live.api.project()
    assert live.token not in live.api.get(f"/api/projects/{project['id']}").text
    assert live.token not in live.api.get("/api/users").text
    assert live.token not in live.api.get("/api/current-user/whoami").text


# -- issue 13: hostile data can't become a script in our pages ---------------------------------

MARKER = "ld13marker();//"
# A config whose JSON comment makes the sample data exactly MARKER (ref. §10: the comment
# overrides the generated data): what the attack used to get JS echoed back.
ECHO_CONFIG = ('<!-- {"data": {"x": "%s"}} --><View><HyperText name="h" value="$x"/></View>'
               % MARKER)
SCRIPT_TYPES = ("javascript", "ecmascript", "html", "xml", "svg")


def raw_response(live, method, path, headers=None):
    """(status, headers as a lower-cased dict, body) of a request with exactly these headers."""
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in {"Host": f"127.0.0.1:{live.port}", **(headers or {})}.items():
        connection.putheader(key, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_every_response_is_nosniff(live, tmp_path):
    """API answers, errors of every layer, pages, static files, 304s, downloads, uploads."""
    token = {"Authorization": f"Token {live.token}"}
    project = live.api.project(title="nosniff")
    upload = live.api.post(f"/api/projects/{project['id']}/import",
                           files={"file": ("a.txt", b"hello\n")}).json()
    assert upload.get("task_count") == 1, upload
    task = live.api.get(f"/api/projects/{project['id']}/tasks").json()[0]
    _, first, _ = raw_response(live, "GET", "/static/js/main.js")
    cases = [
        ("GET", "/api/version", {}, 200),
        ("GET", "/api/projects", token, 200),
        ("GET", "/api/projects", {}, 401),
        ("GET", "/api/projects/999999", token, 404),
        ("GET", "/no/such/route", {}, 404),
        ("PUT", "/api/version", {}, 405),
        ("GET", "/api/version", {"Host": "evil.com"}, 403),
        ("GET", "/api/version", {"Origin": "http://evil.com"}, 403),
        ("DELETE", f"/api/tasks/{task['id']}/annotations/999999", token, 404),
        ("GET", "/", {}, 200),
        ("GET", "/docs/api", {}, 200),
        ("GET", "/user/logout", {}, 200),
        ("GET", "/static/js/main.js", {}, 200),
        ("GET", "/static/js/main.js", {"If-Modified-Since": first["last-modified"]}, 304),
        ("GET", "/static/editor/main.js", {}, 404),  # editor 1.13.1 is gone (ADR 0009)
        ("GET", "/static/fonts/Figtree-Regular.ttf", {}, 200),
        ("GET", "/static/dompurify/purify.es.mjs", {}, 200),
        ("GET", "/static/js/../../app.py", {}, 403),
        ("GET", "/favicon.ico", {}, 200),
        ("GET", "/api/import-example-file?q=txt&label_config=" + quote(ECHO_CONFIG), token, 200),
        ("GET", f"/api/projects/{project['id']}/export?exportType=JSON", token, 200),
        ("GET", f"/data/upload/{project['id']}/nothing-here.txt", token, 404),
    ]
    for method, path, headers, status in cases:
        got, answer, _ = raw_response(live, method, path, headers)
        assert got == status, (method, path, got)
        assert answer.get("x-content-type-options") == "nosniff", (method, path, answer)


def test_import_example_file_is_never_a_script(live):
    """0.9's shape (two copies of the sample, every q=) as a download that no page can run,
    render or sniff: the echo of ?label_config= stays a file."""
    base = "/api/import-example-file?label_config=" + quote(ECHO_CONFIG)
    for kind, type_ in (("json", "application/json"), ("csv", "text/csv"),
                        ("tsv", "text/tab-separated-values"), ("txt", "text/plain")):
        for raw in ("", "&raw=1"):
            status, headers, body = raw_response(
                live, "GET", f"{base}&q={kind}{raw}", {"Authorization": f"Token {live.token}"})
            assert status == 200, (kind, raw, body)
            assert headers["content-type"].split(";")[0] == type_
            assert headers["content-disposition"].startswith("attachment; filename=sample-")
            assert headers["content-disposition"].endswith(f".{kind}")
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["content-security-policy"] == "sandbox"
            assert body.count(MARKER.encode()) == 2  # the legitimate shape: two copies
    assert json.loads(raw_response(live, "GET", base + "&q=json", {
        "Authorization": f"Token {live.token}"})[2]) == [{"x": MARKER}, {"x": MARKER}]


def route_paths(live):
    """Every GET route of the app, with 1 in each path parameter."""
    paths = set()
    for route in live.app.wsgi.app.routes:
        if route.method in ("GET", "ANY"):
            paths.add(re.sub(r"<[^>]+>", "1", route.rule))
    return sorted(paths)


def test_no_route_echoes_input_as_something_a_page_could_run(live):
    """Every GET route, fed MARKER in every query parameter our routes read: where the
    answer carries MARKER back, it is JSON, or a sandboxed download, always nosniff."""
    project = live.api.project(title="echo", label_config=ECHO_CONFIG)
    live.api.post(f"/api/projects/{project['id']}/import", json=[{"x": MARKER}])
    names = ("q", "label_config", "config", "d", "fileuri", "format", "exportType", "search",
             "query", "filters", "title", "ids", "fields", "view", "project", "uuid", "name",
             "path", "url", "callback", "jsonp", "next", "redirect", "error")
    echoed = []
    for path in route_paths(live):
        for params in ({n: MARKER for n in names}, {"label_config": ECHO_CONFIG, "q": "txt"}):
            for auth in ({"Authorization": f"Token {live.token}"}, {}):
                status, headers, body = raw_response(
                    live, "GET", f"{path}?{urlencode(params)}", auth)
                assert headers.get("x-content-type-options") == "nosniff", path
                assert not 300 <= status < 400 or status == 304 or not path.startswith(
                    "/static/"), path
                if MARKER.encode() not in body:
                    continue
                echoed.append(path)
                kind = headers.get("content-type", "").split(";")[0].strip().lower()
                if kind == "application/json":
                    continue
                assert headers.get("content-disposition", "").startswith("attachment"), path
                assert headers.get("content-security-policy") == "sandbox", path
                assert not any(word in kind for word in SCRIPT_TYPES), (path, kind)
    assert "/api/import-example-file" in echoed  # the test reached the route that echoes


def test_script_paths_serve_files_only(live):
    """The paths script-src allows serve the files on disk and nothing else: no route under
    them reflects input (a query, a traversal) and none redirects (CSP ignores the path of a
    redirect's target)."""
    from desktop.api.ui import SCRIPT_PATHS
    tries = ["x.js?%s" % quote(MARKER), quote(MARKER), "..%2f..%2fapi%2fversion",
             "../../api/import-example-file?q=txt", "%2e%2e/%2e%2e/api/version", "", "nope/",
             "..%5c..%5capi%5cversion", "main.js/" + quote(MARKER)]
    for prefix in SCRIPT_PATHS:
        for rest in tries:
            status, headers, body = raw_response(live, "GET", prefix + rest)
            assert status in (200, 304, 403, 404), (prefix, rest, status)
            assert MARKER.encode() not in body, (prefix, rest)
            assert b'"status"' not in body or status != 200, (prefix, rest)  # no API answer
            assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/desktop", "/docs/api", "/user/logout", "/?login"])
def test_every_page_has_the_path_scoped_csp(make_live, path):
    server = make_live(auth=path == "/?login", fsync=False)
    status, headers, body = raw_response(server, "GET", path)
    assert status == 200 and headers["content-type"].startswith("text/html")
    policy = dict((d.strip().split(" ", 1) + [""])[:2]
                  for d in headers["content-security-policy"].split(";"))
    origin = f"http://127.0.0.1:{server.port}"
    assert policy["script-src"].split() == [f"{origin}/static/js/", f"{origin}/static/dompurify/",
                                            f"{origin}/react-app/", "'unsafe-eval'"]
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert headers["x-content-type-options"] == "nosniff"
    # every script the page names is under an allowed path
    for src in re.findall(rb'<script[^>]*src="([^"]+)"', body):
        assert any(src.decode().startswith(p) for p in ("/static/js/", "/react-app/")), src
