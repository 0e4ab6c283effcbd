"""Server-side hardening (issue 13): JSON nesting cap, odd Origin/Host values, idle and
half-sent connections, the unauthenticated config validation's size caps, GETs without side
effects, private file modes and the token kept out of the process list."""

import socket
import time

import pytest
import requests

from desktop.core import jsonload


def nested(depth, leaf="x"):
    """JSON text of `depth` containers inside each other: lists, with one object inside."""
    return "[" * (depth - 1) + '{"k": "' + leaf + '"}' + "]" * (depth - 1)


def task_nested(depth):
    """A one-task import whose task is `depth` levels deep as a whole document."""
    # [ {data: {text, deep: [[...]]}} ]: the list, the task, data, then depth - 3 more
    return '[{"data": {"text": "a", "deep": ' + nested(depth - 3) + "}}]"


# -- B. JSON nesting ------------------------------------------------------------------------

def test_depth_helper():
    assert jsonload.depth(jsonload.loads(nested(1))) == 1
    assert jsonload.depth(jsonload.loads(nested(100))) == 100
    with pytest.raises(jsonload.TooDeep):
        jsonload.loads(nested(101))
    with pytest.raises(jsonload.TooDeep):
        jsonload.loads(nested(1000))
    assert jsonload.loads(b"5") == 5 and jsonload.loads(b"[]") == []


@pytest.mark.parametrize("depth", [101, 256, 300, 1023])
def test_deep_json_body_is_a_400(api, depth):
    project = api.project()
    before = api.get(f"/api/projects/{project['id']}").json()["task_number"]
    response = api.post(f"/api/projects/{project['id']}/import", data=task_nested(depth),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert body["status_code"] == 400 and "nested deeper than 100 levels" in body["detail"]
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == before
    # any other JSON body too
    response = api.post("/api/projects", data='{"title": "deep", "x": ' + nested(depth) + "}",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nested deeper" in response.json()["detail"]


def test_json_at_the_cap_is_stored_and_exported(api):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import", data=task_nested(100),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text[:300]
    export = api.get(f"/api/projects/{project['id']}/export",
                     params={"exportType": "JSON", "download_all_tasks": "true"})
    assert export.status_code == 200
    assert jsonload.depth(export.json()) == 100
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    assert api.get(f"/api/tasks/{task['id']}").status_code == 200


@pytest.mark.parametrize("name, text", [
    ("deep.json", task_nested(300)),
    ("deep.jsonl", '{"text": "ok"}\n{"text": "b", "deep": ' + nested(300) + "}\n"),
])
def test_deep_json_file_is_a_400(api, name, text):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/import",
                        files={"file": (name, text.encode())})
    assert response.status_code == 400, response.text[:300]
    assert "nested deeper than 100 levels" in response.text
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == 0


def test_deep_result_string_is_a_400(api):
    project = api.project()
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}])
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    response = api.post(f"/api/tasks/{task['id']}/annotations",
                        json={"result": "[" + nested(300) + "]"})
    assert response.status_code == 400, response.text[:300]


# -- D(c). odd Origin, Host and Referer values: 403 or pass, never 500 ----------------------

