"""Tasks (reference §4.1-§4.3, §4.5, §4.6): the data-manager list, single tasks, a project's
tasks, and the label stream."""

import orjson
import pytest

from datahelp import (
    BASE_TASK_KEYS,
    TASK_FULL_KEYS,
    TASK_ONLY_KEYS,
    assert_envelope,
    choice,
    import_ids,
    import_tasks,
    non_field_errors,
    task_count,
)


def dm(api, project_id, status=200, query=None, **params):
    if query is not None:
        params["query"] = orjson.dumps(query).decode()
    response = api.get("/api/tasks", params={"project": project_id, **params})
    assert response.status_code == status, response.text
    return response.json()


def ids_of(body):
    return [t["id"] for t in body["tasks"]]


def flt(column, operator, kind, value, conjunction="and"):
    return {"filters": {"conjunction": conjunction, "items": [
        {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind,
         "value": value}]}}


# -- GET /api/tasks paging -------------------------------------------------------------------

def test_paging_and_404_past_the_end(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": f"t{i}"} for i in range(25)])
    first = dm(api, project["id"], page=1, page_size=10)
    assert list(first) == ["total_annotations", "total_predictions", "total", "tasks"]
    assert first["total"] == 25 and ids_of(first) == ids[:10]
    assert ids_of(dm(api, project["id"], page=3, page_size=10)) == ids[20:]
    past = api.get("/api/tasks", params={"project": project["id"], "page": 4, "page_size": 10})
    assert_envelope(past, 404, "Invalid page.")
    assert len(dm(api, project["id"])["tasks"]) == 25  # default page size 100


def test_page_one_of_an_empty_project_is_200(api):
    project = api.project()
    assert dm(api, project["id"]) == {"total_annotations": 0, "total_predictions": 0,
                                      "total": 0, "tasks": []}
    assert_envelope(api.get("/api/tasks", params={"project": project["id"], "page": 2}), 404,
                    "Invalid page.")


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"page": "-1"},
                                    {"page_size": "x"}, {"page_size": "0"},
                                    {"page_size": "-5"}])
def test_odd_paging_params_never_500(api, params):
    project = api.project()
    import_tasks(api, project["id"], [{"text": "a"}])
    response = api.get("/api/tasks", params={"project": project["id"], **params})
    assert response.status_code in (200, 400, 404), response.text


def test_bad_page_size_is_the_default_and_a_bad_project_ls_words(api):
    """DRF: a page_size that isn't a number is the default size; LS's int_from_request: a
    project that isn't one is a 400 whose message is a string."""
    project = api.project()
    import_tasks(api, project["id"], [{"text": "a"}, {"text": "b"}])
    assert len(dm(api, project["id"], page_size="lots")["tasks"]) == 2
    response = api.get("/api/tasks", params={"project": "abc"})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "project": 'Incorrect value in key "project" = "abc". It should be digit string.'}


# One route serves both APIs (docs/legacy-api.md): GET /api/tasks/{id} without 1.x parameters
# is the exact 1.x task plus 0.x's two keys, which SDK 2.x and the legacy Client ignore.
LEGACY_KEYS = ["completions", "has_cancelled_completions"]


def test_single_task_is_the_1x_shape_plus_the_legacy_keys(api):
    """SDK 2.x tasks.get and the legacy Client's get_task send no query parameters."""
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"data": {"text": "a"}, "annotations": [
        {"result": choice("Pos")}]}])
    single = api.get(f"/api/tasks/{task_id}").json()
    assert list(single) == TASK_FULL_KEYS + LEGACY_KEYS
    assert single["completed_at"] == single["annotations"][0]["created_at"]
    exact = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
    assert list(exact) == TASK_FULL_KEYS


