"""`labeldesk start` as a person runs it: a real pywebview window (Qt WebEngine) under Xvfb.

The window must show the UI (signed in by its one-time secret, no token asked), look like an
app (a screenshot with many colours, not a blank page), and closing it with the
close button (WM_DELETE_WINDOW, as a window manager sends it) must stop the one process cleanly
with everything on disk.
"""

import fcntl
import json
import os
import re
import subprocess
import sys
import threading

import pytest
import requests

import x11
from desktop.core.settings import Settings
from desktop.shell import window
from desktop.shell.app import LabelDesk
from windowhelp import GRAB, display, require, wait_for  # noqa: F401

CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image"><Label value="Car"/></RectangleLabels></View>"""


def test_the_loading_page_is_one_static_page_without_script():
    html = window.loading_page()
    assert "<style>" in html and "<script" not in html and "{{" not in html
    assert "/static/" not in html and "http" not in html.replace("http-equiv", "")
    assert f'content="{window.LOADING_CSP}"' in html
    assert "default-src 'none'" in window.LOADING_CSP and "'unsafe-inline'" not in \
        window.LOADING_CSP.split("script-src", 1)[1].split(";")[0]









def test_window_opens_signed_in_and_closes_cleanly(display, tmp_path):
    data = tmp_path / "data"
    app = LabelDesk(Settings(data_dir=data))
    app.projects.create({"title": "Street scenes", "label_config": CONFIG}, 1)
    app.close()

    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen([sys.executable, "-m", "desktop", "start", "--print-token",
                                "--data-dir", str(data), "--port", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        url = token = None
        while not (url and token):
            line = process.stdout.readline()
            assert line, "labeldesk start ended early:\n" + "".join(lines)
            lines.append(line)
            if "its API is at " in line:
                url = line.rsplit(" ", 1)[1].strip()
            if line.startswith("API token: "):
                token = line.split()[2]
        api = requests.Session()
        api.headers["Authorization"] = f"Token {token}"
        # the window's page signed in with its secret and asks for the project list
        assert wait_for(lambda: "LabelDesk" in x11.window_titles(display), 30, "the window")

        def shows_the_ui():
            out = subprocess.run([sys.executable, "-c", GRAB, str(tmp_path / "window.png")],
                                 env=env, capture_output=True, text=True, timeout=30)
            shot = json.loads(out.stdout)
            # the web app drawn: many colours, LabelDesk's icon in the header's corner (not
            # the sign-in card's, in the middle)
            return shot if shot["colours"] > 40 and shot["header_icon"] > 20 else None

        shot = wait_for(shows_the_ui, 40, "the UI to be drawn in the window")
        assert (shot["width"], shot["height"]) == (1440, 900)

        # scripts keep working while the window is open, on the same process and store
        response = api.post(f"{url}/api/projects", json={"title": "Made while open"})
        assert response.status_code == 201, response.text
        response = api.patch(f"{url}/api/ui/settings", json={"auth": True})
        assert response.status_code == 200, response.text

        assert x11.close_window(display, "LabelDesk") == 1
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + process.stdout.read()
    assert code == 0, output
    assert "LabelDesk stopped." in output
    # Qt WebEngine opened the UI's own *.localhost host by itself (the UI was drawn above)
    assert re.search(r"The window shows http://labeldesk-[0-9a-f]{24}\.localhost:\d+", output)

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/health", timeout=2)
    window = json.loads((data / "window.json").read_text())
    assert window["width"] >= 960 and window["height"] >= 620
    app = LabelDesk(Settings(data_dir=data))  # the store was released and is whole
    try:
        titles = {app.projects.as_json(i)["title"] for i in app.projects.list_ids()}
    finally:
        app.close()
    assert titles == {"Street scenes", "Made while open"}


def test_the_window_shows_its_loading_page_while_the_data_opens(display, tmp_path):  # noqa: F811
    """The window is up, with its loading page, before the data is open. Here opening waits:
    the store's lock is held (by this test, as by a LabelDesk that has only just started and
    not yet said who it is), so the opening waits for that LabelDesk to say where it runs;
    it never does, and the window goes with the message a second launch always gave."""
    data = tmp_path / "data"
    LabelDesk(Settings(data_dir=data)).close()
    lock = open(data / "db" / "LOCK", "r+")  # its text stays "closed": no live pid named
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    process = subprocess.Popen([sys.executable, "-m", "desktop", "start", "--data-dir",
                                str(data), "--port", "0"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: "LabelDesk" in x11.window_titles(display), 30, "the window")

        def loading_page():
            out = subprocess.run([sys.executable, "-c", GRAB, str(tmp_path / "loading.png")],
                                 env=env, capture_output=True, text=True, timeout=30)
            shot = json.loads(out.stdout)
            # the window drawn (its card, icon and text), with no web app header
            return shot if shot["drawn"] > 10000 and shot["colours"] > 10 else None
        shot = wait_for(loading_page, 30, "the loading page to be drawn")
        assert shot["header_icon"] == 0, shot
        assert process.poll() is None, "".join(lines)
        assert not any("is open; its API is at" in line for line in lines), "".join(lines)
        assert not (data / "instance.json").exists()
        lock.close()
        code = process.wait(timeout=30)
    finally:
        lock.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(5)
    output = "".join(lines)
    assert code == 1, output
    assert "LabelDesk is already running" in output and "Traceback" not in output
    assert "LabelDesk" not in x11.window_titles(display)



# Two windows' pages asking the Qt hooks in the order a busy machine gave them; run in a process
# of its own (importing pywebview's Qt back end changes os.environ).
TWO_WINDOWS = r"""
import types
from qtpy.QtWebEngineCore import QWebEnginePage
from webview.platforms import qt
from desktop.shell import window
from desktop.shell.bridge import Facade

class Signal(list):
    connect = list.append

    def emit(self, *args):
        for slot in self:
            slot(*args)

class Url(str):
    def toString(self):
        return str(self)

class Page:  # a pywebview BrowserView.WebPage, as the hooks see it: its view, in its window
    def __init__(self, api):
        browser = types.SimpleNamespace(pywebview_window=types.SimpleNamespace(_js_api=api))
        self.view = types.SimpleNamespace(window=lambda: browser)
        self.urlChanged, self.loadFinished = Signal(), Signal()

    def parent(self):
        return self.view

def asks(page, url, popup=False):
    cls = qt.BrowserView.NavigationHandler if popup else qt.BrowserView.WebPage
    if popup:
        page = types.SimpleNamespace(_parent=page.parent)
    return cls.acceptNavigationRequest(page, Url(url), typed, True)

typed = QWebEnginePage.NavigationType.NavigationTypeTyped
main_api, recovery_api = Facade(), Facade()
window.lock_qt_navigation(main_api, window.OnePage())  # create_main: its loading page
main = Page(main_api)
# the data is damaged: once the main window is shown, the recovery window is made ...
recovery_lock = window.OnePage()
window.lock_qt_navigation(recovery_api, recovery_lock)
recovery = Page(recovery_api)
# ... and only then does the main window's loading page ask to be shown
assert asks(main, "data:text/html;charset=UTF-8,loading"), "the loading page"
assert not recovery_lock.loaded, "the main window's page taken as the recovery window's"
assert asks(recovery, "data:text/html;charset=UTF-8,recovery"), "the recovery page refused"
recovery.urlChanged.emit(Url("data:text/html;charset=UTF-8,recovery"))
assert recovery_lock.shows_ours()
# each window still shows its one page and nothing else
for page in (main, recovery):
    assert not asks(page, "data:text/html;charset=UTF-8,another")
    assert not asks(page, "https://example.com/")
    assert asks(page, "https://example.com/", popup=True) is False
# a window of no lock shows nothing
assert not asks(Page(Facade()), "data:text/html;charset=UTF-8,x")
print("ok")
"""


def test_each_window_has_its_own_navigation_lock_whatever_order_its_pages_ask_in():
    """The recovery window was made as soon as the main window was shown, and took the one
    navigation lock; on a busy machine the main window's loading page asked to be shown only
    then, was let in as the recovery window's one page, and the recovery page was refused: the
    recovery window stayed blank (test_recovery timed out). Each window has its own lock."""
    env = {**os.environ, "QT_API": "pyside6"}
    out = subprocess.run([sys.executable, "-c", TWO_WINDOWS], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stdout + out.stderr
