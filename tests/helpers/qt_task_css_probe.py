"""Run js/task-css.js in the window's own engine (Qt WebEngine, offscreen) and print what it did.

Used by tests/e2e/test_task_html_box.py: a hostile and a legitimate <style> go through
scopeStyleSheet into a box with the containment of css/webapp.css and into an iframe's document;
the computed styles and the place of a position:fixed element come back as one JSON line.
"""

import json
import sys

from qtpy.QtCore import QTimer, QUrl
from qtpy.QtWebEngineCore import QWebEnginePage, qWebEngineChromiumVersion
from qtpy.QtWidgets import QApplication

from paths import ROOT

TASK_CSS = ROOT / "desktop" / "ui" / "js" / "task-css.js"

PAGE = """<div id="box" style="contain: paint; position: relative; width: 300px; height: 100px;
  margin: 50px"><div id="task"><p class="x" id="x">x</p></div>
  <div id="fixed" style="position: fixed; inset: 0">fixed</div></div>
<p id="outside">outside</p><iframe id="frame"></iframe>
<script>%s
const css = scopeStyleSheet("body { display: none } * { visibility: hidden } "
                            + ".x { color: rgb(255, 0, 0) }");
const style = document.createElement("style");
style.setAttribute(TASK_STYLE_ATTR, "");
style.textContent = css;
document.getElementById("task").prepend(style);
document.getElementById("frame").srcdoc =
  `<style ${TASK_STYLE_ATTR}>${css}</style><p class="x" id="x">x</p>`;
</script>"""

PROBE = """JSON.stringify((() => {
  const frame = document.getElementById("frame").contentDocument;
  const box = document.getElementById("box").getBoundingClientRect();
  const fixed = document.getElementById("fixed").getBoundingClientRect();
  return {scoped: document.querySelector("#task style").textContent.startsWith("@scope {"),
          body: getComputedStyle(document.body).display,
          outside: getComputedStyle(document.getElementById("outside")).visibility,
          x: getComputedStyle(document.getElementById("x")).color,
          frameX: frame.defaultView.getComputedStyle(frame.getElementById("x")).color,
          fixedInBox: fixed.left === box.left && fixed.top === box.top
            && fixed.width === box.width && fixed.height === box.height};
})())"""


def main():
    source = TASK_CSS.read_text().replace("export const", "const")
    source = source.replace("export function", "function")
    app = QApplication(sys.argv[:1])
    page = QWebEnginePage()

    def report(result):
        print(json.dumps({"chromium": qWebEngineChromiumVersion(),
                          "found": json.loads(result) if result else None}), flush=True)
        app.quit()

    page.loadFinished.connect(
        lambda ok: QTimer.singleShot(500, lambda: page.runJavaScript(PROBE, 0, report)))
    page.setHtml(PAGE % source, QUrl("http://127.0.0.1/"))
    QTimer.singleShot(60000, app.quit)
    app.exec()


if __name__ == "__main__":
    main()
