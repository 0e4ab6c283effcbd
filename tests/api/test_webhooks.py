"""/api/webhooks (list, create, read, update, delete; /info) as Label Studio 1.23.2 answers
them, and their firing, which LabelDesk confines to loopback receivers."""

import http.server
import json
import threading

import pytest

from datahelp import assert_envelope, choice, import_ids, wait_for

WEBHOOK_KEYS = ["id", "organization", "project", "url", "send_payload", "send_for_all_actions",
                "headers", "is_active", "actions", "created_at", "updated_at"]
# LS 1.23.2's WebhookAction.ACTIONS, as GET /api/webhooks/info gives them
ACTIONS = {
    "PROJECT_CREATED": ("Project created", "project", True),
    "PROJECT_UPDATED": ("Project updated", "project", False),
    "PROJECT_DELETED": ("Project deleted", "project", True),
    "TASKS_CREATED": ("Task created", "tasks", False),
    "TASKS_DELETED": ("Task deleted", "tasks", False),
    "ANNOTATION_CREATED": ("Annotation created", "annotation", False),
    "ANNOTATIONS_CREATED": ("Annotations created", "annotation", False),
    "ANNOTATION_UPDATED": ("Annotation updated", "annotation", False),
    "ANNOTATIONS_DELETED": ("Annotation deleted", "annotations", False),
    "LABEL_LINK_CREATED": ("Label link created", "label_link", False),
    "LABEL_LINK_UPDATED": ("Label link updated", "label_link", False),
    "LABEL_LINK_DELETED": ("Label link deleted", "label_link", False),
}


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps what is posted to it."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "headers": dict(self.headers),
                                 "body": json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def actions(self):
        return [r["body"]["action"] for r in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def create(api, **body):
    return api.post("/api/webhooks", json=body)


def test_info_lists_label_studios_actions_without_a_token(live):
    response = live.anonymous.get("/api/webhooks/info")
    assert response.status_code == 200
    assert response.json() == {key: {"name": name, "description": "", "key": payload,
                                     "organization-only": org}
                               for key, (name, payload, org) in ACTIONS.items()}
    only = live.anonymous.get("/api/webhooks/info", params={"organization-only": "true"}).json()
    assert list(only) == ["PROJECT_CREATED", "PROJECT_DELETED"]
    others = live.anonymous.get("/api/webhooks/info",
                                params={"organization-only": "false"}).json()
    assert len(others) == 10 and "PROJECT_CREATED" not in others


def test_create_list_read_update_delete(api):
    project = api.project()
    pid = project["id"]
    response = create(api, project=pid, url="http://127.0.0.1:9/hook")
    assert response.status_code == 201, response.text
    hook = response.json()
    assert list(hook) == WEBHOOK_KEYS
    assert hook["organization"] == 1 and hook["project"] == pid
    assert (hook["send_payload"], hook["send_for_all_actions"], hook["is_active"]) == (
        True, True, True)
    assert hook["headers"] == {} and hook["actions"] == []
    other = create(api, project=pid, url="http://localhost:9/other", send_for_all_actions=False,
                   actions=["ANNOTATION_CREATED", "TASKS_CREATED"],
                   headers={"X-A": "b"}).json()
    assert other["actions"] == ["ANNOTATION_CREATED", "TASKS_CREATED"]
    assert other["headers"] == {"X-A": "b"}
    listed = api.get("/api/webhooks", params={"project": pid}).json()
    assert [h["id"] for h in listed] == [hook["id"], other["id"]]
    assert hook["id"] in [h["id"] for h in api.get("/api/webhooks").json()]
    assert api.get(f"/api/webhooks/{hook['id']}").json() == hook
    # PATCH: the project stays (read-only in LS); other fields change; updated_at moves
    second = api.project()
    patched = api.patch(f"/api/webhooks/{other['id']}",
                        json={"is_active": False, "project": second["id"],
                              "url": "http://[::1]:9/h3"}).json()
    assert patched["project"] == pid and patched["is_active"] is False
    assert patched["url"] == "http://[::1]:9/h3"
    assert patched["actions"] == ["ANNOTATION_CREATED", "TASKS_CREATED"]  # see compatibility.md
    replaced = api.put(f"/api/webhooks/{other['id']}",
                       json={"url": "http://127.0.0.2:9/h4", "actions": ["TASKS_DELETED"]})
    assert replaced.json()["actions"] == ["TASKS_DELETED"]
    assert api.delete(f"/api/webhooks/{other['id']}").status_code == 204
    assert api.get(f"/api/webhooks/{other['id']}").status_code == 404
    assert [h["id"] for h in api.get("/api/webhooks", params={"project": pid}).json()] == [
        hook["id"]]


def test_a_projects_webhooks_go_with_it(api):
    project = api.project()
    hook = create(api, project=project["id"], url="http://127.0.0.1:9/hook").json()
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert api.get(f"/api/webhooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize("params, errors", [
    ({"project": "999999"}, {"project": ["Select a valid choice. That choice is not one of the "
                                         "available choices."]}),
    ({"project": "abc"}, {"project": ["Select a valid choice. That choice is not one of the "
                                      "available choices."]}),
])
def test_list_of_unknown_project_is_400(api, params, errors):
    response = api.get("/api/webhooks", params=params)
    assert assert_envelope(response, 400, "Validation error")["validation_errors"] == errors


