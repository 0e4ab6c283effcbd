"""The browser's session gives another local server nothing it can use (issue 17).

Cookies are scoped by host, not port, so a session cookie on 127.0.0.1 went to every server on
127.0.0.1 the browser visited. The UI now lives on its own host, labeldesk-<random>.localhost
(desktop/core/uihost.py; docs/adr/0007-ui-host.md): a real Chromium, signed in, visits a second
loopback server and makes a LabelDesk page load things from it; that server must receive no
LabelDesk cookie, nothing naming the UI's host, and nothing that LabelDesk accepts.
"""

import http.server
import os
import stat
import threading
import time

import pytest
import requests

from desktop.core import uihost
from uihelp import browser  # noqa: F401 - fixture

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000000500010d0a2db4"
                    "0000000049454e44ae426082")


class Recorder(http.server.BaseHTTPRequestHandler):
    """Another local server: records every request it gets, answers a page or an image."""

    hits = []

    def do_GET(self):  # noqa: N802 - http.server's name
        Recorder.hits.append({"path": self.path, "headers": dict(self.headers.items())})
        image = self.path.startswith("/img")
        body = PNG if image else b"<!doctype html><title>elsewhere</title><p>another server</p>"
        self.send_response(200)
        self.send_header("Content-Type", "image/png" if image else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other():
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def signed_in(browser, live, **options):  # noqa: F811 - fixture
    """A browser context signed in as a user does in a browser: the token, at 127.0.0.1."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(live.url + "/")
    page.fill("#token", live.token)
    page.click("button[type=submit]")
    page.wait_for_selector(".lsf-menu-header")  # Label Studio's web app, on the UI's host
    return context, page


def wait_for_hits(paths, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if set(paths) <= {hit["path"] for hit in Recorder.hits}:
            return
        time.sleep(0.05)
    raise AssertionError(f"the other server got {[h['path'] for h in Recorder.hits]}, "
                         f"not all of {paths}")


def replay(live, headers):
    """What a process holding `headers` can do with them against LabelDesk, on every host."""
    answers = []
    for base in (live.url, live.ui_url):
        for path in ("/api/current-user/token", "/api/ui/settings"):
            answers.append(requests.get(base + path, headers=headers, timeout=10).status_code)
    return answers


def visit_the_other_server(browser, live, port):  # noqa: F811 - fixture
    """Sign a browser in, make it visit the other server and a LabelDesk page load an image,
    fetch and follow a link there; the browser's session cookie. The page policy (CSP) would
    stop the subresources before they leave the page: it is bypassed, so what is proved is the
    cookie's own scope and the referrer policy."""
    elsewhere = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    context, page = signed_in(browser, live, bypass_csp=True)
    try:
        assert page.url.startswith(live.ui_url + "/")
        [session] = [c for c in context.cookies() if c["name"].startswith("labeldesk_session_")]
        visit = context.new_page()
        for base in elsewhere:  # 1. the signed-in browser visits it, by both loopback names
            visit.goto(f"{base}/visit")
        for base in elsewhere:  # 2. a LabelDesk page loads from it
            page.evaluate("""(base) => {
                const img = new Image();
                img.src = base + '/img';
                document.body.append(img);
                fetch(base + '/fetch', {mode: 'no-cors', credentials: 'include'});
            }""", base)
        wait_for_hits([f"/{kind}" for kind in ("visit", "img", "fetch")])
        page.evaluate("""(href) => {
            const a = document.createElement('a');
            a.href = href; a.id = 'away'; a.textContent = 'away';
            document.body.prepend(a);
        }""", f"{elsewhere[0]}/clicked")
        page.click("#away")  # 3. and a link on it is followed
        wait_for_hits(["/clicked"])
    finally:
        context.close()
    assert len(Recorder.hits) >= 7
    return session


def test_another_local_server_gets_nothing_it_can_use(browser, make_live, other):  # noqa: F811
    live = make_live()
    name = live.app.sessions.host
    session = visit_the_other_server(browser, live, other)
    assert session["domain"] == name
    for hit in Recorder.hits:
        headers = {k.lower(): v for k, v in hit["headers"].items()}
        assert "labeldesk_session" not in headers.get("cookie", ""), hit
        assert not any(name in value for value in headers.values()), hit  # no Referer, Origin
        assert "authorization" not in headers and "x-api-key" not in headers, hit
        # whatever it got, replayed by a local process: refused everywhere
        assert all(status in (401, 403) for status in replay(live, hit["headers"])), hit
    # the control: the browser's real cookie does work on the UI's host (so the replays above
    # mean something), yet never gives the API token itself
    cookie = {"Cookie": f"{session['name']}={session['value']}"}
    assert requests.get(f"{live.ui_url}/api/ui/settings", headers=cookie).status_code == 200
    assert requests.get(f"{live.ui_url}/api/current-user/token", headers=cookie).status_code \
        == 403
    assert requests.get(f"{live.url}/api/ui/settings", headers=cookie).status_code == 401


def test_harness_sees_the_cookie_when_the_ui_is_on_127_0_0_1(browser, make_live,  # noqa: F811
                                                              other):
    """The negative control, and the limit of a window that can't open *.localhost (it falls
    back to 127.0.0.1, docs/security.md): the other server gets the cookie and can use it,
    though still not for the API token."""
    live = make_live(ui_host="127.0.0.1")
    visit_the_other_server(browser, live, other)
    leaked = [hit for hit in Recorder.hits
              if "labeldesk_session" in hit["headers"].get("Cookie", "")]
    assert leaked
    cookie = {"Cookie": leaked[0]["headers"]["Cookie"]}
    assert requests.get(f"{live.url}/api/ui/settings", headers=cookie).status_code == 200
    assert requests.get(f"{live.url}/api/current-user/token", headers=cookie).status_code == 403


def test_the_page_policy_sends_nothing_to_another_server(browser, make_live, other):  # noqa: F811
    """With the CSP in force, a LabelDesk page's image, fetch (which would carry an Origin
    naming the UI's host) and frame never leave for another local server."""
    live = make_live()
    context, page = signed_in(browser, live)
    try:
        for base in (f"http://127.0.0.1:{other}", f"http://localhost:{other}"):
            page.evaluate("""(base) => {
                const img = new Image(); img.src = base + '/img'; document.body.append(img);
                const frame = document.createElement('iframe'); frame.src = base + '/frame';
                document.body.append(frame);
                fetch(base + '/fetch', {credentials: 'include'}).catch(() => null);
                fetch(base + '/fetch-no-cors', {mode: 'no-cors'}).catch(() => null);
            }""", base)
        time.sleep(1.5)
    finally:
        context.close()
    assert Recorder.hits == []


def test_nothing_names_the_ui_host_to_a_request_off_it(make_live):
    """A local process that asks 127.0.0.1 learns nothing it could send a browser to."""
    live = make_live()
    name = live.app.sessions.host
    answers = [requests.get(live.url + path, timeout=10) for path in
               ("/", "/user/login", "/user/logout", "/docs/api", "/api/ui/settings",
                "/static/js/login.js", "/nowhere")]
    answers.append(requests.post(live.url + "/user/login", data={"token": "wrong"},
                                 allow_redirects=False))
    answers.append(requests.post(live.url + "/api/ui/session", json={"secret": "x"}))
    for response in answers:
        assert name not in response.text and name not in str(response.headers), response.url
    # a token holder may be told: signing in at 127.0.0.1 leads to the UI's host
    told = requests.post(live.url + "/user/login", data={"token": live.token},
                         allow_redirects=False)
    assert name in told.headers["Refresh"]
    assert requests.get(live.url + "/api/ui/settings",
                        headers={"Authorization": f"Token {live.token}"}).json()["api_url"] \
        == live.url  # scripts are pointed at 127.0.0.1


def test_every_response_keeps_referrers_same_origin(live):
    for path in ("/", "/api/version", "/static/js/main.js", "/nowhere"):
        assert requests.get(live.url + path).headers["Referrer-Policy"] == "same-origin", path


def test_the_ui_host_is_unguessable_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("LABELDESK_CONFIG_DIR", str(tmp_path / "config"))
    first = uihost.ui_host()
    assert uihost.NAME.fullmatch(first) and len(first.split("-")[1].split(".")[0]) * 4 >= 80
    assert uihost.ui_host() == first  # kept: browser sessions outlive a restart
    path = tmp_path / "config" / uihost.FILE_NAME
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("LABELDESK_CONFIG_DIR", str(tmp_path / "another install"))
    assert uihost.ui_host() != first
    path.write_text("evil.example\n")  # a name that isn't ours is replaced
    monkeypatch.setenv("LABELDESK_CONFIG_DIR", str(tmp_path / "config"))
    assert uihost.NAME.fullmatch(uihost.ui_host())


def test_the_window_uses_the_ui_host_where_its_engine_resolves_it():
    name = uihost.make_name()
    assert uihost.window_host("qt", name) == name  # Chromium's own resolver (test_window.py)
    assert uihost.window_host("cocoa", "labeldesk-0.invalid") == "127.0.0.1"
