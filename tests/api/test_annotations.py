"""Annotations (reference §5.1): CRUD, shapes, skips, ground truth, task bookkeeping."""

import uuid

import orjson
import pytest

from datahelp import ANNOTATION_KEYS, assert_envelope, choice, import_ids


@pytest.fixture
def task(api):
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"text": "to label"}])
    return project["id"], task_id


def create(api, task_id, body, status=201, **params):
    response = api.post(f"/api/tasks/{task_id}/annotations", json=body, params=params)
    assert response.status_code == status, response.text
    return response.json()


def test_create_shape(api, task):
    project_id, task_id = task
    body = create(api, task_id, {"result": choice("Neg"), "lead_time": 3.5})
    assert list(body) == ANNOTATION_KEYS
    assert body["result"] == choice("Neg")
    assert body["task"] == task_id and body["project"] == project_id
    assert body["completed_by"] == 1 and body["updated_by"] == 1
    assert body["was_cancelled"] is False and body["ground_truth"] is False
    assert body["lead_time"] == 3.5 and body["bulk_created"] is False
    assert body["created_ago"] == "0\u00a0minutes"
    assert body["created_username"].endswith(", 1")
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    for key in ("draft_created_at", "import_id", "last_action", "parent_prediction",
                "parent_annotation", "last_created_by"):
        assert body[key] is None
    assert api.get(f"/api/annotations/{body['id']}").json() == body


def test_result_is_optional(api, task):
    _, task_id = task
    body = create(api, task_id, {})
    assert body["result"] is None
    shown = api.get(f"/api/tasks/{task_id}").json()
    assert shown["total_annotations"] == 1


def test_result_given_as_a_json_string_is_parsed(api, task):
    _, task_id = task
    body = create(api, task_id, {"result": orjson.dumps(choice("Pos")).decode()})
    assert body["result"] == choice("Pos")


@pytest.mark.parametrize("result", ["not json", "{broken", "[1, 2]", "5", '{"a": 1}', 5,
                                    {"a": 1}, [1], ["x"], True])
def test_bad_results_are_400_not_500(api, task, result):
    _, task_id = task
    response = api.post(f"/api/tasks/{task_id}/annotations", json={"result": result})
    body = assert_envelope(response, 400)
    assert "result" in body["validation_errors"]
    assert api.get(f"/api/tasks/{task_id}/annotations").json() == []


def test_non_json_string_message(api, task):
    _, task_id = task
    response = api.post(f"/api/tasks/{task_id}/annotations", json={"result": "nope"})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "result": ['annotation "result" can\'t be parse from str to JSON']}


def test_was_cancelled_query_marks_a_skip(api, task):
    _, task_id = task
    body = create(api, task_id, {"result": []}, was_cancelled="1")
    assert body["was_cancelled"] is True
    shown = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
    assert shown["completed_at"] is None  # only labeled tasks are completed
    assert shown["cancelled_annotations"] == 1 and shown["total_annotations"] == 0
    assert shown["is_labeled"] is False


def test_was_cancelled_in_body(api, task):
    _, task_id = task
    assert create(api, task_id, {"was_cancelled": True})["was_cancelled"] is True


def test_ground_truth_unsets_other_ground_truth(api, task):
    _, task_id = task
    first = create(api, task_id, {"result": choice("Pos"), "ground_truth": True})
    second = create(api, task_id, {"result": choice("Neg"), "ground_truth": True})
    assert api.get(f"/api/annotations/{first['id']}").json()["ground_truth"] is False
    assert api.get(f"/api/annotations/{second['id']}").json()["ground_truth"] is True
    api.patch(f"/api/annotations/{first['id']}", json={"ground_truth": True})
    assert api.get(f"/api/annotations/{second['id']}").json()["ground_truth"] is False
    project = api.get(f"/api/projects/{api.get(f'/api/tasks/{task_id}').json()['project']}")
    assert project.json()["ground_truth_number"] == 1


def test_completed_by_validation(api, task):
    _, task_id = task
    assert create(api, task_id, {"result": [], "completed_by": 1})["completed_by"] == 1
    for bad in (999999, "x", None, True, [1]):
        response = api.post(f"/api/tasks/{task_id}/annotations",
                            json={"result": [], "completed_by": bad})
        body = assert_envelope(response, 400)
        assert "completed_by" in body["validation_errors"]


@pytest.mark.parametrize("body", [{"lead_time": "fast"}, {"was_cancelled": "maybe"},
                                  {"ground_truth": [1]}, {"last_action": "nope"}, [1], "x",
                                  {"lead_time": {"a": 1}}])
