"""How far an import under way has got (GET /api/ui/imports/progress), which the web app's
Import dialog shows (desktop/ui/js/webapp-import.js; tests/e2e/test_webapp.py sees the bar)."""

import threading

import orjson
import pytest

CONFIG = '<View><Text name="text" value="$text"/></View>'


@pytest.fixture
def server(make_live):
    return make_live(fsync=False)


def make_project(server):
    answer = server.api.post("/api/projects", json={"title": "Progress", "label_config": CONFIG})
    assert answer.status_code == 201, answer.text
    return answer.json()


def progress(server, project):
    answer = server.api.get("/api/ui/imports/progress", params={"project": str(project)},
                            timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_no_import_under_way(server):
    project = make_project(server)
    assert progress(server, project["id"]) == {"importing": False, "phase": None, "done": 0,
                                                "total": 0}
    assert progress(server, 999) == {"importing": False, "phase": None, "done": 0, "total": 0}


@pytest.mark.parametrize("params", [{}, {"project": "x"}, {"project": ""}])
def test_a_missing_or_bad_project_is_a_400(server, params):
    answer = server.api.get("/api/ui/imports/progress", params=params)
    assert answer.status_code == 400
    assert answer.json()["validation_errors"]["project"]


def test_answered_while_the_import_holds_the_store(server):
    """The progress is answered while the import waits for, or holds, the store's lock."""
    project = make_project(server)
    body = orjson.dumps([{"text": f"t{i}"} for i in range(20)])
    done = {}
    lock = server.app.store.storage.lock
    with lock:  # the upload's import waits for it
        def upload():
            done["answer"] = server.api.post(
                f"/api/projects/{project['id']}/import",
                files={"file": ("tasks.json", body, "application/json")}, timeout=60)
        thread = threading.Thread(target=upload)
        thread.start()
        for _ in range(500):
            state = progress(server, project["id"])
            if state["importing"]:
                break
            thread.join(0.01)
        # waiting for the lock, before its files are read
        assert state == {"importing": True, "phase": "reading", "done": 0, "total": 0}
    thread.join(60)
    assert done["answer"].status_code == 201, done["answer"].text
    assert done["answer"].json()["task_count"] == 20
    assert progress(server, project["id"])["importing"] is False


def test_the_phases_of_an_import(server):
    """Checking (every 5,000 items, done of total), then saving; nothing once it is done.
    What the import says is read through as it says it."""
    app = server.app
    project = make_project(server)
    said, update = [], app.imports.progress.update

    def saying(project_id, phase, done=0, total=0):
        said.append((phase, done, total, progress(server, project_id)))
        return update(project_id, phase, done, total)
    app.imports.progress.update = saying
    answer = server.api.post(f"/api/projects/{project['id']}/import",
                             json=[{"text": f"t{i}"} for i in range(12000)])
    assert answer.status_code == 201, answer.text
    assert [s[:3] for s in said] == [("checking", 0, 12000), ("checking", 5000, 12000),
                                     ("checking", 10000, 12000), ("saving", 12000, 12000)]
    # each one was answered to a client as the one before it was said
    assert said[1][3] == {"importing": True, "phase": "checking", "done": 0, "total": 12000}
    assert said[3][3]["done"] == 10000
    assert progress(server, project["id"])["importing"] is False


def test_a_failed_import_leaves_no_progress(server):
    project = make_project(server)
    answer = server.api.post(f"/api/projects/{project['id']}/import",
                             json=[{"text": "a"}, "not a task"])
    assert answer.status_code == 400
    assert progress(server, project["id"])["importing"] is False
