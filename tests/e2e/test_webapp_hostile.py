"""Hostile content can't run script in Label Studio's web app (issue 13, ADR 0006, ADR 0009), in
Debian's headless Chromium: the task's HyperText (in the editor's iframe and inline), the label
config, a prediction and the project's instructions carry the payloads of
tests/helpers/hostilehelp.py. Each payload that ran would leave a mark three ways: `top.__pwned`
gets its name, it fetches /api/ui/session?pwned=<name> (the CSRF token) from our server, and it
calls a throwaway recording HTTP server on another loopback port. The task is opened in the
app's labeling view and the instructions shown: no payload leaves a mark, nothing navigates, the
safe part shows. The page's policy alone (DOMPurify taken out) stops every script payload too;
DOMPurify alone drops every payload; the app's served scripts call it. A negative control takes
our sanitizer and the page's policy out and sees the marks, so "no mark" means something."""

import time
from urllib.parse import urlsplit

import pytest
from conftest import LiveServer

from desktop.ui import webapp
from hostilehelp import (  # noqa: F401 - recorder is a fixture
    DANGEROUS_NODES,
    SAFE_TEXT,
    Recorder,
    assert_sanitizer_out,
    hostile_project,
    mark,
    payloads,
    policy_runs_inline_script,
    pwned,
    recorder,
    without_nosniff,
    without_policy,
    without_sanitizer,
)
from uihelp import browser  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(180)


class Session:
    """A signed-in browser context on a fresh LabelDesk, recording every request."""

    def __init__(self, live, context, recorder_port):
        self.live, self.api, self.context = live, live.api, context
        self.requests, self.errors = [], []
        # A document served by route.fulfill (without_policy) has no IP address, so Chromium's
        # Local Network Access check would stop requests to the recorder: not a protection of
        # ours, so it is granted away.
        context.grant_permissions(["local-network-access"])
        context.route("**/*", self._route)
        self.recorder_port = recorder_port
        self.page = context.new_page()
        self.page.set_default_timeout(20000)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" in (self.live.ui_url,
                                                 f"http://127.0.0.1:{self.recorder_port}") \
                or parts.scheme in ("data", "blob", "about"):
            return route.continue_()
        return route.abort()

    def sign_in(self):
        secret = self.live.app.sessions.one_time_secret()
        self.page.goto(f"{self.live.ui_url}/#secret={secret}")
        self.page.wait_for_selector(".lsf-menu-header")


@pytest.fixture
def session(browser, tmp_path, recorder):  # noqa: F811 - fixtures
    live = LiveServer(tmp_path / "data")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield Session(live, context, recorder)
    context.close()
    live.close()


def open_in_editor(session, recorder, leave_out=(), instructions=None):
    """The hostile task opened in the app's labeling view; what a person might click, clicked."""
    project, task = hostile_project(session.api, recorder, leave_out)
    if instructions:
        session.api.patch(f"/api/projects/{project['id']}", json={
            "expert_instruction": instructions, "show_instruction": True})
    session.sign_in()
    page = session.page
    page.goto(f"{session.live.ui_url}/projects/{project['id']}/data?task={task['id']}")
    frame = None
    deadline = time.time() + 20
    while frame is None and time.time() < deadline:  # the editor writes the iframe's srcdoc
        handle = page.wait_for_selector("iframe.lsf-richtext__iframe")
        frame = handle.content_frame()
        if frame is None:
            time.sleep(0.1)
    frame.wait_for_selector("#safe")
    page.wait_for_selector(".lsf-richtext__container #safe")  # the inline one
    for target in (frame, page):
        for selector in ("#js-link", "#evil-submit", "a:has-text('animated')"):
            for element in target.query_selector_all(selector):
                try:
                    element.click(timeout=2000)
                except Exception:  # noqa: BLE001 - gone or covered: nothing to click
                    pass
    time.sleep(2)  # time for a refresh, a timer, a slow echo
    return project, frame


def assert_no_mark(session, recorder):
    assert pwned(session.page) is None
    assert Recorder.hits == []
    assert not [url for url in session.requests if "pwned=" in url], "a payload read the CSRF token"
    assert not [url for url in session.requests if f":{recorder}/" in url]