def test_single_task_for_a_1x_client_is_exactly_label_studios(api):
    """Issue 19: 1.x URLs end in "/" (SDK 2.x's too) and SDK 2.x sends X-Fern-SDK-Name; those
    get LS's exact task, whose annotations carry completed_by as the user object (LS 1.23.2:
    {id, first_name, last_name, avatar, email, initials}; the list and PATCH keep the id)."""
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"data": {"text": "a"}, "annotations": [
        {"result": choice("Pos")}]}])
    me = api.get("/api/current-user/whoami").json()
    user = {"id": me["id"], "first_name": me["first_name"], "last_name": me["last_name"],
            "avatar": None, "email": me["email"], "initials": me["initials"]}
    for answer in (api.get(f"/api/tasks/{task_id}/"),
                   api.get(f"/api/tasks/{task_id}", headers={"X-Fern-SDK-Name": "x"}),
                   api.get(f"/api/tasks/{task_id}", params={"project": project["id"]})):
        body = answer.json()
        assert list(body) == TASK_FULL_KEYS
        assert body["annotations"][0]["completed_by"] == user
    assert api.get(f"/api/tasks/{task_id}").json()["annotations"][0]["completed_by"] == user
    listed = dm(api, project["id"], fields="all")["tasks"][0]["annotations"][0]
    assert listed["completed_by"] == me["id"]
    patched = api.patch(f"/api/tasks/{task_id}", json={"meta": {}}).json()
    assert patched["annotations"][0]["completed_by"] == me["id"]


def test_missing_project_is_the_legacy_task_list(api):
    """Without project/view, /api/tasks is 0.8's list of the current project (issue 5)."""
    response = api.get("/api/tasks")
    assert response.status_code == 200
    assert isinstance(response.json(), list)


@pytest.mark.parametrize("path, headers", [("/api/tasks/", {}),
                                           ("/api/tasks", {"X-Fern-SDK-Name": "x"})])
def test_missing_project_is_404_for_a_1x_client(api, path, headers):
    """Issue 19: LS 1.23.2 answers 404 {"detail": "Neither project nor view id specified"}
    (no envelope); a 1.x client (a "/" at the end, or SDK 2.x's header) gets that."""
    response = api.get(path, headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Neither project nor view id specified"}


def test_unknown_project_is_404_envelope(api):
    assert_envelope(api.get("/api/tasks", params={"project": 999999}), 404)


@pytest.mark.parametrize("params", [{"project": "abc"}, {"view": "abc"}, {"view": "999999"},
                                    {"project": "1", "query": "{not json"},
                                    {"project": "1", "query": "[1]"},
                                    {"project": "1", "only_annotated": "maybe"}])
def test_bad_list_params_never_500(api, params):
    api.project()
    response = api.get("/api/tasks", params=params)
    assert response.status_code in (400, 404), response.text


# -- fields / include ------------------------------------------------------------------------

def test_fields_all_vs_task_only_key_sets(api):
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"data": {"text": "a"}, "annotations": [
        {"result": choice("Pos")}], "predictions": [{"result": choice("Neg"), "score": 0.5}]}])
    full = dm(api, project["id"], fields="all")["tasks"][0]
    assert list(full) == TASK_FULL_KEYS
    plain = dm(api, project["id"])["tasks"][0]
    assert list(plain) == TASK_ONLY_KEYS
    single = api.get(f"/api/tasks/{task_id}", params={"fields": "all"}).json()
    assert list(single) == TASK_FULL_KEYS
    assert single["annotators"] == [1] and single["annotations_ids"] == str(
        single["annotations"][0]["id"])
    assert single["predictions_score"] == 0.5
    assert single["predictions_model_versions"] == "undefined"
    # LS's TaskAPI leaves these two out of its query: blank (the list has them)
    assert single["annotations_results"] == single["predictions_results"] == ""
    assert full["annotations_results"].startswith("[{") and '"' not in full["annotations_results"]
    assert single["completed_at"] == single["annotations"][0]["created_at"]
    assert single["drafts"] == [] and single["comment_authors"] == []
    assert single["updated_by"] == []


