"""Data-manager views (tabs) as Label Studio 1.23.2's ViewAPI answers: the bodies the app sends
(`"project": "6"`, a string), the other variants, and LS's answers to bad ones."""

import pytest

from datahelp import assert_envelope

FILTERS = {"conjunction": "and", "items": [{"filter": "filter:tasks:id", "operator": "greater",
                                            "type": "Number", "value": 1}]}


def create(api, body, status=201):
    response = api.post("/api/dm/views", json=body)
    assert response.status_code == status, response.text
    return response.json()


def test_project_as_a_string_is_accepted(api):
    """The app sends the project id as it has it from the URL: a string."""
    project = api.project()
    data = {"title": "Default", "filters": FILTERS, "ordering": ["tasks:id"],
            "hiddenColumns": {"explore": ["tasks:inner_id"]}}
    view = create(api, {"project": str(project["id"]), "data": data})
    assert view["project"] == project["id"] and view["user"] == 1 and view["order"] == 0
    # LS's order: the rest of data, then filters, then ordering
    assert list(view["data"]) == ["title", "hiddenColumns", "filters", "ordering"]
    assert view["data"] == data
    assert api.get("/api/dm/views", params={"project": project["id"]}).json() == [view]


@pytest.mark.parametrize("value", [1.0, 1.5, " 1 "])
def test_project_numbers_as_django_reads_them(api, value):
    project = api.project()
    shift = project["id"] - 1
    value = value + shift if isinstance(value, float) else f" {project['id']} "
    assert create(api, {"project": value})["project"] == project["id"]


@pytest.mark.parametrize("body, errors", [
    ({}, {"project": ["This field is required."]}),
    ({"project": None}, {"project": ["This field may not be null."]}),
    ({"project": "abc"}, {"project": ["Incorrect type. Expected pk value, received str."]}),
    ({"project": True}, {"project": ["Incorrect type. Expected pk value, received bool."]}),
    ({"project": [1]}, {"project": ["Incorrect type. Expected pk value, received list."]}),
    ({"project": {"id": 1}}, {"project": ["Incorrect type. Expected pk value, received dict."]}),
    ({"project": 999999}, {"project": ['Invalid pk "999999" - object does not exist.']}),
    ({"project": "999999"}, {"project": ['Invalid pk "999999" - object does not exist.']}),
    ({"project": "P", "order": "x"}, {"order": ["A valid integer is required."]}),
    ({"project": "P", "order": True}, {"order": ["A valid integer is required."]}),
    ({"project": "P", "user": 999999}, {"user": ['Invalid pk "999999" - object does not exist.']}),
    # LS: 500 ('str' object has no attribute 'get'); LabelDesk: 400 (docs/compatibility.md)
    ({"project": "P", "data": {"filters": "everything"}},
     {"data": {"filters": ["Value must be a JSON object."]}}),
])
def test_bad_bodies_get_label_studios_errors(api, body, errors):
    project = api.project()
    body = {k: project["id"] if v == "P" else v for k, v in body.items()}
    response = api.post("/api/dm/views", json=body)
    assert assert_envelope(response, 400, "Validation error")["validation_errors"] == errors


@pytest.mark.parametrize("body", [[1], "x", {"project": "P", "data": "x"},
                                  {"project": "P", "data": None}])
def test_bodies_label_studio_answers_500_are_400(api, body):
    project = api.project()
    if isinstance(body, dict):
        body = {k: project["id"] if v == "P" else v for k, v in body.items()}
    assert api.post("/api/dm/views", json=body).status_code == 400


def test_order_and_selected_items_on_create(api):
    project = api.project()
    first = create(api, {"project": project["id"], "order": "4"})
    assert first["order"] == 4  # LS keeps the given order of a view without filters
    second = create(api, {"project": project["id"], "order": 9,
                          "selected_items": {"all": True, "excluded": [2]},
                          "data": {"filters": {"conjunction": "and", "items": []}}})
    assert second["order"] == 1  # with filters: after the project's views, whatever was sent
    assert second["data"] == {"filters": {"conjunction": "and", "items": []},
                              "selectedItems": {"all": True, "excluded": [2]}}
    third = create(api, {"project": project["id"],
                         "data": {"ordering": [], "filters": {"items": []}}})
    assert third["data"] == {}  # filters without a conjunction and an empty ordering: dropped


