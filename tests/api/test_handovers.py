"""Push and pull as jobs of the running app (desktop/pushpull/jobs.py, /api/ui/handovers), and
`labeldesk push/pull` through a running `labeldesk serve`, against a real Label Studio 1.23.2
(tests/helpers/lshelp.py). Bad input needs no Label Studio: those tests run fast."""

import os
import signal
import subprocess
import sys
import time

import orjson
import pytest
from conftest import LiveServer

from datahelp import IMAGE_CONFIG, assert_envelope, choice, import_ids, png, wait_for
from lshelp import TOKEN, LabelStudioServer
from paths import ROOT


def slow(test):
    """Against the real Label Studio, like test_push_pull.py."""
    for mark in (pytest.mark.slow, pytest.mark.xdist_group("label_studio"),
                 pytest.mark.timeout(600)):
        test = mark(test)
    return test


# -- helpers ----------------------------------------------------------------------------------


def recorded(api):
    """Every answer `api` gets from now on, as text (the token must be in none)."""
    seen = []
    api.session.hooks["response"].append(lambda r, *args, **kwargs: seen.append(r.text))
    return seen


def start(api, **fields):
    response = api.post("/api/ui/handovers", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def job(api, job_id):
    response = api.get(f"/api/ui/handovers/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def finished(api, job_id, timeout=300):
    return wait_for(lambda: (lambda j: j if j["status"] != "running" else None)(
        job(api, job_id)), timeout=timeout, step=0.2)


def label_while_running(api, job_id, task_ids):
    """Annotate tasks one after the other while the job runs: (how many were made, how many
    with the job running before and after). Each is a 201 in well under a second."""
    made = during = 0
    for task in task_ids:
        if job(api, job_id)["status"] != "running":
            break
        started = time.monotonic()
        response = api.post(f"/api/tasks/{task}/annotations", json={"result": choice("Neg")})
        took = time.monotonic() - started
        assert response.status_code == 201, response.text
        assert took < 1, took
        made += 1
        during += job(api, job_id)["status"] == "running"
    return made, during


def reviews(api, count, title="Reviews"):
    """A project of `count` text tasks, every third annotated; (project id, task ids)."""
    project = api.project(title=title)["id"]
    items = [{"data": {"text": f"review {n}"},
              "annotations": [{"result": choice("Pos")}] if n % 3 == 0 else []}
             for n in range(count)]
    return project, import_ids(api, project, items)


def photos(live, count):
    """A project of `count` uploaded images, every third annotated: a pull fetches each file,
    which keeps it running long enough to be cancelled half-way."""
    project = live.api.project(title="Photos", label_config=IMAGE_CONFIG)["id"]
    items = []
    for n in range(count):
        stored, url = live.app.uploads.plan(project, f"photo_{n}.png")
        live.app.uploads.write(project, stored, png((n % 256, 100, 50)))
        items.append({"data": {"image": url}, "annotations": [
            {"result": choice("A", "label", "image")}] if n % 3 == 0 else []})
    return project, import_ids(live.api, project, items)


def counts(api, project):
    doc = api.get(f"/api/projects/{project}").json()
    return {k: doc[k] for k in ("task_number", "total_annotations_number",
                                "num_tasks_with_annotations")}


def remote_counts(ls, project):
    doc = ls.get(f"/api/projects/{project}/")
    return {k: doc[k] for k in ("task_number", "total_annotations_number",
                                "num_tasks_with_annotations")}


def remote_local_ids(ls, project):
    return sorted(t["meta"]["labeldesk_id"] for t in ls.tasks(project))


def files_holding(folder, secret):
    return [p for p in folder.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"))
    yield server
    server.stop()


# -- bad input: a clear 400, never a job --------------------------------------------------------


def test_bad_input_is_a_400_and_starts_nothing(make_live):
    live = make_live("desk")
    api = live.api
    seen = recorded(api)
    project = api.project(title="Here")["id"]
    secret = "ls-secret-token-never-echoed"
    url = "https://labelstudio.example.invalid"
    push = {"direction": "push", "url": url, "token": secret, "project": project}
    pull = {"direction": "pull", "url": url, "token": secret, "remote_project": 3}
    bad = [
        ({}, "direction"), ({**push, "direction": "sideways"}, "direction"),
        ({**push, "url": None}, "url"), ({**push, "url": ""}, "url"), ({**push, "url": 12}, "url"),
        ({**push, "url": [url]}, "url"), ({**push, "url": "ftp://example.invalid"}, "url"),
        ({**push, "url": "file:///etc/passwd"}, "url"), ({**push, "url": "javascript:x()"}, "url"),
        ({**push, "url": "labelstudio.example.invalid"}, "url"),
        ({**push, "url": "https://user:pw@example.invalid"}, "url"),
        ({**push, "url": "http://example.invalid:port"}, "url"),
        ({**push, "url": "http://exa mple.invalid"}, "url"),
        ({**push, "url": "http://example.invalid/\nHost: x"}, "url"),
        ({**push, "token": None}, "token"), ({**push, "token": ""}, "token"),
        ({**push, "token": 123}, "token"), ({**push, "token": "two words"}, "token"),
        ({**push, "token": "line\nbreak"}, "token"), ({**push, "token": "x" * 5000}, "token"),
        ({**push, "project": None}, "project"), ({**push, "project": 999}, "project"),
        ({**push, "project": "abc"}, "project"), ({**push, "project": True}, "project"),
        ({**push, "project": -1}, "project"), ({**push, "project": 1.5}, "project"),
        ({**push, "remote_project": "x"}, "remote_project"),
        ({**pull, "remote_project": None}, "remote_project"),
        ({**pull, "remote_project": "x"}, "remote_project"), ({**pull, "into": 999}, "into"),
        ({**pull, "into": [1]}, "into"), ({**push, "batch_size": 0}, "batch_size"),
        ({**push, "batch_size": 100000}, "batch_size"),
    ]
    for body, field in bad:
        response = api.post("/api/ui/handovers", json=body)
        answer = assert_envelope(response, 400)
        assert list(answer["validation_errors"]) == [field], (body, answer)
        assert answer["detail"] == answer["validation_errors"][field][0], answer  # said plainly
    assert "There is no LabelDesk project 999." in api.post(
        "/api/ui/handovers", json={**push, "project": 999}).json()["detail"]
    for raw, kind in ((b"[1, 2]", "application/json"), (b"{", "application/json")):
        response = api.post("/api/ui/handovers", data=raw, headers={"Content-Type": kind})
        assert_envelope(response, 400)
    for path in ("/api/ui/handovers/999", "/api/ui/handovers/abc"):
        assert_envelope(api.get(path), 404)
    assert_envelope(api.post("/api/ui/handovers/999/cancel"), 404)
    assert api.get("/api/ui/handovers").json() == {"jobs": [], "previous": []}
    assert live.anonymous.get("/api/ui/handovers").status_code == 401
    assert not [text for text in seen if secret in text]


# -- jobs in the running app --------------------------------------------------------------------


@slow
def test_push_and_pull_run_in_the_app_while_labeling(label_studio, make_live, caplog):
    ls = label_studio
    live = make_live("desk", fsync=False)
    api = live.api
    seen = recorded(api)
    project, ids = reviews(api, 800)
    local = counts(api, project)
    assert local["total_annotations_number"] == 267

    first = start(api, direction="push", url=ls.url + "/", token=TOKEN, project=project,
                  batch_size=40)
    assert first["status"] == "running" and first["project"] == project
    assert first["url"] == ls.url and first["direction"] == "push"

    # Labeling goes on while the job runs: annotations on tasks of the batch pushed first.
    wait_for(lambda: job(api, first["id"])["done"] >= 40, timeout=120, step=0.1)
    during = job(api, first["id"])
    assert during["stage"] == "tasks" and during["total"] == 800 and 40 <= during["done"] < 800
    made, during = label_while_running(api, first["id"], ids[:3])
    assert during >= 1, "the job ended before the labeling requests"

    done = finished(api, first["id"])
    assert done["status"] == "done", done["error"]
    assert (done["stage"], done["done"], done["total"]) == ("tasks", 800, 800)
    summary = done["summary"]
    remote = summary["remote_project"]
    assert done["remote_project"] == remote
    assert any(f"Created project {remote}" in m for m in done["messages"])
    assert summary["created"]["tasks"] == 800 and len(summary["tasks"]) == 800
    assert summary["created"]["annotations"] == 267 and len(summary["annotations"]) == 267
    assert remote_counts(ls, remote) == local  # the annotation made during the job comes next
    assert remote_local_ids(ls, remote) == ids

    # Push again: no token given (the app keeps it for this server, in memory), and only the
    # annotation made during the first push is sent.
    again = finished(api, start(api, direction="push", url=ls.url, project=project)["id"])
    assert again["status"] == "done", again["error"]
    assert again["summary"]["created"] == {"tasks": 0, "annotations": made, "predictions": 0,
                                           "files": 0}
    assert remote_counts(ls, remote) == counts(api, project)

    listing = api.get("/api/ui/handovers").json()
    assert [j["id"] for j in listing["jobs"]] == [again["id"], first["id"]]
    assert "tasks" not in listing["jobs"][0]["summary"]  # the id mapping: asked for on its own
    assert listing["previous"] == [{
        "direction": "push", "url": ls.url, "project": project, "project_title": "Reviews",
        "remote_project": remote, "tasks": 800, "updated_at": listing["previous"][0]["updated_at"],
        "token_kept": True}]

    # Pull it back into a new project, labeling the first one meanwhile.
    pulling = start(api, direction="pull", url=ls.url, token=TOKEN, remote_project=remote,
                    batch_size=10)
    assert label_while_running(api, pulling["id"], ids[3:])[1] >= 1
    pulled = finished(api, pulling["id"])
    assert pulled["status"] == "done", pulled["error"]
    new = pulled["summary"]["local_project"]
    assert pulled["project"] == new and new != project
    assert counts(api, new) == remote_counts(ls, remote)
    assert {p["direction"] for p in api.get("/api/ui/handovers").json()["previous"]} == \
        {"push", "pull"}

    # The Label Studio token: in no answer, no file of the data folder, no log line.
    assert not [text for text in seen if TOKEN in text]
    assert files_holding(live.settings.data_dir, TOKEN) == []
    assert TOKEN not in caplog.text


@slow
def test_cancel_then_run_again_resumes_without_duplicates(label_studio, make_live):
    ls = label_studio
    live = make_live("desk", fsync=False)
    api = live.api
    project, ids = photos(live, 400)

    pushing = start(api, direction="push", url=ls.url, token=TOKEN, project=project,
                    batch_size=20)
    same = api.post("/api/ui/handovers", json={"direction": "push", "url": ls.url,
                                               "token": TOKEN, "project": project})
    assert "running already" in assert_envelope(same, 409)["detail"]
    wait_for(lambda: (lambda j: j["stage"] == "tasks" and j["done"] >= 40)(
        job(api, pushing["id"])), timeout=120, step=0.1)
    cancelled = api.post(f"/api/ui/handovers/{pushing['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    stopped = finished(api, pushing["id"])
    assert stopped["status"] == "cancelled" and stopped["error"] is None
    assert "Run it again to resume" in stopped["messages"][-1]
    remote = stopped["remote_project"]
    sent = remote_counts(ls, remote)["task_number"]
    assert 40 <= sent < 400

    resumed = finished(api, start(api, direction="push", url=ls.url, project=project)["id"])
    assert resumed["status"] == "done", resumed["error"]
    assert resumed["summary"]["created"]["tasks"] == 400 - sent
    assert remote_local_ids(ls, remote) == ids  # each task once
    assert remote_counts(ls, remote) == counts(api, project)

    # A pull cancelled, then run again: into the same project, each task once.
    pulling = start(api, direction="pull", url=ls.url, token=TOKEN, remote_project=remote,
                    batch_size=20)
    wait_for(lambda: job(api, pulling["id"])["done"] >= 40, timeout=120, step=0.1)
    api.post(f"/api/ui/handovers/{pulling['id']}/cancel").raise_for_status()
    stopped = finished(api, pulling["id"])
    assert stopped["status"] == "cancelled"
    local = stopped["project"]
    assert 40 <= counts(api, local)["task_number"] < 400
    again = finished(api, start(api, direction="pull", url=ls.url,
                                remote_project=remote)["id"])
    assert again["status"] == "done", again["error"]
    assert again["project"] == local
    assert counts(api, local) == remote_counts(ls, remote)


# -- the command line through a running `labeldesk serve` ---------------------------------------


def cli(data_dir, *args):
    return subprocess.run([sys.executable, "-m", "desktop", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={k: v for k, v in os.environ.items()
                               if k != "LABELDESK_PUSHPULL_STOP_AFTER"})


@slow
def test_cli_push_and_pull_through_a_running_serve(label_studio, serve_process, tmp_path):
    ls = label_studio
    data = tmp_path / "desk"
    server = serve_process(data)
    api = server.api
    project, ids = reviews(api, 30)

    pushed = cli(data, "push", str(project), "--to", ls.url, "--token", TOKEN,
                 "--batch-size", "10")
    assert pushed.returncode == 0, pushed.stderr
    assert "runs in the running LabelDesk" in pushed.stderr
    assert "created 30 tasks, 10 annotations" in pushed.stderr, pushed.stderr
    assert "tasks" in pushed.stderr and "[###" in pushed.stderr  # the progress bar
    mapping = orjson.loads(pushed.stdout)
    remote = mapping["remote_project"]
    assert mapping["local_project"] == project
    assert sorted(int(k) for k in mapping["tasks"]) == ids
    assert remote_local_ids(ls, remote) == ids

    pulled = cli(data, "pull", ls.url, str(remote), "--token", TOKEN)
    assert pulled.returncode == 0, pulled.stderr
    back = orjson.loads(pulled.stdout)["local_project"]
    assert counts(api, back) == counts(api, project)

    missing = cli(data, "push", "999", "--to", ls.url, "--token", TOKEN)
    assert missing.returncode == 1 and "There is no LabelDesk project 999" in missing.stderr
    refused = cli(data, "pull", ls.url, str(remote), "--token", "nope")
    assert refused.returncode == 1 and "refused the token" in refused.stderr

    # Ctrl-C cancels the job in the app; the same command then resumes it.
    big, big_ids = reviews(api, 300, title="Bigger")
    args = [sys.executable, "-m", "desktop", "push", str(big), "--to", ls.url, "--token", TOKEN,
            "--batch-size", "10", "--data-dir", str(data)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("tasks") and "/300" in line and not line.rstrip().endswith("0/300"):
            break
    proc.send_signal(signal.SIGINT)
    rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(lines) + rest[1]
    assert "interrupted. Run the same command again to resume" in rest[1]
    jobs = api.get("/api/ui/handovers").json()["jobs"]
    assert jobs[0]["project"] == big and jobs[0]["status"] == "cancelled"
    resumed = cli(data, "push", str(big), "--to", ls.url, "--token", TOKEN)
    assert resumed.returncode == 0, resumed.stderr
    assert remote_local_ids(ls, orjson.loads(resumed.stdout)["remote_project"]) == big_ids


@slow
def test_closing_the_app_cancels_a_job_and_the_next_start_resumes_it(label_studio, tmp_path):
    ls = label_studio
    live = LiveServer(tmp_path / "desk", fsync=False)
    project, ids = reviews(live.api, 400)
    pushing = start(live.api, direction="push", url=ls.url, token=TOKEN, project=project,
                    batch_size=20)
    wait_for(lambda: job(live.api, pushing["id"])["done"] >= 40, timeout=120, step=0.1)
    handovers = live.app.handovers
    live.close()  # the job stops at the end of its batch, its mapping saved
    stopped = handovers.get(pushing["id"])
    assert stopped.finished.is_set() and stopped.status == "cancelled"
    remote = stopped.as_json()["remote_project"]
    sent = remote_counts(ls, remote)["task_number"]
    assert 40 <= sent < 400

    again = LiveServer(tmp_path / "desk", fsync=False)
    try:
        resumed = finished(again.api, start(again.api, direction="push", url=ls.url,
                                            token=TOKEN, project=project)["id"])
        assert resumed["status"] == "done", resumed["error"]
        assert resumed["remote_project"] == remote
        assert resumed["summary"]["created"]["tasks"] == 400 - sent
        assert remote_local_ids(ls, remote) == ids
    finally:
        again.close()
