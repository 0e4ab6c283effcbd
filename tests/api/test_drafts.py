"""Drafts (Label Studio 1.23.2's AnnotationDraft): the labeling editor saves the user's work in
progress on a task or on one of its annotations. Shapes, statuses and messages are LS's."""

import pytest

from datahelp import assert_envelope, choice, import_ids

DRAFT_KEYS = ["id", "user", "created_username", "created_ago", "result", "lead_time",
              "was_postponed", "import_id", "created_at", "updated_at", "task", "annotation"]


@pytest.fixture
def task_ids(api):
    project = api.project()
    return import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}, {"text": "c"}])


def post_draft(api, task_id, body, status=201, annotation_id=None):
    path = f"/api/tasks/{task_id}" + (f"/annotations/{annotation_id}" if annotation_id else "")
    response = api.post(path + "/drafts", json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_create_get_update_delete(api, task_ids):
    task_id = task_ids[0]
    assert api.get(f"/api/tasks/{task_id}/drafts").json() == []
    draft = post_draft(api, task_id, {"result": choice("Pos"), "lead_time": 3.5})
    assert list(draft) == DRAFT_KEYS
    me = api.get("/api/current-user").json()
    assert draft["user"] == me["email"]
    assert draft["created_username"] == f"{me['email']}, {me['id']}"
    assert draft["created_ago"] == "0\u00a0minutes"
    assert (draft["task"], draft["annotation"], draft["lead_time"]) == (task_id, None, 3.5)
    assert draft["was_postponed"] is False and draft["import_id"] is None
    url = f"/api/drafts/{draft['id']}"
    assert api.get(url).json() == draft
    assert api.get(f"/api/tasks/{task_id}/drafts").json() == [draft]
    patched = api.patch(url, json={"result": choice("Neg"), "lead_time": 5})
    assert patched.status_code == 200
    assert patched.json()["result"] == choice("Neg") and patched.json()["lead_time"] == 5.0
    assert patched.json()["updated_at"] >= draft["updated_at"]
    put = api.put(url, json={"result": choice("Pos")})
    assert put.status_code == 200 and put.json()["lead_time"] == 5.0
    assert api.delete(url).status_code == 204
    assert_envelope(api.get(url), 404, "No AnnotationDraft matches the given query.")
    assert api.get(f"/api/tasks/{task_id}/drafts").json() == []


def test_fields_as_label_studio_reads_them(api, task_ids):
    draft = post_draft(api, task_ids[1], {
        "result": "anything JSON", "was_postponed": "true", "import_id": "7", "lead_time": "4.5",
        "task": task_ids[2], "user": "someone else", "id": 77})
    # the URL's task wins over the body's; the user is always the requesting one
    assert (draft["task"], draft["was_postponed"], draft["import_id"], draft["lead_time"]) == \
        (task_ids[1], True, 7, 4.5)
    assert draft["result"] == "anything JSON" and draft["id"] != 77
    assert draft["user"] == api.get("/api/current-user").json()["email"]
    moved = api.patch(f"/api/drafts/{draft['id']}", json={"task": task_ids[2]}).json()
    assert moved["task"] == task_ids[2]  # LS lets a draft move to another task
    assert api.patch(f"/api/drafts/{draft['id']}", json={}).status_code == 200


@pytest.mark.parametrize("body, errors", [
    ({}, {"result": ["This field is required."]}),
    ({"result": None}, {"result": ["This field may not be null."]}),
    ({"result": [], "lead_time": "abc"}, {"lead_time": ["A valid number is required."]}),
    ({"result": [], "was_postponed": "maybe"}, {"was_postponed": ["Must be a valid boolean."]}),
    ({"result": [], "import_id": "abc"}, {"import_id": ["A valid biginteger is required."]}),
    ({"result": [], "annotation": 999999},
     {"annotation": ['Invalid pk "999999" - object does not exist.']}),
    ({"result": [], "task": "x"}, {"task": ["Incorrect type. Expected pk value, received str."]}),
    ({"result": [], "user": ["x"]}, {"user": ["Not a valid string."]}),
])
def test_bad_bodies(api, task_ids, body, errors):
    response = api.post(f"/api/tasks/{task_ids[0]}/drafts", json=body)
    assert assert_envelope(response, 400, "Validation error")["validation_errors"] == errors
    assert api.get(f"/api/tasks/{task_ids[0]}/drafts").json() == []


def test_bad_bodies_and_ids(api, task_ids):
    response = api.post(f"/api/tasks/{task_ids[0]}/drafts", json=[1])
    assert assert_envelope(response, 400)["validation_errors"] == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    response = api.post(f"/api/tasks/{task_ids[0]}/drafts", data="{bad",
                        headers={"Content-Type": "application/json"})
    assert assert_envelope(response, 400)["detail"].startswith("JSON parse error")
    draft = post_draft(api, task_ids[0], {"result": []})
    url = f"/api/drafts/{draft['id']}"
    assert assert_envelope(api.put(url, json={"lead_time": 2}), 400)["validation_errors"] == {
        "result": ["This field is required."]}
    assert assert_envelope(api.patch(url, json={"task": 999999}), 400)["validation_errors"] == {
        "task": ['Invalid pk "999999" - object does not exist.']}
    assert api.patch(url, json=[]).status_code == 400
    for method in ("get", "patch", "delete"):
        assert_envelope(getattr(api, method)("/api/drafts/999999", json={"result": []}), 404,
                        "No AnnotationDraft matches the given query.")
        assert getattr(api, method)("/api/drafts/abc", json={"result": []}).status_code == 404
    # LS: 200 [] for an unknown task's list, 500 for a draft of one; 404 here
    assert api.get("/api/tasks/999999/drafts").json() == []
    assert_envelope(api.post("/api/tasks/999999/drafts", json={"result": []}), 404,
                    "No Task matches the given query.")
    assert api.get("/api/tasks/abc/drafts").status_code == 404


def test_annotation_drafts(api, task_ids):
    task_id = task_ids[0]
    annotation = api.post(f"/api/tasks/{task_id}/annotations",
                          json={"result": choice("Pos")}).json()
    draft = post_draft(api, task_id, {"result": choice("Neg")}, annotation_id=annotation["id"])
    assert (draft["task"], draft["annotation"]) == (task_id, annotation["id"])
    task_draft = post_draft(api, task_id, {"result": [], "annotation": annotation["id"]})
    assert task_draft["annotation"] is None  # the URL says: no annotation
    listed = api.get(f"/api/tasks/{task_id}/annotations/{annotation['id']}/drafts").json()
    assert [d["id"] for d in listed] == [draft["id"], task_draft["id"]]  # the task's, as LS
    # LS: 500 (a foreign key error) for an unknown annotation; 404 here
    assert_envelope(api.post(f"/api/tasks/{task_id}/annotations/999999/drafts",
                             json={"result": []}), 404, "No Annotation matches the given query.")
    # deleting the annotation deletes its drafts, not the task's
    assert api.delete(f"/api/annotations/{annotation['id']}").status_code == 204
    assert api.get(f"/api/drafts/{draft['id']}").status_code == 404
    assert api.get(f"/api/drafts/{task_draft['id']}").status_code == 200


def test_task_shows_the_users_drafts(api, task_ids):
    task_id = task_ids[0]
    draft = post_draft(api, task_id, {"result": choice("Pos")})
    task = api.get(f"/api/tasks/{task_id}/").json()
    assert task["drafts"] == [draft] and task["draft_exists"] is True
    project_id = task["project"]
    listed = api.get("/api/tasks", params={"project": project_id, "fields": "all"}).json()
    first = next(t for t in listed["tasks"] if t["id"] == task_id)
    assert first["drafts"] == [draft] and first["draft_exists"] is True
    other = next(t for t in listed["tasks"] if t["id"] == task_ids[1])
    assert other["drafts"] == [] and other["draft_exists"] is False
    brief = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    assert all(t["drafts"] == [] for t in brief)  # LS: drafts only with fields=all
    found = api.get("/api/tasks", params={"project": project_id, "query": (
        '{"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:draft_exists", '
        '"operator": "equal", "type": "Boolean", "value": true}]}}')}).json()
    assert [t["id"] for t in found["tasks"]] == [task_id]


def test_submitting_from_a_draft_deletes_it(api, task_ids):
    task_id = task_ids[0]
    draft = post_draft(api, task_id, {"result": choice("Pos")})
    annotation = api.post(f"/api/tasks/{task_id}/annotations",
                          json={"result": choice("Pos"), "draft_id": draft["id"]}).json()
    assert annotation["draft_created_at"] == draft["created_at"]
    assert api.get(f"/api/drafts/{draft['id']}").status_code == 404
    # another task's draft (or another user's): LS's 403, and nothing is made
    other = post_draft(api, task_ids[1], {"result": []})
    response = api.post(f"/api/tasks/{task_id}/annotations",
                        json={"result": choice("Neg"), "draft_id": other["id"]})
    assert_envelope(response, 403, f"You have no permission to draft id:{other['id']}")
    assert len(api.get(f"/api/tasks/{task_id}/annotations").json()) == 1
    # an id that names no draft is ignored, as in LS
    assert api.post(f"/api/tasks/{task_id}/annotations",
                    json={"result": [], "draft_id": 999999}).status_code == 201


def test_convert_annotation_to_draft(api, task_ids):
    annotation = api.post(f"/api/tasks/{task_ids[0]}/annotations",
                          json={"result": choice("Pos"), "lead_time": 2}).json()
    response = api.post(f"/api/annotations/{annotation['id']}/convert-to-draft")
    assert response.status_code == 201, response.text
    draft = response.json()
    assert list(draft) == DRAFT_KEYS
    assert (draft["result"], draft["lead_time"], draft["task"], draft["annotation"]) == \
        (choice("Pos"), 2.0, task_ids[0], None)
    assert api.get(f"/api/annotations/{annotation['id']}").status_code == 404
    assert api.get(f"/api/tasks/{task_ids[0]}").json()["total_annotations"] == 0
    assert_envelope(api.post("/api/annotations/999999/convert-to-draft"), 404)


def test_deleting_tasks_and_projects_removes_drafts(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    drafts = [post_draft(api, i, {"result": []})["id"] for i in ids]
    assert api.delete(f"/api/tasks/{ids[0]}").status_code == 204
    assert api.get(f"/api/drafts/{drafts[0]}").status_code == 404
    response = api.post("/api/dm/actions", params={"id": "delete_tasks_annotations",
                                                   "project": project["id"]},
                        json={"selectedItems": {"all": False, "included": [ids[1]]}})
    assert response.status_code == 200  # LS's action deletes the tasks' drafts too
    assert api.get(f"/api/drafts/{drafts[1]}").status_code == 404
    assert api.get(f"/api/drafts/{drafts[2]}").status_code == 200
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert api.get(f"/api/drafts/{drafts[2]}").status_code == 404


def test_drafts_survive_a_restart(make_live):
    server = make_live("drafts")
    project = server.api.project()
    task_id = import_ids(server.api, project["id"], [{"text": "a"}])[0]
    draft = post_draft(server.api, task_id, {"result": choice("Pos"), "was_postponed": True})
    server.close()
    api = make_live("drafts").api  # the same data folder, opened again
    kept = api.get(f"/api/drafts/{draft['id']}").json()
    assert kept == draft
    assert api.get(f"/api/tasks/{task_id}").json()["drafts"] == [kept]
