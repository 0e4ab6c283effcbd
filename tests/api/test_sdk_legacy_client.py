"""The legacy `label_studio_sdk.Client` (still shipped by SDK 2.1.2) against LabelDesk:
the data calls of reference §12.2."""

import pytest
from label_studio_sdk import Client

from datahelp import ANNOTATION_KEYS, LABEL_CONFIG, PREDICTION_KEYS, TASK_FULL_KEYS, choice


@pytest.fixture(scope="module")
def server(live, tmp_path_factory):
    """A server of its own (a PAT can be issued once per user); LiveServer is conftest's."""
    own = type(live)(tmp_path_factory.mktemp("sdk-legacy"))
    yield own
    own.close()


@pytest.fixture(scope="module")
def client(server):
    return Client(url=server.url, api_key=server.token)


@pytest.fixture
def project(client):
    return client.start_project(title="Legacy client", label_config=LABEL_CONFIG)


def test_check_connection(client):
    assert client.check_connection()["status"] == "UP"


def test_import_and_get_tasks_across_pages(client, project):
    ids = project.import_tasks([{"text": f"t{i}"} for i in range(250)])
    assert len(ids) == 250 and all(isinstance(i, int) for i in ids)
    tasks = project.get_tasks()  # pages of 100 until the 404 past the end
    assert [t["id"] for t in tasks] == ids
    assert set(TASK_FULL_KEYS) <= set(tasks[0])
    assert project.get_tasks_ids() == ids
    paged = project.get_paginated_tasks(page=3, page_size=100)
    assert len(paged["tasks"]) == 50
    end = project.get_paginated_tasks(page=4, page_size=100)
    assert end == {"tasks": [], "end_pagination": True}


def test_labeled_and_unlabeled_tasks(client, project):
    ids = project.import_tasks([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    project.create_annotation(ids[1], result=choice("Pos"))
    project.create_annotation(ids[2], result=[], was_cancelled=True)
    assert [t["id"] for t in project.get_labeled_tasks()] == [ids[1]]
    assert [t["id"] for t in project.get_unlabeled_tasks()] == [ids[0], ids[2]]
    assert project.get_labeled_tasks_ids() == [ids[1]]


def test_create_prediction_shortcuts(client, project):
    ids = project.import_tasks([{"text": "a"}, {"text": "b"}])
    short = project.create_prediction(ids[0], result="Pos", score=0.8)
    assert list(short) == PREDICTION_KEYS
    assert short["result"] == [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                                "value": {"choices": ["Pos"]}}]
    assert short["score"] == 0.8
    full = project.create_prediction(ids[1], result=choice("Neg"), model_version="m")
    assert full["result"] == choice("Neg") and full["score"] == 0.0
    task = project.get_task(ids[0])
    assert task["total_predictions"] == 1 and task["predictions"][0]["id"] == short["id"]


def test_create_annotation(client, project):
    [task_id] = project.import_tasks([{"text": "a"}])
    annotation = project.create_annotation(task_id, result=choice("Neg"), lead_time=2.0)
    assert list(annotation) == ANNOTATION_KEYS
    assert annotation["task"] == task_id and annotation["result"] == choice("Neg")
    assert project.get_task(task_id)["is_labeled"] is True


def test_params(client, project):
    project.set_params(title="Renamed", maximum_annotations=2)
    params = project.get_params()
    assert params["title"] == "Renamed" and params["maximum_annotations"] == 2
    assert params["id"] == project.id


def test_delete_tasks(client, project):
    ids = project.import_tasks([{"text": str(i)} for i in range(5)])
    project.delete_tasks([ids[0], ids[1]])
    assert project.get_tasks_ids() == ids[2:]
    project.delete_all_tasks(excluded_ids=[ids[4]])
    assert project.get_tasks_ids() == [ids[4]]
    project.delete_all_tasks()
    assert project.get_tasks() == []


def test_delete_project(client):
    project = client.start_project(title="Doomed", label_config=LABEL_CONFIG)
    project.import_tasks([{"text": "a"}])
    client.delete_project(project.id)
    assert client.make_request("GET", f"/api/projects/{project.id}",
                               raise_exceptions=False).status_code == 404