def test_bad_fields_are_400(api, task, body):
    _, task_id = task
    response = api.post(f"/api/tasks/{task_id}/annotations", data=orjson.dumps(body),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


def test_unknown_task_is_404(api):
    response = api.post("/api/tasks/999999/annotations", json={"result": []})
    assert_envelope(response, 404, "No Task matches the given query.")
    assert api.get("/api/tasks/999999/annotations").status_code == 404


def test_list_is_a_bare_list_in_id_order(api, task):
    _, task_id = task
    ids = [create(api, task_id, {"result": choice(v)})["id"] for v in ("Pos", "Neg", "Pos")]
    listed = api.get(f"/api/tasks/{task_id}/annotations").json()
    assert [a["id"] for a in listed] == ids
    assert all(list(a) == ANNOTATION_KEYS for a in listed)


def test_patch_updates_fields_and_bumps_updated_at(api, task):
    _, task_id = task
    body = create(api, task_id, {"result": choice("Pos")})
    response = api.patch(f"/api/annotations/{body['id']}", json={
        "result": choice("Neg"), "lead_time": 7, "last_action": "updated"})
    assert response.status_code == 200
    patched = response.json()
    assert list(patched) == ANNOTATION_KEYS
    assert patched["result"] == choice("Neg") and patched["lead_time"] == 7
    assert patched["last_action"] == "updated"
    assert patched["updated_at"] >= body["updated_at"]
    assert patched["created_at"] == body["created_at"]
    bad = api.patch(f"/api/annotations/{body['id']}", json={"result": "nope"})
    assert bad.status_code == 400
    assert api.get(f"/api/annotations/{body['id']}").json()["result"] == choice("Neg")


def test_delete_then_404(api, task):
    _, task_id = task
    body = create(api, task_id, {"result": choice("Pos")})
    assert api.delete(f"/api/annotations/{body['id']}").status_code == 204
    assert_envelope(api.get(f"/api/annotations/{body['id']}"), 404,
                    "No Annotation matches the given query.")
    assert api.delete(f"/api/annotations/{body['id']}").status_code == 404
    assert api.patch(f"/api/annotations/{body['id']}", json={}).status_code == 404


@pytest.mark.parametrize("path", ["/api/annotations/x", "/api/annotations/0",
                                  "/api/annotations/-3"])
def test_odd_annotation_ids_are_404(api, path):
    assert api.get(path).status_code == 404


def other_user(api):
    response = api.post("/api/users", json={"email": f"helper-{uuid.uuid4().hex[:8]}@x.org"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_task_bookkeeping(api):
    project = api.project(maximum_annotations=2)
    [task_id] = import_ids(api, project["id"], [{"text": "x"}])
    first = create(api, task_id, {"result": choice("Pos"), "lead_time": 2})
    shown = api.get(f"/api/tasks/{task_id}").json()
    assert shown["is_labeled"] is False and shown["overlap"] == 2
    # Label Studio counts distinct annotators: a second annotation by the same user is not
    # enough for an overlap of 2
    create(api, task_id, {"result": choice("Neg"), "lead_time": 3})
    assert api.get(f"/api/tasks/{task_id}").json()["is_labeled"] is False
    helper = other_user(api)
    second = create(api, task_id, {"result": choice("Neg"), "lead_time": 4,
                                   "completed_by": helper})
    create(api, task_id, {}, was_cancelled="true")
    shown = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
    assert shown["is_labeled"] is True
    assert shown["total_annotations"] == 3 and shown["cancelled_annotations"] == 1
    assert shown["avg_lead_time"] == 3
    assert shown["completed_at"] == max(a["created_at"] for a in shown["annotations"])
    assert shown["annotators"] == sorted([1, helper])
    ids = [a["id"] for a in shown["annotations"]]
    assert shown["annotations_ids"].replace(" ", "") == ",".join(map(str, ids))
    api.patch(f"/api/annotations/{second['id']}", json={"was_cancelled": True})
    assert api.get(f"/api/tasks/{task_id}").json()["is_labeled"] is False
    api.delete(f"/api/annotations/{first['id']}")
    shown = api.get(f"/api/tasks/{task_id}").json()
    assert (shown["total_annotations"], shown["cancelled_annotations"]) == (1, 2)


def test_annotation_without_result_does_not_label_the_task(api, task):
    _, task_id = task
    create(api, task_id, {})
    shown = api.get(f"/api/tasks/{task_id}").json()
    assert shown["total_annotations"] == 1 and shown["is_labeled"] is False


def test_ignore_skipped_counts_skips_as_labels(api):
    project = api.project(skip_queue="IGNORE_SKIPPED")
    [task_id] = import_ids(api, project["id"], [{"text": "x"}])
    create(api, task_id, {}, was_cancelled=1)
    assert api.get(f"/api/tasks/{task_id}").json()["is_labeled"] is True


def test_who_updated_a_task_and_imported_annotations_as_label_studio(api):
    """LS: saving or deleting an annotation or prediction through the API marks its task
    updated by the user; a task PATCH does not; imported annotations (created in bulk, without
    save()) have no updated_by or last_action and result_count 0, but a unique_id."""
    project = api.project()
    plain, imported = import_ids(api, project["id"], [
        {"text": "a"}, {"data": {"text": "b"}, "annotations": [{"result": choice("Pos")}]}])
    assert api.patch(f"/api/tasks/{plain}", json={"meta": {"x": 1}}).json()["updated_by"] is None
    assert api.get(f"/api/tasks/{plain}").json()["updated_by"] == []
    api.post(f"/api/tasks/{plain}/annotations", json={"result": choice("Neg")})
    assert api.get(f"/api/tasks/{plain}").json()["updated_by"] == [{"user_id": 1}]
    api.post("/api/predictions", json={"task": imported, "result": choice("Neg")})
    assert api.get(f"/api/tasks/{imported}").json()["updated_by"] == [{"user_id": 1}]

    exported = api.get(f"/api/projects/{project['id']}/export",
                       params={"exportType": "JSON"}).json()
    by_id = {t["id"]: t for t in exported}
    assert by_id[plain]["updated_by"] == 1
    bulk = by_id[imported]["annotations"][0]
    assert bulk["last_action"] is None and bulk["updated_by"] is None
    assert bulk["result_count"] == 0 and uuid.UUID(bulk["unique_id"])
    made = by_id[plain]["annotations"][0]
    assert made["result_count"] == 1 and made["updated_by"] == 1


def test_lead_time_is_a_float_as_label_studios(api):
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"text": "a"}])
    made = api.post(f"/api/tasks/{task_id}/annotations",
                    json={"result": choice("Pos"), "lead_time": 7}).json()
    assert made["lead_time"] == 7.0 and isinstance(made["lead_time"], float)
    exported = api.get(f"/api/projects/{project['id']}/export",
                       params={"exportType": "CSV"}).text
    assert ",7.0," in exported