def test_hostile_task_runs_nothing_in_the_app(session, recorder):  # noqa: F811 - fixture
    page = session.page
    project, frame = open_in_editor(session, recorder)
    assert_no_mark(session, recorder)
    assert not [url for url in session.requests if "import-example-file" in url]
    # nothing navigated: still the app's page for this project, no frame elsewhere
    assert urlsplit(page.url).path == f"/projects/{project['id']}/data"
    assert all(f.url in ("about:srcdoc", "about:blank") or f.url.startswith(session.live.ui_url)
               for f in page.frames), [f.url for f in page.frames]
    assert len(session.context.pages) == 1
    # the safe part renders, in the iframe and inline, and the task is still labelable
    assert SAFE_TEXT in frame.inner_text("body")
    assert SAFE_TEXT in page.inner_text(".lsf-richtext__container")
    assert "end of the task" in frame.inner_text("body")
    assert page.locator(".lsf-choice", has_text="fine").count() >= 1
    assert frame.evaluate(f"({DANGEROUS_NODES})(document)") == []
    assert page.evaluate(f"({DANGEROUS_NODES})(document.querySelector('.lsf-richtext__container'))"
                         ) == []
    assert not session.errors, session.errors


def test_hostile_instructions_run_nothing(session, recorder):  # noqa: F811 - fixture
    """The project's instructions (a project file brings them) are HTML the app itself
    renders, outside the editor: patched to go through the same sanitizer."""
    html = "".join(f"<div>{body}</div>" for name, body in payloads(recorder)
                   if name != "meta-refresh") + f"<p id='safe-instructions'>{SAFE_TEXT}</p>"
    open_in_editor(session, recorder, instructions=html)
    page = session.page
    page.get_by_role("button", name="Instructions").first.click()
    page.wait_for_selector("#safe-instructions")
    time.sleep(1.5)
    assert_no_mark(session, recorder)
    assert page.evaluate(f"""() => ({DANGEROUS_NODES})(
        document.querySelector('#safe-instructions').parentElement)""") == []


def marks(session):
    """Which payloads left a mark, by the way they left it."""
    return {"pwned": set(pwned(session.page) or ()),
            "token": {url.split("pwned=", 1)[1] for url in session.requests if "pwned=" in url},
            "recorder": {path.split("/")[2] for path in Recorder.hits if path.startswith("/hit/")}}


# What the control (below) sees in Chromium once nothing of ours stops the payloads.
# Each of these leaves all three marks: <script> and <script src> only in the task's iframe
# (a srcdoc document; React's innerHTML never runs a <script>, so the inline copy runs only
# the handlers); the echo ones only once nosniff is off too.
RUN_WHEN_UNPROTECTED = ("img-onerror", "svg-onload", "script", "svg-script", "iframe-srcdoc",
                        "svg-foreignobject", "noscript-title", "svg-p-style", "math-textarea",
                        "script-src-echo", "svg-style-script-href", "iframe-srcdoc-echo",
                        "config-choice-html")
# Only the recorder sees these: CSS loads, and a data: frame (its own origin: no top.__pwned,
# no cookie for the token).
LOADED_WHEN_UNPROTECTED = ("style-import", "style-attr-url", "link-stylesheet", "data-url-iframe")
# Left no mark even unprotected, for reasons that are not ours to prove here: javascript-link
# (the editor cancels every click on a link in the task's iframe), object-echo and embed-echo
# (the route answers with a download, which a frame doesn't render), config-label and
# prediction-label (the patched app shows a label as text). svg-animate-href sets
# top.__pwned when its link is clicked, but its fetches never leave, so it is checked there only.


