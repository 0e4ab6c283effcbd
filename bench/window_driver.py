"""Runs `labeldesk start` in this process, as `python -m desktop start` does, and notes when the
window showed the project list; then closes the window (the app stops as when its close button
is clicked). Used by bench/window.py (argv: data dir, results file, project id, project title,
seconds to wait), which sees the window mapped itself; it writes the times (time.time()) as JSON.

Nothing of the app is changed: a thread started beside pywebview's GUI loop (as
tests/helpers/window_walk_driver.py does) asks the page, through pywebview's evaluate_js, for
the moment its project list first showed, which the page itself notes on its own clock (an
animation-frame loop put in each page it shows), so the polling adds nothing to the figure.
"""

import time

started = time.time()  # the interpreter is up; the app's imports are next

import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import webview  # noqa: E402

data, results_path, project, title, seconds = sys.argv[1:6]
results = {"python": started}

# The first animation frame at which the Home page's recent projects list shows the project:
# its link, with a box, holding the title and the task count. performance.timeOrigin +
# performance.now() is the epoch time in ms, as Python's time.time() * 1000.
WATCH = """(() => {
    if (window.__benchSeen === undefined) {
        window.__benchSeen = null;
        const look = () => {
            const link = document.querySelector('a[href="/projects/%s"]');
            const text = link ? link.innerText : '';
            const box = link ? link.getBoundingClientRect() : null;
            if (text.includes(%s) && text.includes('Tasks') && box.width && box.height) {
                window.__benchSeen = [performance.timeOrigin + performance.now(),
                                      performance.timeOrigin];
                return;
            }
            requestAnimationFrame(look);
        };
        look();
    }
    return window.__benchSeen;
})()""" % (int(project), json.dumps(title))
# The loading page's first paint (its document is a data: URL), while it is still shown.
LOADING_PAINT = """(() => {
    if (location.protocol !== 'data:') return null;
    const paint = performance.getEntriesByType('paint')
        .find((e) => e.name === 'first-contentful-paint');
    return paint ? performance.timeOrigin + paint.startTime : false;
})()"""


def watch():
    window = webview.windows[0]
    deadline = time.time() + float(seconds)
    try:
        while time.time() < deadline:
            try:
                painted = window.evaluate_js(LOADING_PAINT) if "loading" not in results \
                    else None
                if painted:
                    results["loading"] = painted / 1000
                elif painted is None:
                    results.setdefault("loading", None)  # already the app's page
                seen = window.evaluate_js(WATCH)
            except Exception:  # noqa: BLE001 - the page was being replaced: ask again
                seen = None
            if seen:  # and when the page that shows it started (the data was open then)
                results["projects"], results["navigated"] = seen[0] / 1000, seen[1] / 1000
                return
            time.sleep(0.05)
        raise AssertionError(f"no project list in the window after {seconds} s")
    except BaseException as e:  # noqa: BLE001 - reported to the bench
        results["failure"] = repr(e)
    finally:
        with open(results_path, "w") as f:
            json.dump(results, f)
        window.destroy()


real_start = webview.start


def start(*args, **kwargs):
    results["gui"] = time.time()  # the window made, its GUI loop next
    threading.Thread(target=watch, name="bench-watch", daemon=True).start()
    return real_start(*args, **kwargs)


webview.start = start
from desktop.shell.cli import main  # noqa: E402

sys.exit(main(["start", "--data-dir", data, "--port", "0"]))
