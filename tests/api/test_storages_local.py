"""Local-files storages: import (files as tasks, JSON tasks), export folders, serving files
only from inside the allowed root."""

import json
import os

import pytest

IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
<Choices name="c" toName="image"><Choice value="A"/></Choices></View>"""
TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="sentiment" toName="text"><Choice value="Pos"/></Choices></View>"""


@pytest.fixture
def desk(make_live, tmp_path):
    root = tmp_path / "root"
    (root / "imgs" / "sub").mkdir(parents=True)
    for name in ("b.png", "a.png", "notes.txt"):
        (root / "imgs" / name).write_bytes(b"\x89PNG fake " + name.encode())
    (root / "imgs" / "sub" / "c.png").write_bytes(b"\x89PNG c")
    server = make_live(local_files_root=root)
    server.root = root
    return server


def create(api, project_id, path, kind="", **fields):
    url = "/api/storages/export/localfiles" if kind == "export" else "/api/storages/localfiles"
    return api.post(url, json={"project": project_id, "path": str(path), **fields})


def test_import_sync_blob_urls_and_resync(desk):
    api = desk.api
    project = api.project(label_config=IMAGE_CONFIG)
    r = create(api, project["id"], desk.root / "imgs", regex_filter=r".*\.png",
               use_blob_urls=True, title="imgs")
    assert r.status_code == 201, r.text
    storage = r.json()
    assert storage["type"] == "localfiles" and storage["status"] == "initialized"
    assert storage["recursive_scan"] is False and storage["project"] == project["id"]

    r = api.post(f"/api/storages/localfiles/{storage['id']}/sync")
    assert r.status_code == 200, r.text
    synced = r.json()
    assert synced["status"] == "completed" and synced["last_sync_count"] == 2
    assert synced["meta"]["attempts"] == 1 and synced["last_sync"]
    tasks = api.get("/api/tasks", params={"project": project["id"], "fields": "all"}).json()
    assert [t["data"]["image"] for t in tasks["tasks"]] == [
        "/data/local-files/?d=imgs/a.png", "/data/local-files/?d=imgs/b.png"]
    assert tasks["tasks"][0]["storage_filename"] == str(desk.root / "imgs" / "a.png")

    (desk.root / "imgs" / "new.png").write_bytes(b"\x89PNG new")
    synced = api.post(f"/api/storages/localfiles/{storage['id']}/sync").json()
    assert synced["last_sync_count"] == 1 and synced["meta"]["tasks_existed"] == 2
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == 3

    r = api.patch(f"/api/storages/localfiles/{storage['id']}", json={"recursive_scan": True})
    assert r.status_code == 200 and r.json()["recursive_scan"] is True
    assert api.post(f"/api/storages/localfiles/{storage['id']}/sync").json()[
        "last_sync_count"] == 1  # sub/c.png

    listed = api.get("/api/storages", params={"project": project["id"]}).json()
    assert [s["id"] for s in listed] == [storage["id"]]
    assert api.get("/api/storages/localfiles", params={"project": project["id"]}).json()[0][
        "title"] == "imgs"
    assert api.get("/api/storages").json() == []
    r = api.get("/api/storages/localfiles")
    assert r.status_code == 400 and "query parameter \\\"project\\\" is required" in r.text
    assert {t["name"] for t in api.get("/api/storages/types").json()} == {"s3", "localfiles"}
    assert api.delete(f"/api/storages/localfiles/{storage['id']}").status_code == 204
    # LS: the tasks stay, their links to the storage go (storage_filename null)
    tasks = api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"]
    assert len(tasks) == 4 and {t["storage_filename"] for t in tasks} == {None}
    assert api.get(f"/api/storages/localfiles/{storage['id']}").status_code == 404