def test_harness_sees_payloads_with_our_protections_out(session, recorder):  # noqa: F811
    """The negative control: with DOMPurify out and the page's CSP and nosniff dropped, the
    same task leaves marks, so the tests above prove something. Left out: what navigates the
    app away (meta refresh, the form) or re-points its every URL (<base>)."""
    project, task = hostile_project(session.api, recorder)  # ids: project 1, task 1
    sanitizer = without_sanitizer(session)
    served = without_policy(session, path=f"/projects/{project['id'] + 1}/data")
    without_nosniff(session)
    open_in_editor(session, recorder, leave_out=("meta-refresh", "form-action", "base-href"))
    assert served, "the route never served the page without its policy"
    assert_sanitizer_out(session, sanitizer)
    assert policy_runs_inline_script(session.page)
    found = marks(session)
    for how, names in found.items():
        assert set(RUN_WHEN_UNPROTECTED) <= names, (how, sorted(names))
    assert set(LOADED_WHEN_UNPROTECTED) <= found["recorder"], sorted(found["recorder"])
    assert "svg-animate-href" in found["pwned"], sorted(found["pwned"])
    assert mark  # the marks are hostilehelp.mark's


def test_policy_alone_stops_the_payloads(session, recorder):  # noqa: F811 - fixture
    """Defence in depth: with DOMPurify taken out (and nosniff off the echo route), the page's
    CSP alone (script paths, no inline script, base-uri, object-src, form-action, connect-src)
    stops every script payload. Not the <meta http-equiv=refresh> one: inserted in the page, it
    navigates the whole app away, which no CSP directive stops; only the sanitizer does (so it
    is left out here)."""
    sanitizer = without_sanitizer(session)
    without_nosniff(session)
    project, _ = open_in_editor(session, recorder, leave_out=("meta-refresh",))
    assert_sanitizer_out(session, sanitizer)
    assert not policy_runs_inline_script(session.page), "the page has no policy?"
    assert_no_mark(session, recorder)
    assert urlsplit(session.page.url).path == f"/projects/{project['id']}/data"


def test_sanitizer_drops_every_payload(session, recorder):  # noqa: F811 - fixture
    """DOMPurify alone (window.LabelDeskSanitize, which the app's patched sanitizer calls), on
    each payload: nothing that can run, load or navigate survives; plain HTML does."""
    session.sign_in()
    page = session.page
    for name, html in payloads(recorder):
        left = page.evaluate(f"""(html) => {{
            const box = document.createElement("template");
            box.innerHTML = window.LabelDeskSanitize(html);
            return ({DANGEROUS_NODES})(box.content);
        }}""", html)
        assert left == [], (name, left)
    kept = page.evaluate("(h) => window.LabelDeskSanitize(h)",
                         '<style>p { color: red }</style><p class="x" title="t"><b>bold</b> '
                         '<a href="https://example.org/">link</a> <img src="/static/img/icon.svg" '
                         'alt="i"></p><svg width="10"><circle r="4"/></svg>')
    assert '<style data-task-style="">@scope {\np { color: red; }\n}' in kept  # task_html_box
    assert "<b>bold</b>" in kept
    assert 'href="https://example.org/"' in kept and 'rel="noopener noreferrer"' in kept
    assert "<img" in kept and "<circle" in kept
    # the sanitizer can't be swapped out by page script
    assert page.evaluate("() => { try { window.LabelDeskSanitize = (x) => x; } catch (e) {}"
                         " return window.LabelDeskSanitize('<img src=x onerror=alert(1)>'); }"
                         ) == '<img src="x">'


def test_the_served_app_calls_our_sanitizer(live):
    """The app's scripts as served: the editor's sanitizer hands every HTML string to ours and
    fails closed (the text, escaped) if ours never loaded; a label's text is measured as text;
    the app's own raw HTML (instructions, the reader view) goes through ours too
    (desktop/ui/webapp.py PATCHES)."""
    scripts = {path.name: path.read_text(encoding="utf-8") for path in webapp.APP_DIR.glob("*.js")}
    for what, old, new in webapp.PATCHES:
        [name] = [name for name, text in scripts.items() if new in text]
        served = live.anonymous.get(f"/react-app/{name}").text
        assert new in served and old not in served, what
    assert any("window.LabelDeskSanitize?window.LabelDeskSanitize(String(e)):String(e).replace("
               in text for text in scripts.values())
