"""Labeling under load: one labeler (next task, then the annotation, as the window does) while
four scripts (separate processes) import batches, page through the data manager, filter and
count, and export the same project, against a child `labeldesk serve` with 5,000 tasks.

The figure: the labeling calls' p50/p95 (target p95 <= 50 ms). tests/api/test_load.py runs the
same scenario (`labeling_under_scripts`) and checks that nothing is lost or counted wrong; the
time is judged here, not in a test.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import requests

from bench import Report, warn_if_busy
from bench.api import LABEL_CONFIG, ChildServer

P95_TARGET_MS = 50
ROLES = ("import", "list", "dm", "export")

SCRIPT = r"""
import json, random, sys, time
import requests

url, token, project, role, seconds = sys.argv[1:6]
project, deadline = int(project), time.monotonic() + float(seconds)
session = requests.Session()
if token != "-":
    session.headers["Authorization"] = "Token " + token
stats = {"role": role, "calls": 0, "errors": [], "imported": 0, "exported": 0, "slowest": 0.0}
rng = random.Random(role)
number = 0

def call(method, path, **kwargs):
    started = time.monotonic()
    try:
        response = session.request(method, url + path, timeout=30, **kwargs)
    except requests.RequestException as e:
        stats["errors"].append(f"{method} {path}: {e!r}")
        return None
    stats["slowest"] = max(stats["slowest"], time.monotonic() - started)
    stats["calls"] += 1
    if response.status_code >= 300:
        stats["errors"].append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return None
    return response

while time.monotonic() < deadline and len(stats["errors"]) < 5:
    number += 1
    if role == "import":
        batch = [{"text": f"imported {number}-{i}"} for i in range(50)]
        if call("POST", f"/api/projects/{project}/import", json=batch) is not None:
            stats["imported"] += len(batch)
    elif role == "list":
        total = call("GET", f"/api/tasks?project={project}&page_size=1")
        if total is not None:
            pages = max(1, total.json()["total"] // 100)
            call("GET", f"/api/tasks?project={project}&page={rng.randint(1, pages)}"
                        "&page_size=100&fields=all")
    elif role == "dm":
        query = json.dumps({"filters": {"conjunction": "and", "items": [
            {"filter": "filter:tasks:total_annotations", "operator": "greater",
             "type": "Number", "value": 0}]}, "ordering": ["-tasks:id"]})
        call("GET", f"/api/tasks?project={project}&page_size=30", params={"query": query})
        call("GET", f"/api/projects/{project}")
        call("GET", f"/api/projects?page_size=10")
    else:
        response = call("GET", f"/api/projects/{project}/export?exportType=JSON"
                               "&download_all_tasks=true")
        if response is not None:
            stats["exported"] += len(response.json())
print(json.dumps(stats))
"""


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def labeling_under_scripts(url, token, project_id, duration, workdir):
    """Run the scenario for `duration` seconds. Returns {"latencies", "by_kind" (next,
    annotate), "acknowledged" ({annotation id: (task id, result id)}), "errors", "stats"
    ({role: the script's counts}), "returncodes", "stderr"}."""
    script = os.path.join(workdir, "load_script.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    scripts = [subprocess.Popen([sys.executable, script, url, token or "-", str(project_id),
                                 role, str(duration)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for role in ROLES]
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Token {token}"
    latencies, acknowledged, errors = [], {}, []
    by_kind = {"next": [], "annotate": []}
    deadline = time.monotonic() + duration
    number = 0
    while time.monotonic() < deadline and len(errors) < 5:
        number += 1
        started = time.monotonic()
        task = session.get(f"{url}/api/projects/{project_id}/next", timeout=30)
        latencies.append(time.monotonic() - started)
        by_kind["next"].append(latencies[-1])
        if task.status_code != 200:
            errors.append(f"next: {task.status_code} {task.text[:200]}")
            continue
        task_id = task.json()["id"]
        result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                   "value": {"choices": ["Pos" if number % 2 else "Neg"]}, "id": f"r{number}"}]
        started = time.monotonic()
        answer = session.post(f"{url}/api/tasks/{task_id}/annotations",
                              json={"result": result, "lead_time": 1.5}, timeout=30)
        latencies.append(time.monotonic() - started)
        by_kind["annotate"].append(latencies[-1])
        if answer.status_code != 201:
            errors.append(f"annotate: {answer.status_code} {answer.text[:200]}")
            continue
        acknowledged[answer.json()["id"]] = (task_id, f"r{number}")
    stats, returncodes, stderr = {}, [], []
    for child in scripts:
        out, err = child.communicate(timeout=60)
        returncodes.append(child.returncode)
        stderr.append(err)
        if child.returncode == 0:
            counts = json.loads(out.strip().splitlines()[-1])
            stats[counts["role"]] = counts
    return {"latencies": latencies, "by_kind": by_kind, "acknowledged": acknowledged,
            "errors": errors, "stats": stats, "returncodes": returncodes, "stderr": stderr}


def describe(outcome, duration):
    lat = outcome["latencies"]
    p50, p95 = percentile(lat, 0.5) * 1000, percentile(lat, 0.95) * 1000
    stats = outcome["stats"]
    return (f"load, {duration:.0f}s: labeler {len(outcome['acknowledged'])} annotations, "
            f"{len(lat)} calls, p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(lat) * 1000:.0f} ms; "
            + "; ".join(f"{r} {s['calls']} calls (slowest {s['slowest'] * 1000:.0f} ms)"
                        for r, s in stats.items())
            + f"; p95 of next {percentile(outcome['by_kind']['next'], 0.95) * 1000:.1f} ms, "
            f"of annotate {percentile(outcome['by_kind']['annotate'], 0.95) * 1000:.1f} ms")


def run(args):
    report = Report("load", {"seconds": args.seconds, "tasks": args.tasks})
    warn_if_busy(report)
    with tempfile.TemporaryDirectory(prefix="labeldesk-bench-load-") as data_dir:
        server = ChildServer(os.path.join(data_dir, "data"))
        try:
            session = requests.Session()
            project = session.post(f"{server.url}/api/projects", json={
                "title": "Load", "label_config": LABEL_CONFIG}, timeout=60).json()["id"]
            session.post(f"{server.url}/api/projects/{project}/import",
                         json=[{"text": f"task {i}"} for i in range(args.tasks)], timeout=120)
            outcome = labeling_under_scripts(server.url, None, project, args.seconds, data_dir)
        finally:
            server.stop()
    lat = outcome["latencies"]
    report.note(describe(outcome, args.seconds))
    report.add("labeling_p50_ms", "labeling call p50, 4 scripts hammering the project",
               percentile(lat, 0.5) * 1000, "ms")
    report.add("labeling_p95_ms", "labeling call p95, 4 scripts hammering the project",
               percentile(lat, 0.95) * 1000, "ms", target=P95_TARGET_MS)
    if outcome["errors"] or any(outcome["returncodes"]):
        report.note(f"errors: {outcome['errors'][:3]} {[e[-300:] for e in outcome['stderr'] if e]}")
    return report


def add_arguments(parser):
    parser.add_argument("--seconds", type=float, default=30, help="how long (default 30)")
    parser.add_argument("--tasks", type=int, default=5000, help="tasks imported first")
