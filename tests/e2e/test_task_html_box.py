"""Task HTML stays in its own box (issue 17), in Label Studio's web app (its labeling editor,
ADR 0009) in Debian's headless Chromium.

HyperText keeps `<style>` and `style=""`, so a task could hide the editor and draw a fake
sign-in screen over the window. Two layers keep it in the box the editor renders it in: the
sanitizer rewrites its CSS (js/task-css.js: every rule inside `@scope`, `position` only as
static, relative or absolute, at-rules with global names dropped, failing closed), and the box
gets `contain: paint` (css/webapp.css), which clips what is drawn in it even without the first.
The styling legitimate tasks use (classes in a `<style>`, inline colours, `body { font }`)
keeps working, inline and in the editor's HyperText iframe. The same holds for a List item's
and a dynamic Choice's `html`, and in the window's own engine (tests/helpers/qt_task_css_probe.py).
"""

import json
import os
import subprocess
import sys
import time

import pytest

from paths import HELPERS, ROOT
from uihelp import browser, drag_text, ui  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(180)

CONFIG = """<View>
  <Labels name="ner" toName="page"><Label value="Fox"/></Labels>
  <HyperText name="page" value="$html" inline="true"/>
  <Choices name="verdict" toName="page"><Choice value="Fine"/></Choices>
</View>"""

FAKE = ('<div id="fake" style="position:fixed;inset:0;z-index:99999;background:red">'
        'FAKE SIGN-IN</div>')
STICKY = ('<div id="sticky" style="position:sticky;top:0;z-index:99999;background:yellow">'
          'STICKY</div>')
HUGE = ('<div id="huge" style="position:absolute;top:-400px;left:-400px;width:5000px;'
        'height:5000px;z-index:99999;background:rgba(255,0,0,.5)">HUGE</div>')
HIDE_ALL = ("<style>body{display:none}</style><style>*{visibility:hidden}</style>"
            "<style>html body .lsf-editor, :root{display:none!important}</style>"
            '<style>.lsf-controls{position:fixed;top:0;left:0;width:100vw;height:100vh}</style>')
TEXT = "<p>Hello, the quick brown fox jumps over the lazy dog.</p>"

# Where the task's content is on screen, and what is at points of the window outside the box.
LAYOUT = """() => {
  const box = document.querySelector('.lsf-richtext').getBoundingClientRect();
  const container = document.querySelector('.lsf-richtext__container');
  const inside = (r) => r.left >= box.left - 1 && r.top >= box.top - 1
    && r.right <= box.right + 1 && r.bottom <= box.bottom + 1;
  const rects = {};
  for (const id of ['fake', 'sticky']) {
    const e = container.querySelector('#' + id);
    if (!e) continue;
    const r = e.getBoundingClientRect();
    rects[id] = {inside: inside(r), w: r.width, h: r.height};
  }
  const escaped = [];
  for (let x = 4; x < innerWidth; x += 37) {
    for (let y = 4; y < innerHeight; y += 37) {
      if (x >= box.left && x <= box.right && y >= box.top && y <= box.bottom) continue;
      const hit = document.elementFromPoint(x, y);
      if (hit && container.contains(hit)) escaped.push([x, y, hit.id || hit.tagName]);
    }
  }
  const submit = [...document.querySelectorAll('button')]
    .find((b) => b.textContent.trim() === 'Submit');
  const s = submit.getBoundingClientRect();
  const atSubmit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
  return {box: [box.left, box.top, box.width, box.height], rects, escaped,
          submitOnTop: submit.contains(atSubmit),
          bodyDisplay: getComputedStyle(document.body).display,
          editorDisplay: getComputedStyle(document.querySelector('.lsf-editor')).display,
          labelVisibility: getComputedStyle(document.querySelector('.lsf-label')).visibility};
}"""


JS_DIR = ROOT / "desktop" / "ui" / "js"


def serve_changed(ui, name, change):
    """Serve js/<name> as `change(its source)` (must differ); the URLs so served, for the test
    to check its change was really used."""
    source = (JS_DIR / name).read_text()
    changed = change(source)
    assert changed != source, "the change no longer fits the file"
    served = []

    def handle(route):
        served.append(route.request.url)
        route.fulfill(body=changed, content_type="text/javascript; charset=utf-8")

    ui.context.route(f"**/static/js/{name}", handle)
    return served


