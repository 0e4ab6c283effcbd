"""ML backends: a real label-studio-ml model server (tests/helpers/ml_model.py in .venv-ml), plus a
fake one that misbehaves on purpose (dead, garbage, slow)."""

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from datahelp import wait_for
from paths import ROOT

ML_PYTHON = ROOT / ".venv-ml" / "bin" / "python"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    """label-studio-ml 1.0.9 serving tests/helpers/ml_model.py on a free loopback port."""
    if not ML_PYTHON.exists():
        subprocess.run(["bash", str(ROOT / "scripts/setup.d/30-ml-server.sh")], cwd=ROOT,
                       check=True)
    folder = tmp_path_factory.mktemp("model")
    port = free_port()
    proc = subprocess.Popen([str(ML_PYTHON), str(ROOT / "tests" / "helpers" / "ml_model.py"),
                             "--port", str(port), "--model-dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(url + "/health", timeout=1).ok
        except requests.RequestException:
            assert proc.poll() is None, "the model server exited"
            return False
    try:
        wait_for(up, timeout=30)
        yield type("Model", (), {"url": url, "events": folder / "events.jsonl"})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


class Fake(BaseHTTPRequestHandler):
    """A model server that answers what the test sets in `server.mode`."""

    def log_message(self, *args):
        pass

    def _send(self, status, body, kind="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(200, {"status": "UP"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        server = self.server
        server.calls.append((self.path, body))
        if self.path == "/setup":
            return self._send(200, {"model_version": "fake-1"})
        mode = server.mode
        if mode == "garbage":
            return self._send(200, b"<html>surprise</html>", "text/html")
        if mode == "error":
            return self._send(500, b"model exploded", "text/plain")
        if mode == "wrong-count":
            return self._send(200, {"results": [{"result": []}, {"result": []}, {"x": 1}]})
        if mode == "slow":
            time.sleep(server.delay)
        tasks = body.get("tasks", [])
        self._send(200, {"results": [{"result": [
            {"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": ["Neg"]}}], "score": 0.5} for _ in tasks]})


@pytest.fixture
def fake_model():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    server.mode, server.delay, server.calls = "ok", 0.0, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()


def import_texts(api, project_id, texts):
    r = api.post(f"/api/projects/{project_id}/import?return_task_ids=true",
                 json=[{"text": t} for t in texts])
    assert r.status_code == 201, r.text
    return r.json()["task_ids"]


def predictions_of(api, task_id):
    r = api.get("/api/predictions", params={"task": task_id})
    assert r.status_code == 200
    return r.json()


def connect(api, project_id, url, **fields):
    r = api.post("/api/ml", json={"project": project_id, "url": url, "title": "length",
                                  **fields})
    assert r.status_code == 201, r.text
    return r.json()


# -- a real model server -------------------------------------------------------------------

def test_connect_and_retrieve_predictions(api, model_server):
    project = api.project()
    backend = connect(api, project["id"], model_server.url)
    assert backend["state"] == "CO" and backend["readable_state"] == "Connected"
    assert backend["model_version"] == "INITIAL"
    assert backend["basic_auth_pass_is_set"] is False and backend["project"] == project["id"]
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] == "length"
    listed = api.get("/api/ml", params={"project": project["id"]}).json()
    assert [b["id"] for b in listed] == [backend["id"]]
    assert api.get(f"/api/ml/{backend['id']}").json()["state"] == "CO"

    ids = import_texts(api, project["id"], ["short", "a much longer text here"])
    r = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                            "project": project["id"]},
                 json={"selectedItems": {"all": False, "included": [ids[1]]}})
    assert r.status_code == 200, r.text
    assert r.json()["detail"] == "Retrieved 1 predictions"
    assert predictions_of(api, ids[0]) == []
    [prediction] = predictions_of(api, ids[1])
    assert prediction["model_version"] == "INITIAL"
    assert prediction["score"] == 0.23
    assert prediction["result"][0]["value"] == {"choices": ["Pos"]}
    # all tasks; the one predicted already is skipped (same model version)
    r = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                            "project": project["id"]}, json={})
    assert r.json()["job"]["predictions"] == 1
    assert len(predictions_of(api, ids[0])) == 1 and len(predictions_of(api, ids[1])) == 1


def test_auto_predictions_on_import_and_next(api, model_server):
    project = api.project(evaluate_predictions_automatically=True)
    backend = connect(api, project["id"], model_server.url)
    ids = import_texts(api, project["id"], ["one", "two"])
    wait_for(lambda: all(predictions_of(api, i) for i in ids))

    api.patch(f"/api/projects/{project['id']}", json={"evaluate_predictions_automatically":
                                                       False})
    [later] = import_texts(api, project["id"], ["three"])
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": []})
    api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": []})
    api.patch(f"/api/projects/{project['id']}", json={"evaluate_predictions_automatically":
                                                       True})
    # the annotations reach the model's /webhook and train it (in the background): a new
    # model version, which the predictions /next asks for then carry
    wait_for(lambda: api.get(f"/api/ml/{backend['id']}").json()["model_version"] != "INITIAL")
    version = api.get(f"/api/ml/{backend['id']}").json()["model_version"]
    task = api.get(f"/api/projects/{project['id']}/next").json()
    assert task["id"] == later
    assert [p["model_version"] for p in task["predictions"]] == [version]


