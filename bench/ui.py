"""UI benchmark: Label Studio 1.23.2's web app (LabelDesk's UI) in headless Chromium, 100k tasks.

The server is `python -m desktop serve --no-auth --port 0` in a child process (as bench/api.py
starts it); the browser is Debian's Chromium (/usr/bin/chromium, or $LABELDESK_CHROMIUM) driven
by Playwright's sync API (never a downloaded browser). The project has the Text + Choices
config of bench/api.py and N short text tasks, imported in ONE POST /api/projects/{id}/import.

Every time is taken in the page, from its own clock (performance.now()), so Playwright's round
trips don't count: a page load from the navigation's start (the page's time origin), a submit
from the click's event. "Visible" means the element is in the DOM, has a box and holds the
text expected. The browser has a profile of its own (a temp folder: disk cache and V8's code
cache, as a browser in daily use has), and the figures come after untimed warm-up visits (the
first one creates the project's default tab; a second visit of each page lets the code cache
take the app's scripts):
- data manager first page: a fresh page at /projects/{id}/data until the table's first row shows
  a task's text; median of --runs;
- open the label stream: a fresh page at the URL "Label All Tasks" leads to
  (/projects/{id}/data?tab=T&labeling=1) until the first task's text shows in the editor;
  median of --runs;
- submit -> next task: pick a choice, click Submit, until the next task's text shows; p50/p95
  of --submits.
Each step has a time bound: a page that breaks fails its figure instead of hanging. The API
requests each figure waited for are read from the page's Resource Timing entries, slowest first.
"""

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from urllib.parse import urlsplit

import orjson

from bench import Deadline, Report, now, summary_ms, warn_if_busy
from bench.api import LABEL_CONFIG, ChildServer, Client, make_tasks

