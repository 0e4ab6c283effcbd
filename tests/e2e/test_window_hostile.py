"""The real window (Xvfb, pywebview on Qt WebEngine) never hands the OS to web content.

A project's HyperText task carries hostile payloads (a meta refresh to another site, svg and
script, img onerror calling pywebview.api and _jsApiCallback with dotted names that led to
os.system). Whether or not the page's own sanitizing stops them, the window must on its own:
tests/helpers/hostile_driver.py runs `labeldesk start` and then attacks from inside the page with
window.evaluate_js (dotted names through pywebview and straight through Qt's web channel, the
public functions with paths nobody picked, script and meta-refresh navigations elsewhere),
and clicks a link for real. Nothing reaches the OS, no request leaves for the other site, the
window stays on our page, and a clicked link opens in the system browser instead.
"""

import http.server
import json
import os
import subprocess
import sys
import threading
import time

from desktop.core.settings import Settings
from desktop.shell.app import LabelDesk
from desktop.shell.window import is_ours, navigation_verdict
from paths import HELPERS
from windowhelp import display  # noqa: F401 - the Xvfb fixture

CONFIG = """<View><HyperText name="page" value="$html" inline="true"/>
<Choices name="verdict" toName="page"><Choice value="Fine"/></Choices></View>"""


def hostile_html(other, marker, secret):
    call = ("pywebview._jsApiCallback('_window.gui.os.system', ['touch %s'], 'x');"
            "pywebview.api.import_paths(1, ['%s'])" % (marker, secret))
    return (f'<h1>Hostile task</h1><meta http-equiv="refresh" content="0;url={other}/meta">'
            f'<svg onload="{call}"><script>{call}</script></svg>'
            f'<script>{call}; location = "{other}/script"</script>'
            f'<img src="/nothing.png" onerror="{call}">'
            f'<iframe src="{other}/frame"></iframe>'
            f'<a href="{other}/link">a link</a>')


class Recorder(http.server.BaseHTTPRequestHandler):
    """The "other site": records every request that reaches it (none may)."""
    hits = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<h1>elsewhere</h1>")

    do_POST = do_GET

    def log_message(self, *args):
        pass


def test_navigation_verdicts():
    origin = "http://127.0.0.1:8080"
    assert is_ours("http://127.0.0.1:8080/#secret=x", origin)
    assert is_ours("http://127.0.0.1:8080/?reopened=1#/projects", origin)
    for url in ("http://127.0.0.1:8080/data/upload/1/x.html", "http://127.0.0.1:8081/",
                "http://localhost:8080/", "https://127.0.0.1:8080/", "http://u@127.0.0.1:8080/",
                "file:///etc/passwd", "data:text/html,x", "javascript:alert(1)", "about:blank",
                "", None, "http://[::1/"):
        assert not is_ours(url, origin), url
    assert navigation_verdict("http://127.0.0.1:8080/", origin, False) == "load"
    assert navigation_verdict("https://example.com/", origin, True) == "browser"
    for url in ("https://example.com/", "http://localhost:9/x"):
        assert navigation_verdict(url, origin, False) == "refuse"  # meta refresh, script
    for url in ("file:///etc/passwd", "data:text/html,x", "javascript:alert(1)", "ftp://x/",
                "mailto:a@b", "http:///nohost"):
        assert navigation_verdict(url, origin, True) == "refuse", url
    # our server, but not one of our pages (an uploaded .html): never in the window
    assert navigation_verdict("http://127.0.0.1:8080/data/upload/1/x.html", origin,
                              False) == "refuse"


def test_hostile_task_in_the_real_window(display, tmp_path):  # noqa: F811
    started = time.monotonic()
    Recorder.hits = []
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    other_url = f"http://localhost:{other.server_port}"
    marker, secret = tmp_path / "marker", tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENTS\n")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> {opened}\n')
    browser.chmod(0o755)

    data = tmp_path / "data"
    app = LabelDesk(Settings(data_dir=data))
    project_id = app.projects.create({"title": "Hostile", "label_config": CONFIG}, 1)
    app.tasks.create(project_id, {"html": hostile_html(other_url, marker, secret)})
    token = app.users.get(1)["token"]
    app.close()
    results = tmp_path / "results.json"
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "BROWSER": str(browser)}
    env.pop("WAYLAND_DISPLAY", None)
    driver = HELPERS / "hostile_driver.py"
    try:
        out = subprocess.run([sys.executable, str(driver), str(data), str(results), str(marker),
                              str(secret), str(project_id), str(other.server_port), display],
                             env=env, capture_output=True, text=True, timeout=240)
    finally:
        other.shutdown()
    output = out.stdout + out.stderr
    found = json.loads(results.read_text())
    seconds = time.monotonic() - started
    print(f"hostile window test: {seconds:.1f} s")
    assert not marker.exists()  # no dotted name reached os.system
    assert Recorder.hits == []  # no request left for the other site
    assert "failure" not in found, found.get("failure", "") + output[-3000:]
    assert out.returncode == 0, output[-3000:]

    for name in ("_window.gui.os.system", "__class__.__init__.__globals__", "os.system"):
        assert f"Function {name}() does not exist" in output
    api = found["api"]
    assert api["desktop"]["ok"]["desktop"] is True  # the public functions do work
    for key in ("import", "open", "reveal"):
        assert "refused" in api[key]["error"], api
        assert "SECRET-CONTENTS" not in api[key]["error"]

    origin = output.split("The window shows ", 1)[1].split()[0]  # the UI's own host
    for state in (found["after_payloads"], found["after_navigations"], found["after_clicks"]):
        assert is_ours(state["url"], origin), state
        assert state["path"] == f"/projects/{project_id}/data" and state["hostile_text"]
    for step in found["steps"]:
        assert is_ours(step["url"], origin), step
    assert found["shot"]["colours"] > 40, found["shot"]  # the app drawn, not a blank page
    assert found["settings_token"] == token  # through the bridge: the window needs no sign-in
    # a real click on an external link: the system browser, never the window
    assert opened.read_text().split() == [f"{other_url}/clicked", f"{other_url}/clicked_blank"]
    assert "refused to show" in output
