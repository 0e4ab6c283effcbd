"""The data manager's and the labeling editor's endpoints side by side with a real Label Studio
1.23.2 (started as tests/api/test_push_pull.py starts it): the same requests to both, then the
same status, the same keys in the same order, the same JSON types, and, where nothing is an id
or a time, the same values.

Only the differences docs/compatibility.md lists are left out (LS's 500s); the rest must match.
"""

import re

import orjson
import pytest
import requests
from test_push_pull import LabelStudioServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("label_studio"),
              pytest.mark.timeout(420)]

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
          '<Choice value="pos"/><Choice value="neg"/></Choices></View>')
RESULT = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
           "value": {"choices": ["neg"]}}]
IDS = re.compile(r'"(id|task|annotation|project|taskId|annotationId|completed_by|updated_by|'
                 r'user_id)":\d+')
UUID = re.compile(r'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
TIME = re.compile(r'"\d{4}-\d\d-\d\dT[0-9:.]+Z"')
EMAIL = re.compile(r'"[^"@]+@[^"]+"')


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio-dm"))
    yield server
    server.stop()


class Client:
    """Requests to one server, kept as (label, status, body) with a mode: "value" compares
    the normalized bodies (ids, times, uuids and emails blanked), "shape" keys and types."""

    def __init__(self, url, session):
        self.url, self.session, self.log = url, session, []

    def __call__(self, mode, label, method, path, body=None, **params):
        response = self.session.request(method, self.url + path, params=params,
                                        json=body, timeout=60)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        self.log.append((mode, label, response.status_code, answer))
        return answer


def shape(value):
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def normalized(value):
    text = orjson.dumps(value).decode()
    for pattern, blank in ((IDS, r'"\1":0'), (UUID, '"U"'), (TIME, '"T"'), (EMAIL, '"E"')):
        text = pattern.sub(blank, text)
    return text


def around_difference(theirs, ours):
    at = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b),
              min(len(theirs), len(ours)))
    start = max(0, at - 150)
    return f"…{theirs[start:at + 250]} (LS)\n   != …{ours[start:at + 250]}"


