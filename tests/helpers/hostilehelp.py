"""Hostile task content for the browser and window tests (issue 13; ADR 0006): the payloads,
the project that carries them, the recording server that sees a payload that ran, and ways to
take each of our protections out for a negative control.

Each payload that ran would leave a mark three ways: `top.__pwned` gets its name, it fetches
/api/ui/session?pwned=<name> (the CSRF token) from our server, and it calls a throwaway
recording HTTP server on another loopback port.
"""

import http.server
import threading
from urllib.parse import quote, urlsplit

import pytest

from uihelp import fetch_on_loopback

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


def without_policy(ui, path="/desktop"):
    """Serve the page at `path` without its Content-Security-Policy (and without nosniff)."""
    drop = {"content-security-policy", "x-content-type-options"}
    return serve_changed(ui, path, lambda original: (
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
