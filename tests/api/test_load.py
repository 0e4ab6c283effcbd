"""Labeling stays fast while scripts hammer the same project.

One labeler annotates continuously over HTTP (the next task from the label stream, then the
annotation), as the window does, while four scripts (separate processes) import batches, page
through the data manager, filter and count, and export the project, for 60 s against a child
`labeldesk serve`. Afterwards: no request failed, every acknowledged annotation is there exactly
once, nothing else is, the counters are exact, and the labeling calls' p95 is at most 50 ms.
Loopback only; every loop is bounded by the deadline and every request by a timeout.
"""

import json
import os
import subprocess
import sys
import time

import orjson
import pytest
import requests

from datahelp import LABEL_CONFIG

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

DURATION = float(os.environ.get("LABELDESK_LOAD_SECONDS", 60))
P95_LIMIT_MS = 50
INITIAL_TASKS = 5000

SCRIPT = r"""
import json, random, sys, time
import requests

url, token, project, role, seconds = sys.argv[1:6]
project, deadline = int(project), time.monotonic() + float(seconds)
session = requests.Session()
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


def test_labeling_under_concurrent_scripts(serve_process, tmp_path):
    process = serve_process(tmp_path / "data")
    api = process.api
    project_id = api.project(title="Load", label_config=LABEL_CONFIG)["id"]
    response = api.post(f"/api/projects/{project_id}/import",
                        json=[{"text": f"task {i}"} for i in range(INITIAL_TASKS)])
    assert response.status_code == 201, response.text

    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    scripts = [subprocess.Popen([sys.executable, str(script), process.url, process.token,
                                 str(project_id), role, str(DURATION)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for role in ("import", "list", "dm", "export")]

    session = requests.Session()
    session.headers["Authorization"] = f"Token {process.token}"
    latencies, acknowledged, errors = [], {}, []
    by_kind = {"next": [], "annotate": []}
    deadline = time.monotonic() + DURATION
    number = 0
    while time.monotonic() < deadline and len(errors) < 5:
        number += 1
        started = time.monotonic()
        task = session.get(f"{process.url}/api/projects/{project_id}/next", timeout=30)
        latencies.append(time.monotonic() - started)
        by_kind["next"].append(latencies[-1])
        if task.status_code != 200:
            errors.append(f"next: {task.status_code} {task.text[:200]}")
            continue
        task_id = task.json()["id"]
        result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                   "value": {"choices": ["Pos" if number % 2 else "Neg"]}, "id": f"r{number}"}]
        started = time.monotonic()
        answer = session.post(f"{process.url}/api/tasks/{task_id}/annotations",
                              json={"result": result, "lead_time": 1.5}, timeout=30)
        latencies.append(time.monotonic() - started)
        by_kind["annotate"].append(latencies[-1])
        if answer.status_code != 201:
            errors.append(f"annotate: {answer.status_code} {answer.text[:200]}")
            continue
        acknowledged[answer.json()["id"]] = (task_id, f"r{number}")

    results = []
    for child in scripts:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    stats = {r["role"]: r for r in results}

    p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
    worst = max(latencies) * 1000
    print(f"\nload, {DURATION:.0f}s: labeler {len(acknowledged)} annotations, "
          f"{len(latencies)} calls, p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {worst:.0f} ms; "
          + "; ".join(f"{r['role']} {r['calls']} calls (slowest {r['slowest'] * 1000:.0f} ms)"
                      for r in results)
          + f"; imported {stats['import']['imported']} tasks, exported "
          f"{stats['export']['exported']} task rows; p95 of next "
          f"{percentile(by_kind['next'], 0.95) * 1000:.1f} ms, of annotate "
          f"{percentile(by_kind['annotate'], 0.95) * 1000:.1f} ms")

    assert not errors, errors
    for r in results:
        assert not r["errors"], r
        assert r["calls"] > 0, r
    assert acknowledged, "the labeler never got to annotate"

    # nothing lost, nothing duplicated, nothing extra: the final export holds exactly the
    # acknowledged annotations, each once, on its task
    exported = api.get(f"/api/projects/{project_id}/export?exportType=JSON"
                       "&download_all_tasks=true", timeout=60)
    tasks = orjson.loads(exported.content)
    expected_tasks = INITIAL_TASKS + stats["import"]["imported"]
    assert len(tasks) == expected_tasks
    found = [(a["id"], t["id"], a["result"][0]["id"]) for t in tasks for a in t["annotations"]]
    assert len(found) == len({f[0] for f in found}), "an annotation is exported twice"
    assert {f[0]: (f[1], f[2]) for f in found} == acknowledged
    per_task = {}
    for task_id, _ in acknowledged.values():
        per_task[task_id] = per_task.get(task_id, 0) + 1
    for t in tasks:
        assert t["total_annotations"] == per_task.get(t["id"], 0), t["id"]

    # the counters agree with a recount
    project = api.get(f"/api/projects/{project_id}").json()
    assert project["task_number"] == expected_tasks
    assert project["total_annotations_number"] == len(acknowledged)
    assert project["num_tasks_with_annotations"] == len(per_task)
    listed = api.get(f"/api/tasks?project={project_id}&page_size=1").json()
    assert (listed["total"], listed["total_annotations"]) == (expected_tasks, len(acknowledged))

    assert p95 <= P95_LIMIT_MS, f"labeling p95 {p95:.1f} ms > {P95_LIMIT_MS} ms"
    process.stop()
