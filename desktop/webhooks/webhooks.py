"""A project's webhooks as Label Studio 1.23.2 keeps them (WebhookSerializer), and the events
that fire them: tasks imported, annotations created, updated and deleted, the project updated.

The shapes, defaults and messages are LS's; where LS answers differently on purpose here, it
says why (the loopback rule; actions kept by an update that names none).
"""

import logging
import re
from urllib.parse import urlsplit

from desktop.core import clock
from desktop.core.errors import NotFound, ValidationError
from desktop.core.paging import parse_bool
from desktop.core.records import locked
from desktop.webhooks.sender import Sender, is_loopback_host

log = logging.getLogger("labeldesk.webhooks")

# LS's WebhookAction.ACTIONS: name, payload key, organization-only (LS's order)
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
BOOLEANS = ("send_payload", "send_for_all_actions", "is_active")
HEADER_NAME = re.compile(r"^[a-zA-Z0-9-_]+$")
MAX_URL = 2048
LOOPBACK_ONLY = ("LabelDesk makes no network calls of its own, so a webhook can only post to "
                 "this computer: use an http(s) URL on localhost, 127.0.0.1 (127.0.0.0/8) or "
                 "[::1], such as http://127.0.0.1:9000/hook.")


def actions_info(organization_only=None):
    """GET /api/webhooks/info: every action's name, description, payload key and whether it is
    for organization webhooks only; `organization_only` ("true" or anything else) filters."""
    info = {key: {"name": name, "description": "", "key": payload_key,
                  "organization-only": org_only}
            for key, (name, payload_key, org_only) in ACTIONS.items()}
    if organization_only is not None:
        wanted = organization_only == "true"
        info = {k: v for k, v in info.items() if v["organization-only"] == wanted}
    return info


def check_url(value):
    """A webhook URL: Django's URLField checks in LS's words, then LabelDesk's loopback rule."""
    if not isinstance(value, str):
        raise ValidationError({"url": ["Not a valid string."]})
    value = value.strip()
    if not value:
        raise ValidationError({"url": ["This field may not be blank."]})
    if len(value) > MAX_URL:
        raise ValidationError({"url": [f"Ensure this field has no more than {MAX_URL} "
                                       "characters."]})
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValidationError({"url": ["Enter a valid URL."]}) from None
    if not parts.scheme or not parts.netloc or any(c.isspace() for c in value):
        raise ValidationError({"url": ["Enter a valid URL."]})
    if parts.scheme.lower() not in ("http", "https") or not is_loopback_host(host) \
            or parts.username is not None or port == 0:
        raise ValidationError({"url": [LOOPBACK_ONLY]})
    return value