def test_train_webhooks_test_interactive_versions(api, model_server):
    project = api.project()
    backend = connect(api, project["id"], model_server.url)
    [task_id] = import_texts(api, project["id"], ["hello"])
    r = api.post(f"/api/ml/{backend['id']}/train", json={"use_ground_truth": True})
    assert r.status_code == 200 and r.text == ""
    api.post(f"/api/tasks/{task_id}/annotations", json={"result": []})

    def events():
        if not model_server.events.exists():
            return None
        seen = [json.loads(line) for line in model_server.events.read_text().splitlines()]
        mine = [e for e in seen if (e["data"].get("project") or {}).get("id") == project["id"]]
        names = {e["event"] for e in mine}
        return mine if {"START_TRAINING", "ANNOTATION_CREATED"} <= names else None
    seen = wait_for(events, timeout=30)
    created = next(e for e in seen if e["event"] == "ANNOTATION_CREATED")["data"]
    assert created["task"]["id"] == task_id and created["annotation"]["task"] == task_id

    r = api.post(f"/api/ml/{backend['id']}/predict/test")
    assert r.status_code == 501
    r = api.post(f"/api/ml/{backend['id']}/predict/test?random=true")
    assert r.status_code == 200
    assert r.json()["response"][0]["result"][0]["value"] == {"choices": ["Pos"]}
    assert r.json()["request"]["project"].startswith(f"{project['id']}.")

    r = api.post(f"/api/ml/{backend['id']}/interactive-annotating",
                 json={"task": task_id, "context": {"result": []}})
    assert r.json() == {"errors": ["Model is not set to be used for interactive "
                                   "preannotations"]}
    assert api.patch(f"/api/ml/{backend['id']}", json={"is_interactive": True}).ok
    r = api.post(f"/api/ml/{backend['id']}/interactive-annotating",
                 json={"task": task_id, "context": {"result": []}})
    assert r.json()["data"]["score"] == 0.05

    # label-studio-ml 1.0.9 has POST /versions only: Label Studio's fallback answer
    r = api.get(f"/api/ml/{backend['id']}/versions")
    current = api.get(f"/api/ml/{backend['id']}").json()["model_version"]
    assert r.status_code == 200 and r.json() == {
        "versions": [current], "message": "Upgrade your ML backend version to latest."}

    assert api.delete(f"/api/ml/{backend['id']}").status_code == 204
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] == ""
    assert api.get(f"/api/ml/{backend['id']}").status_code == 404


def test_model_error_is_reported_not_raised(api, model_server):
    project = api.project()
    backend = connect(api, project["id"], model_server.url)
    import_texts(api, project["id"], ["__fail__"])
    r = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                            "project": project["id"]}, json={})
    assert r.status_code == 200
    job = r.json()["job"]
    assert job["status"] == "completed" and job["predictions"] == 0
    assert "500 Server Error" in job["errors"][0]
    assert api.get(f"/api/ml/{backend['id']}").json()["state"] == "CO"


# -- misbehaving servers --------------------------------------------------------------------

def test_dead_model_never_blocks_labeling(api, fake_model):
    project = api.project(evaluate_predictions_automatically=True)
    backend = connect(api, project["id"], fake_model.url)
    import_texts(api, project["id"], ["a", "b"])
    fake_model.shutdown()
    fake_model.server_close()
    started = time.time()
    task = api.get(f"/api/projects/{project['id']}/next")
    assert task.status_code == 200
    assert time.time() - started < 3
    got = api.get(f"/api/ml/{backend['id']}").json()
    assert got["state"] == "DI" and "Connection refused" in got["error_message"]
    r = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                            "project": project["id"]}, json={})
    assert r.status_code == 200
    assert r.json()["job"]["status"] == "failed"
    assert "can't be reached" in r.json()["detail"]
    r = api.post(f"/api/ml/{backend['id']}/train")
    assert r.status_code == 400 and "Training could not be started" in r.text
    r = api.post(f"/api/ml/{backend['id']}/predict/test?random=true")
    assert r.status_code == 400
    r = api.patch(f"/api/ml/{backend['id']}", json={"url": fake_model.url + "/x"})
    assert r.status_code == 400 and "health check failed" in r.text