def test_task_only_leaves_the_computed_columns_blank(api):
    """LS computes annotators, *_results, annotations_ids, predictions_model_versions and
    file_upload in its query only for fields=all or when a filter or the ordering uses them."""
    project = api.project()
    import_ids(api, project["id"], [{"data": {"text": "a"}, "annotations": [
        {"result": choice("Pos")}, {"result": choice("Neg")}],
        "predictions": [{"result": choice("Neg"), "score": 0.5, "model_version": "v1"},
                        {"result": choice("Pos"), "score": 0.9, "model_version": "v2"}]}])
    plain = dm(api, project["id"])["tasks"][0]
    assert plain["annotators"] == [] and plain["annotations_ids"] == ""
    assert plain["annotations_results"] == plain["predictions_results"] == ""
    assert plain["predictions_model_versions"] == "" and plain["file_upload"] is None
    ordered = dm(api, project["id"], query={"ordering": ["-tasks:annotators"]})["tasks"][0]
    assert ordered["annotators"] == [1] and ordered["annotations_results"] == ""
    full = dm(api, project["id"], fields="all")["tasks"][0]
    # each annotation's result as json.dumps writes it, joined, without quotes (LS on SQLite)
    one = "[{from_name: sentiment, to_name: text, type: choices, value: {choices: [%s]}}]"
    assert full["annotations_results"] == ",".join([one % "Pos", one % "Neg"]).replace(
        "],[", "] [")
    assert full["annotations_ids"].count(",") == 1 and " " not in full["annotations_ids"]
    assert sorted(full["predictions_model_versions"].split(",")) == ["v1", "v2"]
    # LS: the average over the predictions of the project's model version (the last imported)
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] == "v2"
    assert full["predictions_score"] == 0.9


def test_include_limits_keys(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}])
    assert dm(api, project["id"], include="id")["tasks"] == [{"id": i} for i in ids]
    assert dm(api, project["id"], include="id,data")["tasks"] == [
        {"id": ids[0], "data": {"text": "a"}}, {"id": ids[1], "data": {"text": "b"}}]
    annotation = api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": []}).json()
    # LS applies `include` to the annotations as well: here, only their id
    listed = dm(api, project["id"], fields="all", include="id,annotations")["tasks"]
    assert listed[0] == {"id": ids[0], "annotations": [{"id": annotation["id"]}]}


# -- filters, ordering, selected items -------------------------------------------------------

@pytest.fixture
def scored(api):
    """Five tasks: texts, numbers, annotations and predictions to filter on."""
    project = api.project()
    ids = import_ids(api, project["id"], [
        {"data": {"text": "apple pie", "n": 5}},
        {"data": {"text": "banana split", "n": 1}, "annotations": [{"result": choice("Pos")}]},
        {"data": {"text": "cherry tart", "n": 3}, "annotations": [
            {"result": choice("Neg")}, {"result": choice("Pos")}]},
        {"data": {"text": "apple crumble", "n": 4},
         "predictions": [{"result": choice("Pos"), "score": 0.9}]},
        {"data": {"text": "date", "n": 2}}])
    return project["id"], ids


@pytest.mark.parametrize("query, picks", [
    (flt("data.text", "contains", "String", "apple"), [0, 3]),
    (flt("data.text", "contains", "String", "APPLE"), [0, 3]),
    (flt("data.text", "not_contains", "String", "apple"), [1, 2, 4]),
    (flt("data.text", "equal", "String", "date"), [4]),
    (flt("data.text", "starts_with", "String", "ban"), [1]),
    (flt("data.text", "ends_with", "String", "tart"), [2]),
    (flt("data.n", "greater", "Number", 3), [0, 3]),
    (flt("data.n", "less_or_equal", "Number", 2), [1, 4]),
    (flt("data.n", "in", "Number", {"min": 2, "max": 4}), [2, 3, 4]),
    (flt("data.n", "not_in", "Number", {"min": 2, "max": 4}), [0, 1]),
    (flt("total_annotations", "greater", "Number", 0), [1, 2]),
    (flt("total_annotations", "equal", "Number", 2), [2]),
    (flt("total_predictions", "greater_or_equal", "Number", 1), [3]),
    (flt("annotations_results", "contains", "String", "Neg"), [2]),
    (flt("data.missing", "exists", "Unknown", None), []),
    (flt("data.text", "not_exists", "Unknown", None), []),
])
def test_filters(api, scored, query, picks):
    project_id, ids = scored
    assert ids_of(dm(api, project_id, query=query)) == [ids[i] for i in picks]


def test_filter_conjunction_or_and(api, scored):
    project_id, ids = scored
    items = [{"filter": "filter:tasks:data.n", "operator": "equal", "type": "Number",
              "value": 5},
             {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String",
              "value": "cherry"}]
    either = dm(api, project_id, query={"filters": {"conjunction": "or", "items": items}})
    assert ids_of(either) == [ids[0], ids[2]]
    both = dm(api, project_id, query={"filters": {"conjunction": "and", "items": items}})
    assert ids_of(both) == []


