"""Drafts: a user's unsaved labeling of a task (or of one of its annotations), kept by the
labeling editor while the user works, as Label Studio 1.23's AnnotationDraft.

A draft belongs to a task, to a user, and optionally to an annotation (the editor drafts changes
to a submitted annotation too). Deleting the task or the annotation deletes its drafts
(Tasks.delete_many, Annotations.delete); submitting an annotation with `draft_id` deletes that
draft (Annotations.create). The table is `drafts` in the store, so drafts survive a restart.
"""

from desktop.core import clock, fields
from desktop.core.errors import NotFound, ValidationError
from desktop.core.fields import check
from desktop.core.records import locked

COLUMNS = ("result", "lead_time", "was_postponed", "import_id", "task", "annotation")


def username(user, user_id):
    """LS's AnnotationDraftSerializer.created_username: "First Last email, id"."""
    if user is None:
        return ""
    name = user.get("first_name") or ""
    if user.get("last_name"):
        name = f"{name} {user['last_name']}"
    return f"{name}{' ' if name else ''}{user.get('email', '')}, {user_id}"


def draft_json(records, draft_id, doc):
    """A draft in LS's shape (AnnotationDraftSerializer): `user` is the user's email (LS's
    CharField of the user), `created_username` and `created_ago` for the editor's list."""
    user_id = doc.get("user")
    user = records.store.table("users").doc(user_id) if isinstance(user_id, int) else None
    return {"id": draft_id, "user": user["email"] if user else str(user_id),
            "created_username": username(user, user_id),
            "created_ago": clock.ago(doc["created_at"]), "result": doc.get("result"),
            "lead_time": doc.get("lead_time"), "was_postponed": doc.get("was_postponed", False),
            "import_id": doc.get("import_id"), "created_at": doc["created_at"],
            "updated_at": doc["updated_at"], "task": doc.get("task"),
            "annotation": doc.get("annotation")}


def of_task(records, task_id, user_id=None):
    """The drafts of a task as JSON, id order; only `user_id`'s when given."""
    docs = records.drafts
    found = []
    for draft_id in records.drafts_by_task.ids(task_id):
        doc = docs.doc(draft_id)
        if user_id is None or doc.get("user") == user_id:
            found.append(draft_json(records, draft_id, doc))
    return found


def ids_of_tasks(records, task_ids, user_id=None):
    """The ids of the drafts of `task_ids` (task- and annotation-level), `user_id`'s only when
    given."""
    found = []
    for task_id in task_ids:
        for draft_id in records.drafts_by_task.ids(task_id):
            if user_id is None or records.drafts.doc(draft_id).get("user") == user_id:
                found.append(draft_id)
    return found


class Drafts:
    def __init__(self, records, tasks, annotations):
        self.r = records
        self.tasks = tasks
        self.annotations = annotations

    def get(self, draft_id):
        doc = self.r.drafts.doc(draft_id) if isinstance(draft_id, int) else None
        if doc is None:
            raise NotFound("AnnotationDraft")
        return doc

    @locked
    def get_json(self, draft_id):
        return draft_json(self.r, draft_id, self.get(draft_id))

    @locked
    def list(self, task_id):
        """GET /api/tasks/{id}/drafts: every draft of the task, any user's. LS answers [] for a
        task that doesn't exist, as here."""
        return of_task(self.r, task_id)

    @locked
    def create(self, task_id, body, user_id, annotation_id=None):
        """POST /api/tasks/{id}/drafts (annotation_id None) and
        /api/tasks/{id}/annotations/{annotation_id}/drafts. The ids in the URL win over the
        body's `task` and `annotation` (checked all the same, as LS does)."""
        with self.r.transaction():
            self.tasks.get(task_id)  # LS: 500 (an unknown task); here 404
            if annotation_id is not None and self.r.annotations.doc(annotation_id) is None:
                raise NotFound("Annotation")  # LS: 500 (a foreign key error)
            clean = self._clean(body, partial=False)
            stamp = clock.iso()
            doc = {"result": clean["result"], "lead_time": clean.get("lead_time"),
                   "was_postponed": clean.get("was_postponed", False),
                   "import_id": clean.get("import_id"), "task": task_id,
                   "annotation": annotation_id, "user": user_id,
                   "created_at": stamp, "updated_at": stamp}
            return self.r.drafts.insert(doc)

    @locked
    def update(self, draft_id, body, partial=True):
        with self.r.transaction():
            self.get(draft_id)
            clean = self._clean(body, partial=partial)
            clean["updated_at"] = clock.iso()
            self.r.drafts.update(clean, doc_ids=[draft_id])

    @locked
    def delete(self, draft_id):
        self.get(draft_id)
        self.r.drafts.remove(doc_ids=[draft_id])

    @locked
    def from_annotation(self, annotation_id, user_id):
        """POST /api/annotations/{id}/convert-to-draft: the annotation becomes the user's
        draft of its task (result and lead time kept) and is deleted."""
        annotation = self.r.annotations.doc(annotation_id) \
            if isinstance(annotation_id, int) else None
        if annotation is None:
            raise NotFound("Annotation")
        with self.r.transaction():
            stamp = clock.iso()
            draft_id = self.r.drafts.insert({
                "result": annotation.get("result"), "lead_time": annotation.get("lead_time"),
                "was_postponed": False, "import_id": None, "task": annotation["task"],
                "annotation": None, "user": user_id, "created_at": stamp, "updated_at": stamp})
            self.annotations.delete(annotation_id)
        return draft_id

    def _clean(self, body, partial):
        """The writable fields of a draft body, DRF's way: `result` any JSON but null (required
        unless partial), `lead_time` a number, `was_postponed` a boolean, `import_id` an
        integer, `task` and `annotation` existing ids; `user` is read and ignored (LS always
        takes the requesting user). Every bad field is reported at once."""
        fields.expect_object(body)
        errors, clean = {}, {}
        readers = {"result": (fields.json_value,), "lead_time": (fields.number,),
                   "was_postponed": (fields.boolean,),
                   "import_id": (fields.integer, True, "A valid biginteger is required."),
                   "task": (fields.pk, lambda i: self.r.tasks.doc(i) is not None, True),
                   "annotation": (fields.pk, lambda i: self.r.annotations.doc(i) is not None,
                                  True),
                   "user": (fields.text,)}
        for name, (reader, *args) in readers.items():
            present, value = check(errors, body, name, reader, *args,
                                   required=name == "result" and not partial)
            if present and name != "user":
                clean[name] = value
        if errors:
            raise ValidationError(errors)
        return clean
