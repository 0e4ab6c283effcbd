"""Driving the UI in Debian's Chromium with Playwright (never a downloaded browser): Label
Studio's web app (at /) and LabelDesk's own pages (at /desktop).

Test modules import the fixtures they use: `from uihelp import browser, ui, ...  # noqa: F401`.
Every request the page makes is recorded, and anything not addressed to the server (on the UI's
own host, desktop/core/uihost.py) is aborted and reported: the UI must work with no network at all.
"""

import os
import shutil
from urllib.parse import urlsplit

import pytest
from conftest import LiveServer

from desktop.ui import vendored, webapp

CHROMIUM = os.environ.get("LABELDESK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def fetch_on_loopback(route):
    """route.fetch() of the request to 127.0.0.1, with its Host and cookies as they were:
    Playwright's own requests resolve names in Node, which doesn't know *.localhost as
    browsers do."""
    parts = urlsplit(route.request.url)
    headers = {**route.request.all_headers(), "host": parts.netloc}
    return route.fetch(url=parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl(),
                       headers=headers)


def require_tools():
    """In CI the set-up installs everything: a missing tool fails there, and skips only here."""
    problems = []
    if not os.path.exists(CHROMIUM):
        problems.append(f"no Chromium at {CHROMIUM} (scripts/setup.d/10-desktop-deps.sh)")
    if not (webapp.installed() and vendored.purify_installed()):
        problems.append("Label Studio's web app is not installed (make setup)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("playwright is not installed (pip install -e '.[test]')")
    if problems:
        if IN_CI:
            pytest.fail("; ".join(problems))
        pytest.skip("; ".join(problems))


@pytest.fixture(scope="module")
def browser():
    require_tools()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


class UI:
    """One server and one signed-in page on it, with the log of every request the page made."""

    def __init__(self, live, context):
        self.live, self.api, self.context = live, live.api, context
        self.requests = []
        self.foreign = []
        self.errors = []
        self.answers = []  # "METHOD path status" of each /api/ answer, for failure messages
        context.route("**/*", self._route)
        self.page = context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._answered)
        self.page.set_default_timeout(15000)

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            return route.continue_()
        if f"{parts.scheme}://{parts.netloc}" != self.live.ui_url:
            self.foreign.append(url)
            return route.abort()
        return route.continue_()

    def _answered(self, response):
        path = urlsplit(response.url).path
        if path.startswith("/api/"):
            self.answers.append(f"{response.request.method} {path} {response.status}")

    def sign_in(self):
        """Signed in on LabelDesk's own pages (/desktop); the session is the web app's too."""
        secret = self.live.app.sessions.one_time_secret()
        self.page.goto(f"{self.live.ui_url}/desktop#secret={secret}")
        self.page.wait_for_selector("#nav a")
        return self

    def go(self, hash_path):
        """One of LabelDesk's own pages: /desktop#<hash_path>."""
        self.page.goto(f"{self.live.ui_url}/desktop#{hash_path}")

    def open_app(self, path):
        """A page of Label Studio's web app (/projects/3/data?task=5, ...)."""
        self.page.goto(f"{self.live.ui_url}{path}")
        self.page.wait_for_selector(".lsf-menu-header")

    def assert_offline(self):
        assert self.requests, "the page made no request at all?"
        assert not self.foreign, f"requests left the machine: {self.foreign}"


@pytest.fixture
def ui(browser, tmp_path):
    live = LiveServer(tmp_path / "data")
    context = browser.new_context(viewport={"width": 1440, "height": 900},
                                  accept_downloads=True)
    session = UI(live, context)
    yield session
    context.close()
    live.close()
    session.assert_offline()


def drag_text(page, container, text):
    """Select `text` inside `container` with the mouse, as a person drags across it."""
    box = page.evaluate(
        """([selector, text]) => {
            const root = document.querySelector(selector);
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node; (node = walker.nextNode());) {
                const at = node.data.indexOf(text);
                if (at < 0) continue;
                const range = document.createRange();
                range.setStart(node, at);
                range.setEnd(node, at + text.length);
                const r = range.getBoundingClientRect();
                return {x: r.left, y: r.top, w: r.width, h: r.height};
            }
            return null;
        }""", [container, text])
    assert box, f"{text!r} is not on the page"
    y = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] / 2, y, steps=4)
    page.mouse.move(box["x"] + box["w"] - 1, y, steps=4)
    page.mouse.up()



def drag_box(page, selector, start, end):
    """Drag on the element from `start` to `end`, fractions (x, y) of its size."""
    element = page.locator(selector).first
    element.wait_for()
    box = element.bounding_box()
    x0, y0 = box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1]
    x1, y1 = box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