def test_list_of_organization_webhooks_is_empty(api):
    assert api.get("/api/webhooks", params={"project": "isnull"}).json() == []


LOOPBACK_ONLY = ("LabelDesk makes no network calls of its own, so a webhook can only post to "
                 "this computer: use an http(s) URL on localhost, 127.0.0.1 (127.0.0.0/8) or "
                 "[::1], such as http://127.0.0.1:9000/hook.")


@pytest.mark.parametrize("body, errors", [
    ({}, {"url": ["This field is required."]}),
    ({"project": "P"}, {"url": ["This field is required."]}),
    ({"url": "notaurl"}, {"url": ["Enter a valid URL."]}),
    ({"url": "http://127.0.0.1:9/x y"}, {"url": ["Enter a valid URL."]}),
    ({"url": 5}, {"url": ["Not a valid string."]}),
    ({"url": "http://127.0.0.1/" + "x" * 2048},
     {"url": ["Ensure this field has no more than 2048 characters."]}),
    ({"url": "http://example.com/hook"}, {"url": [LOOPBACK_ONLY]}),
    ({"url": "http://10.0.0.1/hook"}, {"url": [LOOPBACK_ONLY]}),
    ({"url": "http://localhost.example.com/hook"}, {"url": [LOOPBACK_ONLY]}),
    ({"url": "http://user@127.0.0.1/hook"}, {"url": [LOOPBACK_ONLY]}),
    ({"url": "ftp://127.0.0.1/hook"}, {"url": [LOOPBACK_ONLY]}),
    ({"url": "file:///etc/passwd"}, {"url": ["Enter a valid URL."]}),
    ({"url": "http://127.0.0.1/x", "actions": ["NOPE"]},
     {"actions": {"0": ['"NOPE" is not a valid choice.']}}),
    ({"url": "http://127.0.0.1/x", "actions": "TASKS_CREATED"},
     {"actions": ['Expected a list of items but got type "str".']}),
    ({"url": "http://127.0.0.1/x", "actions": ["PROJECT_CREATED"]},
     {"non_field_errors": ["Project webhook can't contain organization-only action."]}),
    ({"url": "http://127.0.0.1/x", "headers": {"bad key": "v"}},
     {"headers": ["{'bad key': 'v'} failed JSON schema check"]}),
    ({"url": "http://127.0.0.1/x", "headers": {"k": 1}},
     {"headers": ["{'k': 1} failed JSON schema check"]}),
    ({"url": "http://127.0.0.1/x", "headers": "x"}, {"headers": ["x failed JSON schema check"]}),
    ({"url": "http://127.0.0.1/x", "send_payload": "maybe"},
     {"send_payload": ["Must be a valid boolean."]}),
    ({"url": "http://127.0.0.1/x", "project": 999999},
     {"project": ['Invalid pk "999999" - object does not exist.']}),
    ({"url": "http://127.0.0.1/x", "project": "abc"},
     {"project": ["Incorrect type. Expected pk value, received str."]}),
    ([1], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
])
def test_bad_webhooks_are_400(api, body, errors):
    project = api.project()
    if isinstance(body, dict):
        body = {**body}
        if body.get("project") == "P":
            body["project"] = project["id"]
        elif "project" not in body:
            body["project"] = project["id"]
    response = api.post("/api/webhooks", json=body)
    assert assert_envelope(response, 400, "Validation error")["validation_errors"] == errors
    assert api.get("/api/webhooks", params={"project": project["id"]}).json() == []


def test_webhook_without_project_is_404_as_in_label_studio(api):
    for body in ({"url": "http://127.0.0.1/x"}, {"url": "http://127.0.0.1/x", "project": None}):
        assert_envelope(api.post("/api/webhooks", json=body), 404, "Project not found.")


def test_bad_updates_are_400_and_change_nothing(api):
    project = api.project()
    hook = create(api, project=project["id"], url="http://127.0.0.1:9/hook").json()
    for body in ({"url": "http://example.com/x"}, {"is_active": "nope"}, {"actions": ["X"]}):
        response = api.patch(f"/api/webhooks/{hook['id']}", json=body)
        assert response.status_code == 400, body
    assert api.get(f"/api/webhooks/{hook['id']}").json() == hook


@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_unknown_webhook_is_404(api, method):
    for path in ("/api/webhooks/999999", "/api/webhooks/abc"):
        response = getattr(api, method)(path, json={})
        assert_envelope(response, 404, "No Webhook matches the given query.")


def test_webhooks_need_a_token(live):
    assert live.anonymous.get("/api/webhooks").status_code == 401
    assert live.anonymous.post("/api/webhooks", json={}).status_code == 401


# -- firing ----------------------------------------------------------------------------------

def test_events_reach_a_loopback_receiver(api, receiver):
    project = api.project()
    pid = project["id"]
    create(api, project=pid, url=receiver.url + "/all", headers={"X-Secret": "s3"})
    task_id, = import_ids(api, pid, [{"text": "hello"}])
    response = api.post(f"/api/tasks/{task_id}/annotations", json={"result": choice("Pos")})
    annotation = response.json()
    api.patch(f"/api/annotations/{annotation['id']}", json={"result": choice("Neg")})
    api.delete(f"/api/annotations/{annotation['id']}")
    api.patch(f"/api/projects/{pid}", json={"description": "changed"})
    wait_for(lambda: len(receiver.received) >= 5)
    assert receiver.actions() == ["TASKS_CREATED", "ANNOTATION_CREATED", "ANNOTATION_UPDATED",
                                  "ANNOTATIONS_DELETED", "PROJECT_UPDATED"]
    first = receiver.received[0]
    assert first["path"] == "/all" and first["headers"]["X-Secret"] == "s3"
    assert first["headers"]["Content-Type"] == "application/json"
    created, updated, deleted, changed = (r["body"] for r in receiver.received[1:])
    assert list(receiver.received[0]["body"]) == ["action", "tasks", "project"]
    assert receiver.received[0]["body"]["tasks"][0]["data"] == {"text": "hello"}
    assert list(created) == ["action", "annotation", "project", "task"]  # LS's order
    assert created["annotation"]["id"] == annotation["id"] and created["task"]["id"] == task_id
    assert updated["annotation"]["result"] == choice("Neg")
    assert deleted == {"action": "ANNOTATIONS_DELETED",
                       "annotations": [{"id": annotation["id"]}],
                       "project": deleted["project"]}
    assert changed["project"]["description"] == "changed"
    assert changed["project"]["id"] == pid


def test_only_active_hooks_for_their_actions_and_payload_as_asked(api, receiver):
    project = api.project()
    pid = project["id"]
    create(api, project=pid, url=receiver.url + "/tasks", send_for_all_actions=False,
           actions=["TASKS_CREATED"], send_payload=False)
    create(api, project=pid, url=receiver.url + "/off", is_active=False)
    other = api.project()
    create(api, project=other["id"], url=receiver.url + "/other")
    import_ids(api, pid, [{"text": "a"}])
    api.patch(f"/api/projects/{pid}", json={"description": "not for /tasks"})
    import_ids(api, pid, [{"text": "b"}])
    wait_for(lambda: len(receiver.received) >= 2)
    assert [(r["path"], r["body"]) for r in receiver.received] == [
        ("/tasks", {"action": "TASKS_CREATED"}), ("/tasks", {"action": "TASKS_CREATED"})]


def test_a_dead_receiver_never_fails_a_save(api, receiver):
    project = api.project()
    create(api, project=project["id"], url="http://127.0.0.1:9/closed-port")
    ids = import_ids(api, project["id"], [{"text": "a"}])
    response = api.post(f"/api/tasks/{ids[0]}/annotations", json={"result": choice("Pos")})
    assert response.status_code == 201


def test_sender_follows_no_redirect_and_uses_no_proxy(receiver, monkeypatch):
    from desktop.webhooks import sender

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", receiver.url + "/followed")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert sender.post(url, {}, {"action": "X"}) == 307
        assert receiver.received == []
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        assert sender.post(receiver.url + "/direct", {}, {"action": "Y"}) == 200
        assert [r["path"] for r in receiver.received] == ["/direct"]
        assert sender.post("http://example.com/x", {}, {"action": "Z"}) is None  # never sent
    finally:
        server.shutdown()
        server.server_close()