def test_filtered_totals_count_only_the_filtered_tasks(api, scored):
    project_id, ids = scored
    body = dm(api, project_id, query=flt("total_annotations", "greater", "Number", 1))
    assert (body["total"], body["total_annotations"], body["total_predictions"]) == (1, 2, 0)
    whole = dm(api, project_id)
    assert (whole["total"], whole["total_annotations"], whole["total_predictions"]) == (5, 3, 1)


def test_orm_lookup_in_filter_is_400(api, scored):
    project_id, _ = scored
    response = api.get("/api/tasks", params={"project": project_id, "query": orjson.dumps(
        flt("annotations__result", "contains", "String", "x")).decode()})
    assert response.status_code == 400


@pytest.mark.parametrize("ordering, expected", [
    ("tasks:id", [0, 1, 2, 3, 4]),
    ("-tasks:id", [4, 3, 2, 1, 0]),
    ("-tasks:total_annotations", [2, 1, None, None, None]),
    ("tasks:data.text", [3, 0, 1, 2, 4]),
    ("-tasks:data.n", [0, 3, 2, 4, 1]),
])
def test_ordering(api, scored, ordering, expected):
    project_id, ids = scored
    got = ids_of(dm(api, project_id, query={"ordering": [ordering]}))
    for position, index in enumerate(expected):
        if index is not None:
            assert got[position] == ids[index], (ordering, got)
    assert sorted(got) == sorted(ids)


def test_ordering_by_total_annotations_ascending(api, scored):
    project_id, ids = scored
    got = ids_of(dm(api, project_id, query={"ordering": ["tasks:total_annotations"]}))
    assert got[-2:] == [ids[1], ids[2]]


def test_ordering_by_completed_at(api, scored):
    project_id, ids = scored
    # annotate task 4 now: it becomes the latest completed
    api.post(f"/api/tasks/{ids[4]}/annotations", json={"result": choice("Pos")})
    got = ids_of(dm(api, project_id, query={"ordering": ["-tasks:completed_at"]}))
    assert got[0] == ids[4]
    assert set(got[:3]) == {ids[1], ids[2], ids[4]}
    got = ids_of(dm(api, project_id, query={"ordering": ["tasks:completed_at"]}))
    assert set(got) == set(ids)


def test_selected_items(api, scored):
    project_id, ids = scored
    included = dm(api, project_id, query={"selectedItems": {"all": False,
                                                            "included": [ids[1], ids[3]]}})
    assert ids_of(included) == [ids[1], ids[3]]
    excluded = dm(api, project_id, query={"filters": None, "ordering": [], "selectedItems": {
        "all": True, "excluded": [ids[0]]}})
    assert ids_of(excluded) == ids[1:]


def test_only_annotated(api, scored):
    project_id, ids = scored
    assert ids_of(dm(api, project_id, only_annotated="true")) == [ids[1], ids[2]]


def test_view_applies_its_filters(api, scored):
    project_id, ids = scored
    view = api.post("/api/dm/views", json={"project": project_id, "data": {
        **flt("data.text", "contains", "String", "apple"), "ordering": ["-tasks:id"]}}).json()
    body = api.get("/api/tasks", params={"view": view["id"]}).json()
    assert ids_of(body) == [ids[3], ids[0]]
    body = api.get("/api/tasks", params={"view": view["id"], "project": project_id}).json()
    assert body["total"] == 2


# -- single tasks ---------------------------------------------------------------------------

def test_create_task_base_shape(api):
    project = api.project()
    response = api.post("/api/tasks", json={"project": project["id"], "data": {"text": "new"},
                                            "meta": {"m": 1}})
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == BASE_TASK_KEYS
    assert body["data"] == {"text": "new"} and body["meta"] == {"m": 1}
    assert body["project"] == project["id"] and body["inner_id"] == 1
    assert body["is_labeled"] is False and body["overlap"] == 1
    assert body["total_annotations"] == 0 and body["file_upload"] is None
    second = api.post("/api/tasks/", json={"project": project["id"], "data": {"text": "2"}})
    assert second.json()["inner_id"] == 2
    # LS: a task made one by one has the model's overlap 1, whatever maximum_annotations says
    api.patch(f"/api/projects/{project['id']}", json={"maximum_annotations": 2})
    third = api.post("/api/tasks/", json={"project": project["id"], "data": {"text": "3"}})
    assert third.json()["overlap"] == 1