class Webhooks:
    def __init__(self, core, send=True):
        self.core = core
        self.r = core.records
        self.sender = Sender() if send else None
        core.annotations.on_change.append(self._annotation_changed)
        core.imports.on_created.append(self._tasks_created)

    # -- reading ------------------------------------------------------------------------------

    @locked
    def get(self, webhook_id):
        doc = self.r.webhooks.doc(webhook_id) if isinstance(webhook_id, int) else None
        if doc is None:
            raise NotFound("Webhook")
        return doc

    @locked
    def as_json(self, webhook_id):
        doc = self.get(webhook_id)
        return {"id": webhook_id, "organization": 1, "project": doc["project"],
                "url": doc["url"], "send_payload": doc["send_payload"],
                "send_for_all_actions": doc["send_for_all_actions"], "headers": doc["headers"],
                "is_active": doc["is_active"], "actions": list(doc["actions"]),
                "created_at": doc["created_at"], "updated_at": doc["updated_at"]}

    @locked
    def list_json(self, project=None):
        """GET /api/webhooks[?project=N]: LS's filter refuses a project that doesn't exist;
        `isnull` asks for organization webhooks, which LabelDesk has none of."""
        if project is not None and project != "":
            if project == "isnull":
                return []
            project_id = self._existing_project(project)
            if project_id is None:
                raise ValidationError({"project": ["Select a valid choice. That choice is not "
                                                   "one of the available choices."]})
            ids = [i for i, d in self.r.webhooks.docs().items() if d["project"] == project_id]
        else:
            ids = list(self.r.webhooks.docs())
        return [self.as_json(i) for i in sorted(ids)]

    def _existing_project(self, value):
        try:
            project_id = int(value)
        except (TypeError, ValueError):
            return None
        return project_id if self.r.projects.doc(project_id) is not None else None

    # -- writing ------------------------------------------------------------------------------

    def create(self, body):
        """POST /api/webhooks: a project's webhook (LS refuses organization ones here)."""
        clean = self._clean(body, creating=True)
        project = clean.get("project")
        if project is None:
            raise NotFound(detail="Project not found.")
        stamp = clock.iso()
        doc = {"project": project, "url": clean["url"],
               "send_payload": clean.get("send_payload", True),
               "send_for_all_actions": clean.get("send_for_all_actions", True),
               "headers": clean.get("headers", {}), "is_active": clean.get("is_active", True),
               "actions": clean.get("actions", []), "created_at": stamp, "updated_at": stamp}
        with self.r.transaction():
            if self.r.projects.doc(project) is None:  # deleted meanwhile
                raise NotFound(detail="Project not found.")
            return self.r.webhooks.insert(doc)

    def update(self, webhook_id, body):
        """PATCH/PUT /api/webhooks/{id}; the project can't change (LS: read-only there)."""
        with self.r.transaction():
            self.get(webhook_id)
            clean = self._clean(body, creating=False)
            clean.pop("project", None)
            clean["updated_at"] = clock.iso()
            self.r.webhooks.update(clean, doc_ids=[webhook_id])

    def delete(self, webhook_id):
        with self.r.transaction():
            self.get(webhook_id)
            self.r.webhooks.remove(doc_ids=[webhook_id])

    def delete_project(self, project_id):
        """A deleted project's webhooks go with it (inside its delete transaction)."""
        ids = [i for i, d in self.r.webhooks.docs().items() if d["project"] == project_id]
        if ids:
            self.r.webhooks.remove(doc_ids=ids)

    def _clean(self, body, creating):
        """LS's field checks, every field's errors together, then its object-level check."""
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(body).__name__}.")
        errors, clean = {}, {}
        if "url" in body:
            try:
                clean["url"] = check_url(body["url"])
            except ValidationError as e:
                errors.update(e.errors)
        elif creating:
            errors["url"] = ["This field is required."]
        for key in BOOLEANS:
            if key in body:
                try:
                    value = parse_bool(key, body[key])
                except ValidationError:
                    value = None
                if value is None:
                    errors[key] = ["Must be a valid boolean."]
                else:
                    clean[key] = value
        if "headers" in body:
            if self._headers_ok(body["headers"]):
                clean["headers"] = body["headers"]
            else:
                errors["headers"] = [f"{self._py_repr(body['headers'])} failed JSON schema "
                                     "check"]
        if "actions" in body:
            actions = body["actions"]
            if not isinstance(actions, list):
                errors["actions"] = [f'Expected a list of items but got type '
                                     f'"{type(actions).__name__}".']
            else:
                bad = {str(i): [f'"{a}" is not a valid choice.'] for i, a in enumerate(actions)
                       if not isinstance(a, str) or a not in ACTIONS}
                if bad:
                    errors["actions"] = bad
                else:
                    clean["actions"] = list(dict.fromkeys(actions))
        if creating and body.get("project") is not None:
            project = body["project"]
            if isinstance(project, bool) or not isinstance(project, (int, str)) or (
                    isinstance(project, str) and not project.strip().isdecimal()):
                errors["project"] = ["Incorrect type. Expected pk value, received "
                                     f"{type(project).__name__}."]
            elif self.r.projects.doc(int(project)) is None:
                errors["project"] = [f'Invalid pk "{project}" - object does not exist.']
            else:
                clean["project"] = int(project)
        if errors:
            raise ValidationError(errors)
        if any(ACTIONS[a][2] for a in clean.get("actions", ())):
            raise ValidationError(["Project webhook can't contain organization-only action."])
        return clean

    @staticmethod
    def _headers_ok(headers):
        """LS's HEADERS_SCHEMA: at most 10 string values under names of [a-zA-Z0-9-_]."""
        return isinstance(headers, dict) and len(headers) <= 10 and all(
            HEADER_NAME.match(k) and isinstance(v, str) for k, v in headers.items())

    @staticmethod
    def _py_repr(value):
        return value if isinstance(value, str) else repr(value)

    # -- firing -------------------------------------------------------------------------------

    def _active(self, project_id, action):
        return [doc for doc in self.r.webhooks.docs().values()
                if doc["project"] == project_id and doc.get("is_active", True)
                and (doc.get("send_for_all_actions", True) or action in doc.get("actions", ()))]

    def emit(self, project_id, action, payload_of):
        """Queue `action` for the project's active hooks that listen for it; `payload_of()`
        builds the payload (without "action" and "project"), only when a hook sends one.
        Never raises: a hook must not fail the change that fired it."""
        if self.sender is None:
            return
        try:
            with self.r.lock:
                hooks = self._active(project_id, action)
                if not hooks:
                    return
                payload = {}
                if any(h.get("send_payload", True) for h in hooks):
                    # LS's order: the action's own key, the project, then nested objects
                    built, key = payload_of(), ACTIONS[action][1]
                    if key in built:
                        payload[key] = built.pop(key)
                    payload["project"] = self.core.projects.as_json(project_id)
                    payload.update(built)
            for hook in hooks:
                body = {"action": action}
                if hook.get("send_payload", True):
                    body.update(payload)
                self.sender.post(hook["url"], hook.get("headers") or {}, body)
        except Exception:  # noqa: BLE001 - never let a webhook fail a save
            log.exception("webhook %s for project %s", action, project_id)

    def project_updated(self, project_id):
        self.emit(project_id, "PROJECT_UPDATED", dict)

    def _tasks_created(self, project_id, task_ids):
        tasks = self.core.tasks
        self.emit(project_id, "TASKS_CREATED",
                  lambda: {"tasks": [tasks.base_json(i) for i in task_ids]})

    def _annotation_changed(self, event, annotation_id, doc):
        project_id, task_id = doc.get("project"), doc.get("task")
        if event == "ANNOTATIONS_DELETED":
            self.emit(project_id, event, lambda: {"annotations": [{"id": annotation_id}]})
            return
        if event not in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED"):
            return
        core = self.core

        def payload():
            body = {"annotation": core.annotations.as_json(annotation_id)}
            if self.r.tasks.doc(task_id) is not None:
                body["task"] = core.tasks.base_json(task_id)
            return body

        self.emit(project_id, event, payload)

    def close(self):
        if self.sender is not None:
            self.sender.stop()