def test_import_json_task_files(desk):
    api = desk.api
    folder = desk.root / "tasks"
    folder.mkdir()
    (folder / "one.json").write_text(json.dumps({"text": "first"}))
    (folder / "many.json").write_text(json.dumps([
        {"data": {"text": "second"}, "predictions": [{"result": [], "model_version": "m"}]},
        {"text": "third"}]))
    (folder / "broken.json").write_text("{not json")
    (folder / "wrong.json").write_text(json.dumps({"other": "no text key"}))
    project = api.project(label_config=TEXT_CONFIG)
    storage = create(api, project["id"], folder).json()
    synced = api.post(f"/api/storages/localfiles/{storage['id']}/sync").json()
    assert synced["status"] == "completed_with_errors", synced
    assert synced["last_sync_count"] == 3
    assert "broken.json" in synced["traceback"] and "wrong.json" in synced["traceback"]
    tasks = api.get("/api/tasks", params={"project": project["id"], "fields": "all"}).json()
    assert sorted(t["data"]["text"] for t in tasks["tasks"]) == ["first", "second", "third"]
    assert tasks["total_predictions"] == 1
    again = api.post(f"/api/storages/localfiles/{storage['id']}/sync").json()
    assert again["last_sync_count"] == 0


def test_path_must_be_inside_root(desk, tmp_path):
    api = desk.api
    project = api.project()
    outside = tmp_path / "outside"
    outside.mkdir()
    r = create(api, project["id"], outside)
    assert r.status_code == 400
    assert "must be a subdirectory of LOCAL_FILES_DOCUMENT_ROOT" in r.text
    (desk.root / "escape").symlink_to(outside)
    assert create(api, project["id"], desk.root / "escape").status_code == 400
    assert create(api, project["id"], desk.root / "imgs" / ".." / ".." / "outside"
                  ).status_code == 400
    assert create(api, project["id"], "relative/path").status_code == 400
    assert create(api, project["id"], desk.root / "nope").json()["validation_errors"] == {
        "non_field_errors": [f'Absolute local path "{desk.root / "nope"}" does not exist']}
    assert create(api, project["id"], desk.root / "imgs" / "a.png").status_code == 400
    assert create(api, project["id"], desk.root / "imgs", regex_filter="(").status_code == 400
    r = api.post("/api/storages/localfiles/validate",
                 json={"project": project["id"], "path": str(desk.root / "imgs")})
    assert r.status_code == 200


