"""The trash (issue 20, desktop/core/trash.py) on a real server over HTTP: what a delete takes
comes back whole, under the same ids, across restarts; emptying and expiry give the space
back; a SIGKILL during a delete, a restore or an emptying leaves each thing whole in one place;
`labeldesk trash` with LabelDesk closed and through the running one; bad input is a 4xx."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from datahelp import assert_envelope, choice, png

label_studio_sdk = pytest.importorskip("label_studio_sdk")
from label_studio_sdk import LabelStudio  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
IMAGE_CONFIG = ('<View><Image name="image" value="$image"/><Choices name="sentiment" '
                'toName="image"><Choice value="Positive"/><Choice value="Negative"/></Choices>'
                '</View>')
TEXT_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
               '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')
DAY = 86400


def labeldesk(*args, timeout=120, env=None):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


class Model(BaseHTTPRequestHandler):
    """A model server that is up and predicts nothing (enough to connect an ML backend)."""

    def log_message(self, *args):
        pass

    def _send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send({"status": "UP", "model_class": "Model"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send({"model_version": "fake-1"} if self.path == "/setup" else {"results": []})


@pytest.fixture
def model():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def data_folder(tmp_path, **settings):
    """A data folder whose settings.json lets storages read tmp_path/root."""
    data, root = tmp_path / "data", tmp_path / "root"
    (root / "imgs").mkdir(parents=True)
    (root / "imgs" / "z.png").write_bytes(png((1, 2, 3)))
    data.mkdir()
    (data / "settings.json").write_bytes(orjson.dumps({"local_files_root": str(root),
                                                       **settings}))
    return data, root


def ok(response, status=(200, 201, 204)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), \
        f"{response.request.method} {response.request.url}: {response.status_code} " \
        f"{response.text[:300]}"
    return response.json() if response.content else None


def build_project(api, root, model_url=None, title="Photos"):
    """A project with every kind of thing a delete takes: uploaded images, tasks, annotations,
    a cancelled one, predictions, a draft, a tab of its own, an ML backend, import and export
    storages, a webhook, a snapshot export and its file, a live export folder."""
    pid = api.project(title=title, label_config=IMAGE_CONFIG)["id"]
    files = {f"file{i}": (f"p{i}.png", png((i * 40, 100, 200), size=8 + i)) for i in range(3)}
    ok(api.post(f"/api/projects/{pid}/import", files=files))
    tasks = ok(api.get("/api/tasks", params={"project": pid, "page_size": 100}))["tasks"]
    first = tasks[0]["data"]["image"]
    ok(api.post(f"/api/projects/{pid}/import", json=[
        {"data": {"image": first}, "meta": {"source": "json"},
         "annotations": [{"result": choice("Negative", to_name="image"), "lead_time": 2.5}],
         "predictions": [{"result": choice("Positive", to_name="image"), "score": 0.9,
                          "model_version": "v1"}]},
        {"data": {"image": first}}]))
    ids = [t["id"] for t in ok(api.get("/api/tasks", params={"project": pid}))["tasks"]]
    ok(api.post(f"/api/tasks/{ids[0]}/annotations", json={
        "result": choice("Positive", to_name="image"), "lead_time": 4.0}))
    ok(api.post(f"/api/tasks/{ids[1]}/annotations?was_cancelled=true", json={"result": []}))
    ok(api.post("/api/predictions", json={"task": ids[2], "score": 0.4, "model_version": "v2",
                                          "result": choice("Negative", to_name="image")}))
    ok(api.post(f"/api/tasks/{ids[2]}/drafts", json={"result": choice(
        "Negative", to_name="image"), "lead_time": 1.5}))
    ok(api.post("/api/dm/views", json={"project": pid, "data": {
        "title": "Positive only", "filters": {"conjunction": "and", "items": [{
            "filter": "filter:tasks:total_annotations", "operator": "greater",
            "type": "Number", "value": 0}]}}}))
    if model_url:
        ok(api.post("/api/ml", json={"project": pid, "url": model_url, "title": "model"}))
    ok(api.post("/api/storages/localfiles", json={"project": pid, "title": "in",
                                                   "path": str(root / "imgs")}))
    ok(api.post("/api/storages/export/localfiles", json={"project": pid, "title": "out",
                                                          "path": str(root / "imgs")}))
    ok(api.post("/api/webhooks", json={"project": pid, "url": "http://127.0.0.1:9/hook",
                                       "is_active": False}))
    snapshot = ok(api.post(f"/api/projects/{pid}/exports", json={"title": "snap"}))["id"]
    SNAPSHOTS[pid] = snapshot
    live = root / f"live-{pid}"
    live.mkdir()
    ok(api.put(f"/api/projects/{pid}/live-export", json={"path": str(live), "format": "JSON"}))
    return pid


SNAPSHOTS = {}  # project -> the id of the snapshot export build_project made in it last


def answers(api, pid):
    """Every answer the API gives about a project, keyed by the request."""
    paths = [f"/api/projects/{pid}", f"/api/projects/{pid}/tasks",
             f"/api/projects/{pid}/file-uploads?all=true", f"/api/projects/{pid}/exports",
             f"/api/projects/{pid}/live-export", f"/api/dm/project?project={pid}",
             f"/api/dm/columns?project={pid}", f"/api/dm/views?project={pid}",
             f"/api/predictions?project={pid}", f"/api/ml?project={pid}",
             f"/api/storages/localfiles?project={pid}",
             f"/api/storages/export/localfiles?project={pid}", f"/api/webhooks?project={pid}",
             f"/api/projects/{pid}/summary",
             f"/api/tasks?project={pid}&fields=all&page_size=1000"]
    seen = {path: api.get(path) for path in paths}
    found = {path: (r.status_code, r.json()) for path, r in seen.items()}
    live = found[f"/api/projects/{pid}/live-export"][1]
    for key in ("last_written_at", "pending"):  # how this run's writer is doing, not stored
        live.pop(key, None)
    tasks = found[paths[-1]][1].get("tasks", []) if found[paths[-1]][0] == 200 else []
    for task in tasks:
        for path in (f"/api/tasks/{task['id']}", f"/api/tasks/{task['id']}/annotations",
                     f"/api/tasks/{task['id']}/drafts"):
            r = api.get(path)
            found[path] = (r.status_code, r.json())
        for annotation in task["annotations"]:
            r = api.get(f"/api/annotations/{annotation['id']}")
            found[f"/api/annotations/{annotation['id']}"] = (r.status_code, r.json())
        media = api.get(task["data"]["image"])
        found[task["data"]["image"]] = (media.status_code, media.content)
    export = api.get(f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true")
    found["export JSON"] = (export.status_code, export.json() if export.ok else None)
    return found


def files_of(data, pid):
    """{path in the data folder: bytes} of a project's media files and of the files of its
    snapshot export (build_project's)."""
    found, snapshot = {}, SNAPSHOTS.get(pid)
    for path in sorted((data / "media" / "upload" / str(pid)).glob("*")):
        found[str(path.relative_to(data))] = path.read_bytes()
    if snapshot is not None:
        for path in sorted((data / "export").glob(f"snapshot-{snapshot}-*")):
            found[str(path.relative_to(data))] = path.read_bytes()
    return found


def trash(api):
    return ok(api.get("/api/ui/trash"))["items"]


def store_bytes(data):
    return sum(p.stat().st_size for p in (data / "db").glob("*.ldb"))


# -- a project comes back whole -----------------------------------------------------------------

def test_a_deleted_project_comes_back_whole_after_a_restart(serve_process, tmp_path, model):
    data, root = data_folder(tmp_path)
    process = serve_process(data)
    api = process.api
    pid = build_project(api, root, model)
    other = build_project(api, root, title="Untouched")
    sdk = LabelStudio(base_url=process.url, api_key=process.token)
    before, files = answers(api, pid), files_of(data, pid)
    sdk_before = (sdk.projects.get(pid).dict(),
                  [t.dict() for t in sdk.tasks.list(project=pid, fields="all")])
    untouched = answers(api, other)
    assert len(files) == 3 + 1 and all(status == 200 for status, _ in before.values())

    assert api.delete(f"/api/projects/{pid}").status_code == 204
    gone = answers(api, pid)
    assert gone[f"/api/projects/{pid}"][0] == 404
    assert all(status == 404 for path, (status, _) in gone.items()
               if path.startswith((f"/api/projects/{pid}", "/api/tasks/", "/api/annotations/")))
    assert files_of(data, pid) == files  # kept, in place, while in the trash
    [item] = trash(api)
    assert item["kind"] == "project" and item["name"] == "Photos" and item["project"] == pid
    assert item["counts"] == {"projects": 1, "tasks": 5, "annotations": 3, "predictions": 2,
                              "drafts": 1, "views": 1, "uploads": 3, "exports": 1,
                              "ml_backends": 1, "storages": 2, "webhooks": 1,
                              "live_exports": 1, "files": 4}, item["counts"]
    assert item["size"] > sum(len(b) for b in files.values())
    expires = time.mktime(time.strptime(item["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    deleted = time.mktime(time.strptime(item["deleted_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert expires - deleted == 30 * DAY

    process.stop()
    process = serve_process(data)  # the trash, from disk
    api = process.api
    assert trash(api) == [item]
    assert files_of(data, pid) == files  # the start-up cleanup leaves the trash's files alone
    restored = ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert restored["restored"]["id"] == item["id"]
    assert trash(api) == []
    assert answers(api, pid) == before
    assert answers(api, other) == untouched
    assert files_of(data, pid) == files
    sdk = LabelStudio(base_url=process.url, api_key=process.token)
    assert (sdk.projects.get(pid).dict(),
            [t.dict() for t in sdk.tasks.list(project=pid, fields="all")]) == sdk_before
    # and it lives on: a new task gets a new id, the project's counters follow
    new = ok(api.post("/api/tasks", json={"project": pid, "data": {"image": "/x.png"}}))
    assert new["id"] > max(t["id"] for t in before[f"/api/projects/{pid}/tasks"][1])
    assert ok(api.get(f"/api/projects/{pid}"))["task_number"] == 6
    process.stop()


def test_ids_are_never_reused_while_in_the_trash(serve_process, tmp_path):
    """The newest project, task and annotation deleted; new ones made, the store compacted
    and restarted; each comes back under its own id, beside the new ones."""
    data, _ = data_folder(tmp_path)
    process = serve_process(data, env={"LABELDESK_COMPACT_MIN_BYTES": "4000"})
    api = process.api
    keep = api.project(title="Keep", label_config=TEXT_CONFIG)["id"]
    ok(api.post(f"/api/projects/{keep}/import", json=[{"text": "a"}, {"text": "b"}]))
    tasks = [t["id"] for t in ok(api.get("/api/tasks", params={"project": keep}))["tasks"]]
    annotation = ok(api.post(f"/api/tasks/{tasks[0]}/annotations",
                             json={"result": choice("Positive")}))["id"]
    newest = api.project(title="Newest", label_config=TEXT_CONFIG)["id"]
    before = {"annotation": ok(api.get(f"/api/annotations/{annotation}")),
              "task": ok(api.get(f"/api/tasks/{tasks[-1]}")),
              "project": ok(api.get(f"/api/projects/{newest}"))}
    assert api.delete(f"/api/annotations/{annotation}").status_code == 204
    assert api.delete(f"/api/tasks/{tasks[-1]}").status_code == 204
    assert api.delete(f"/api/projects/{newest}").status_code == 204
    made = {"project": api.project(title="Later", label_config=TEXT_CONFIG)["id"]}
    ok(api.post(f"/api/projects/{keep}/import", json=[{"text": f"more {i}"} for i in range(40)]))
    made["task"] = max(t["id"] for t in ok(api.get(
        "/api/tasks", params={"project": keep, "page_size": 100}))["tasks"])
    made["annotation"] = ok(api.post(f"/api/tasks/{tasks[0]}/annotations",
                                     json={"result": choice("Negative")}))["id"]
    assert made["project"] > newest and made["task"] > tasks[-1] and \
        made["annotation"] > annotation
    process.stop()
    process = serve_process(data, env={"LABELDESK_COMPACT_MIN_BYTES": "4000"})
    api = process.api
    for item in trash(api):
        ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert ok(api.get(f"/api/projects/{newest}")) == before["project"]
    again = ok(api.get(f"/api/tasks/{tasks[-1]}"))
    assert again == before["task"]
    back = ok(api.get(f"/api/annotations/{annotation}"))
    assert {k: v for k, v in back.items() if k != "created_ago"} == \
        {k: v for k, v in before["annotation"].items() if k != "created_ago"}
    assert ok(api.get(f"/api/projects/{keep}"))["total_annotations_number"] == 2
    process.stop()


# -- tasks, annotations, the data manager's bulk deletes ----------------------------------------

def test_a_deleted_task_and_a_deleted_annotation_come_back(make_live):
    live = make_live()
    api = live.api
    pid = api.project(title="Texts", label_config=TEXT_CONFIG)["id"]
    ok(api.post(f"/api/projects/{pid}/import", json=[{"text": t} for t in "abc"]))
    a, b, c = [t["id"] for t in ok(api.get("/api/tasks", params={"project": pid}))["tasks"]]
    for task in (a, b):
        ok(api.post(f"/api/tasks/{task}/annotations", json={"result": choice("Positive")}))
    ok(api.post("/api/predictions", json={"task": a, "result": choice("Negative")}))
    ok(api.post(f"/api/tasks/{a}/drafts", json={"result": choice("Negative")}))
    project, task_a, task_b = (ok(api.get(p)) for p in (
        f"/api/projects/{pid}", f"/api/tasks/{a}", f"/api/tasks/{b}"))

    assert api.delete(f"/api/tasks/{a}").status_code == 204
    [item] = trash(api)
    assert item["kind"] == "tasks" and item["name"] == f"Task {a}"
    assert item["project_title"] == "Texts"
    assert item["counts"] == {"tasks": 1, "annotations": 1, "predictions": 1, "drafts": 1,
                              "files": 0}
    assert ok(api.get(f"/api/projects/{pid}"))["task_number"] == 2
    ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert ok(api.get(f"/api/tasks/{a}")) == task_a
    assert ok(api.get(f"/api/projects/{pid}")) == project

    annotation = task_b["annotations"][0]["id"]
    assert api.delete(f"/api/annotations/{annotation}").status_code == 204
    [item] = trash(api)
    assert item["kind"] == "annotations" and item["name"] == f"Annotation {annotation} of task {b}"
    assert ok(api.get(f"/api/tasks/{b}"))["is_labeled"] is False
    ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert ok(api.get(f"/api/tasks/{b}")) == task_b  # counters, updated_at and updated_by too
    assert ok(api.get(f"/api/projects/{pid}")) == project

    # the task changed meanwhile: it is counted again instead of put back as it was
    assert api.delete(f"/api/annotations/{annotation}").status_code == 204
    ok(api.patch(f"/api/tasks/{b}", json={"meta": {"checked": True}}))
    ok(api.post(f"/api/ui/trash/{trash(api)[0]['id']}/restore"))
    now = ok(api.get(f"/api/tasks/{b}"))
    assert now["meta"] == {"checked": True} and now["annotations"] == task_b["annotations"]
    assert now["is_labeled"] is True and now["total_annotations"] == 1
    assert ok(api.get(f"/api/projects/{pid}")) == project


def test_restoring_what_belongs_to_something_missing_is_refused(make_live):
    live = make_live()
    api = live.api
    pid = api.project(title="Parents", label_config=TEXT_CONFIG)["id"]
    ok(api.post(f"/api/projects/{pid}/import", json=[{"text": "a"}, {"text": "b"}]))
    a, b = [t["id"] for t in ok(api.get("/api/tasks", params={"project": pid}))["tasks"]]
    annotation = ok(api.post(f"/api/tasks/{a}/annotations", json={"result": choice("Positive")}))
    assert api.delete(f"/api/annotations/{annotation['id']}").status_code == 204
    assert api.delete(f"/api/tasks/{a}").status_code == 204
    assert api.delete(f"/api/tasks/{b}").status_code == 204
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    items = {i["name"]: i for i in trash(api)}
    of_annotation = f"Annotation {annotation['id']} of task {a}"
    refused = api.post(f"/api/ui/trash/{items[of_annotation]['id']}/restore")
    assert_envelope(refused, 409)
    assert refused.json()["detail"] == (
        f"Can't restore {of_annotation}: its project {pid} is in the trash too (Parents, item "
        f"{items['Parents']['id']}): restore that first.")
    refused = api.post(f"/api/ui/trash/{items[f'Task {a}']['id']}/restore")
    assert_envelope(refused, 409)
    assert len(trash(api)) == 4  # nothing changed
    ok(api.post(f"/api/ui/trash/{items['Parents']['id']}/restore"))
    refused = api.post(f"/api/ui/trash/{items[of_annotation]['id']}/restore")
    assert_envelope(refused, 409)
    assert f"its task {a} is in the trash too (Task {a}, item {items[f'Task {a}']['id']}): " \
           "restore that first" in refused.json()["detail"]
    for name in (f"Task {a}", of_annotation):
        ok(api.post(f"/api/ui/trash/{items[name]['id']}/restore"))
    assert ok(api.get(f"/api/projects/{pid}"))["total_annotations_number"] == 1
    assert ok(api.get(f"/api/projects/{pid}"))["task_number"] == 1
    # the task emptied for good: its annotation has nothing to come back to
    ok(api.delete(f"/api/ui/trash/{items[f'Task {b}']['id']}"))
    assert api.get(f"/api/tasks/{b}").status_code == 404
    ok(api.delete(f"/api/annotations/{annotation['id']}"))
    ok(api.delete(f"/api/tasks/{a}"))
    task_item = next(i for i in trash(api) if i["kind"] == "tasks")
    ok(api.delete(f"/api/ui/trash/{task_item['id']}"))
    refused = api.post(f"/api/ui/trash/{trash(api)[0]['id']}/restore")
    assert_envelope(refused, 409)
    assert f"its task {a} was deleted for good" in refused.json()["detail"]


def test_bulk_deletes_say_what_they_take_and_come_back_from_the_trash(make_live):
    live = make_live()
    api = live.api
    pid = api.project(title="Bulk", label_config=TEXT_CONFIG)["id"]
    ok(api.post(f"/api/projects/{pid}/import", json=[
        {"data": {"text": f"t{i}"},
         "annotations": [{"result": choice("Positive")}] if i % 2 else [],
         "predictions": [{"result": choice("Negative")}]} for i in range(10)]))
    ids = [t["id"] for t in ok(api.get("/api/tasks", params={"project": pid}))["tasks"]]
    ok(api.post(f"/api/tasks/{ids[1]}/drafts", json={"result": choice("Negative")}))
    tab = ok(api.post("/api/dm/views", json={"project": pid, "data": {"title": "All"}}))
    whole = answers_of_texts(api, pid)
    chosen = {"selectedItems": {"all": False, "included": ids[:4]}}

    def preview(action, body):
        return ok(api.post(f"/api/ui/trash/preview?id={action}&project={pid}", json=body))

    told = preview("delete_tasks", chosen)
    assert {k: told[k] for k in ("tasks", "annotations", "predictions", "drafts")} == \
        {"tasks": 4, "annotations": 2, "predictions": 4, "drafts": 1}
    assert told["text"] == ("You are about to delete 4 tasks with 2 annotations, 4 "
                            "predictions, 1 draft.\n\nThey go to the trash for 30 days: "
                            "LabelDesk's Trash page (in the menu) gives them back.")
    done = ok(api.post(f"/api/dm/actions?id=delete_tasks&project={pid}", json=chosen))
    assert done == {"processed_items": 4, "reload": False, "detail": "Deleted 4 tasks"}
    told = preview("delete_tasks_annotations", {"selectedItems": {"all": True}})
    assert (told["tasks"], told["annotations"], told["drafts"]) == (6, 3, 0)
    assert "every annotator's" in told["text"]
    done = ok(api.post(f"/api/dm/actions?id=delete_tasks_annotations&project={pid}",
                       json={"selectedItems": {"all": True}}))
    assert done["processed_items"] == 3
    told = preview("delete_tasks_predictions", {"selectedItems": {"all": True}})
    assert (told["predictions"], told["annotations"]) == (6, 0)
    ok(api.post(f"/api/dm/actions?id=delete_tasks_predictions&project={pid}",
                json={"selectedItems": {"all": True}}))
    items = trash(api)
    assert [(i["kind"], i["name"]) for i in items] == [
        ("predictions", "6 predictions"), ("annotations", "3 annotations"),
        ("tasks", "4 tasks")]
    counters = ok(api.get(f"/api/projects/{pid}"))
    assert (counters["task_number"], counters["total_annotations_number"],
            counters["total_predictions_number"]) == (6, 0, 0)
    for item in items:  # undone, newest first
        ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert answers_of_texts(api, pid) == whole
    # every task deleted: the tabs go with them (LS), and come back with them
    done = ok(api.post(f"/api/dm/actions?id=delete_tasks&project={pid}",
                       json={"selectedItems": {"all": True}}))
    assert done["reload"] is True and api.get(f"/api/dm/views/{tab['id']}").status_code == 404
    ok(api.post(f"/api/ui/trash/{trash(api)[0]['id']}/restore"))
    assert answers_of_texts(api, pid) == whole


def answers_of_texts(api, pid):
    return {p: ok(api.get(p)) for p in (
        f"/api/projects/{pid}", f"/api/tasks?project={pid}&fields=all&page_size=100",
        f"/api/dm/views?project={pid}", f"/api/predictions?project={pid}",
        f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true")}


def test_a_reimport_keeps_the_tasks_it_replaces(make_live):
    live = make_live()
    api = live.api
    pid = api.project(title="Reimported", label_config=TEXT_CONFIG)["id"]
    upload = ok(api.post(f"/api/projects/{pid}/import?commit_to_project=false",
                         files={"file": ("a.csv", b"text\none\ntwo\n")}))
    ok(api.post(f"/api/projects/{pid}/reimport", json={
        "file_upload_ids": upload["file_upload_ids"]}))
    first = ok(api.get("/api/tasks", params={"project": pid, "fields": "all"}))["tasks"]
    ok(api.post(f"/api/tasks/{first[0]['id']}/annotations", json={"result": choice("Positive")}))
    # before it runs: what a re-import of these files would replace, and where it goes
    told = ok(api.post(f"/api/ui/trash/preview?id=reimport&project={pid}",
                       json={"file_upload_ids": upload["file_upload_ids"]}))
    assert (told["action"], told["tasks"], told["annotations"], told["predictions"]) == \
        ("reimport", 2, 1, 0)
    assert "replaces 2 tasks with 1 annotation(s)" in told["text"] and "30 days" in told["text"]
    assert api.post(f"/api/ui/trash/preview?id=reimport&project={pid}",
                    json={"file_upload_ids": "x"}).status_code == 400
    first = ok(api.get("/api/tasks", params={"project": pid, "fields": "all"}))["tasks"]
    ok(api.post(f"/api/projects/{pid}/reimport", json={
        "file_upload_ids": upload["file_upload_ids"]}))
    [item] = trash(api)
    assert item["counts"]["tasks"] == 2 and item["name"] == "2 tasks"
    assert item["counts"]["annotations"] == 1
    ok(api.post(f"/api/dm/actions?id=delete_tasks&project={pid}",
                json={"selectedItems": {"all": True}}))
    ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert ok(api.get("/api/tasks", params={"project": pid, "fields": "all"}))["tasks"] == first


# -- emptying, expiry -------------------------------------------------------------------------

def test_emptying_gives_the_space_back(serve_process, tmp_path):
    data, root = data_folder(tmp_path)
    process = serve_process(data)
    api = process.api
    pid = build_project(api, root)
    texts = api.project(title="Big texts", label_config=TEXT_CONFIG)["id"]
    ok(api.post(f"/api/projects/{texts}/import",
                json=[{"text": "x" * 400 + str(i)} for i in range(3000)]))
    small = api.project(title="Stays", label_config=TEXT_CONFIG)["id"]
    files = files_of(data, pid)
    for project in (pid, texts):
        assert api.delete(f"/api/projects/{project}").status_code == 204
    process.stop()
    process = serve_process(data)
    api = process.api
    full = store_bytes(data)
    items = {i["name"]: i for i in trash(api)}
    emptied = ok(api.delete(f"/api/ui/trash/{items['Photos']['id']}"))
    assert emptied == {"removed": 1, "size": items["Photos"]["size"], "files": 4}
    for name in files:
        assert not (data / name).exists(), name
    assert not (data / "media" / "upload" / str(pid)).exists()
    assert [i["name"] for i in trash(api)] == ["Big texts"]
    emptied = ok(api.delete("/api/ui/trash"))
    assert emptied["removed"] == 1 and trash(api) == []
    assert store_bytes(data) < full / 3  # compacted at once: most of it was the trash
    assert ok(api.get(f"/api/projects/{small}"))["title"] == "Stays"
    process.stop()
    process = serve_process(data)
    assert ok(process.api.get("/api/ui/trash")) == {"days": 30, "count": 0, "size": 0,
                                                    "items": []}
    assert "store recovery" not in "".join(process.lines)
    process.stop()


def test_expired_items_go_with_their_files(serve_process, tmp_path):
    data, root = data_folder(tmp_path)
    process = serve_process(data)
    api = process.api
    pid = build_project(api, root)
    files = files_of(data, pid)
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    process.stop()
    # 29 days later: still there; 31: gone, files and all
    later = {"LABELDESK_CLOCK_OFFSET_SECONDS": str(29 * DAY)}
    process = serve_process(data, env=later)
    assert len(trash(process.api)) == 1
    process.stop()
    assert files_of(data, pid) == files
    process = serve_process(data, env={"LABELDESK_CLOCK_OFFSET_SECONDS": str(31 * DAY)})
    assert trash(process.api) == []
    assert files_of(data, pid) == {}
    assert process.api.get(f"/api/projects/{pid}").status_code == 404
    process.stop()


def test_trash_days_on_the_command_line(serve_process, tmp_path):
    data, _ = data_folder(tmp_path)
    process = serve_process(data, "--trash-days", "0")
    api = process.api
    assert ok(api.get("/api/ui/settings"))["trash_days"] == 0
    pid = api.project(title="Final", label_config=TEXT_CONFIG)["id"]
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    assert trash(api) == []
    process.stop()
    process = serve_process(data)  # the flag is for that run: settings.json says 30
    assert ok(process.api.get("/api/ui/settings"))["trash_days"] == 30
    process.stop()
    for bad in ("x", "-1", "3651", "1.5"):
        refused = labeldesk("serve", "--data-dir", str(data), "--trash-days", bad)
        assert refused.returncode == 2 and "--trash-days" in refused.stderr, refused.stderr
    nothing = labeldesk("trash", "--data-dir", str(tmp_path / "empty"))
    assert nothing.returncode == 1 and "no LabelDesk data" in nothing.stderr
    assert not (tmp_path / "empty").exists()


def test_fewer_days_expire_at_once_and_0_makes_deletes_final(make_live):
    live = make_live()
    api = live.api
    pid = api.project(title="Days", label_config=TEXT_CONFIG)["id"]
    ok(api.post(f"/api/projects/{pid}/import", json=[{"text": "a"}, {"text": "b"}]))
    first, second = [t["id"] for t in ok(api.get("/api/tasks", params={"project": pid}))["tasks"]]
    ok(api.delete(f"/api/tasks/{first}"))
    assert ok(api.patch("/api/ui/settings", json={"trash_days": 5}))["trash_days"] == 5
    assert len(trash(api)) == 1  # deleted just now: stays
    assert json.loads((live.settings.data_dir / "settings.json").read_text())["trash_days"] == 5
    assert ok(api.patch("/api/ui/settings", json={"trash_days": 0}))["trash_days"] == 0
    assert trash(api) == []  # off: the trash is emptied
    ok(api.delete(f"/api/tasks/{second}"))
    assert ok(api.get("/api/ui/trash")) == {"days": 0, "count": 0, "size": 0, "items": []}
    assert ok(api.get(f"/api/projects/{pid}"))["task_number"] == 0


# -- backups --------------------------------------------------------------------------------

def test_backups_keep_the_trash_with_its_files(make_live, tmp_path):
    data, root = data_folder(tmp_path)
    live = make_live("data", reopenable=True, local_files_root=root)
    api = live.api
    pid = build_project(api, root)
    files = files_of(live.settings.data_dir, pid)
    assert api.delete(f"/api/projects/{pid}").status_code == 204
    backup = ok(api.post("/api/ui/backups"))
    pool = live.settings.data_dir / "backups" / "files"
    for name in files:
        assert (pool / name).exists(), name  # linked with the backup
    ok(api.delete("/api/ui/trash"))
    assert files_of(live.settings.data_dir, pid) == {}
    ok(api.post("/api/ui/backups/restore", json={"name": backup["name"]}))
    [item] = trash(live.api)
    assert item["name"] == "Photos"
    assert files_of(live.settings.data_dir, pid) == files
    ok(live.api.post(f"/api/ui/trash/{item['id']}/restore"))
    assert ok(live.api.get(f"/api/projects/{pid}"))["task_number"] == 5


# -- bad input -----------------------------------------------------------------------------

def test_bad_input_is_a_4xx_in_the_envelope(make_live):
    live = make_live()
    api = live.api
    pid = api.project(title="Bad input", label_config=TEXT_CONFIG)["id"]
    for method, path in (("GET", "/api/ui/trash/99"), ("GET", "/api/ui/trash/abc"),
                         ("GET", "/api/ui/trash/0"), ("DELETE", "/api/ui/trash/99"),
                         ("DELETE", "/api/ui/trash/-1"), ("POST", "/api/ui/trash/99/restore"),
                         ("POST", "/api/ui/trash/1e3/restore"),
                         ("POST", f"/api/ui/trash/{2 ** 70}/restore")):
        assert_envelope(api.request(method, path), 404)
    for body in ({"trash_days": -1}, {"trash_days": 3651}, {"trash_days": "7"},
                 {"trash_days": 1.5}, {"trash_days": None}, {"trash_days": True}):
        response = api.patch("/api/ui/settings", json=body)
        assert_envelope(response, 400)
        assert "trash_days" in response.json()["validation_errors"]
    assert ok(api.get("/api/ui/settings"))["trash_days"] == 30
    for query, status in ((f"id=next_task&project={pid}", 400),
                          (f"id=delete_tasks&project={pid + 1}", 404),
                          ("id=delete_tasks&project=x", 400), ("project=1", 400),
                          (f"id=nope&project={pid}", 400)):
        assert_envelope(api.post(f"/api/ui/trash/preview?{query}", json={}), status)
    for body in ([1, 2], "x", {"selectedItems": "all"}, {"filters": 3},
                 {"selectedItems": {"all": False, "included": "1"}}):
        response = api.post(f"/api/ui/trash/preview?id=delete_tasks&project={pid}", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
    response = api.post(f"/api/ui/trash/preview?id=delete_tasks&project={pid}", data=b"{oops",
                        headers={"Content-Type": "application/json"})
    assert_envelope(response, 400)
    ok(api.post(f"/api/projects/{pid}/import", json=[{"text": "a"}]))
    task = ok(api.get("/api/tasks", params={"project": pid}))["tasks"][0]["id"]
    ok(api.delete(f"/api/tasks/{task}"))
    item = trash(api)[0]["id"]
    ok(api.post(f"/api/ui/trash/{item}/restore"))
    assert_envelope(api.post(f"/api/ui/trash/{item}/restore"), 404)  # restored already
    assert_envelope(api.delete(f"/api/ui/trash/{item}"), 404)
    assert ok(api.delete("/api/ui/trash")) == {"removed": 0, "size": 0, "files": 0}
    assert live.anonymous.get("/api/ui/trash").status_code == 401


# -- SIGKILL ------------------------------------------------------------------------------------

STEPS_WHOLE_IN_TRASH = ("trash-restore-staged",)
STEPS_RESTORED = ("trash-restore-committed",)


@pytest.mark.parametrize("step", STEPS_WHOLE_IN_TRASH + STEPS_RESTORED)
def test_sigkill_at_each_step_of_a_restore(serve_process, tmp_path, step):
    data, root = data_folder(tmp_path)
    process = serve_process(data)
    pid = build_project(process.api, root)
    before, files = answers(process.api, pid), files_of(data, pid)
    assert process.api.delete(f"/api/projects/{pid}").status_code == 204
    [item] = trash(process.api)
    process.stop()
    process = serve_process(data, env={"LABELDESK_RESTORE_KILL_AT": step})
    try:
        process.api.post(f"/api/ui/trash/{item['id']}/restore", timeout=30)
    except Exception:  # noqa: BLE001 - killed under it
        pass
    process.proc.wait(timeout=30)
    assert process.proc.returncode == -9
    process = serve_process(data)
    api = process.api
    if step in STEPS_WHOLE_IN_TRASH:
        assert trash(api) == [item]
        assert api.get(f"/api/projects/{pid}").status_code == 404
        assert files_of(data, pid) == files
        ok(api.post(f"/api/ui/trash/{item['id']}/restore"))
    else:
        assert trash(api) == []
    assert answers(api, pid) == before
    assert files_of(data, pid) == files
    process.stop()


@pytest.mark.parametrize("step", ("trash-delete-collected", "trash-purge-committed",
                                  "trash-purge-unlinking"))
def test_sigkill_during_a_delete_or_an_emptying(serve_process, tmp_path, step):
    """Killed before the delete's record is on disk: the project is whole where it was.
    Killed after the emptying's commit, before or among its unlinks: gone, and the files it
    left are removed at the next start."""
    data, root = data_folder(tmp_path)
    process = serve_process(data, env={"LABELDESK_RESTORE_KILL_AT": step})
    api = process.api
    pid = build_project(api, root)
    before, files = answers(api, pid), files_of(data, pid)
    try:
        api.delete(f"/api/projects/{pid}", timeout=30)
        api.delete("/api/ui/trash", timeout=30)
    except Exception:  # noqa: BLE001 - killed under it
        pass
    process.proc.wait(timeout=30)
    process = serve_process(data)
    api = process.api
    if step == "trash-delete-collected":
        assert trash(api) == []
        assert answers(api, pid) == before and files_of(data, pid) == files
    else:
        assert trash(api) == [] and api.get(f"/api/projects/{pid}").status_code == 404
        assert files_of(data, pid) == {}
        assert not (data / "media" / "upload" / str(pid)).exists()
    process.stop()


def test_sigkill_at_random_moments_of_a_big_restore(serve_process, tmp_path):
    """20,000 tasks with annotations, predictions and 50 images: killed at random moments of
    its restore, and (every other round) while its journal record is being written, the
    project is whole in the trash or whole restored. (Killed just after the commit:
    test_sigkill_at_each_step_of_a_restore.)"""
    import random
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    data, _ = data_folder(tmp_path)
    process = serve_process(data)
    api = process.api
    pid = api.project(title="Big", label_config=IMAGE_CONFIG)["id"]
    files = {f"f{i}": (f"i{i}.png", png((i, i, i))) for i in range(50)}
    ok(api.post(f"/api/projects/{pid}/import", files=files))
    ok(api.post(f"/api/projects/{pid}/import", json=[
        {"data": {"image": f"/x/{i}.png"},
         "annotations": [{"result": choice("Positive", to_name="image")}],
         "predictions": [{"result": choice("Negative", to_name="image")}]}
        for i in range(20_000)], timeout=120))
    project, media = ok(api.get(f"/api/projects/{pid}")), files_of(data, pid)
    assert api.delete(f"/api/projects/{pid}", timeout=120).status_code == 204
    item = trash(api)[0]
    started = time.monotonic()
    ok(api.post(f"/api/ui/trash/{item['id']}/restore", timeout=120))
    duration = time.monotonic() - started
    assert ok(api.get(f"/api/projects/{pid}")) == project
    outcomes = {"in the trash": 0, "restored": 0, "its record torn, dropped": 0}
    for round_number in range(6):
        assert api.delete(f"/api/projects/{pid}", timeout=120).status_code == 204
        item = trash(api)[0]
        restorer = threading.Thread(target=quietly, args=(
            api.post, f"/api/ui/trash/{item['id']}/restore"), daemon=True)
        journal = data / "db" / "journal.ldb"
        size = journal.stat().st_size
        restorer.start()
        if round_number % 2:  # while its record is being written (a torn write)
            deadline = time.monotonic() + 30
            while journal.stat().st_size < size + 1_000_000 and time.monotonic() < deadline:
                time.sleep(0.0005)
        else:
            time.sleep(rng.uniform(0, duration * 1.2))
        process.kill()
        restorer.join(timeout=30)
        process = serve_process(data)
        api = process.api
        context = (seed, round_number)
        if "incomplete last write" in "".join(process.lines):
            outcomes["its record torn, dropped"] += 1
        response = api.get(f"/api/projects/{pid}")
        if response.status_code == 200:
            outcomes["restored"] += 1
            assert response.json() == project, context
            assert trash(api) == [], context
        else:
            outcomes["in the trash"] += 1
            assert [i["id"] for i in trash(api)] == [item["id"]], context
            assert trash(api)[0]["counts"] == item["counts"], context
            ok(api.post(f"/api/ui/trash/{item['id']}/restore", timeout=120))
            assert ok(api.get(f"/api/projects/{pid}")) == project, context
        assert files_of(data, pid) == media, context
    process.stop()
    print(f"\nrestore of 20,000 tasks: {duration:.2f}s; 6 kills: {outcomes}; seed {seed}")


def quietly(call, *args):
    try:
        call(*args, timeout=60)
    except Exception:  # noqa: BLE001 - the server is killed under it
        pass


# -- the CLI --------------------------------------------------------------------------------

def test_cli_trash_with_labeldesk_closed_and_through_the_running_one(serve_process, tmp_path):
    data, root = data_folder(tmp_path)
    process = serve_process(data)
    api = process.api
    pid = build_project(api, root)
    other = api.project(title="Second", label_config=TEXT_CONFIG)["id"]
    before, files = answers(api, pid), files_of(data, pid)
    for project in (pid, other):
        assert api.delete(f"/api/projects/{project}").status_code == 204
    items = {i["name"]: i["id"] for i in trash(api)}

    # through the running LabelDesk (it holds the store)
    listed = labeldesk("trash", "--data-dir", str(data))
    assert listed.returncode == 0, listed.stderr
    assert "through the running LabelDesk" in listed.stdout and "Photos" in listed.stdout
    assert "1 project, 5 tasks, 3 annotations, 2 predictions, 1 draft, 4 files" \
        in listed.stdout, listed.stdout
    restored = labeldesk("trash", "restore", str(items["Photos"]), "--data-dir", str(data))
    assert restored.returncode == 0, restored.stderr
    assert "Restored project 'Photos'" in restored.stdout
    assert answers(api, pid) == before  # the running app serves it at once
    missing = labeldesk("trash", "restore", "999", "--data-dir", str(data))
    assert missing.returncode == 1 and "No item 999 in the trash" in missing.stderr
    process.stop()

    # with LabelDesk closed
    listed = labeldesk("trash", "list", "--data-dir", str(data))
    assert listed.returncode == 0 and "Second" in listed.stdout \
        and "through" not in listed.stdout, listed.stdout
    emptied = labeldesk("trash", "empty", str(items["Second"]), "--data-dir", str(data))
    assert emptied.returncode == 0 and "Removed 1 item from the trash" in emptied.stdout
    assert "The trash is empty" in labeldesk("trash", "--data-dir", str(data)).stdout
    assert labeldesk("trash", "restore", "--data-dir", str(data)).returncode != 0
    assert labeldesk("trash", "restore", "x", "--data-dir", str(data)).returncode == 2
    assert api.delete  # the server is closed: the CLI wrote the store itself
    process = serve_process(data)
    assert trash(process.api) == []
    assert answers(process.api, pid) == before and files_of(data, pid) == files
    assert process.api.delete(f"/api/projects/{pid}").status_code == 204
    process.stop()
    emptied = labeldesk("trash", "empty", "--data-dir", str(data))
    assert emptied.returncode == 0 and "4 files" in emptied.stdout, emptied.stdout
    assert files_of(data, pid) == {}