CHROMIUM = (os.environ.get("LABELDESK_CHROMIUM") or shutil.which("chromium")
            or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-default-apps", "--disable-extensions"]

# Label Studio 1.23.2 at 100k tasks, measured from outside, for the compare column.
LABEL_STUDIO = {"dm": "LS 1.23.2: 1.5-2.2 s", "open": "LS 1.23.2: 2.9 s",
                "submit": "LS 1.23.2: 0.29-0.87 s"}
TARGETS = {"dm_s": 1.0, "open_s": 0.8, "submit_s": 0.15}

# In the page: the time (performance.now()) at which the condition first holds, else false.
# The editor's text: the first line of the Text tag's rich text, not `prev` (the task before).
EDITOR_TEXT = """(prev) => {
    const el = document.querySelector('.lsf-editor .lsf-richtext__line');
    if (!el) return false;
    const text = el.textContent;
    if (!text || !text.startsWith('Review ') || text === prev) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 ? performance.now() : false;
}"""
# The data manager's first row, with the task's text in it (not the loading skeleton).
DM_ROW = """() => {
    const row = document.querySelector('[data-testid="table-row"]');
    if (!row || !row.textContent.includes('Review ')) return false;
    const box = row.getBoundingClientRect();
    return box.width > 0 && box.height > 0 ? performance.now() : false;
}"""
# Resource Timing of the API requests since the last clear: [[path?query, start, duration]].
API_TIMINGS = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/api/'))
    .map(e => { const u = new URL(e.name); return [u.pathname + u.search, e.startTime,
                                                   e.responseEnd - e.startTime]; })"""
MARK_CLICK = """() => {
    performance.clearResourceTimings();
    window.__benchClick = null;
    document.addEventListener('click', () => { window.__benchClick = performance.now(); },
                              {capture: true, once: true});
}"""


class Broken(Exception):
    """The page didn't get there in time (or at all)."""


def missing_tools():
    problems = []
    if not os.path.exists(CHROMIUM):
        problems.append(f"no Chromium at {CHROMIUM} (scripts/setup.d/10-desktop-deps.sh)")
    try:
        from desktop.ui import webapp
        if not webapp.installed():
            problems.append("Label Studio's web app is not installed (make setup)")
    except ImportError as e:
        problems.append(f"desktop.ui.webapp: {e}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("playwright is not installed (pip install -e '.[test]')")
    return problems


def request_name(path):
    """/api/tasks/12/annotations?project=1 -> /api/tasks/{id}/annotations?project=…"""
    path = re.sub(r"/\d+(?=/|\?|$)", "/{id}", path)
    return re.sub(r"=\d+", "=…", path)


def slowest(runs, top=4):
    """The API requests of several runs, by name, with their median duration (ms), slowest
    first: [[name, median ms, count per run]]."""
    durations = {}
    for entries in runs:
        for path, _, ms in entries:
            durations.setdefault(request_name(path), []).append(ms)
    rows = [[name, round(statistics.median(ms), 1), round(len(ms) / max(1, len(runs)), 1)]
            for name, ms in durations.items()]
    return sorted(rows, key=lambda r: -r[1])[:top]


def describe(requests):
    return ", ".join(f"{name} {ms:.0f} ms" for name, ms, _ in requests)


class UiBench:
    def __init__(self, args, report, deadline):
        self.args, self.report, self.deadline = args, report, deadline
        self.n = args.tasks
        self.ui_url = None
        self.project = None
        self.stream_path = None

    def ls(self, what):
        return LABEL_STUDIO[what] if self.n == 100_000 else None

    def bound(self, seconds):
        """A wait's timeout (ms): `seconds`, but never past the topic's deadline."""
        left = min(seconds, self.deadline.left())
        if left <= 0:
            raise Broken("the topic's time bound is spent")
        return left * 1000

    def wait(self, page, script, arg=None, seconds=None, what="the page"):
        """performance.now() when `script` first holds, polled on every animation frame."""
        try:
            return page.wait_for_function(script, arg=arg, polling="raf",
                                          timeout=self.bound(seconds or self.args.wait_seconds)
                                          ).json_value()
        except Exception as e:
            raise Broken(f"{what}: {type(e).__name__}: {str(e).splitlines()[0]}") from None

    def new_page(self, context):
        page = context.new_page()
        page.set_default_timeout(self.bound(self.args.wait_seconds))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("response", lambda r: r.status >= 500 and self.errors.append(
            f"{r.status} {r.request.method} {r.url}"))
        return page

    def visit(self, context, path, script, what):
        """A fresh page at `path` until `script` holds: (seconds from the navigation's start,
        its API requests, seconds by the Python clock)."""
        page = self.new_page(context)
        try:
            page.evaluate("() => performance.setResourceTimingBufferSize(2000)")
            start = now()
            page.goto(self.ui_url + path, wait_until="commit", timeout=self.bound(30))
            at = self.wait(page, script, what=what)
            wall = now() - start
            return at / 1000, page.evaluate(API_TIMINGS), wall
        finally:
            page.close()

    # the steps ------------------------------------------------------------------------------

    def setup_data(self, client):
        project, _ = client.json("POST", "/api/projects",
                                 {"title": f"bench ui {self.n}", "label_config": LABEL_CONFIG},
                                 expect=(201,))
        self.project = project["id"]
        body = orjson.dumps(make_tasks(self.n))
        _, seconds = client.json("POST", f"/api/projects/{self.project}/import", body,
                                 expect=(201, 200), timeout=120 + self.n / 1000)
        self.report.note(f"imported {self.n:,} tasks in one POST /import ({seconds:.2f} s)")

    def warm_up(self, context):
        """The first visits (untimed; the first one's time in a note): the data manager creates
        the project's default tab; "Label All Tasks" says where the label stream is; a second
        visit of each lets the browser's code cache take the app's scripts."""
        page = self.new_page(context)
        try:
            start = now()
            page.goto(f"{self.ui_url}/projects/{self.project}/data", wait_until="commit")
            self.wait(page, DM_ROW, what="data manager (first, cold visit)")
            cold = now() - start
            page.get_by_text("Label All Tasks", exact=True).click(timeout=self.bound(20))
            self.wait(page, EDITOR_TEXT, what="label stream (first visit)")
            parts = urlsplit(page.url)
            self.stream_path = parts.path + ("?" + parts.query if parts.query else "")
        finally:
            page.close()
        if "labeling=1" not in self.stream_path:
            raise Broken(f'"Label All Tasks" led to {self.stream_path}, not a label stream')
        self.visit(context, f"/projects/{self.project}/data", DM_ROW, "data manager (warm-up)")
        self.visit(context, self.stream_path, EDITOR_TEXT, "label stream (warm-up)")
        self.report.note(f"first (cold cache) visit of the data manager: {cold:.2f} s; "
                         f'"Label All Tasks" leads to {self.stream_path}')

    def data_manager(self, context):
        times, walls, timings = [], [], []
        for _ in range(self.args.runs):
            at, api, wall = self.visit(context, f"/projects/{self.project}/data", DM_ROW,
                                       "data manager first row")
            times.append(at)
            walls.append(wall)
            timings.append(api)
        slow = slowest(timings)
        self.report.add("dm_first_page_s", f"data manager: navigate to /projects/{{id}}/data "
                        f"-> first row visible, median of {len(times)}",
                        statistics.median(times), "s", TARGETS["dm_s"], self.ls("dm"),
                        detail={"runs_s": times, "wall_s": walls, "slowest_api_ms": slow})
        self.report.note(f"data manager's slowest API requests (median): {describe(slow)}")

    def open_stream(self, context):
        times, walls, timings = [], [], []
        for _ in range(self.args.runs):
            at, api, wall = self.visit(context, self.stream_path, EDITOR_TEXT,
                                       "label stream first task")
            times.append(at)
            walls.append(wall)
            timings.append(api)
        slow = slowest(timings)
        where = self.stream_path.replace(str(self.project), "{id}", 1)
        self.report.add("open_stream_s", f"open the label stream ({where}) -> first task's "
                        f"text visible, median of {len(times)}", statistics.median(times), "s",
                        TARGETS["open_s"], self.ls("open"),
                        detail={"runs_s": times, "wall_s": walls, "slowest_api_ms": slow})
        self.report.note(f"label stream open's slowest API requests (median): {describe(slow)}")

    def submits(self, context):
        page = self.new_page(context)
        times, walls, timings = [], [], []
        try:
            page.evaluate("() => 0")  # the page exists before the navigation
            page.goto(self.ui_url + self.stream_path, wait_until="commit",
                      timeout=self.bound(30))
            self.wait(page, EDITOR_TEXT, what="label stream first task")
            page.evaluate("() => performance.setResourceTimingBufferSize(2000)")
            choice = page.locator(".lsf-choices .lsf-choice__checkbox").first
            submit = page.locator('[data-testid="bottombar-submit-button"]')
            for k in range(self.args.submits):
                text = page.locator(".lsf-editor .lsf-richtext__line").first.text_content()
                choice.click(timeout=self.bound(10))
                page.wait_for_selector(".lsf-choices input:checked", timeout=self.bound(10))
                page.evaluate(MARK_CLICK)
                start = now()
                submit.click(timeout=self.bound(10))
                at = self.wait(page, EDITOR_TEXT, arg=text, what=f"next task after submit {k + 1}")
                walls.append(now() - start)
                clicked = page.evaluate("() => window.__benchClick")
                if clicked is None:
                    raise Broken("the Submit click was not seen by the page")
                times.append((at - clicked) / 1000)
                timings.append(page.evaluate(API_TIMINGS))
        finally:
            page.close()
        lat = summary_ms(times)
        slow = slowest(timings)
        detail = {**lat, "runs_s": times, "wall_s": walls, "slowest_api_ms": slow}
        self.report.add("submit_next_p50_s", f"submit -> next task's text visible, p50 "
                        f"(n={lat['n']})", lat["p50"] / 1000, "s", TARGETS["submit_s"],
                        self.ls("submit"), detail=detail)
        self.report.add("submit_next_p95_s", "submit -> next task's text visible, p95",
                        lat["p95"] / 1000, "s", TARGETS["submit_s"], self.ls("submit"),
                        detail=detail)
        self.report.note(f"submit's API requests (median): {describe(slow)}")

    def step(self, key, what, target, func, *args):
        """One figure's step; a page that breaks (or an error) fails that figure."""
        self.errors = []
        try:
            func(*args)
        except Exception as e:  # noqa: BLE001 - every failure is this figure's FAIL row
            reason = str(e) if isinstance(e, Broken) else f"{type(e).__name__}: {e}"
            reason = reason.strip().splitlines()[0] if reason.strip() else type(e).__name__
            if self.errors:
                reason += " (" + "; ".join(self.errors[:3]) + ")"
            self.report.fail(key, what, reason, target, "s")
            return False
        if self.errors:
            self.report.note(f"{what}: " + "; ".join(self.errors[:3]))
        return True


def run(args):
    if args.import_tasks:
        from bench import ui_import
        return ui_import.run(args, sys.modules[__name__])
    report = Report("ui", {"tasks": args.tasks, "runs": args.runs, "submits": args.submits,
                           "browser": "headless Chromium"})
    problems = missing_tools()
    if problems:
        for key, what in (("dm_first_page_s", "data manager first page"),
                          ("open_stream_s", "open the label stream"),
                          ("submit_next_p50_s", "submit -> next task")):
            report.skip(key, what, "; ".join(problems))
        return report
    from playwright.sync_api import sync_playwright

    warn_if_busy(report)
    data_dir = tempfile.mkdtemp(prefix="labeldesk-bench-ui-", dir=args.tmp)
    bench = UiBench(args, report, None)
    server = None
    try:
        print(f"-- ui: {args.tasks:,} tasks ({data_dir})", flush=True)
        server = ChildServer(data_dir)
        bench.ui_url = ui_url(server, Deadline(10))
        client = Client(server.url)
        bench.setup_data(client)
        client.close()
        bench.deadline = Deadline(args.seconds)
        with sync_playwright() as pw:
            # a profile of its own (disk cache, V8's code cache), as a browser in daily use or
            # the app's window has: an incognito context recompiles the app on every load
            context = pw.chromium.launch_persistent_context(
                os.path.join(data_dir, "chromium-profile"), executable_path=CHROMIUM,
                args=CHROMIUM_ARGS, headless=True, viewport={"width": 1440, "height": 900})
            try:
                ok = bench.step("warm_up", "warm-up visits (data manager, Label All Tasks)",
                                None, bench.warm_up, context)
                bench.step("dm_first_page_s", "data manager first page", TARGETS["dm_s"],
                           bench.data_manager, context)
                for key, what, target, func in (
                        ("open_stream_s", "open the label stream", TARGETS["open_s"],
                         bench.open_stream),
                        ("submit_next_p50_s", "submit -> next task", TARGETS["submit_s"],
                         bench.submits)):
                    if ok:
                        bench.step(key, what, target, func, context)
                    else:  # no label stream URL: the figure fails with its cause above
                        report.fail(key, what, "the warm-up visits failed", target, "s")
            finally:
                context.close()
        report.note(f"server {server.url}, UI {bench.ui_url} (auth off), child process "
                    f"pid {server.pid}; Chromium {CHROMIUM}, 1440x900, own profile, warm cache")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def ui_url(server, deadline):
    """The UI's own host (`Open it in a browser: http://labeldesk-….localhost:PORT/`)."""
    while not deadline.over():
        for line in list(server.lines):
            match = re.search(r"Open it in a browser: (http://\S+?)/?\s*$", line)
            if match:
                return match.group(1)
        time.sleep(0.05)
    raise RuntimeError("labeldesk serve did not say where its UI is:\n" + server.log_tail())


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the project "
                        "(default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="fresh page loads per load figure "
                        "(the median is reported; default 5)")
    parser.add_argument("--submits", type=int, default=20, help="submits timed (default 20)")
    parser.add_argument("--wait-seconds", type=float, default=20,
                        help="time bound of each wait for the page (default 20)")
    parser.add_argument("--seconds", type=float, default=150,
                        help="time bound of the whole topic after the import (default 150)")
    parser.add_argument("--import-tasks", type=int, default=0, metavar="N",
                        help="instead of the figures above: import a JSON file of N tasks "
                        "from the web app's Import dialog (bench/ui_import.py, issue 23)")
    parser.add_argument("--tmp", default=None, help="folder for the temp data dir")