def test_create_task_errors(api):
    project = api.project()
    response = api.post("/api/tasks", json={"data": {"text": "x"}})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "project": ["This field is required."]}
    response = api.post("/api/tasks", json={"project": project["id"], "data": {"foo": "x"}})
    assert non_field_errors(response) == [
        '"text" key is expected in task data [assume: item["data"] = task root with values]']
    # LS's TaskSerializer / TaskValidator words for a missing, null or non-object `data`
    for body, errors in [({}, {"data": ["This field is required."]}),
                         ({"data": None}, {"data": ["This field may not be null."]}),
                         ({"data": "text"},
                          {"non_field_errors": ["Task[data] must be dict or list"]})]:
        response = api.post("/api/tasks", json={"project": project["id"], **body})
        assert assert_envelope(response, 400)["validation_errors"] == errors
    assert task_count(api, project["id"]) == 0


@pytest.mark.parametrize("project, detail", [(999999, "No Project matches the given query."),
                                             (-1, "No Project matches the given query."),
                                             ("x", "Not found."), ([1], "Not found.")])
def test_create_task_in_an_unknown_project_is_404(api, project, detail):
    """Issue 19: LS 1.23.2 answers 404 here (0 and a bool or object are a 400)."""
    response = api.post("/api/tasks", json={"project": project, "data": {"text": "x"}})
    assert_envelope(response, 404, detail)
    for odd, kind in ((True, "bool"), ({}, "dict")):
        response = api.post("/api/tasks", json={"project": odd, "data": {"text": "x"}})
        assert assert_envelope(response, 400)["validation_errors"] == {
            "project": [f"Incorrect type. Expected pk value, received {kind}."]}
    response = api.post("/api/tasks", json={"project": 0, "data": {"text": "x"}})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "project": ['Invalid pk "0" - object does not exist.']}


@pytest.mark.parametrize("body", [{"project": 1, "data": "text"}, {"project": 1},
                                  {"project": 1, "data": {"text": "x"}, "meta": "m"},
                                  [1], "x", None])
def test_create_task_bad_bodies_are_400(api, body):
    api.project()
    response = api.post("/api/tasks", data=orjson.dumps(body),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


def test_get_patch_delete_task(api):
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"text": "before"}])
    assert api.get(f"/api/tasks/{task_id}").json()["data"] == {"text": "before"}
    response = api.patch(f"/api/tasks/{task_id}", json={"data": {"text": "after"},
                                                        "meta": {"k": "v"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == BASE_TASK_KEYS + ["annotations", "predictions"]
    assert body["data"] == {"text": "after"} and body["meta"] == {"k": "v"}
    assert body["annotations"] == [] and body["predictions"] == []
    # Issue 19: LS 1.23.2 saves data without the config's key (only its type is checked)
    odd = api.patch(f"/api/tasks/{task_id}", json={"data": {"nope": 1}})
    assert odd.status_code == 200 and odd.json()["data"] == {"nope": 1}
    assert api.get(f"/api/tasks/{task_id}").json()["data"] == {"nope": 1}
    assert api.patch(f"/api/tasks/{task_id}", json={"data": [1]}).status_code == 400
    assert api.delete(f"/api/tasks/{task_id}").status_code == 204
    assert_envelope(api.get(f"/api/tasks/{task_id}"), 404, "No Task matches the given query.")
    assert api.delete(f"/api/tasks/{task_id}").status_code == 404
    assert api.patch(f"/api/tasks/{task_id}", json={"data": {}}).status_code == 404


@pytest.mark.parametrize("path", ["/api/tasks/abc", "/api/tasks/0", "/api/tasks/-1",
                                  "/api/tasks/99999999999999999999"])
def test_odd_task_ids_are_404(api, path):
    assert api.get(path).status_code == 404


def test_delete_task_removes_its_annotations_and_predictions(api):
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"data": {"text": "a"}, "annotations": [
        {"result": choice("Pos")}], "predictions": [{"result": choice("Neg")}]}])
    annotation_id = api.get(f"/api/tasks/{task_id}/annotations").json()[0]["id"]
    api.delete(f"/api/tasks/{task_id}")
    assert api.get(f"/api/annotations/{annotation_id}").status_code == 404
    assert api.get("/api/predictions", params={"task": task_id}).json() == []
    counts = api.get(f"/api/projects/{project['id']}").json()
    assert counts["total_annotations_number"] == 0 and counts["total_predictions_number"] == 0


