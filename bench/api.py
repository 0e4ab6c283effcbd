"""API benchmark (issue "data API"): LabelDesk's HTTP API on loopback, 100k tasks (or --tasks N).

The server runs as a child process (`python -m desktop serve --no-auth --port 0`), so its RSS
is its own and the client doesn't share its GIL; `--in-process` runs it in this process instead
(LiveServer-style). The client is http.client on one keep-alive connection: every figure is
client-side wall time from sending the request to the last byte of the response.

Steps: create a project (text + choices config); import N short text tasks in ONE
POST /api/projects/{id}/import; server RSS; POST /api/tasks/{id}/annotations/ x500; GET
/api/tasks?project=&page=&page_size=100 for the first, middle and last page (x20 each), plain
and with fields=all; GET /api/projects/{id}/ (x20); exports (JSON, JSON_MIN, CSV); server RSS;
restart the server on the same data (open time, RSS); GET /next; then the data manager's
filters, sorts and project summary in a project of their own (bench/api_dm.py). An endpoint
that answers 404/405 is reported as "not implemented yet" and the steps that need it are
skipped.
"""

import http.client
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from contextlib import contextmanager
from urllib.parse import urlsplit

import orjson

from bench import Deadline, Report, api_dm, now, proc_status, summary_ms, warn_if_busy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Pos"/><Choice value="Neg"/>
  </Choices>
</View>"""
RESULT = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
           "value": {"choices": ["Pos"]}}]

# Label Studio 1.23.2 at 100k tasks, for the compare column.
LABEL_STUDIO = {"import": "LS 1.23.2: 14.7 s", "page": "LS 1.23.2: 0.18 s",
                "annotation": "LS 1.23.2: 58 ms", "rss": "LS 1.23.2: 646 MB"}
LS_PREDICTIONS_RSS = "LS 1.23.2: 478 MB (all its processes)"  # 100k tasks + predictions


def targets(tasks):
    """The targets at this size: the 100k ones, the 1M ones from 1M tasks up."""
    # rss_alone_mb: the server holding these tasks alone, after the import and after a restart
    # (issue 23); export_rss_mb: how much the RSS grows while the JSON export streams;
    # rss_predictions_mb: a server holding N tasks with a prediction each (below 1M only)
    if tasks >= 1_000_000:
        return {"import_s": 20.0, "page_ms": 50.0, "annotation_ms": 5.0, "rss_mb": None,
                "rss_alone_mb": 600.0, "export_s": 10.0, "export_rss_mb": 100.0,
                "restart_s": 1.5, "rss_predictions_mb": None}
    return {"import_s": 1.5, "page_ms": 20.0, "annotation_ms": 5.0, "rss_mb": 300.0,
            "rss_alone_mb": 120.0, "export_s": 2.0, "export_rss_mb": None, "restart_s": None,
            "rss_predictions_mb": 250.0}


class RssWatch:
    """The server's RSS sampled every 10 ms in a thread from now until stop(), which returns
    the highest sample less the first (MB), or None without /proc."""

    def __init__(self, server):
        self.server, self.samples = server, []
        self.done = threading.Event()
        self.sample()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def sample(self):
        rss = self.server.rss()["rss_mb"]
        if rss is not None:
            self.samples.append(rss)

    def run(self):
        while not self.done.wait(0.01):
            self.sample()

    def stop(self):
        self.done.set()
        self.thread.join()
        self.sample()
        return max(self.samples) - self.samples[0] if self.samples else None


class NotImplementedYet(Exception):
    """The endpoint answered 404/405: it isn't there yet."""


class HttpError(Exception):
    pass


class Client:
    """http.client on one keep-alive connection; reconnects if the server closed it."""

    def __init__(self, url, timeout=60):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.conn = None

    def _connect(self, timeout):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        else:
            self.conn.timeout = timeout
            if self.conn.sock is not None:
                self.conn.sock.settimeout(timeout)
        return self.conn

    def request(self, method, path, body=None, timeout=None, sink=False):
        """(status, body bytes or byte count if `sink`, seconds to the last byte)."""
        headers = {"Accept": "application/json"}
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._connect(timeout or self.timeout)
            try:
                start = now()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                if sink:
                    data = 0
                    while True:
                        chunk = response.read(1 << 20)
                        if not chunk:
                            break
                        data += len(chunk)
                else:
                    data = response.read()
                seconds = now() - start
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return response.status, data, seconds
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise

    def json(self, method, path, body=None, expect=(200, 201), timeout=None):
        status, data, seconds = self.request(method, path, body, timeout)
        if status in (404, 405):
            raise NotImplementedYet(f"{method} {path.split('?')[0]} answers {status}: "
                                    "not implemented yet")
        if status not in expect:
            raise HttpError(f"{method} {path} answered {status}: {data[:300]!r}")
        return (orjson.loads(data) if data else None), seconds

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# -- the server under test ------------------------------------------------------------------