def project_with(api, *htmls):
    project = api.project(title="Boxed task HTML", label_config=CONFIG)
    response = api.post(f"/api/projects/{project['id']}/import",
                        json=[{"data": {"html": html}} for html in htmls])
    assert response.status_code == 201, response.text
    tasks = api.get(f"/api/projects/{project['id']}/tasks").json()
    return project, sorted(task["id"] for task in tasks)  # in import order (LS lists newest first)


def open_task(ui, project, task_id):
    """The task in the web app's labeling view (its data manager, the task opened)."""
    ui.open_app(f"/projects/{project['id']}/data?task={task_id}")
    ui.page.wait_for_selector(".lsf-richtext__container p", state="attached")
    ui.page.wait_for_timeout(300)  # a frame for layout


def annotations_of(api, task_id, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        found = api.get(f"/api/tasks/{task_id}/annotations").json()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def assert_editor_intact(layout):
    assert layout["escaped"] == [], f"task content drawn outside its box: {layout['escaped'][:5]}"
    assert layout["submitOnTop"], "something covers the Submit button"
    assert layout["bodyDisplay"] != "none" and layout["editorDisplay"] != "none"
    assert layout["labelVisibility"] == "visible"


def test_task_html_cannot_cover_or_hide_the_editor(ui, tmp_path):  # noqa: F811 - fixture
    """A fake full-window sign-in, a sticky bar, a huge box, and <style>s that would hide the
    page or move the editor's controls: the editor stays visible and usable, and the task's
    content stays in the HyperText box."""
    page = ui.page
    project, (covering, hiding) = project_with(
        ui.api, TEXT + FAKE + STICKY + HUGE + TEXT * 20, TEXT + FAKE + STICKY + HIDE_ALL)
    ui.sign_in()

    open_task(ui, project, covering)
    layout = page.evaluate(LAYOUT)
    assert_editor_intact(layout)
    assert layout["rects"]["fake"]["inside"] and layout["rects"]["sticky"]["inside"], layout
    style = page.get_attribute(".lsf-richtext__container #fake", "style")
    assert "fixed" not in style and "background: red" in style
    page.mouse.wheel(0, 600)  # scrolled: the sticky bar still doesn't stay over anything
    page.wait_for_timeout(200)
    assert_editor_intact(page.evaluate(LAYOUT))
    page.screenshot(path=str(tmp_path / "covering.png"))

    open_task(ui, project, hiding)
    layout = page.evaluate(LAYOUT)
    assert_editor_intact(layout)
    page.screenshot(path=str(tmp_path / "hiding.png"))
    # the editor's controls: visible and they work
    page.locator(".lsf-choice", has_text="Fine").first.click()
    page.get_by_role("button", name="Submit").click()
    [annotation] = annotations_of(ui.api, hiding)
    assert annotation["result"][0]["value"]["choices"] == ["Fine"]
    assert not ui.errors, ui.errors


def test_containment_alone_keeps_fixed_content_in_the_box(ui):  # noqa: F811 - fixture
    """Defence in depth: with the sanitizer's CSS rewrite taken out (position:fixed kept),
    `contain: paint` on the box alone keeps the fake screen and the huge box inside it."""
    served = serve_changed(ui, "task-css.js", lambda source: source.replace(
        "if (POSITIONS.has(positionOf(element.style))) return String(text);",
        "return String(text);"))
    page = ui.page
    project, (task,) = project_with(ui.api, TEXT + FAKE + STICKY + HUGE + TEXT * 20)
    ui.sign_in()
    open_task(ui, project, task)
    assert served, "the cut task-css.js was never served"
    assert "fixed" in page.get_attribute(".lsf-richtext__container #fake", "style")
    layout = page.evaluate(LAYOUT)
    assert_editor_intact(layout)
    assert layout["rects"]["fake"]["inside"], layout
    # the control: without the containment the same page is covered
    page.evaluate("() => { document.querySelector('.lsf-richtext').style.contain = 'none'; }")
    page.wait_for_timeout(200)
    uncontained = page.evaluate(LAYOUT)
    assert uncontained["escaped"] and not uncontained["rects"]["fake"]["inside"], uncontained


SINKS_CONFIG = """<View>
  <List name="results" value="$items" title="Results"/>
  <Ranker name="rank" toName="results"/>
  <Text name="text" value="$text"/>
  <Choices name="options" toName="text" value="$options"/>
</View>"""
SPILL = ('<div class="spill" style="position:absolute;top:-300px;left:-300px;width:3000px;'
         'height:3000px;z-index:9999;background:rgba(255,0,0,.5)">spill</div>')

# Every point of the window outside the boxes holding task HTML: nothing of that HTML there.
SPILLED = """(boxes) => {
  const rects = [...document.querySelectorAll(boxes)].map((e) => e.getBoundingClientRect());
  const within = (x, y) => rects.some((r) => x >= r.left && x <= r.right
    && y >= r.top && y <= r.bottom);
  const spilled = [];
  for (let x = 4; x < innerWidth; x += 23) {
    for (let y = 4; y < innerHeight; y += 23) {
      const hit = document.elementFromPoint(x, y);
      if (!within(x, y) && hit && hit.closest('.spill')) spilled.push([x, y]);
    }
  }
  return {boxes: rects.length, spilled};
}"""


def test_list_items_and_dynamic_choices_stay_in_their_box(ui):  # noqa: F811 - fixture
    """The other places task data is rendered as HTML: a List item's and a dynamic Choice's
    `html`. Huge absolutely placed boxes in them stay in the item."""
    page = ui.page
    project = ui.api.project(title="Task HTML in items", label_config=SINKS_CONFIG)
    response = ui.api.post(f"/api/projects/{project['id']}/import", json=[{"data": {
        "text": "Pick one.",
        "items": [{"id": "a", "title": "A", "html": "<b>bold</b>" + SPILL},
                  {"id": "b", "title": "B", "body": "plain"}],
        "options": [{"value": "one", "html": "<i>one</i>" + SPILL}, {"value": "two"}]}}])
    assert response.status_code == 201, response.text
    [task] = ui.api.get(f"/api/projects/{project['id']}/tasks").json()
    ui.sign_in()
    ui.open_app(f"/projects/{project['id']}/data?task={task['id']}")
    page.wait_for_selector(".htx-ranker-item .spill")
    page.wait_for_selector(".lsf-choice__item .spill")
    found = page.evaluate(SPILLED, ".htx-ranker-item, .lsf-choice__item")
    assert found["boxes"] == 4 and found["spilled"] == [], found
    page.evaluate("() => document.querySelectorAll('.htx-ranker-item, .lsf-choice__item')"
                  ".forEach((e) => { e.style.contain = 'none'; })")
    assert page.evaluate(SPILLED, ".htx-ranker-item, .lsf-choice__item")["spilled"], \
        "the control: without containment the boxes spill"


LEGIT_CSS = ("<style>.x{color:rgb(255,0,0)} body{font-family:serif} "
             "table.grid td{border:2px solid rgb(0,0,255);padding:4px} "
             "@media screen{.m{font-weight:700}} .lsf-label{color:rgb(255,0,0)} "
             ".pos{position:relative;left:3px}</style>")
LEGIT = (LEGIT_CSS + '<p id="first">Hello, the quick brown fox jumps over the lazy dog.</p>'
         '<p><span class="x" id="red">red by class</span> <span id="green" '
         'style="color:rgb(0,128,0);font-weight:700">green inline</span> '
         '<span class="m" id="bold">bold by media</span> '
         '<span class="pos" id="pos">moved</span></p>'
         '<table class="grid"><tr><td id="cell">a cell</td></tr></table>')

COMPUTED = """(doc) => {
  const cs = (id) => doc.defaultView.getComputedStyle(doc.getElementById(id));
  return {red: cs('red').color, green: cs('green').color, greenWeight: cs('green').fontWeight,
          bold: cs('bold').fontWeight, cell: cs('cell').borderTopColor,
          cellWidth: cs('cell').borderTopWidth, pos: cs('pos').position,
          font: cs('first').fontFamily};
}"""
EXPECTED = {"red": "rgb(255, 0, 0)", "green": "rgb(0, 128, 0)", "greenWeight": "700",
            "bold": "700", "cell": "rgb(0, 0, 255)", "cellWidth": "2px", "pos": "relative",
            "font": "serif"}


def test_legitimate_task_styling_is_kept(ui, tmp_path):  # noqa: F811 - fixture
    """Classes styled by a <style>, inline colours, `body { font }` (in the iframe; inline the
    app's own font wins), a table's borders and an @media block keep working, inline and in
    the editor's HyperText iframe (where a leading <style> lands in the iframe's <head>); the
    task's CSS styles nothing of the editor; a span after the <style> is still labeled by
    dragging the mouse across it."""
    page = ui.page
    config = CONFIG.replace("</View>", '<HyperText name="framed" value="$html"/></View>')
    project = ui.api.project(title="Styled tasks", label_config=config)
    ui.api.post(f"/api/projects/{project['id']}/import", json=[{"data": {"html": LEGIT}}])
    [task] = ui.api.get(f"/api/projects/{project['id']}/tasks").json()
    ui.sign_in()
    open_task(ui, project, task["id"])
    inline = page.evaluate(f"({COMPUTED})(document.querySelector('.lsf-richtext__container')"
                           ".ownerDocument)")
    # Inline, the data manager's own `.lsf-datamanager * { font-family: … !important }` outranks
    # any task font, as in Label Studio itself; the task's `body { font }` is kept, on its box
    assert inline == {**EXPECTED, "font": "Figtree, sans-serif"}
    assert ":scope { font-family: serif; }" in page.inner_text(
        ".lsf-richtext__container style[data-task-style]")
    frame = page.wait_for_selector("iframe.lsf-richtext__iframe").content_frame()
    frame.wait_for_selector("#cell")
    assert frame.evaluate(f"({COMPUTED})(document)") == EXPECTED
    assert frame.evaluate("() => document.querySelector('head > style[data-task-style]') !== null")
    # nothing outside the task is styled by it
    assert page.evaluate("() => getComputedStyle(document.querySelector('.lsf-label')).color") \
        != "rgb(255, 0, 0)"
    assert "serif" != page.evaluate("() => getComputedStyle(document.body).fontFamily")
    page.screenshot(path=str(tmp_path / "legit.png"))
    # labeling a span of text still works with the rewritten <style> in the container
    page.locator(".lsf-label", has_text="Fox").first.click()
    drag_text(page, ".lsf-richtext__container", "quick brown fox")
    page.get_by_role("button", name="Submit").click()
    [annotation] = annotations_of(ui.api, task["id"])
    [span] = annotation["result"]
    assert span["value"]["text"] == "quick brown fox" and span["value"]["labels"] == ["Fox"]
    # and it is shown again on the same words when the task is opened again
    page.reload()
    open_task(ui, project, task["id"])
    page.wait_for_selector(".lsf-richtext__container .htx-highlight", state="attached")
    assert page.inner_text(".lsf-richtext__container .htx-highlight") == "quick brown fox"
    assert not ui.errors, ui.errors


SANITIZE = "(html) => window.LabelDeskSanitize(html)"


def test_task_css_rewrite_rules(ui):  # noqa: F811 - fixture
    """js/task-css.js on its own, through the page's sanitizer: what is kept, dropped, mapped,
    and that it fails closed (no @scope in the browser, a parser that throws)."""
    page = ui.page
    ui.sign_in()
    ui.open_app("/projects")  # the web app's page installs the sanitizer before the app runs

    def css(text):
        out = page.evaluate(SANITIZE, f"<style>{text}</style><p>x</p>")
        start, end = out.index(">") + 1, out.index("</style>")
        return out[start:end]

    kept = css("html body .a { color: red } :root { --c: blue } "
               "body.dark, .b:not(body) { color: green }")
    box = kept.split("@scope (")[0]
    assert ":scope .a { color: red; }" in box and ":scope { --c: blue; }" in box
    assert ":scope.dark, .b:not(body) { color: green; }" in box
    assert "@scope (:root:has(> head > style[data-task-style]))" in kept
    assert ":scope body .a { color: red; }" in kept  # the iframe's variant keeps body
    dropped = css("@font-face { font-family: x } @keyframes k { to { opacity: 0 } } "
                  "@layer a { .a { color: red } } @property --p { syntax: '*'; inherits: false } "
                  "@scope (html) { body { display: none } } @page { margin: 0 } "
                  ".ok { color: blue }")
    for gone in ("@font-face", "@keyframes", "@layer", "@property", "@page", "@scope (html)",
                 "display"):
        assert gone not in dropped, (gone, dropped)
    assert ".ok { color: blue; }" in dropped
    positions = css(".f { position: fixed; top: 0 } .s { position: sticky } "
                    ".w { position: -webkit-sticky } .v { position: var(--p) } "
                    ".i { position: inherit } .a { position: absolute } "
                    ".n { color: red; & .m { position: fixed; color: blue } } "
                    "@media screen { .q { position: fixed } } "
                    "@supports (display: grid) { .g { position: sticky } }")
    # only .a's `position: absolute` is left, once in each @scope
    assert positions.count("position") == positions.count("position: absolute") == 2, positions
    assert "& .m { color: blue; }" in positions and "@media screen" in positions
    assert css("@import url(x); .a { color: red }") == ""  # loads: the whole sheet goes
    # a stray brace doesn't close our @scope: the browser's parser reads it as part of a selector
    assert css("} body { display: none } .a { color: red }").startswith(
        "@scope {\n.a { color: red; }")
    assert css("}}}{{{") == ""  # nothing parseable: nothing kept
    # inline styles: fixed and sticky go, the rest stays as written
    out = page.evaluate(SANITIZE, '<p style="position:fixed;inset:0;color:red">a</p>'
                        '<p style="POSITION: Sticky !important">b</p>'
                        '<p style="position:absolute;top:0">c</p><p style="color: blue">d</p>')
    assert '<p style="inset: 0px; color: red;">a</p>' in out
    assert '<p style="">b</p>' in out or "<p>b</p>" in out
    assert '<p style="position:absolute;top:0">c</p>' in out and 'style="color: blue"' in out
    # fails closed: no @scope in the browser, or a parser that throws, keeps no rule at all
    for breaking in ("window.CSSScopeRule = undefined",
                     "window.CSSStyleSheet = function () { throw new Error('no'); }"):
        result = page.evaluate(f"""(html) => {{
            const saved = {{scope: window.CSSScopeRule, sheet: window.CSSStyleSheet}};
            {breaking};
            try {{ return window.LabelDeskSanitize(html); }}
            finally {{ window.CSSScopeRule = saved.scope; window.CSSStyleSheet = saved.sheet; }}
        }}""", "<style>body { display: none }</style><p>x</p>")
        assert result == '<style data-task-style=""></style><p>x</p>', (breaking, result)


def test_the_window_engine_supports_what_this_relies_on():
    """The pywebview window's Qt WebEngine (Chromium 140 with PySide6-WebEngine 6.12, the
    floor pyproject sets) runs js/task-css.js as Chromium does: @scope keeps the hostile rules
    in the box and in the iframe's document, and `contain: paint` holds position:fixed."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"PySide6-WebEngine>=6.12"' in pyproject
    try:
        import qtpy.QtWebEngineCore  # noqa: F401
    except Exception as e:  # noqa: BLE001 - no Qt WebEngine here: the floor above is the check
        pytest.skip(f"no Qt WebEngine: {e}")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1",
               QTWEBENGINE_CHROMIUM_FLAGS="--disable-gpu")
    run = subprocess.run([sys.executable, str(HELPERS / "qt_task_css_probe.py")],
                         env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, run.stdout + run.stderr
    answer = json.loads(lines[-1])
    assert int(answer["chromium"].split(".")[0]) >= 118, answer
    assert answer["found"] == {"scoped": True, "body": "block", "outside": "visible",
                               "x": "rgb(255, 0, 0)", "frameX": "rgb(255, 0, 0)",
                               "fixedInBox": True}, answer
