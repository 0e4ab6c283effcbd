"""Predictions (reference §5.2, §5.3): CRUD, result shortcuts, scores, model versions."""

import orjson
import pytest

from datahelp import PREDICTION_KEYS, assert_envelope, choice, import_ids, non_field_errors

RICH_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Rating name="stars" toName="text"/>
  <Choices name="sentiment" toName="text"><Choice value="Pos"/><Choice value="Neg"/></Choices>
  <Number name="count" toName="text"/>
</View>"""


@pytest.fixture
def task(api):
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"text": "to predict"}])
    return project["id"], task_id


def create(api, body, status=201):
    response = api.post("/api/predictions", json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_create_shape(api, task):
    project_id, task_id = task
    body = create(api, {"task": task_id, "result": choice("Pos"), "score": 0.9,
                        "model_version": "v2"})
    assert list(body) == PREDICTION_KEYS
    assert body["result"] == choice("Pos") and body["score"] == 0.9
    assert body["model_version"] == "v2" and body["task"] == task_id
    assert body["project"] == project_id
    assert (body["cluster"], body["neighbors"], body["mislabeling"]) == (None, None, 0.0)
    assert body["model"] is None and body["model_run"] is None
    assert body["created_ago"] == "0\u00a0minutes"
    assert api.get(f"/api/predictions/{body['id']}").json() == body
    assert api.get(f"/api/tasks/{task_id}").json()["total_predictions"] == 1


def test_model_version_defaults_to_empty(api, task):
    _, task_id = task
    assert create(api, {"task": task_id, "result": []})["model_version"] == ""


@pytest.mark.parametrize("score, stored", [("0.5", 0.5), (1, 1.0), (None, None), (True, 1.0)])
def test_score_coercion(api, task, score, stored):
    # Label Studio 1.23.2's FloatField: a numeric string or a bool is a float
    _, task_id = task
    assert create(api, {"task": task_id, "result": [], "score": score})["score"] == stored


SCORE_ERROR = {"score": ["A valid number is required."]}


@pytest.mark.parametrize("score", ["bad", [1], {}, "nan"])  # LS: 400 (its 500 for "nan")
def test_score_not_a_number_is_400(api, task, score):
    _, task_id = task
    body = create(api, {"task": task_id, "result": [], "score": score}, status=400)
    assert body["validation_errors"] == SCORE_ERROR and body["detail"] == "Validation error"
    prediction = create(api, {"task": task_id, "result": [], "score": 0.5})
    response = api.patch(f"/api/predictions/{prediction['id']}", json={"score": score})
    assert response.status_code == 400 and response.json()["validation_errors"] == SCORE_ERROR
    assert api.get(f"/api/predictions/{prediction['id']}").json()["score"] == 0.5
    assert api.get(f"/api/tasks/{task_id}").json()["total_predictions"] == 1


def test_null_result_is_400(api, task):
    # LS 1.23.2: 400 {"result": ["This field may not be null."]} on create and update
    _, task_id = task
    body = create(api, {"task": task_id, "result": None}, status=400)
    assert body["validation_errors"] == {"result": ["This field may not be null."]}
    prediction = create(api, {"task": task_id, "result": choice("Pos")})
    for method in (api.patch, api.put):
        response = method(f"/api/predictions/{prediction['id']}", json={"result": None})
        assert response.status_code == 400, response.text
        assert response.json()["validation_errors"] == {"result": ["This field may not be null."]}
    assert api.get(f"/api/predictions/{prediction['id']}").json()["result"] == choice("Pos")


def test_result_normalization(api):
    project = api.project(label_config=RICH_CONFIG)
    [task_id] = import_ids(api, project["id"], [{"text": "x"}])
    as_list = create(api, {"task": task_id, "result": choice("Neg")})
    assert as_list["result"] == choice("Neg")
    as_dict = create(api, {"task": task_id, "result": {"choices": ["Pos"]}})
    assert as_dict["result"] == [{"from_name": "sentiment", "to_name": "text",
                                  "type": "choices", "value": {"choices": ["Pos"]}}]
    as_string = create(api, {"task": task_id, "result": "Pos"})
    assert as_string["result"] == [{"from_name": "sentiment", "to_name": "text",
                                    "type": "choices", "value": {"choices": ["Pos"]}}]
    as_json_string = create(api, {"task": task_id, "result": orjson.dumps(choice("Neg"))
                                  .decode()})
    assert as_json_string["result"] == choice("Neg")


def test_plain_string_for_the_default_project(api, task):
    _, task_id = task
    body = create(api, {"task": task_id, "result": "Pos", "score": 0.3})
    assert body["result"] == [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                               "value": {"choices": ["Pos"]}}]


def test_a_bare_value_fits_a_control_of_its_type(api, task):
    """LS's prepare_prediction_result tests the value's type: 5 is no Choices value, so the
    prediction is stored with result null, as LS stores it; "5" is a choice."""
    _, task_id = task
    assert create(api, {"task": task_id, "result": 5})["result"] is None
    assert create(api, {"task": task_id, "result": {"rectanglelabels": 1}})["result"] is None
    assert create(api, {"task": task_id, "result": "5"})["result"][0]["value"] == {
        "choices": ["5"]}
    response = api.post("/api/predictions", json={"task": task_id, "result": 0.5})
    assert "Incorrect format float" in str(assert_envelope(response, 400)["validation_errors"])


@pytest.mark.parametrize("body, field", [
    ({"result": []}, "task"), ({"task": 999999, "result": []}, "task"),
    ({"task": "x", "result": []}, "task"), ({"task": None, "result": []}, "task"),
])
def test_task_errors(api, task, body, field):
    response = api.post("/api/predictions", json=body)
    assert field in assert_envelope(response, 400)["validation_errors"]


def test_missing_task_and_unknown_task_messages(api):
    response = api.post("/api/predictions", json={"result": []})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "task": ["This field is required."]}
    response = api.post("/api/predictions", json={"task": 987654321, "result": []})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "task": ['Invalid pk "987654321" - object does not exist.']}


@pytest.mark.parametrize("result", [{"nothing": 1}, [1], ["x"], True, {"choices": "x",
                                                                     "rating": 1}])
def test_bad_results_never_500(api, task, result):
    _, task_id = task
    response = api.post("/api/predictions", json={"task": task_id, "result": result})
    assert response.status_code in (201, 400), response.text


@pytest.mark.parametrize("body", [[1], "x", None, 5, {"task": 1}])
def test_odd_bodies_are_400(api, task, body):
    response = api.post("/api/predictions", data=orjson.dumps(body),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


def test_list_filters(api):
    project = api.project()
    other = api.project()
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}])
    [other_task] = import_ids(api, other["id"], [{"text": "c"}])
    p1 = create(api, {"task": ids[0], "result": choice("Pos")})["id"]
    p2 = create(api, {"task": ids[1], "result": choice("Neg")})["id"]
    p3 = create(api, {"task": other_task, "result": choice("Neg")})["id"]
    by_task = api.get("/api/predictions", params={"task": ids[0]}).json()
    assert [p["id"] for p in by_task] == [p1]
    by_project = api.get("/api/predictions", params={"project": project["id"]}).json()
    assert [p["id"] for p in by_project] == [p1, p2]
    by_task_project = api.get("/api/predictions", params={"task__project": other["id"]}).json()
    assert [p["id"] for p in by_task_project] == [p3]
    both = api.get("/api/predictions", params={"task": ids[1], "project": project["id"]})
    assert [p["id"] for p in both.json()] == [p2]
    mismatch = api.get("/api/predictions", params={"task": ids[1], "project": other["id"]})
    assert mismatch.json() == []
    everything = api.get("/api/predictions").json()
    assert {p1, p2, p3} <= {p["id"] for p in everything}


def test_update_and_delete(api, task):
    _, task_id = task
    body = create(api, {"task": task_id, "result": choice("Pos"), "score": 0.1})
    patched = api.patch(f"/api/predictions/{body['id']}", json={"score": "0.7",
                                                               "model_version": "v9"})
    assert patched.status_code == 200
    assert patched.json()["score"] == 0.7 and patched.json()["model_version"] == "v9"
    put = api.put(f"/api/predictions/{body['id']}", json={"result": "Neg"})
    assert put.status_code == 200 and put.json()["result"][0]["value"] == {"choices": ["Neg"]}
    assert api.delete(f"/api/predictions/{body['id']}").status_code == 204
    assert_envelope(api.get(f"/api/predictions/{body['id']}"), 404,
                    "No Prediction matches the given query.")
    assert api.delete(f"/api/predictions/{body['id']}").status_code == 404
    assert api.get(f"/api/tasks/{task_id}").json()["total_predictions"] == 0


def test_model_versions_endpoint(api, task):
    project_id, task_id = task
    for version in ("a", "a", "b"):
        create(api, {"task": task_id, "result": [], "model_version": version})
    response = api.get(f"/api/projects/{project_id}/model-versions")
    assert response.status_code == 200
    assert response.json() == {"a": 2, "b": 1}
    assert api.get("/api/projects/999999/model-versions").status_code == 404


def test_model_versions_extended_as_label_studio(api, task):
    """The settings' Predictions tab reads ?extended=true: Label Studio 1.23.2 answers
    {"static": [{model_version, count, latest}, ...] newest first, "live": null or the project's
    ML backends} (a bare {} broke the tab: "Cannot read properties of undefined")."""
    project_id, task_id = task
    url = f"/api/projects/{project_id}/model-versions"
    assert api.get(url, params={"extended": "true"}).json() == {"static": [], "live": None}
    for version in ("a", "a", "b"):
        create(api, {"task": task_id, "result": [], "model_version": version})
    answer = api.get(url, params={"extended": "true"})
    assert answer.status_code == 200
    static = answer.json()["static"]
    assert [(v["model_version"], v["count"]) for v in static] == [("b", 1), ("a", 2)]
    assert all(set(v) == {"model_version", "count", "latest"} for v in static)
    assert static[0]["latest"] >= static[1]["latest"]
    both = api.get(url, params={"extended": "1", "include_live_models": "true"}).json()
    assert both == {"static": static, "live": []}  # no ML backend connected
    assert list(api.get(url, params={"limit": 1}).json().items()) == [("b", 1)]
    assert api.get(url, params={"extended": "false"}).json() == {"a": 2, "b": 1}
    bad = api.get(url, params={"extended": "maybe"})
    assert bad.status_code == 400 and "extended" in bad.json()["validation_errors"]


def test_project_adopts_model_version_from_predictions_import(api, task):
    project_id, task_id = task
    assert api.get(f"/api/projects/{project_id}").json()["model_version"] == ""
    response = api.post(f"/api/projects/{project_id}/import/predictions", json=[
        {"task": task_id, "result": choice("Pos"), "model_version": "imported-v1"}])
    assert response.status_code == 201 and response.json() == {"created": 1}
    assert api.get(f"/api/projects/{project_id}").json()["model_version"] == "imported-v1"
    # an existing model version is kept
    api.post(f"/api/projects/{project_id}/import/predictions", json=[
        {"task": task_id, "result": choice("Neg"), "model_version": "other"}])
    assert api.get(f"/api/projects/{project_id}").json()["model_version"] == "imported-v1"


def test_import_predictions_for_a_task_of_another_project_is_400(api, task):
    project_id, _ = task
    other = api.project()
    [foreign] = import_ids(api, other["id"], [{"text": "y"}])
    response = api.post(f"/api/projects/{project_id}/import/predictions",
                        json=[{"task": foreign, "result": []}])
    title = api.get(f"/api/projects/{project_id}").json()["title"]
    assert non_field_errors(response) == [  # LS's words
        f"{{'task': {foreign}, 'result': []}} contains invalid \"task\" field: corresponding "
        f"task ID couldn't be retrieved from project {title} (id={project_id}) tasks"]
    assert api.get("/api/predictions", params={"task": foreign}).json() == []


@pytest.mark.parametrize("score", ["bad", [1], {}])
def test_import_predictions_with_a_score_not_a_number_is_400(api, task, score):
    # LS 1.23.2 drops such a prediction (201 {"created": 0}); with its prediction validation
    # on it refuses the batch with this message. LabelDesk refuses it: nothing is stored.
    project_id, task_id = task
    response = api.post(f"/api/projects/{project_id}/import/predictions", json=[
        {"task": task_id, "result": [], "score": 0.5},
        {"task": task_id, "result": [], "score": score}])
    assert response.status_code == 400, response.text
    assert response.json()["validation_errors"] == {"non_field_errors": [
        f"Prediction 1: Score must be a valid number, got {score}"]}
    assert api.get("/api/predictions", params={"task": task_id}).json() == []
    ok = api.post(f"/api/projects/{project_id}/import/predictions", json=[
        {"task": task_id, "result": [], "score": "0.7"}, {"task": task_id, "result": [],
                                                          "score": True}])
    assert ok.status_code == 201 and ok.json() == {"created": 2}
    scores = [p["score"] for p in api.get("/api/predictions", params={"task": task_id}).json()]
    assert scores == [0.7, 1.0]