def test_serving_files(desk, tmp_path):
    api = desk.api
    project = api.project(label_config=IMAGE_CONFIG)
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    (desk.root / "imgs" / "link.png").symlink_to(outside)
    (desk.root / "other").mkdir()
    (desk.root / "other" / "x.png").write_bytes(b"not in a storage")

    url = "/data/local-files/?d=imgs/a.png"
    assert api.get(url).status_code == 404  # no storage covers it yet
    create(api, project["id"], desk.root / "imgs", use_blob_urls=True)
    r = api.get(url)
    assert r.status_code == 200 and r.content == b"\x89PNG fake a.png"
    assert r.headers["Content-Type"] == "image/png"
    etag = r.headers["ETag"]
    assert api.get(url, headers={"If-None-Match": etag}).status_code == 304
    r = api.get(url, headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and r.content == b"\x89PNG"
    assert api.get("/data/local-files?d=imgs/sub/c.png").status_code == 200
    assert desk.anonymous.get(url).status_code == 401

    for bad in ("imgs/../../secret.txt", "../secret.txt", str(outside), "imgs/link.png",
                "other/x.png", "imgs/nope.png", "imgs", "", "imgs/%00a.png"):
        r = api.get("/data/local-files/", params={"d": bad})
        assert r.status_code == 404, (bad, r.status_code)
    assert b"top secret" not in api.get("/data/local-files/?d=imgs/link.png").content

    # a symlink outside is not even imported
    storage_id = api.get("/api/storages", params={"project": project["id"]}).json()[0]["id"]
    api.post(f"/api/storages/localfiles/{storage_id}/sync")
    tasks = api.get("/api/tasks", params={"project": project["id"], "fields": "all"}).json()
    assert all("link" not in t["data"]["image"] for t in tasks["tasks"])


def test_symlinks_out_of_the_storage_folder_are_neither_synced_nor_served(desk):
    """A symlink in a storage's folder that points elsewhere under the root (the home folder,
    by default) is not the storage's file: no task, no download, not even when it points into
    another storage's folder. Symlinks that stay inside the folder keep working."""
    api, root = desk.api, desk.root
    (root / "private").mkdir()
    (root / "private" / "secret.png").write_bytes(b"\x89PNG secret")
    (root / "private" / "secret.json").write_text(json.dumps({"text": "top secret"}))
    (root / "imgs" / "leak.png").symlink_to(root / "private" / "secret.png")
    (root / "imgs" / "rel-leak.png").symlink_to(os.path.join("..", "private", "secret.png"))
    (root / "imgs" / "linkdir").symlink_to(root / "private", target_is_directory=True)
    (root / "imgs" / "inner.png").symlink_to(os.path.join("sub", "c.png"))
    (root / "tasks").mkdir()
    (root / "tasks" / "one.json").write_text(json.dumps({"text": "first"}))
    (root / "tasks" / "leak.json").symlink_to(root / "private" / "secret.json")
    (root / "tasks" / "same.json").symlink_to("one.json")

    images = api.project(label_config=IMAGE_CONFIG)
    storage = create(api, images["id"], root / "imgs", regex_filter=r".*\.png",
                     use_blob_urls=True, recursive_scan=True).json()
    synced = api.post(f"/api/storages/localfiles/{storage['id']}/sync").json()
    tasks = api.get("/api/tasks", params={"project": images["id"], "fields": "all"}).json()
    urls = sorted(t["data"]["image"] for t in tasks["tasks"])
    assert urls == ["/data/local-files/?d=imgs/a.png", "/data/local-files/?d=imgs/b.png",
                    "/data/local-files/?d=imgs/sub/c.png", "/data/local-files/?d=imgs/sub/c.png"]
    assert synced["last_sync_count"] == 4 and synced["status"] == "completed_with_errors"
    assert "leak.png: skipped" in synced["traceback"]
    assert "rel-leak.png: skipped" in synced["traceback"]

    texts = api.project(label_config=TEXT_CONFIG)
    storage = create(api, texts["id"], root / "tasks").json()
    synced = api.post(f"/api/storages/localfiles/{storage['id']}/sync").json()
    tasks = api.get("/api/tasks", params={"project": texts["id"], "fields": "all"}).json()
    assert sorted(t["data"]["text"] for t in tasks["tasks"]) == ["first", "first"]
    assert "leak.json: skipped" in synced["traceback"]

    # the target's folder is a storage too (another project's): served by its own path only
    create(api, texts["id"], root / "private", use_blob_urls=True)
    assert api.get("/data/local-files/?d=private/secret.png").content == b"\x89PNG secret"
    for path in ("imgs/leak.png", "imgs/rel-leak.png", "imgs/linkdir/secret.png",
                 "imgs/linkdir/../leak.png", str(root / "imgs" / "leak.png")):
        r = api.get("/data/local-files/", params={"d": path})
        assert r.status_code == 404 and b"secret" not in r.content, path
    for path in ("imgs/inner.png", "imgs/sub/c.png", str(root / "imgs" / "inner.png")):
        r = api.get("/data/local-files/", params={"d": path})
        assert r.status_code == 200 and r.content == b"\x89PNG c", path


def test_export_storage_writes_annotations(desk):
    api = desk.api
    out = desk.root / "out"
    out.mkdir()
    project = api.project(label_config=TEXT_CONFIG)
    ids = api.post(f"/api/projects/{project['id']}/import?return_task_ids=true",
                   json=[{"text": "a"}, {"text": "b"}]).json()["task_ids"]
    first = api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": []}).json()

    r = create(api, project["id"], out, kind="export", can_delete_objects=True)
    assert r.status_code == 201, r.text
    storage = r.json()
    assert storage["can_delete_objects"] is True and "recursive_scan" not in storage
    # LS answers a new export storage queued (its sync runs after); the sync is done here
    assert storage["status"] == "queued" and storage["last_sync_count"] is None
    assert set(storage["meta"]) == {"attempts", "time_queued"}
    storage = api.get(f"/api/storages/export/localfiles/{storage['id']}").json()
    assert storage["status"] == "completed" and storage["last_sync_count"] == 1
    assert storage["meta"]["total_annotations"] == 1 and "tasks_existed" not in storage["meta"]
    plain = create(api, project["id"], out, kind="export").json()
    assert plain["can_delete_objects"] is None  # LS: null unless set
    renamed = api.patch(f"/api/storages/export/localfiles/{plain['id']}", json={"title": "x"})
    assert renamed.json()["title"] == "x" and "type" not in renamed.json()  # LS: no type
    api.delete(f"/api/storages/export/localfiles/{plain['id']}")
    written = json.loads((out / str(first["id"])).read_text())
    assert written["id"] == first["id"] and written["task"]["data"] == {"text": "a"}
    assert written["completed_by"]["id"] == first["completed_by"]

    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
               "value": {"choices": ["Pos"]}}]
    second = api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": result}).json()
    assert json.loads((out / str(second["id"])).read_text())["result"] == result
    api.patch(f"/api/annotations/{first['id']}", json={"result": result})
    assert json.loads((out / str(first["id"])).read_text())["result"] == result
    api.delete(f"/api/annotations/{second['id']}")
    assert not (out / str(second["id"])).exists()

    assert api.get("/api/storages/export", params={"project": project["id"]}).json()[0][
        "id"] == storage["id"]
    os.remove(out / str(first["id"]))
    synced = api.post(f"/api/storages/export/localfiles/{storage['id']}/sync").json()
    assert synced["last_sync_count"] == 1 and (out / str(first["id"])).exists()
    assert api.get("/api/storages", params={"project": project["id"]}).json() == []