# -- /api/projects/{id}/tasks ---------------------------------------------------------------

def test_project_tasks_bare_list_and_paging(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": f"t{i}"} for i in range(5)])
    body = api.get(f"/api/projects/{project['id']}/tasks").json()
    assert isinstance(body, list) and sorted(t["id"] for t in body) == ids
    assert list(body[0]) == BASE_TASK_KEYS + ["annotations", "predictions"]
    page = api.get(f"/api/projects/{project['id']}/tasks", params={"page": 2, "page_size": 2})
    assert page.status_code == 200 and len(page.json()) == 2
    last = api.get(f"/api/projects/{project['id']}/tasks", params={"page": 3, "page_size": 2})
    assert len(last.json()) == 1
    past = api.get(f"/api/projects/{project['id']}/tasks", params={"page": 4, "page_size": 2})
    assert_envelope(past, 404, "Not found.")


def test_project_tasks_ordered_by_last_update(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    api.patch(f"/api/tasks/{ids[0]}", json={"meta": {"touched": True}})
    body = api.get(f"/api/projects/{project['id']}/tasks").json()
    assert [t["id"] for t in body] == [ids[0], ids[2], ids[1]]  # one import: the last first


def test_delete_all_project_tasks(api):
    project = api.project()
    other = api.project()
    import_tasks(api, project["id"], [{"text": "a"}, {"text": "b"}])
    import_tasks(api, other["id"], [{"text": "keep"}])
    response = api.delete(f"/api/projects/{project['id']}/tasks")
    assert response.status_code == 204
    assert task_count(api, project["id"]) == 0
    assert task_count(api, other["id"]) == 1
    assert api.get(f"/api/projects/{project['id']}/tasks").json() == []


def test_post_project_tasks_creates(api):
    project = api.project()
    response = api.post(f"/api/projects/{project['id']}/tasks", json={"data": {"text": "x"}})
    assert response.status_code == 201 and response.json()["project"] == project["id"]


# -- next task ------------------------------------------------------------------------------

def test_next_sequential_and_404_at_the_end(api):
    project = api.project()
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}])
    first = api.get(f"/api/projects/{project['id']}/next")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["id"] == ids[0] and body["queue"] == "Sequence queue"
    # LS's NextTaskSerializer: the task's own updated_by (none yet), no annotations
    assert body["updated_by"] == [] and body["unique_lock_id"] and body["annotations"] == []
    assert list(body)[:6] == ["id", "predictions", "annotations", "drafts", "updated_by",
                              "unique_lock_id"] and list(body)[-2:] == ["comment_authors", "queue"]
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Pos")})
    assert api.get(f"/api/projects/{project['id']}/next").json()["id"] == ids[1]
    api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": choice("Neg")})
    done = api.get(f"/api/projects/{project['id']}/next")
    email = api.get("/api/current-user/whoami").json()["email"]
    assert_envelope(done, 404, f"There are no tasks for {email}")


def test_next_finds_tasks_that_become_unlabeled_again(api):
    """/next starts after the labeled prefix it has seen; a change below that point (a deleted
    annotation) or new tasks must still be found."""
    project, other = api.project(), api.project()
    ids = import_ids(api, project["id"], [{"text": str(i)} for i in range(4)])
    import_ids(api, other["id"], [{"text": "elsewhere"}])  # ids of two projects interleave
    ids += import_ids(api, project["id"], [{"text": "4"}])

    def next_id():
        response = api.get(f"/api/projects/{project['id']}/next")
        return response.json()["id"] if response.status_code == 200 else response.status_code

    done = [api.post(f"/api/tasks/{i}/annotations", json={"result": choice("Pos")}).json()["id"]
            for i in ids[:3]]
    assert next_id() == ids[3]
    assert api.delete(f"/api/annotations/{done[1]}").status_code == 204
    assert next_id() == ids[1]
    for task_id in (ids[1], ids[3], ids[4]):
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Pos")})
    assert next_id() == 404
    late = import_ids(api, project["id"], [{"text": "late"}])
    assert next_id() == late[0]
    assert api.delete(f"/api/annotations/{done[0]}").status_code == 204
    assert next_id() == ids[0]