class ChildServer:
    """`python -m desktop serve` in a child process; its stdout/stderr drained by a thread.
    `code`: the checkout whose LabelDesk runs (another one for a before/after figure)."""

    def __init__(self, data_dir, timeout=120, code=ROOT):
        cmd = [sys.executable, "-m", "desktop", "serve", "--data-dir", str(data_dir),
               "--port", "0", "--no-auth"]
        start = now()
        self.proc = subprocess.Popen(cmd, cwd=code, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONPATH": str(code)})
        self.pid = self.proc.pid
        self.lines = deque(maxlen=200)
        self.url = None
        deadline = Deadline(timeout)
        ready = threading.Event()

        def drain():
            for line in self.proc.stdout:
                self.lines.append(line)
                match = re.search(r"serving (http://\S+)", line)
                if match and self.url is None:
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=drain, daemon=True).start()
        ready.wait(max(0.0, deadline.left()))
        if self.url is None:
            self.stop()
            raise RuntimeError("labeldesk serve did not start:\n" + "".join(self.lines))
        self.started_in = now() - start

    def rss(self):
        return proc_status(self.pid)

    def log_tail(self, n=20):
        return "".join(list(self.lines)[-n:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class InProcessServer:
    """LabelDesk + waitress in this process, as tests/api/formats/conftest.py's LiveServer."""

    def __init__(self, data_dir):
        from desktop.core.settings import Settings
        from desktop.shell.app import LabelDesk
        from desktop.shell.server import Server
        start = now()
        self.app = LabelDesk(Settings(data_dir=data_dir, auth=False))
        self.server = Server(self.app.wsgi, port=0,
                             max_body_bytes=self.app.settings.max_body_bytes).start()
        self.url = self.server.url
        self.pid = os.getpid()
        self.started_in = now() - start

    def rss(self):
        return proc_status()

    def log_tail(self, n=20):
        return ""

    def stop(self):
        self.server.stop()
        self.app.close()


# -- the benchmark --------------------------------------------------------------------------

def make_tasks(n):
    return [{"text": f"Review {i}: the delivery was quick and the product works as described."}
            for i in range(1, n + 1)]


def task_list(payload):
    """The tasks of a /api/tasks answer: {"tasks": [...]} (Label Studio), or a paged/plain list."""
    if isinstance(payload, dict):
        for key in ("tasks", "results"):
            if isinstance(payload.get(key), list):
                return payload[key]
        return []
    return payload if isinstance(payload, list) else []


class ApiBench:
    def __init__(self, args, report):
        self.args = args
        self.report = report
        self.n = args.tasks
        self.t = targets(self.n)
        self.project = None
        self.task_ids = []
        self.imported = False

    def ls(self, what):
        """Label Studio's figure, when it was measured at the same size."""
        return LABEL_STUDIO[what] if self.n == 100_000 else None

    def server_rss(self, server, key, when, target="rss_mb", compare=None):
        mem = server.rss()
        if mem["rss_mb"] is None:
            self.report.skip(key, f"server RSS {when}", "no /proc on this system")
            return
        inproc = " (in-process: includes the client)" if self.args.in_process else ""
        self.report.add(key, f"server RSS {when}{inproc}", mem["rss_mb"], "MB",
                        self.t[target], compare or self.ls("rss"), detail=mem)
        self.report.add(key + "_peak", f"server peak RSS (VmHWM) {when}", mem["hwm_mb"], "MB",
                        detail=mem)

    def step(self, name, func, *args):
        """Run one step; a missing endpoint becomes a SKIP row, a failure an error note."""
        try:
            return func(*args)
        except NotImplementedYet as e:
            self.report.skip(name, name, str(e))
        except (HttpError, OSError, ValueError) as e:
            self.report.skip(name, name, f"error: {type(e).__name__}: {e}")
        return None

    # each step ------------------------------------------------------------------------------

    def create_project(self, client):
        data, seconds = client.json("POST", "/api/projects",
                                    {"title": f"bench {self.n}", "label_config": LABEL_CONFIG},
                                    expect=(201,))
        self.project = data["id"]

    def import_tasks(self, client):
        build = now()
        body = orjson.dumps(make_tasks(self.n))
        self.report.note(f"import body: {len(body) / 1e6:.1f} MB JSON list of {self.n:,} tasks "
                         f"(built client-side in {now() - build:.1f} s, not timed)")
        timeout = 120 + self.n / 1000
        data, seconds = client.json("POST", f"/api/projects/{self.project}/import", body,
                                    expect=(201, 200), timeout=timeout)
        count = data.get("task_count") if isinstance(data, dict) else None
        self.report.add("import_s", f"import {self.n:,} tasks in one POST /import", seconds, "s",
                        self.t["import_s"], self.ls("import"),
                        detail={"response": data if len(orjson.dumps(data)) < 2000 else None})
        if count is not None and count != self.n:
            self.report.note(f"import answered task_count={count}, expected {self.n}")
        self.imported = True

    def page_path(self, page, extra=""):
        return f"/api/tasks?project={self.project}&page={page}&page_size=100{extra}"

    def collect_task_ids(self, client, want):
        ids, page = [], 1
        while len(ids) < want:
            data, _ = client.json("GET", self.page_path(page))
            batch = [t["id"] for t in task_list(data)]
            if not batch:
                break
            ids.extend(batch)
            page += 1
        self.task_ids = ids[:want]

    def annotations(self, client):
        if not self.task_ids:
            self.collect_task_ids(client, self.args.annotations)
        if not self.task_ids:
            raise HttpError("no task ids from /api/tasks")
        deadline = Deadline(self.args.step_seconds)
        seconds = []
        body = {"result": RESULT, "lead_time": 1.0}
        for k in range(self.args.annotations):
            task_id = self.task_ids[k % len(self.task_ids)]
            _, took = client.json("POST", f"/api/tasks/{task_id}/annotations/", body,
                                  expect=(201,))
            seconds.append(took)
            if deadline.over():
                self.report.note(f"annotations: stopped after {len(seconds)} (time bound)")
                break
        lat = summary_ms(seconds)
        self.report.add("annotation_p50_ms", f"create annotation, p50 (n={lat['n']})",
                        lat["p50"], "ms", self.t["annotation_ms"], self.ls("annotation"),
                        detail=lat)
        self.report.add("annotation_p95_ms", "create annotation, p95", lat["p95"], "ms",
                        detail=lat)

    def pages(self, client):
        last = max(1, math.ceil(self.n / 100))
        positions = (("first", 1), ("middle", max(1, last // 2)), ("last", last))
        for extra, label in (("", ""), ("&fields=all", ", fields=all")):
            for name, page in positions:
                deadline = Deadline(self.args.step_seconds / 6)
                seconds = []
                expected = 100 if page < last else self.n - (last - 1) * 100
                for _ in range(self.args.page_reps):
                    data, took = client.json("GET", self.page_path(page, extra))
                    seconds.append(took)
                    got = len(task_list(data))
                    if got != expected:
                        raise HttpError(f"page {page} has {got} tasks, expected {expected}")
                    if deadline.over():
                        break
                lat = summary_ms(seconds)
                key = f"page_{name}{'_all' if extra else ''}_p50_ms"
                self.report.add(key, f"GET /api/tasks {name} page (page={page}, 100 per page"
                                f"{label}), p50 (n={lat['n']})", lat["p50"], "ms",
                                self.t["page_ms"], self.ls("page"), detail=lat)

    def project_get(self, client):
        seconds = []
        for _ in range(self.args.page_reps):
            _, took = client.json("GET", f"/api/projects/{self.project}/")
            seconds.append(took)
        lat = summary_ms(seconds)
        self.report.add("project_get_p50_ms", f"GET /api/projects/{{id}}/ with {self.n:,} tasks "
                        f"(counters), p50 (n={lat['n']})", lat["p50"], "ms",
                        self.t["page_ms"], detail=lat)

    def exports(self, client, server=None):
        timeout = 60 + self.n / 2000
        for kind in ("JSON", "JSON_MIN", "CSV"):
            key = f"export_{kind.lower()}_s"
            what = f"export {kind} of {self.n:,} tasks (download_all_tasks=true)"
            path = (f"/api/projects/{self.project}/export?exportType={kind}"
                    "&download_all_tasks=true")
            watch = RssWatch(server) if kind == "JSON" and server is not None else None
            try:
                status, size, seconds = client.request("GET", path, timeout=timeout, sink=True)
            except OSError as e:
                self.report.skip(key, what, f"error: {type(e).__name__}: {e}")
                client.close()
                continue
            if status in (404, 405):
                self.report.skip(key, what, f"answers {status}: not implemented yet",
                                 self.t["export_s"], "s")
                continue
            if status != 200:
                self.report.skip(key, what, f"answered {status}")
                continue
            self.report.add(key, what + f" ({size / 1e6:.1f} MB)", seconds, "s",
                            self.t["export_s"], detail={"bytes": size})
            if watch is not None:
                growth = watch.stop()
                if growth is not None:
                    self.report.add("export_json_rss_growth_mb", "server RSS growth while the "
                                    "JSON export streams (highest sampled RSS - RSS before)",
                                    growth, "MB", self.t["export_rss_mb"])

    def next_task(self, client):
        """GET /next in a project whose first 50,000 tasks are labeled (imported with their
        annotations), beside the same call in the main project (a few hundred labeled): the
        labeled tasks before the first open one should not cost anything."""
        labeled = 50_000
        project, _ = client.json("POST", "/api/projects", {"title": "bench next",
                                                           "label_config": LABEL_CONFIG},
                                 expect=(201,))
        tasks = [{"data": {"text": f"done {i}"}, "annotations": [{"result": RESULT}]}
                 for i in range(labeled)] + [{"text": f"open {i}"} for i in range(100)]
        client.json("POST", f"/api/projects/{project['id']}/import", orjson.dumps(tasks),
                    expect=(201, 200), timeout=300)
        for key, project_id, what in (
                ("next_p50_ms", self.project, f"GET /api/projects/{{id}}/next ({self.n:,} "
                 f"tasks, {self.args.annotations} labeled)"),
                ("next_after_labeled_p50_ms", project["id"], "GET /api/projects/{id}/next "
                 f"past {labeled:,} labeled tasks")):
            seconds = [client.json("GET", f"/api/projects/{project_id}/next")[1]
                       for _ in range(self.args.page_reps)]
            lat = summary_ms(seconds)
            self.report.add(key, f"{what}, p50 (n={lat['n']})", lat["p50"], "ms",
                            self.t["page_ms"], detail=lat)

    @contextmanager
    def own_server(self, what, tasks):
        """A child server of its own, on a folder of its own, with a project holding `tasks`
        (imported in one POST): yields {"dir", "server", "project"}; whatever server is in it
        at the end is stopped and the folder removed."""
        data_dir = tempfile.mkdtemp(prefix=f"labeldesk-bench-{what}-", dir=self.args.tmp)
        own = {"dir": data_dir, "server": ChildServer(data_dir)}
        try:
            client = Client(own["server"].url)
            project, _ = client.json("POST", "/api/projects", {
                "title": f"bench {what}", "label_config": LABEL_CONFIG}, expect=(201,))
            client.json("POST", f"/api/projects/{project['id']}/import", orjson.dumps(tasks),
                        expect=(201,), timeout=300 + self.n / 500)
            client.close()
            own["project"] = project["id"]
            yield own
        finally:
            own["server"].stop()
            shutil.rmtree(data_dir, ignore_errors=True)

    @staticmethod
    def started(own):
        """A new child server on `own`'s folder, once it has answered for its project."""
        own["server"] = ChildServer(own["dir"])
        client = Client(own["server"].url)
        client.json("GET", f"/api/projects/{own['project']}/")
        client.close()

    def predictions_memory(self):
        """A server of its own holding N tasks with a prediction each, imported in one POST
        (issue 23's memory row, where Label Studio's processes take 478 MB at 100k): its RSS
        after the import and after a restart."""
        tasks = [{"data": {"text": f"Review {i}: the delivery was quick and the product works "
                                   "as described."},
                  "predictions": [{"result": RESULT, "score": (i % 97) / 97}]}
                 for i in range(self.n)]
        what = f"{self.n:,} tasks + {self.n:,} predictions"
        with self.own_server("predictions", tasks) as own:
            del tasks
            self.server_rss(own["server"], "rss_predictions_import_mb", f"holding {what}, "
                            "after the import", "rss_predictions_mb", LS_PREDICTIONS_RSS)
            own["server"].stop()
            self.started(own)
            self.server_rss(own["server"], "rss_predictions_restart_mb", f"holding {what}, "
                            "after a restart", "rss_predictions_mb", LS_PREDICTIONS_RSS)

    def crash_restart(self):
        """A server of its own: N tasks imported in one POST, the server killed (SIGKILL) as
        soon as it answered, while its background compaction of the import runs; then the
        start to its first answer (the journal's import replayed, the compaction finished, the
        indexes built from the documents: the worst restart after a crash)."""
        with self.own_server("crash", make_tasks(self.n)) as own:
            own["server"].proc.kill()
            own["server"].proc.wait()
            journal = os.path.join(own["dir"], "db", "journal.ldb")
            megabytes = os.path.getsize(journal) / 1e6 if os.path.exists(journal) else 0.0
            start = now()
            self.started(own)
            self.report.add("crash_restart_s", f"server restart on {self.n:,} tasks killed "
                            f"right after their import (journal {megabytes:.0f} MB): start to "
                            "first answer", now() - start, "s", self.t["restart_s"])

    def restart(self, server, data_dir):
        server.stop()
        start = now()
        server = ChildServer(data_dir)
        client = Client(server.url)
        deadline = Deadline(60)
        while True:
            try:
                client.json("GET", f"/api/projects/{self.project}/")
                break
            except (OSError, HttpError, NotImplementedYet):
                if deadline.over():
                    raise
        self.report.add("restart_s", f"server restart on {self.n:,} tasks: start to first "
                        "answer (includes ~0.3 s interpreter + imports)", now() - start, "s",
                        self.t["restart_s"], detail={"serving_line_s": server.started_in})
        self.server_rss(server, "rss_after_restart_mb", "after a restart", "rss_alone_mb")
        client.close()
        return server


def run(args):
    report = Report("api", {"tasks": args.tasks, "server": "in-process" if args.in_process
                            else "child process", "client": "http.client keep-alive"})
    data_dir = tempfile.mkdtemp(prefix="labeldesk-bench-api-", dir=args.tmp)
    warn_if_busy(report)
    bench = ApiBench(args, report)
    server = None
    try:
        print(f"-- api: {args.tasks:,} tasks ({data_dir})", flush=True)
        server = InProcessServer(data_dir) if args.in_process else ChildServer(data_dir)
        client = Client(server.url)
        report.note(f"server {server.url} pid {server.pid} "
                    f"({'in-process' if args.in_process else 'child process'}); "
                    "client http.client, one keep-alive connection")
        bench.step("create project", bench.create_project, client)
        if bench.project is None:
            raise RuntimeError("could not create a project:\n" + server.log_tail())
        bench.step("import", bench.import_tasks, client)
        if bench.imported:
            bench.server_rss(server, "rss_after_import_mb", f"after importing {args.tasks:,}",
                             "rss_alone_mb")
            bench.step("annotations", bench.annotations, client)
            bench.step("task pages", bench.pages, client)
        bench.step("project GET", bench.project_get, client)
        if bench.imported:
            bench.step("exports", bench.exports, client, server)
            bench.server_rss(server, "rss_end_mb", "at the end")
            if not args.in_process and not args.no_restart:
                client.close()
                server = bench.step("restart", bench.restart, server, data_dir) or server
                client = Client(server.url)
            bench.step("next", bench.next_task, client)  # last: its project changes the RSS
            if bench.t["rss_predictions_mb"] is not None and not args.in_process:
                bench.step("predictions memory", bench.predictions_memory)
            if not args.in_process and not args.no_restart:
                bench.step("restart after a crash", bench.crash_restart)
            if not args.no_dm:  # after every other figure: its project adds to the RSS
                bench.step("data manager", api_dm.run, bench, client, LABEL_CONFIG, server)
        client.close()
    finally:
        if server is not None:
            try:
                server.stop()
            except Exception:  # already stopped by a failed restart
                pass
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks to import (default "
                        "100000; the separate big run is --tasks 1000000)")
    parser.add_argument("--annotations", type=int, default=500, help="annotations to create")
    parser.add_argument("--page-reps", type=int, default=20, help="requests per page figure")
    parser.add_argument("--step-seconds", type=float, default=60,
                        help="time bound of the annotation step and of the page step")
    parser.add_argument("--in-process", action="store_true",
                        help="run the server in this process (RSS then includes the client)")
    parser.add_argument("--no-restart", action="store_true", help="skip the restart figure")
    parser.add_argument("--no-dm", action="store_true", help="skip the data-manager figures "
                        "(a second project of N tasks with annotations and predictions)")
    parser.add_argument("--tmp", default=None, help="folder for the temp data dir")


if __name__ == "__main__":
    import argparse

    from bench import OUT_DIR
    parser = argparse.ArgumentParser(prog="python -m bench.api")
    add_arguments(parser)
    result = run(parser.parse_args())
    print(result.table())
    print("written to", result.write(OUT_DIR))