def raw(port, headers, method="GET", path="/api/version"):
    """A request with exactly these header bytes (http.client would check or add some)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        lines = [f"{method} {path} HTTP/1.1".encode()]
        lines += [k.encode() + b": " + (v if isinstance(v, bytes) else v.encode())
                  for k, v in headers.items()]
        s.sendall(b"\r\n".join(lines) + b"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


ODD_ORIGINS = [
    "http://127.0.0.1:{port}.evil.test", "http://127.0.0.1:99999", "http://127.0.0.1:65536",
    "http://127.0.0.1:0", "http://127.0.0.1:-1", "http://127.0.0.1:+{port}",
    "http://127.0.0.1: {port}", "http://user:pw@127.0.0.1:{port}", "http://@127.0.0.1:{port}",
    "http://[::1]:{port}", "http://[::1", "http://[::1]x", "http://[fe80::1%25eth0]:{port}",
    "null", "", "http://", "http:", "//127.0.0.1:{port}", "http://127.0.0.1:{port}/path",
    "http://127.0.0.1:{port}?q", "http://127.0.0.1:{port}#f", "ftp://127.0.0.1:{port}",
    "http://12７.0.0.1:{port}".encode(), "http://xn--mnchen-3ya.de".encode(),
    "http://münchen.de:{port}".encode("utf-8"), b"http://\xff\xfe:1",
    "http://127.0.0.1:{port}" + "0" * 5000, "http://" + "a" * 8000 + ":{port}",
    "http://127.0.0.1:{port}\\@evil.test", "http://127.0.0.1:{port} http://evil.test",
]


@pytest.mark.parametrize("origin", ODD_ORIGINS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_odd_origin_is_403_or_passes(live, origin, method):
    value = origin.replace(b"{port}", str(live.port).encode()) if isinstance(origin, bytes) \
        else origin.format(port=live.port)
    status, data = raw(live.port, {"Host": f"127.0.0.1:{live.port}", "Origin": value,
                                   "Authorization": f"Token {live.token}"}, method,
                       "/api/version" if method == "GET" else "/api/projects/validate")
    assert status in (200, 204, 400, 403), (value, data[:300])
    if status == 403:
        assert b'"status_code":403' in data
    if value in (f"http://[::1]:{live.port}",):
        assert status != 403  # an IPv6 loopback origin of this port is ours


ODD_HOSTS = ["127.0.0.1:{port}.evil.test", "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:-1",
             "127.0.0.1:", "127.0.0.1:+80", "user@127.0.0.1", "[::1", "[::1]x", "::1",
             "[::1]:99999", "127.0.0.1:{port}:1", "locälhost".encode("utf-8"), b"\xff",
             "a" * 8000, "localhost." + "a" * 300, "*", "%31%32%37.0.0.1"]


@pytest.mark.parametrize("host", ODD_HOSTS)
def test_odd_host_is_403(live, host):
    value = host.replace(b"{port}", str(live.port).encode()) if isinstance(host, bytes) \
        else host.format(port=live.port)
    status, data = raw(live.port, {"Host": value})
    assert status in (400, 403), (value, data[:300])  # waitress answers a few itself: 400


@pytest.mark.parametrize("referer", ["http://evil.test/", "null", "http://127.0.0.1:99999/x",
                                     "http://[::1", "\x7f" * 3000, "http://é.test/"])
def test_odd_referer_never_500(live, referer):
    status, data = raw(live.port, {"Host": f"127.0.0.1:{live.port}",
                                   "Referer": referer.encode("utf-8")})
    assert status in (200, 400), data[:300]  # 400: waitress refuses control characters


# -- D(b). idle and half-sent connections don't stall the server ----------------------------

def test_idle_and_slowloris_connections_dont_stall(make_live):
    server = make_live()
    sockets = []
    try:
        for _ in range(150):  # idle: connected, nothing sent
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        for i in range(60):  # slowloris: headers begun, never finished
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(f"GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-{i}: a".encode())
            sockets.append(s)
        time.sleep(0.5)
        for round_ in range(3):
            started = time.monotonic()
            response = requests.get(server.url + "/api/version", timeout=10)
            assert response.status_code == 200
            assert time.monotonic() - started < 2.0, round_
            for s in sockets[150:]:  # the slow clients keep trickling
                s.sendall(b"a")
    finally:
        for s in sockets:
            s.close()


# -- D(a). the unauthenticated config validation: caps first, no quadratic path -------------

def test_config_with_60k_attributes_is_refused_fast(live):
    attrs = " ".join(f'a{i}=""' for i in range(60000))
    config = f'<View><Text name="t" value="$t" {attrs}/></View>'
    assert len(config) < 1_000_000  # under the byte cap: the attribute cap refuses it
    started = time.monotonic()
    response = live.anonymous.post("/api/projects/validate", json={"label_config": config})
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert "too many attributes" in response.json()["label_config"][0]
    assert elapsed < 1.0, elapsed  # was 21 s


def test_many_attributes_are_linear_past_the_cap():
    """The code path the cap shields is linear too (dict(attrib) was quadratic in lxml)."""
    from lxml import etree

    from desktop import labelconfig
    attrs = " ".join(f'a{i}="{i}"' for i in range(60000))
    root = etree.fromstring(f'<View><Text name="t" value="$t" {attrs}/></View>')
    started = time.monotonic()
    _, _, objects = labelconfig._parse_controls(root)
    assert time.monotonic() - started < 1.0
    assert objects["t"].attrs["a59999"] == "59999" and len(objects["t"].attrs) == 60002


def test_too_many_tags_and_index_flags_are_400s(live):
    tags = "<View>" + "<View/>" * 100_001 + "</View>"
    flags = ('<View><Text name="t" value="$t"/>'
             + "".join(f'<View indexFlag="{{{{i{i}}}}}"/>' for i in range(33))
             + "".join(f'<Choices name="c{i}" toName="t"><Choice value="a"/></Choices>'
                       for i in range(5000)) + "</View>")
    for config, message in ((tags, "too many tags"), (flags, "indexFlag")):
        started = time.monotonic()
        response = live.anonymous.post("/api/projects/validate", json={"label_config": config})
        assert response.status_code == 400 and message in response.text, response.text[:300]
        assert time.monotonic() - started < 1.0


def test_big_legit_config_still_validates(live, api):
    """A 9,000-label taxonomy (760 kB), two levels, 18,000 tags."""
    choices = "".join(f'<Choice value="label {i}" hint="h{i}" bg="#f00">'
                      f'<Choice value="sub {i}"/></Choice>' for i in range(9000))
    config = ('<View><Text name="t" value="$t" granularity="word" highlightColor="red"/>'
              f'<Taxonomy name="tx" toName="t" maxUsages="3" showFullPath="true">{choices}'
              '</Taxonomy></View>')
    started = time.monotonic()
    response = live.anonymous.post("/api/projects/validate", json={"label_config": config})
    assert response.status_code in (200, 204), response.text[:300]
    assert time.monotonic() - started < 3.0
    project = api.project(label_config=config)
    assert api.get(f"/api/projects/{project['id']}").json()["label_config"] == config


# -- C. GETs change nothing (a cross-site <img src> can send them) ---------------------------

class CountingModel:
    """A model server (LS's ML protocol, just enough of it) that counts /predict calls."""

    def __init__(self):
        import http.server
        import json
        import threading
        model = self
        self.predicts = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer({"status": "UP", "model_class": "Counting"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.startswith("/predict"):
                    model.predicts += 1
                    self.answer({"results": [{"result": [], "score": 0.5}
                                             for _ in body.get("tasks", [])]})
                else:
                    self.answer({"model_version": "v1"})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def model():
    server = CountingModel()
    yield server
    server.close()


@pytest.mark.parametrize("auth", [True, False])
def test_legacy_gets_change_nothing(make_live, model, auth):
    server = make_live(auth=auth)
    api = server.api
    first, second = api.project(title="first"), api.project(title="second")
    api.post(f"/api/projects/{second['id']}/import", json=[{"text": "a"}, {"text": "b"}])
    assert api.post("/api/ml", json={"project": second["id"], "url": model.url}).status_code \
        == 201
    assert api.post("/api/project-switch", params={"uuid": first["id"]}).status_code == 200
    client = server.api if auth else server.anonymous  # no auth: what a web page can reach

    response = client.get("/api/project-switch", params={"uuid": second["id"]})
    assert response.status_code == 405 and response.json()["status_code"] == 405
    assert api.get("/api/project").json()["id"] == first["id"]

    api.post("/api/project-switch", params={"uuid": second["id"]})
    for mode in ("all_tasks", "specific_tasks", "data"):
        response = client.get("/api/models/predictions", params={"mode": mode, "task_ids": "1,2"})
        assert response.status_code == 405
    assert model.predicts == 0
    tasks = api.get(f"/api/tasks?project={second['id']}").json()["tasks"]
    assert all(t["total_predictions"] == 0 for t in tasks)
    # POST still does it, as 0.x did
    response = api.post("/api/models/predictions", params={"mode": "all_tasks"})
    assert response.status_code == 200, response.text
    assert model.predicts >= 1


def test_get_logout_signs_no_one_out(make_live):
    server = make_live()
    ui = server.ui_url  # where a browser session lives (desktop/core/uihost.py)
    client = requests.Session()
    client.post(f"{ui}/user/login", data={"token": server.token},
                allow_redirects=False)
    page = client.get(f"{ui}/user/logout", allow_redirects=False)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert 'method="post" action="/user/logout"' in page.text
    assert "Set-Cookie" not in page.headers
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert client.get(f"{ui}/api/ui/session").json()["signed_in"] is True
    # the page's own form signs out
    out = client.post(f"{ui}/user/logout", headers={"Origin": ui},
                      allow_redirects=False)
    assert out.status_code == 303
    assert client.get(f"{ui}/api/ui/session").status_code == 401
    # a cross-site form can't
    client.post(f"{ui}/user/login", data={"token": server.token})
    refused = client.post(f"{ui}/user/logout", headers={"Origin": "http://evil.test"})
    assert refused.status_code == 403
    assert client.get(f"{ui}/api/ui/session").json()["signed_in"] is True


# -- A. the data folder is the user's alone; the token stays out of the process list --------

def mode(path):
    return path.stat().st_mode & 0o777


def test_new_data_folder_is_private(make_live):
    server = make_live(name="fresh")
    data = server.settings.data_dir
    project = server.api.project()
    response = server.api.post(f"/api/projects/{project['id']}/import",
                               files={"file": ("photo.jpg", b"\xff\xd8\xff\xe0 not really")})
    assert response.status_code == 201, response.text
    server.settings.save_file()
    assert mode(data) == 0o700
    for folder in (data / "media", data / "export", data / "media" / "upload",
                   data / "media" / "upload" / str(project["id"])):
        assert mode(folder) == 0o700, folder
    uploaded = list((data / "media" / "upload" / str(project["id"])).iterdir())
    assert uploaded and all(mode(f) == 0o600 for f in uploaded)
    assert mode(data / "settings.json") == 0o600
    for path in data.rglob("*"):  # nothing anywhere in it is readable by others
        if not path.is_symlink():
            assert mode(path) & 0o077 == 0, path


def test_loose_data_folder_is_tightened_at_start(tmp_path, make_live):
    data = tmp_path / "old"
    first = make_live(name="old")
    project = first.api.project()
    first.api.post(f"/api/projects/{project['id']}/import",
                   files={"file": ("a.jpg", b"\xff\xd8\xff\xe0 x")})
    first.close()
    # as an older LabelDesk (or a copy with cp -r) left it
    (data / "settings.json").write_text('{"auth": true}')
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    outside.chmod(0o644)
    (data / "media" / "link").symlink_to(outside)
    for path in [data, *data.rglob("*")]:
        if path.is_symlink() or path.parts[len(data.parts):][:1] == ("db",):
            continue
        path.chmod(0o755 if path.is_dir() else 0o644)
    second = make_live(name="old")
    assert second.api.get("/api/projects").json()["count"] == 1
    for path in [data, *data.rglob("*")]:
        if path.is_symlink() or path.parts[len(data.parts):][:1] == ("db",):
            continue
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert mode(outside) == 0o644  # a link's target is not ours to change


def proc_cmdline(pid):
    return open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0")


@pytest.mark.parametrize("how", ["env", "ls-env", "file"])
def test_token_given_out_of_the_process_list(serve_process, tmp_path, how):
    token = "safe-token-" + how
    args, env = [], {}
    if how == "env":
        env["LABELDESK_USER_TOKEN"] = token
    elif how == "ls-env":
        env["LABEL_STUDIO_USER_TOKEN"] = token
    else:
        secret = tmp_path / "token"
        secret.write_text(token + "\n")
        secret.chmod(0o600)
        args = ["--user-token-file", str(secret)]
    process = serve_process(tmp_path / "data", *args, env=env)
    assert process.token == token
    response = requests.get(process.url + "/api/current-user/whoami",
                            headers={"Authorization": f"Token {token}"}, timeout=10)
    assert response.status_code == 200
    assert not any(token in arg for arg in proc_cmdline(process.proc.pid))
    assert "Warning" not in "".join(process.lines)


def test_user_token_flag_still_works_with_a_warning(serve_process, tmp_path):
    process = serve_process(tmp_path / "data", "--user-token", "flag-token")
    assert process.token == "flag-token"
    assert "--user-token is visible to other users" in "".join(process.lines)


@pytest.mark.parametrize("content", ["", "two words", None])
def test_bad_token_file_is_a_clear_exit(tmp_path, content):
    import subprocess
    import sys
    secret = tmp_path / "token"
    if content is not None:
        secret.write_text(content)
    done = subprocess.run([sys.executable, "-m", "desktop", "serve", "--data-dir",
                           str(tmp_path / "data"), "--port", "0", "--user-token-file",
                           str(secret)], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and "--user-token-file" in done.stderr
    assert "Traceback" not in done.stderr
