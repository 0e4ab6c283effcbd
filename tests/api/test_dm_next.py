"""The data manager's label stream: POST /api/dm/actions?id=next_task answers the next task as
Label Studio 1.23.2's NextTaskSerializer does, and GET /api/projects/{id}/label-stream-history
lists what the stream handed out (LS's LabelStreamHistory)."""

from datahelp import assert_envelope, choice, import_ids

NEXT_KEYS = ["id", "predictions", "annotations", "drafts", "updated_by", "unique_lock_id",
             "data", "meta", "created_at", "updated_at", "is_labeled", "overlap", "inner_id",
             "total_annotations", "cancelled_annotations", "total_predictions",
             "comment_count", "unresolved_comment_count", "last_comment_updated_at", "project",
             "file_upload", "comment_authors", "queue"]


def next_task(api, project_id, body=None, status=200):
    response = api.post("/api/dm/actions", params={"id": "next_task", "project": project_id},
                        json=body or {})
    assert response.status_code == status, response.text
    return response.json()


def history(api, project_id):
    response = api.get(f"/api/projects/{project_id}/label-stream-history")
    assert response.status_code == 200, response.text
    return response.json()


def test_next_task_shape_and_history(api):
    project = api.project()
    pid = project["id"]
    ids = import_ids(api, pid, [{"text": "a"}, {"text": "b"}])
    assert history(api, pid) == []
    task = next_task(api, pid)
    assert list(task) == NEXT_KEYS
    assert task["id"] == ids[0] and task["queue"] == "Sequence queue"
    assert task["annotations"] == [] and task["drafts"] == [] and task["updated_by"] == []
    assert task["data"] == {"text": "a"} and len(task["unique_lock_id"]) == 36
    assert history(api, pid) == [{"taskId": ids[0], "annotationId": None}]
    annotation = api.post(f"/api/tasks/{ids[0]}/annotations",
                          json={"result": choice("Pos")}).json()
    assert history(api, pid) == [{"taskId": ids[0], "annotationId": annotation["id"]}]
    assert next_task(api, pid)["id"] == ids[1]
    assert next_task(api, pid)["id"] == ids[1]  # handed out once in the history
    assert history(api, pid) == [{"taskId": ids[0], "annotationId": annotation["id"]},
                                 {"taskId": ids[1], "annotationId": None}]
    # what was deleted since drops out (a task) or is null (an annotation)
    api.delete(f"/api/annotations/{annotation['id']}")
    api.delete(f"/api/tasks/{ids[1]}")
    assert history(api, pid) == [{"taskId": ids[0], "annotationId": None}]


def test_next_task_carries_the_users_drafts_and_the_model_versions_predictions(api):
    project = api.project()
    pid = project["id"]
    ids = import_ids(api, pid, [{"data": {"text": "a"}, "predictions": [
        {"result": choice("Pos"), "model_version": "v1"},
        {"result": choice("Neg"), "model_version": "v2"}]}])
    api.patch(f"/api/projects/{pid}", json={"model_version": "v2"})
    draft = api.post(f"/api/tasks/{ids[0]}/drafts", json={"result": choice("Pos")}).json()
    task = next_task(api, pid)
    assert task["drafts"] == [draft]
    assert [p["model_version"] for p in task["predictions"]] == ["v2"]
    api.patch(f"/api/projects/{pid}", json={"show_collab_predictions": False})
    assert next_task(api, pid)["predictions"] == []


def test_data_manager_queue_and_postponed_tasks(api):
    project = api.project()
    pid = project["id"]
    ids = import_ids(api, pid, [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    # a selection, filters or ordering: the first task of the selection in its order
    task = next_task(api, pid, {"ordering": ["-tasks:id"],
                                "filters": {"conjunction": "and", "items": []},
                                "selectedItems": {"all": True}})
    assert (task["id"], task["queue"]) == (ids[2], "Data manager queue")
    task = next_task(api, pid, {"selectedItems": {"all": False, "included": [ids[1]]}})
    assert task["id"] == ids[1]
    # a selection of nothing (the label stream opened by its URL): the whole project, as LS
    task = next_task(api, pid, {"ordering": [], "filters": {"conjunction": "and", "items": []},
                                "selectedItems": {"all": False, "included": []}})
    assert (task["id"], task["queue"]) == (ids[0], "Data manager queue")
    # a postponed task comes after every other unlabeled one
    api.post(f"/api/tasks/{ids[0]}/drafts", json={"result": [], "was_postponed": True})
    assert next_task(api, pid)["id"] == ids[1]
    for task_id in ids[1:]:
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Pos")})
    task = next_task(api, pid)
    assert (task["id"], task["queue"]) == (ids[0], "Postponed draft queue")
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Pos")})
    email = api.get("/api/current-user").json()["email"]
    assert_envelope(api.post("/api/dm/actions", params={"id": "next_task", "project": pid},
                             json={}), 404, f"There are no tasks for {email}")


def test_next_task_and_history_errors(api):
    assert_envelope(api.post("/api/dm/actions", params={"id": "next_task",
                                                        "project": 999999}, json={}), 404,
                    "No Project matches the given query.")
    project = api.project()
    response = api.post("/api/dm/actions", params={"id": "next_task", "project": project["id"]},
                        json={"selectedItems": "all"})
    assert response.status_code == 400  # LS: 500
    assert_envelope(api.get("/api/projects/999999/label-stream-history"), 404,
                    "No Project matches the given query.")
    assert api.get("/api/projects/abc/label-stream-history").status_code == 404


def test_history_of_annotated_tasks_survives_a_restart(make_live):
    server = make_live("stream")
    api = server.api
    pid = api.project()["id"]
    ids = import_ids(api, pid, [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    first = next_task(api, pid)["id"]
    annotation = api.post(f"/api/tasks/{first}/annotations",
                          json={"result": choice("Pos")}).json()
    assert next_task(api, pid)["id"] == ids[1]  # handed out, not annotated yet
    assert history(api, pid) == [{"taskId": ids[0], "annotationId": annotation["id"]},
                                 {"taskId": ids[1], "annotationId": None}]
    server.close()
    api = make_live("stream").api
    # kept: what was annotated; forgotten: what was only handed out (docs/compatibility.md)
    assert history(api, pid) == [{"taskId": ids[0], "annotationId": annotation["id"]}]