def test_update_keeps_filters_and_ordering_it_is_not_sent(api):
    project = api.project()
    view = create(api, {"project": project["id"]})
    url = f"/api/dm/views/{view['id']}"
    body = api.patch(url, json={"project": str(project["id"]), "data": {
        "title": "B", "filters": {"conjunction": "or", "items": []},
        "ordering": ["-tasks:id"], "selectedItems": {"all": False, "included": [1]}}}).json()
    assert list(body["data"]) == ["title", "selectedItems", "filters", "ordering"]
    kept = api.patch(url, json={"data": {"title": "B2"}}).json()
    assert kept["data"] == {"title": "B2", "filters": {"conjunction": "or", "items": []},
                            "ordering": ["-tasks:id"]}
    put = api.put(url, json={"project": project["id"], "data": {"title": "C"}})
    assert put.status_code == 200 and put.json()["data"]["title"] == "C"
    assert api.get(url).json() == put.json()


def test_update_errors(api):
    project = api.project()
    view = create(api, {"project": project["id"]})
    url = f"/api/dm/views/{view['id']}"
    response = api.put(url, json={"data": {"title": "C"}})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "project": ["This field is required."]}
    response = api.patch(url, json={"project": "999999", "data": {}})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "project": ['Invalid pk "999999" - object does not exist.']}
    response = api.patch(url, json={"user": "x"})
    assert assert_envelope(response, 400)["validation_errors"] == {
        "user": ["Incorrect type. Expected pk value, received str."]}
    assert_envelope(api.patch("/api/dm/views/999999", json={"data": {}}), 404,
                    "No View matches the given query.")
    assert api.patch(url, json=[1]).status_code == 400


def test_list_filter(api):
    project = api.project()
    view = create(api, {"project": project["id"]})
    assert view["id"] in [v["id"] for v in api.get("/api/dm/views").json()]
    for bad in (999999, "x"):
        response = api.get("/api/dm/views", params={"project": bad})
        assert assert_envelope(response, 400)["validation_errors"] == {"project": [
            "Select a valid choice. That choice is not one of the available choices."]}


def test_order(api):
    project = api.project()
    a, b = (create(api, {"project": project["id"]}) for _ in range(2))
    response = api.post("/api/dm/views/order", json={"project": str(project["id"]),
                                                     "ids": [b["id"], str(a["id"])]})
    assert response.status_code == 200 and response.content == b""
    listed = api.get("/api/dm/views", params={"project": project["id"]}).json()
    assert [(v["id"], v["order"]) for v in listed] == [(b["id"], 0), (a["id"], 1)]
    cases = [
        ({"project": project["id"], "ids": []}, 400, {"ids": ["This list may not be empty."]}),
        ({"project": "x", "ids": "y"}, 400, {"project": ["A valid integer is required."],
                                              "ids": ['Expected a list of items but got type '
                                                      '"str".']}),
        ({"project": project["id"], "ids": ["a", None]}, 400, {"ids": {
            "0": ["A valid integer is required."], "1": ["This field may not be null."]}}),
        ({"ids": [1]}, 400, {"project": ["This field is required."]}),
    ]
    for body, status, errors in cases:
        response = api.post("/api/dm/views/order", json=body)
        assert assert_envelope(response, status)["validation_errors"] == errors
    assert_envelope(api.post("/api/dm/views/order", json={"project": 999999, "ids": [1]}), 404,
                    "No Project matches the given query.")
    assert api.post("/api/dm/views/order", json=[1]).status_code == 400


def test_reset(api):
    project = api.project()
    create(api, {"project": project["id"]})
    for params, errors in (({}, ["This field may not be null."]),
                           ({"project": "x"}, ["Incorrect type. Expected pk value, received "
                                               "str."]),
                           ({"project": 999999}, ['Invalid pk "999999" - object does not '
                                                  'exist.'])):
        response = api.delete("/api/dm/views/reset", params=params)
        assert assert_envelope(response, 400)["validation_errors"] == {"project": errors}
    # the project in the body (LS reads it there first), then in the query
    assert api.delete("/api/dm/views/reset", json={"project": project["id"]}).status_code == 204
    assert api.get("/api/dm/views", params={"project": project["id"]}).json() == []
    create(api, {"project": project["id"]})
    assert api.delete("/api/dm/views/reset",
                      params={"project": project["id"]}).status_code == 204
    assert api.get("/api/dm/views", params={"project": project["id"]}).json() == []