def test_next_uniform_sampling_picks_unlabeled_tasks(api):
    project = api.project(sampling="Uniform sampling")
    ids = import_ids(api, project["id"], [{"text": str(i)} for i in range(6)])
    api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Pos")})
    seen = set()
    for _ in range(30):
        body = api.get(f"/api/projects/{project['id']}/next").json()
        assert body["queue"] == "Uniform random queue"
        seen.add(body["id"])
    assert ids[0] not in seen and seen <= set(ids[1:]) and len(seen) > 1


@pytest.mark.parametrize("skip_queue, back", [("REQUEUE_FOR_ME", True),
                                              ("REQUEUE_FOR_OTHERS", False),
                                              ("IGNORE_SKIPPED", False)])
def test_next_skip_queue(api, skip_queue, back):
    project = api.project(skip_queue=skip_queue)
    ids = import_ids(api, project["id"], [{"text": "a"}, {"text": "b"}])
    api.post(f"/api/tasks/{ids[0]}/annotations", params={"was_cancelled": 1}, json={})
    assert api.get(f"/api/projects/{project['id']}/next").json()["id"] == ids[1]
    api.post(f"/api/tasks/{ids[1]}/annotations", json={"result": choice("Pos")})
    response = api.get(f"/api/projects/{project['id']}/next")
    if back:
        assert response.status_code == 200 and response.json()["id"] == ids[0]
        assert response.json()["queue"] == "Skipped queue"
    else:
        assert response.status_code == 404


def test_next_of_unknown_project_is_404(api):
    assert api.get("/api/projects/999999/next").status_code == 404


@pytest.mark.parametrize("query", [
    {"selectedItems": 5}, {"selectedItems": {"all": False, "included": [[1], {"a": 1}]}},
    {"selectedItems": {"all": True, "excluded": 7}}, {"filters": 5}, {"filters": {"items": 5}},
    {"filters": {"items": [5]}}, {"filters": {"items": [{"filter": 5}]}},
    {"filters": {"items": [{"filter": "filter:tasks:id", "operator": "bogus",
                            "type": "Number", "value": 1}]}},
    {"filters": {"items": [{"filter": "filter:tasks:data.text", "operator": "in",
                            "type": "Number", "value": "x"}]}},
    {"filters": {"items": [{"filter": "filter:tasks:created_at", "operator": "greater",
                            "type": "Datetime", "value": {"a": 1}}]}},
    {"filters": {"items": [{"filter": "filter:tasks:annotators", "operator": "contains",
                            "type": "List", "value": [1]}]}},
    {"ordering": 5}, {"ordering": [5]}, {"ordering": ["tasks:__class__"]},
    {"ordering": ["tasks:data.n", "tasks:id"]}, {"ordering": ["-tasks:annotators"]},
    {"ordering": ["tasks:predictions_score"]}, {"ordering": [None]},
])
def test_odd_queries_never_500(api, scored, query):
    project_id, _ = scored
    response = api.get("/api/tasks", params={"project": project_id,
                                             "query": orjson.dumps(query).decode()})
    assert response.status_code in (200, 400), response.text
    response = api.post("/api/dm/actions", params={"id": "delete_tasks_predictions",
                                                    "project": project_id}, json=query)
    assert response.status_code in (200, 400), response.text


def test_a_views_shown_columns_are_evaluated_in_task_only(api):
    """LS evaluates the columns a view shows (not hidden in both modes): its task_only list
    answers them, and leaves the hidden ones blank or out."""
    project = api.project()
    [task_id] = import_ids(api, project["id"], [{"text": "a"}])
    api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Pos")})
    hidden = ["tasks:annotations_results", "tasks:completed_at"]
    view = api.post("/api/dm/views", json={"project": project["id"], "data": {
        "hiddenColumns": {"explore": hidden, "labeling": hidden}}}).json()
    task = api.get("/api/tasks", params={"view": view["id"], "fields": "task_only"}).json()[
        "tasks"][0]
    assert task["annotators"] == [1] and task["annotations_results"] == ""
    assert "avg_lead_time" in task and "completed_at" not in task
    assert "annotations" not in task and task["drafts"] == []