def test_bad_input_never_500(desk):
    api = desk.api
    project = api.project()
    folder = str(desk.root / "imgs")
    for body in ([], {"path": folder}, {"project": "x", "path": folder},
                 {"project": 9999, "path": folder}, {"project": project["id"], "path": 5},
                 {"project": project["id"], "path": folder, "use_blob_urls": "maybe"},
                 {"project": project["id"], "path": folder, "regex_filter": 5},
                 {"project": project["id"], "path": "\x00"}):
        r = api.post("/api/storages/localfiles", json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
    for method, path in [("GET", "/api/storages/localfiles/abc"),
                         ("GET", "/api/storages/localfiles/999"),
                         ("POST", "/api/storages/localfiles/999/sync"),
                         ("GET", "/api/storages/gcs?project=1"),
                         ("GET", "/api/storages/nonsense/1"),
                         ("POST", "/api/storages/export/localfiles/999/sync"),
                         ("DELETE", "/api/storages/export/localfiles/999"),
                         ("GET", "/api/storages/localfiles?project=abc")]:
        r = api.request(method, path)
        assert 400 <= r.status_code < 500, (method, path, r.status_code)
    storage = create(api, project["id"], desk.root / "imgs").json()
    assert api.get(f"/api/storages/export/localfiles/{storage['id']}").status_code == 404
    assert api.patch(f"/api/storages/localfiles/{storage['id']}",
                     json={"path": "/etc"}).status_code == 400


# LS 1.23's StorageTaskSerializer (fields "__all__" of the Task model, relations last)
STORAGE_TASK_KEYS = ["id", "data", "meta", "created_at", "updated_at", "is_labeled", "allow_skip",
                     "overlap", "inner_id", "total_annotations", "cancelled_annotations",
                     "total_predictions", "precomputed_agreement", "comment_count",
                     "unresolved_comment_count", "last_comment_updated_at", "project",
                     "updated_by", "file_upload", "comment_authors"]


def test_export_storage_and_live_folder_write_the_same_file(desk):
    api = desk.api
    storage_out, live_out = desk.root / "storage", desk.root / "live"
    storage_out.mkdir()
    project = api.project(label_config=TEXT_CONFIG)
    ids = api.post(f"/api/projects/{project['id']}/import?return_task_ids=true",
                   json=[{"text": "é"}]).json()["task_ids"]
    assert create(api, project["id"], storage_out, kind="export").status_code == 201
    r = api.put(f"/api/projects/{project['id']}/live-export", json={"path": str(live_out)})
    assert r.status_code == 200, r.text
    annotation = api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": []}).json()
    desk.app.exports.live.flush()
    desk.app.storages.flush()
    name = str(annotation["id"])
    assert (storage_out / name).read_bytes() == (live_out / name).read_bytes()
    written = json.loads((storage_out / name).read_text())
    assert list(written["task"]) == STORAGE_TASK_KEYS
    assert written["task"]["data"] == {"text": "é"}
    assert set(written["completed_by"]) == {"id", "first_name", "last_name", "email"}