@pytest.mark.parametrize("mode", ["garbage", "error", "wrong-count"])
def test_garbage_answers(api, fake_model, mode):
    project = api.project()
    backend = connect(api, project["id"], fake_model.url)
    ids = import_texts(api, project["id"], ["a", "b", "c", "d"])
    fake_model.mode = mode
    r = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                            "project": project["id"]}, json={})
    assert r.status_code == 200
    job = r.json()["job"]
    assert job["status"] == "completed" and job["predictions"] == 0 and job["errors"]
    assert all(predictions_of(api, i) == [] for i in ids)
    r = api.post(f"/api/ml/{backend['id']}/interactive-annotating", json={"task": ids[0]})
    assert r.status_code in (200,) and "errors" in r.json() or "data" in r.json()
    assert api.post(f"/api/ml/{backend['id']}/predict/test?random=true").status_code in (200,
                                                                                         400)


def test_batch_job_progress_and_cancel(api, live, fake_model):
    project = api.project()
    backend = connect(api, project["id"], fake_model.url)
    r = api.post(f"/api/projects/{project['id']}/import",
                 json=[{"text": f"t{i}"} for i in range(10000)])
    assert r.status_code == 201
    r = api.post(f"/api/ml/{backend['id']}/predict?batch_size=500")
    assert r.status_code == 200
    job = r.json()
    done = wait_for(lambda: (lambda j: j if j["status"] == "completed" else None)(
        api.get(f"/api/ml/jobs/{job['id']}").json()), timeout=50)
    assert done["processed"] == 10000 and done["predictions"] == 10000
    assert len([c for c in fake_model.calls if c[0] == "/predict"]) == 20
    assert api.get(f"/api/projects/{project['id']}").json()["total_predictions_number"] == 10000

    fake_model.mode, fake_model.delay = "slow", 0.3
    api.post("/api/dm/actions", params={"id": "delete_tasks_predictions",
                                        "project": project["id"]}, json={})
    job = api.post(f"/api/ml/{backend['id']}/predict?batch_size=100").json()
    wait_for(lambda: api.get(f"/api/ml/jobs/{job['id']}").json()["processed"] >= 100)
    assert api.post(f"/api/ml/jobs/{job['id']}/cancel").status_code == 200
    final = wait_for(lambda: (lambda j: j if j["status"] == "cancelled" else None)(
        api.get(f"/api/ml/jobs/{job['id']}").json()))
    assert 100 <= final["processed"] < 10000
    assert job["id"] in [j["id"] for j in api.get("/api/ml/jobs",
                                                  params={"project": project["id"]}).json()]


def test_bad_input_never_500(api, fake_model):
    project = api.project()
    backend = connect(api, project["id"], fake_model.url)
    bodies = [[], "x", {"url": 5, "project": project["id"]}, {"project": project["id"]},
              {"url": fake_model.url}, {"url": fake_model.url, "project": "abc"},
              {"url": fake_model.url, "project": 99999},
              {"url": fake_model.url, "project": project["id"], "timeout": "soon"},
              {"url": fake_model.url, "project": project["id"], "auth_method": "MAGIC"},
              {"url": "http://[::1", "project": project["id"]},
              {"url": "http://127.0.0.1:99999", "project": project["id"]}]
    for body in bodies:
        r = api.post("/api/ml", json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
    r = api.post("/api/ml", json={"project": project["id"]})
    assert r.json()["validation_errors"] == {"url": ["This field is required."]}  # LS
    r = api.post("/api/ml", json={"project": project["id"], "url": ""})
    assert r.json()["validation_errors"] == {"url": ["This field may not be blank."]}
    for method, path, body in [
            ("GET", "/api/ml", None), ("GET", "/api/ml?project=abc", None),
            ("GET", "/api/ml/abc", None), ("GET", "/api/ml/99999", None),
            ("PATCH", f"/api/ml/{backend['id']}", {"is_interactive": "maybe"}),
            ("PATCH", f"/api/ml/{backend['id']}", []),
            ("POST", f"/api/ml/{backend['id']}/interactive-annotating", {"task": "x"}),
            ("POST", f"/api/ml/{backend['id']}/interactive-annotating", {}),
            ("POST", f"/api/ml/{backend['id']}/interactive-annotating", [1]),
            ("POST", f"/api/ml/{backend['id']}/predict?batch_size=lots", None),
            ("GET", "/api/ml/jobs/abc", None), ("POST", "/api/ml/jobs/999/cancel", None),
            ("POST", "/api/dm/actions?id=retrieve_tasks_predictions&project=99999", {})]:
        r = api.request(method, path, json=body)
        assert 400 <= r.status_code < 500, (method, path, r.status_code, r.text)
    empty = api.project()
    r = api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions",
                                            "project": empty["id"]}, json={})
    assert r.status_code == 400 and "No ML backend" in r.text


def test_basic_auth_is_sent_and_hidden(api, fake_model):
    project = api.project()
    backend = connect(api, project["id"], fake_model.url, auth_method="BASIC_AUTH",
                      basic_auth_user="me", basic_auth_pass="secret")
    assert backend["basic_auth_pass_is_set"] is True and "basic_auth_pass" not in backend


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
