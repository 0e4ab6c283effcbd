"""Searching every data column at once: the `filter:tasks:data` column (no key) is the whole
task data as one text, which the UI's search box uses (desktop/core/taskquery.py)."""

import orjson
import pytest

from datahelp import import_ids
from desktop.core import taskquery


def search(api, project_id, value, operator="contains", **params):
    query = {"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:data", "operator": operator, "type": "String",
         "value": value}]}, **params}
    response = api.get("/api/tasks", params={"project": project_id,
                                             "query": orjson.dumps(query).decode()})
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["tasks"]]


@pytest.fixture
def mixed(api):
    """Tasks whose words sit in different columns, nested values and numbers among them."""
    project = api.project()
    ids = import_ids(api, project["id"], [
        {"data": {"text": "The Weather was fine", "source": "news"}},
        {"data": {"text": "Globex hires", "source": "blog", "meta": {"author": "Mary Weather"}}},
        {"data": {"text": "nothing here", "source": "forum", "tags": ["sport", "weather"]}},
        {"data": {"text": "a number", "source": "news", "n": 4711}},
        {"data": {"text": "", "image": "/data/upload/1/street.jpg"}},
    ])
    return project["id"], ids


@pytest.mark.parametrize("value, picks", [
    ("weather", [0, 1, 2]),          # text, a nested object's value, a list item
    ("WEATHER", [0, 1, 2]),          # case-insensitive
    ("news", [0, 3]),                # another column than text
    ("blog", [1]),
    ("4711", [3]),                   # numbers as text
    ("street.jpg", [4]),             # a column only some tasks have
    ("author", []),                  # keys are not searched, only values
    ("nowhere", []),
])
def test_search_every_data_column(api, mixed, value, picks):
    project_id, ids = mixed
    assert search(api, project_id, value) == [ids[i] for i in picks]


def test_other_operators_and_ordering(api, mixed):
    project_id, ids = mixed
    assert search(api, project_id, "weather", operator="not_contains") == [ids[3], ids[4]]
    assert search(api, project_id, "news", ordering=["-tasks:id"]) == [ids[3], ids[0]]


def test_one_column_still_searches_only_that_column(api, mixed):
    project_id, ids = mixed
    query = {"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String",
         "value": "weather"}]}}
    body = api.get("/api/tasks", params={"project": project_id,
                                         "query": orjson.dumps(query).decode()}).json()
    assert [t["id"] for t in body["tasks"]] == [ids[0]]


def test_search_in_small_chunks(api, mixed, monkeypatch):
    """The pass takes the store lock a slice at a time (taskquery.stored): the stored bytes
    of a slice under the lock, decoded outside it."""
    project_id, ids = mixed
    slices = []
    original = taskquery.stored

    def counting(records, task_ids):
        for found, blobs in original(records, task_ids):
            slices.append(found)
            yield found, blobs
    monkeypatch.setattr(taskquery, "SLICE", 2)
    monkeypatch.setattr(taskquery, "stored", counting)
    assert search(api, project_id, "weather") == ids[:3]
    assert slices == [ids[0:2], ids[2:4], ids[4:5]]  # the pass over all five tasks


def test_actions_and_views_take_the_search(api, mixed):
    project_id, ids = mixed
    items = [{"filter": "filter:tasks:data", "operator": "contains", "type": "String",
              "value": "weather"}]
    view = api.post("/api/dm/views", json={"project": project_id, "data": {
        "filters": {"conjunction": "and", "items": items}}}).json()
    body = api.get("/api/tasks", params={"view": view["id"]}).json()
    assert [t["id"] for t in body["tasks"]] == ids[:3]
    response = api.post("/api/dm/actions", params={"id": "delete_tasks", "project": project_id},
                        json={"selectedItems": {"all": True, "excluded": [ids[1]]},
                              "filters": {"conjunction": "and", "items": items}})
    assert response.status_code == 200, response.text
    left = api.get("/api/tasks", params={"project": project_id}).json()["tasks"]
    assert [t["id"] for t in left] == [ids[1], ids[3], ids[4]]


def test_data_text_walks_deep_data_without_recursion():
    deep = "x"
    for _ in range(5000):
        deep = {"k": [deep]}
    assert taskquery.data_text(deep) == "x"
    assert taskquery.data_text({"a": "x", "b": [1, {"c": "y"}], "d": None, "e": True}) == \
        "x\n1\ny\ntrue"