def scenario(c):
    project = c("shape", "create a project", "POST", "/api/projects/",
                {"title": "Data manager", "label_config": CONFIG})
    pid = project["id"]
    c("shape", "import", "POST", f"/api/projects/{pid}/import",
      [{"text": "a", "extra": 1}, {"text": "b", "meta_x": "y"}, {"text": "c"}])
    tasks = c("shape", "tasks", "GET", "/api/tasks/", project=pid)["tasks"]
    ids = sorted(t["id"] for t in tasks)
    c("value", "columns", "GET", "/api/dm/columns/", project=pid)
    c("value", "columns, a bad id", "GET", "/api/dm/columns/", project="x")
    c("value", "dm project", "GET", "/api/dm/project/", project=pid, interaction="timer")
    c("value", "dm project, none", "GET", "/api/dm/project/", project=999999)
    c("value", "actions", "GET", "/api/dm/actions/", project=pid)
    c("value", "actions, no project", "GET", "/api/dm/actions/")
    for action in ("delete_tasks", "predictions_to_annotations", "delete_tasks_annotations",
                   "next_task", "retrieve_tasks_predictions"):
        c("value", f"form of {action}", "GET", f"/api/dm/actions/{action}/form/", project=pid)
    # views: the app's string project id, then LS's other answers
    c("value", "a view, project as a string", "POST", "/api/dm/views/", {
        "project": str(pid), "data": {"title": "Tab", "ordering": ["tasks:id"],
                                      "filters": {"conjunction": "and", "items": []}}})
    view = c("value", "a plain view", "POST", "/api/dm/views/", {"project": pid})
    for body in ({}, {"project": None}, {"project": "abc"}, {"project": True},
                 {"project": 999999}, {"project": pid, "order": "x"}):
        c("value", f"a view of {body}", "POST", "/api/dm/views/", body)
    url = f"/api/dm/views/{view['id']}/"
    c("value", "patch a view", "PATCH", url, {"project": str(pid), "data": {
        "title": "B", "filters": {"conjunction": "or", "items": []}, "ordering": ["-tasks:id"]}})
    c("value", "patch keeps filters", "PATCH", url, {"data": {"title": "B2"}})
    c("value", "put without project", "PUT", url, {"data": {"title": "C"}})
    c("value", "views", "GET", "/api/dm/views/", project=pid)
    c("value", "views of none", "GET", "/api/dm/views/", project=999999)
    c("value", "order, empty", "POST", "/api/dm/views/order/", {"project": pid, "ids": []})
    c("value", "order, bad items", "POST", "/api/dm/views/order/",
      {"project": pid, "ids": ["a", None]})
    c("value", "reset, no project", "DELETE", "/api/dm/views/reset/")
    # drafts
    c("value", "no drafts", "GET", f"/api/tasks/{ids[0]}/drafts")
    draft = c("value", "a draft", "POST", f"/api/tasks/{ids[0]}/drafts",
              {"result": RESULT, "lead_time": 3.5})
    c("value", "patch a draft", "PATCH", f"/api/drafts/{draft['id']}/",
      {"result": RESULT + RESULT, "lead_time": 5})
    c("value", "put a draft without result", "PUT", f"/api/drafts/{draft['id']}/",
      {"lead_time": 2})
    for body in ({}, {"result": None}, {"result": [], "lead_time": "abc"},
                 {"result": [], "was_postponed": "maybe"}, {"result": [], "import_id": "x"},
                 {"result": [], "annotation": 999999}, {"result": [], "task": "x"}):
        c("value", f"a draft of {body}", "POST", f"/api/tasks/{ids[0]}/drafts", body)
    c("value", "odd draft fields", "POST", f"/api/tasks/{ids[1]}/drafts",
      {"result": "x", "was_postponed": "true", "import_id": "7"})
    c("value", "no such draft", "GET", "/api/drafts/999999/")
    c("value", "a task with a draft", "GET", f"/api/tasks/{ids[0]}/")
    second = c("value", "a draft to submit", "POST", f"/api/tasks/{ids[2]}/drafts",
               {"result": RESULT})
    annotation = c("value", "submit from the draft", "POST", f"/api/tasks/{ids[2]}/annotations/",
                   {"result": RESULT, "draft_id": second["id"]})
    c("value", "the draft is gone", "GET", f"/api/drafts/{second['id']}/")
    c("value", "an annotation's draft", "POST",
      f"/api/tasks/{ids[2]}/annotations/{annotation['id']}/drafts", {"result": RESULT})
    c("value", "its drafts", "GET", f"/api/tasks/{ids[2]}/annotations/{annotation['id']}/drafts")
    c("value", "delete a draft", "DELETE", f"/api/drafts/{draft['id']}/")
    # the label stream
    c("value", "no history", "GET", f"/api/projects/{pid}/label-stream-history/")
    c("value", "next task", "POST", "/api/dm/actions/", {}, id="next_task", project=pid)
    c("value", "next task, dm queue", "POST", "/api/dm/actions/", {
        "filters": {"conjunction": "and", "items": []}, "ordering": ["-tasks:id"],
        "selectedItems": {"all": True}}, id="next_task", project=pid)
    c("value", "history", "GET", f"/api/projects/{pid}/label-stream-history/")
    c("value", "label links", "GET", "/api/label_links/", project=pid)
    c("value", "label links of none", "GET", "/api/label_links/", project=999999)
    # bulk actions
    c("value", "no action id", "POST", "/api/dm/actions/", {}, project=pid)
    c("value", "delete one task", "POST", "/api/dm/actions/",
      {"selectedItems": {"all": False, "included": [ids[0]]}}, id="delete_tasks", project=pid)
    c("value", "remove duplicates", "POST", "/api/dm/actions/", {"selectedItems": {"all": True}},
      id="remove_duplicates", project=pid)
    c("value", "delete annotations", "POST", "/api/dm/actions/",
      {"selectedItems": {"all": True, "excluded": []}}, id="delete_tasks_annotations",
      project=pid)
    c("value", "delete predictions", "POST", "/api/dm/actions/",
      {"selectedItems": {"all": True, "excluded": []}}, id="delete_tasks_predictions",
      project=pid)
    c("value", "delete the rest", "POST", "/api/dm/actions/",
      {"selectedItems": {"all": True, "excluded": []}}, id="delete_tasks", project=pid)
    c("value", "no views left", "GET", "/api/dm/views/", project=pid)
    c("value", "no next task", "POST", "/api/dm/actions/", {}, id="next_task", project=pid)


def test_same_answers_as_label_studio(label_studio, make_live):
    live = make_live("dm-differential")  # a fresh one: its users are LS's (one)
    theirs = Client(label_studio.url, label_studio.api)
    ours_session = requests.Session()
    ours_session.headers["Authorization"] = f"Token {live.token}"
    ours = Client(live.url, ours_session)
    scenario(theirs)
    scenario(ours)
    differences = []
    for (mode, label, status, answer), (_, _, our_status, our_answer) in zip(theirs.log,
                                                                             ours.log):
        if status != our_status:
            differences.append(f"{label}: status {status} (LS) != {our_status}")
        elif mode == "shape" and orjson.dumps(shape(answer)) != orjson.dumps(shape(our_answer)):
            differences.append(f"{label}: {shape(answer)} (LS) != {shape(our_answer)}")
        elif mode == "value" and normalized(answer) != normalized(our_answer):
            where = around_difference(normalized(answer), normalized(our_answer))
            differences.append(f"{label}: {where}")
    assert not differences, "\n".join(differences)
