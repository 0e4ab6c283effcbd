"""label-studio-sdk 2.x (`LabelStudio`) against LabelDesk: the data calls of reference §12.1,
with a legacy token and with a personal access token (JWT)."""

import pytest
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from datahelp import ANNOTATION_KEYS, LABEL_CONFIG, PREDICTION_KEYS, choice


@pytest.fixture(scope="module")
def server(live, tmp_path_factory):
    """A server of its own (a PAT can be issued once per user); LiveServer is conftest's."""
    own = type(live)(tmp_path_factory.mktemp("sdk-data"))
    yield own
    own.close()


@pytest.fixture(scope="module", params=["legacy-token", "pat"])
def client(request, server):
    if request.param == "legacy-token":
        return LabelStudio(base_url=server.url, api_key=server.token)
    response = server.api.post("/api/token")
    if response.status_code == 409:
        pytest.fail("PAT already exists")
    pat = response.json()["token"]
    return LabelStudio(base_url=server.url, api_key=pat)


@pytest.fixture
def project(client):
    return client.projects.create(title="SDK data", label_config=LABEL_CONFIG)


def test_import_tasks_returns_ids(client, project):
    answer = client.projects.import_tasks(id=project.id, request=[{"text": "a"}, {"text": "b"}],
                                          return_task_ids=True)
    assert answer.task_count == 2 and len(answer.task_ids) == 2
    assert answer.annotation_count == 0 and answer.found_formats == []
    tasks = list(client.tasks.list(project=project.id))
    assert [t.id for t in tasks] == answer.task_ids


def test_tasks_list_pages_through_35_tasks(client, project):
    client.projects.import_tasks(id=project.id, request=[{"text": f"t{i}"} for i in range(35)])
    pager = client.tasks.list(project=project.id, page_size=10, fields="all")
    tasks = list(pager)
    assert len(tasks) == 35
    assert len({t.id for t in tasks}) == 35
    assert [t.data["text"] for t in tasks] == [f"t{i}" for i in range(35)]
    first = tasks[0]
    assert first.annotations == [] and first.predictions == []
    assert first.is_labeled is False and first.total_annotations == 0
    assert first.project == project.id


def test_task_crud(client, project):
    task = client.tasks.create(project=project.id, data={"text": "new"}, meta={"m": 1})
    assert task.data == {"text": "new"} and task.meta == {"m": 1}
    assert task.inner_id == 1
    got = client.tasks.get(task.id)
    assert got.id == task.id and got.data == {"text": "new"}
    assert got.total_annotations == 0 and got.cancelled_annotations == 0
    updated = client.tasks.update(task.id, data={"text": "changed"})
    assert updated.data == {"text": "changed"}
    client.tasks.delete(task.id)
    assert list(client.tasks.list(project=project.id)) == []


def test_tasks_list_without_project_is_lss_404(client):
    """Issue 19: LS 1.23.2 answers 404; the SDK raised TypeError on our 0.8 list."""
    with pytest.raises(ApiError) as caught:
        list(client.tasks.list())
    assert caught.value.status_code == 404
    assert caught.value.body == {"detail": "Neither project nor view id specified"}


def test_delete_all_tasks(client, project):
    client.projects.import_tasks(id=project.id, request=[{"text": "a"}, {"text": "b"}])
    client.tasks.delete_all_tasks(id=project.id)
    assert list(client.tasks.list(project=project.id)) == []
    assert client.projects.get(project.id).task_number == 0


def test_annotations(client, project):
    answer = client.projects.import_tasks(id=project.id, request=[{"text": "a"}],
                                          return_task_ids=True)
    task_id = answer.task_ids[0]
    annotation = client.annotations.create(id=task_id, result=choice("Pos"), lead_time=1.5,
                                           ground_truth=False)
    assert annotation.result == choice("Pos") and annotation.task == task_id
    assert annotation.lead_time == 1.5 and annotation.was_cancelled is False
    for key in ANNOTATION_KEYS:
        assert hasattr(annotation, key), key
    assert [a.id for a in client.annotations.list(id=task_id)] == [annotation.id]
    assert client.annotations.get(annotation.id).result == choice("Pos")
    updated = client.annotations.update(id=annotation.id, result=choice("Neg"))
    assert updated.result == choice("Neg")
    task = client.tasks.get(task_id)
    assert task.total_annotations == 1 and task.is_labeled is True
    # issue 19: LS's task has no 0.x keys and expands completed_by to the user
    raw = client.tasks.with_raw_response.get(task_id).data.dict()
    assert "completions" not in raw and "has_cancelled_completions" not in raw
    assert raw["annotations"][0]["completed_by"]["email"] == client.users.whoami().email
    client.annotations.delete(annotation.id)
    assert client.annotations.list(id=task_id) == []
    assert client.tasks.get(task_id).is_labeled is False


def test_predictions(client, project):
    answer = client.projects.import_tasks(id=project.id, request=[{"text": "a"}, {"text": "b"}],
                                          return_task_ids=True)
    first, second = answer.task_ids
    prediction = client.predictions.create(task=first, result=choice("Pos"), score=0.75,
                                           model_version="sdk-v1")
    assert prediction.score == 0.75 and prediction.model_version == "sdk-v1"
    assert prediction.task == first
    for key in PREDICTION_KEYS:
        assert hasattr(prediction, key), key
    client.predictions.create(task=second, result=choice("Neg"))
    assert [p.id for p in client.predictions.list(task=first)] == [prediction.id]
    assert len(client.predictions.list(project=project.id)) == 2
    assert client.tasks.get(first).total_predictions == 1


def test_list_with_query_and_only_annotated(client, project):
    answer = client.projects.import_tasks(id=project.id, request=[
        {"data": {"text": "x"}, "annotations": [{"result": choice("Pos")}]}, {"text": "y"}],
        return_task_ids=True)
    annotated = list(client.tasks.list(project=project.id, only_annotated=True))
    assert [t.id for t in annotated] == answer.task_ids[:1]
    ids = list(client.tasks.list(project=project.id, include="id"))
    assert [t.id for t in ids] == answer.task_ids
