"""Runs `labeldesk start` in this process and walks Label Studio's web app in its real window:
the project list, a project's data manager, the label stream, a choice and Submit clicked with
real (XTEST) mouse clicks at the elements' places on the screen, then the next task; then a task
whose annotation has versions, its History panel opened and an older version picked (issue 20),
a screenshot of it beside the results. Writes what it saw to a JSON file. Used by
tests/e2e/test_window_walk.py (argv: data dir, results file, display, then "walk" (its third
task, "a review labeled three times", has the versions) or "teach": teach mode (issue 24) turned
on from the page, "Label All Tasks", its guess pre-selected, Submit clicked, the export read)."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import webview

sys.path.insert(0, str(Path(__file__).parent))
import x11  # noqa: E402
from x11 import GRAB  # noqa: E402

data, results_path, display, mode = sys.argv[1:5]
results = {"steps": []}


def js(window, script):
    return window.evaluate_js(script)


def until(window, script, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = js(window, script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out: {script}")


def click(window, element):
    """A real click at the middle of the element that the JavaScript expression `element`
    finds (CSS pixels are screen pixels here: the window is not scaled)."""
    box = until(window, f"""(() => {{
        const e = {element};
        if (!e) return null;
        const r = e.getBoundingClientRect();
        return r.width && r.height ? [r.left + r.width / 2, r.top + r.height / 2] : null;
    }})()""")
    x11.click(display, window.x + int(box[0]), window.y + int(box[1]))


def by_text(selector, text):
    """The first `selector` whose text starts with `text` (a choice's hotkey number follows)."""
    return (f"[...document.querySelectorAll({json.dumps(selector)})]"
            f".find((e) => e.textContent.trim().startsWith({json.dumps(text)}))")


def task_text(window):
    return js(window, "(document.querySelector('.lsf-main-content') || {}).innerText || ''")


def step(name, window, started):
    results["steps"].append({"step": name, "seconds": round(time.monotonic() - started, 2),
                             "path": js(window, "location.pathname + location.search")})


def grab(path):
    """A screenshot of the X screen (the window) into `path`, and what x11.GRAB saw in it."""
    shot = subprocess.run([sys.executable, "-c", GRAB, str(path)], capture_output=True,
                          text=True, timeout=60)
    return json.loads(shot.stdout)


def fetch(window, method, path, body=None):
    """An API call from the page (its session, and the CSRF header js/webapp-boot.js adds):
    (status, JSON answer)."""
    key = f"__fetch{time.monotonic_ns()}"
    options = {"method": method, "headers": {"Content-Type": "application/json"}}
    if body is not None:
        options["body"] = json.dumps(body)
    js(window, f"fetch({json.dumps(path)}, {json.dumps(options)}).then(async (r) => "
               f"window.{key} = [r.status, await r.json().catch(() => null)]); 1")
    return until(window, f"window.{key}", 60)


def teach(window, started):
    """Teach mode from the window: on, the least sure task with its guess chosen, submitted."""
    until(window, "!!document.querySelector('.lsf-projects-page__link, .lsf-menu-header')", 60)
    status, answer = fetch(window, "POST", "/api/assistants/teach/enable", {"project": 1})
    assert status == 200, (status, answer)
    step("teach mode on", window, started)
    js(window, "location = '/projects/1/data'; 1")
    until(window, "!!document.querySelector('.lsf-table-row')", 30)
    click(window, by_text("button", "Label All Tasks"))
    until(window, "!!document.querySelector('.lsf-choice__item input:checked')", 60)
    results["task_text"] = task_text(window)
    results["guess"] = js(window, "document.querySelector('.lsf-choice__item input:checked')"
                                  ".closest('.lsf-choice__item').innerText.trim()")
    step("guess pre-selected", window, started)
    click(window, "document.querySelector('button[name=submit]')")
    until(window, f"((t) => t && t !== {json.dumps(results['task_text'])})("
                  "(document.querySelector('.lsf-main-content') || {}).innerText)", 30)
    step("submitted", window, started)
    status, exported = fetch(window, "GET", "/api/projects/1/export?exportType=JSON")
    assert status == 200, (status, exported)
    results["exported"] = exported
    results["shot"] = grab(Path(results_path).with_suffix(".png"))


def drive():
    try:
        window = webview.windows[0]
        if mode == "teach":
            teach(window, time.monotonic())
            return
        started = time.monotonic()
        until(window, "!!document.querySelector('.lsf-projects-page__link, .lsf-menu-header')",
              60)
        js(window, "location = '/projects/'; 1")
        until(window, "!!document.querySelector('.lsf-projects-page__link')", 30)
        step("projects", window, started)
        click(window, "document.querySelector('.lsf-projects-page__link')")
        until(window, "!!document.querySelector('.lsf-table-row')", 30)
        step("data manager", window, started)
        click(window, by_text("button", "Label All Tasks"))
        until(window, "!!document.querySelector('.lsf-choices')", 30)
        first = task_text(window)
        step("label stream", window, started)
        click(window, by_text(".lsf-choice__item", "Positive"))
        until(window, "!!document.querySelector('.lsf-choice__item input:checked')", 10)
        step("choice", window, started)
        click(window, "document.querySelector('button[name=submit]')")
        until(window, f"((t) => t && t !== {json.dumps(first)})("
                      "(document.querySelector('.lsf-main-content') || {}).innerText)", 30)
        results["first_task"], results["second_task"] = first, task_text(window)
        step("submitted, next task", window, started)
        results["shot"] = grab(Path(results_path).with_suffix(".png"))

        # the annotation history (issue 20): the editor's History panel, an older version picked
        js(window, "location = location.pathname; 1")  # the data manager; the task's row clicked
        row = ("[...document.querySelectorAll('.lsf-table-row')].find((e) => "
               "e.textContent.includes('labeled three times'))")
        until(window, f"!!{row}", 30)
        click(window, row)
        until(window, "(document.querySelector('.lsf-main-content') || {}).innerText"
                      "?.includes('labeled three times')", 30)
        tab = ("[...document.querySelectorAll('.lsf-panel-tabs__tab')].find((e) => "
               "e.offsetParent && e.textContent.trim() === 'History')")
        items = "document.querySelectorAll('.lsf-history-item').length >= 3"
        # the data manager may load the task twice as it opens (the editor built again): a
        # click on the first editor's tab is lost with it, so click until the panel shows
        for attempt in range(4):
            time.sleep(1)
            click(window, tab)
            try:
                until(window, items, 4)
                break
            except AssertionError:
                if attempt == 3:
                    raise
        results["history_clicks"] = attempt + 1
        click(window, "document.querySelectorAll('.lsf-history-item')[2]")
        until(window, "!!document.querySelector('#labeldesk-history-restore button')", 30)
        results["history_items"] = js(window,
                                      "document.querySelectorAll('.lsf-history-item').length")
        step("history panel", window, started)
        results["history_shot"] = grab(Path(results_path).with_name("history.png"))
    except BaseException as e:  # noqa: BLE001 - reported to the test
        results["failure"] = repr(e)
        try:  # what the window showed then, beside the results
            grab(Path(results_path).with_name("failure.png"))
        except Exception:  # noqa: BLE001 - the failure above is the news
            pass
    finally:
        Path(results_path).write_text(json.dumps(results))
        webview.windows[0].destroy()


real_start = webview.start


def start(*args, **kwargs):
    threading.Thread(target=drive, daemon=True).start()
    return real_start(*args, **kwargs)


webview.start = start
from desktop.shell.cli import main  # noqa: E402

sys.exit(main(["start", "--data-dir", data, "--port", "0"]))
