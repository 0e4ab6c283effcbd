"""Annotations (Label Studio's name for a labeling result; 0.x called them completions)."""

import uuid

import orjson

from desktop.core import clock, drafts, history, jsonload
from desktop.core.errors import LabelDeskError, NotFound, PermissionDenied, ValidationError
from desktop.core.paging import parse_bool
from desktop.core.records import locked

LAST_ACTIONS = ("prediction", "propagated_annotation", "imported", "submitted", "updated",
                "skipped", "accepted", "rejected", "fixed_and_accepted", "deleted_review")


def parse_result(result, model="annotation"):
    """A result given as a list, or as a string holding one (Label Studio parses those)."""
    if isinstance(result, str):
        try:
            result = jsonload.loads(result)  # nesting capped
        except orjson.JSONDecodeError:
            raise ValidationError({"result": [f'{model} "result" can\'t be parse from str '
                                              "to JSON"]}) from None
    if result is not None and not isinstance(result, list):
        message = f'"result" field in {model} must be list'
        if model == "annotation":  # LS's AnnotationSerializer.validate_result, word for word
            message = "annotation " + message
        raise ValidationError({"result": [message]})
    if result and not all(isinstance(r, dict) for r in result):
        raise ValidationError({"result": ["Each result item must be a dictionary."]})
    return result


# Columns LS's API serializer leaves out: prediction and result_count excluded, unique_id
# write-only (tasks/serializers.py AnnotationSerializer).
API_HIDDEN = ("prediction", "result_count", "unique_id")


def as_float(value):
    """A number as LS's FloatField gives it back (7 -> 7.0); None stays None."""
    return float(value) if isinstance(value, (int, float)) else value


def result_count(result):
    """LS's Annotation.save(): how many distinct result ids (a result without one counts as
    one); annotations created in bulk (imports) keep 0."""
    return len({r.get("id") if isinstance(r, dict) else None for r in result or []})


class Annotations:
    def __init__(self, records, tasks, users):
        self.r = records
        self.tasks = tasks
        self.users = users
        # callbacks(event, annotation_id, doc) after a save or delete (doc: the stored
        # annotation, or the deleted one): model webhooks, export storages, live folders
        self.on_change = []

    def get(self, annotation_id):
        doc = self.r.annotations.doc(annotation_id) if isinstance(annotation_id, int) else None
        if doc is None:
            raise NotFound("Annotation")
        return doc

    @locked
    def get_json(self, annotation_id):
        """as_json, holding the store's lock (as_json itself is for loops that hold it)."""
        return self.as_json(annotation_id)

    def as_json(self, annotation_id, doc=None):
        """LS's AnnotationSerializer (the API): its own fields first, then the columns of
        export_json less those it hides (API_HIDDEN)."""
        doc = doc or self.get(annotation_id)
        columns = self.export_json(annotation_id, doc)
        completed_by = columns["completed_by"]
        who = self.users.users.doc(completed_by) if isinstance(completed_by, int) else None
        name = ""
        if who:  # LS: first name, " " + last name when there is one, " email, id"
            name = who["first_name"] + (f" {who['last_name']}" if who["last_name"] else "")
            name += f" {who['email']}, {completed_by}"
        data = {"id": annotation_id, "result": columns["result"], "created_username": name,
                "created_ago": clock.ago(doc["created_at"]), "completed_by": completed_by}
        data.update(columns)  # then the hidden ones out: a third of the cost of a filter per key
        for key in API_HIDDEN:
            del data[key]
        return data

    def expanded_json(self, annotation_id, doc=None):
        """as_json with `completed_by` the user object (GET /api/tasks/{id} expands it;
        LS's other answers keep the id)."""
        data = self.as_json(annotation_id, doc)
        data["completed_by"] = self.users.expanded(data["completed_by"])
        return data

    def export_json(self, annotation_id, doc):
        """An annotation as Label Studio's JSON export writes it: the Annotation model's
        columns, in its order."""
        result = doc.get("result")
        return {"id": annotation_id, "completed_by": doc.get("completed_by"), "result": result,
                "was_cancelled": doc.get("was_cancelled", False),
                "ground_truth": doc.get("ground_truth", False), "created_at": doc["created_at"],
                "updated_at": doc["updated_at"], "draft_created_at": doc.get("draft_created_at"),
                "lead_time": as_float(doc.get("lead_time")),
                "prediction": doc.get("prediction") or {},
                "result_count": doc["result_count"] if "result_count" in doc
                else result_count(result),
                "unique_id": doc.get("unique_id"), "import_id": doc.get("import_id"),
                "last_action": doc.get("last_action"),
                "bulk_created": doc.get("bulk_created", False), "task": doc["task"],
                "project": doc["project"], "updated_by": doc.get("updated_by"),
                "parent_prediction": doc.get("parent_prediction"),
                "parent_annotation": doc.get("parent_annotation"),
                "last_created_by": doc.get("last_created_by")}

    @locked
    def list(self, task_id):
        self.tasks.get(task_id)
        return [self.as_json(i, d) for i, d in self.tasks.annotations_of(task_id)]

    def _clean(self, fields):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        clean = {}
        if "result" in fields:
            clean["result"] = parse_result(fields["result"])
        for key in ("was_cancelled", "ground_truth"):
            if key in fields:
                try:
                    value = parse_bool(key, fields[key])
                except ValidationError:
                    value = None
                if value is None:
                    raise ValidationError({key: ["Must be a valid boolean."]})
                clean[key] = value
        if "lead_time" in fields:
            value = fields["lead_time"]
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, (int, float))):
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise ValidationError({"lead_time": ["A valid number is required."]}) \
                        from None
            clean["lead_time"] = as_float(value)  # LS's FloatField: 7 is 7.0
        if "completed_by" in fields:
            user = fields["completed_by"]
            if isinstance(user, dict):
                user = user.get("id")
            if not isinstance(user, int) or isinstance(user, bool) \
                    or self.users.users.doc(user) is None:
                raise ValidationError({"completed_by": [
                    f'Invalid pk "{fields["completed_by"]}" - object does not exist.']})
            clean["completed_by"] = user
        if "last_action" in fields:
            if fields["last_action"] not in (None, *LAST_ACTIONS):
                raise ValidationError({"last_action": [
                    f'"{fields["last_action"]}" is not a valid choice.']})
            clean["last_action"] = fields["last_action"]
        for key in ("parent_prediction", "parent_annotation", "draft_created_at", "import_id",
                    "unique_id"):
            if key in fields:
                clean[key] = fields[key]
        return clean

    @locked
    def create(self, task_id, fields, user_id, was_cancelled=None):
        """A new annotation of the task. A `draft_id` in the fields names the user's draft it
        was made from (LS): the annotation keeps the draft's creation time as
        `draft_created_at`, and the draft is deleted."""
        with self.r.transaction():
            task = self.tasks.get(task_id)
            clean = self._clean(fields)
            draft_id = self._draft_of(fields, task_id, user_id)
            if draft_id is not None:
                clean["draft_created_at"] = self.r.drafts.doc(draft_id)["created_at"]
                history.note(self.r, draft_id=draft_id)
            if was_cancelled:
                clean["was_cancelled"] = True
            stamp = clock.iso()
            doc = {"task": task_id, "project": task["project"], "result": clean.pop("result", None),
                   "completed_by": clean.pop("completed_by", user_id),
                   "was_cancelled": False, "ground_truth": False, "created_at": stamp,
                   "updated_at": stamp, "lead_time": None, "updated_by": user_id,
                   "unique_id": str(uuid.uuid4())}
            doc.update(clean)
            doc["result_count"] = result_count(doc["result"])
            annotation_id = self.r.annotations.insert(doc)
            if doc["ground_truth"]:
                self._unset_other_ground_truth(task_id, annotation_id)
            self.tasks.recount(task_id)
            self.tasks.touch(task_id, user_id)
            if draft_id is not None:
                self.r.drafts.remove(doc_ids=[draft_id])
            self.tasks.history.fill(user_id, task["project"], task_id, annotation_id)
        self._notify("ANNOTATION_CREATED", annotation_id)
        return annotation_id

    @locked
    def update(self, annotation_id, fields, user_id, comment=None):
        """`comment`: what the version this update makes says (a restore names the version)."""
        with self.r.transaction():
            if comment is not None:
                history.note(self.r, comment=comment)
            doc = self.get(annotation_id)
            clean = self._clean(fields)
            clean["updated_at"] = clock.iso()
            clean["updated_by"] = user_id
            clean["result_count"] = result_count(clean.get("result", doc.get("result")))
            self.r.annotations.update(clean, doc_ids=[annotation_id])
            if clean.get("ground_truth"):
                self._unset_other_ground_truth(doc["task"], annotation_id)
            self.tasks.recount(doc["task"])
            self.tasks.touch(doc["task"], user_id)
        self._notify("ANNOTATION_UPDATED", annotation_id)

    def _draft_of(self, fields, task_id, user_id):
        """The id of the existing draft `fields["draft_id"]` names, None for none; 403 when it
        is another task's or another user's (LS)."""
        draft_id = fields.get("draft_id") if isinstance(fields, dict) else None
        if isinstance(draft_id, str) and draft_id.strip().isdigit():
            draft_id = int(draft_id)
        if not isinstance(draft_id, int) or isinstance(draft_id, bool):
            return None
        draft = self.r.drafts.doc(draft_id)
        if draft is None:
            return None
        if draft.get("task") != task_id or draft.get("user") != user_id:
            raise PermissionDenied(f"You have no permission to draft id:{draft_id}")
        return draft_id

    def delete(self, annotation_id, user_id=None):
        with self.r.trash.collect("annotations"), self.r.transaction():
            history.note(self.r, user=user_id)  # who deleted it, in its "deleted" version
            doc = self.get(annotation_id)
            self.r.drafts.remove(doc_ids=list(self.r.drafts_by_annotation.ids(annotation_id)))
            self.r.annotations.remove(doc_ids=[annotation_id])
            self.tasks.recount(doc["task"])
            self.tasks.touch(doc["task"], user_id)
        self._notify("ANNOTATIONS_DELETED", annotation_id, doc)

    def delete_of_tasks(self, task_ids, annotator=None):
        """The annotations of the tasks (only `annotator`'s when given) and their drafts,
        task- and annotation-level, as LS's delete_tasks_annotations action."""
        with self.r.trash.collect("annotations"), self.r.transaction():
            removed = 0
            self.r.drafts.remove(doc_ids=drafts.ids_of_tasks(self.r, task_ids, annotator))
            docs = self.r.annotations
            for task_id in task_ids:
                ids = [i for i in self.r.annotations_by_task.ids(task_id)
                       if annotator is None or docs.doc(i).get("completed_by") == annotator]
                if ids:
                    for annotation_id in ids:
                        self.r.drafts.remove(
                            doc_ids=list(self.r.drafts_by_annotation.ids(annotation_id)))
                    removed += len(self.r.annotations.remove(doc_ids=ids))
                    self.tasks.recount(task_id)
        return removed

    def _unset_other_ground_truth(self, task_id, keep_id):
        others = [i for i, a in self.tasks.annotations_of(task_id)
                  if i != keep_id and a.get("ground_truth")]
        if others:
            self.r.annotations.update({"ground_truth": False}, doc_ids=others)

    def _notify(self, event, annotation_id, doc=None):
        doc = doc or self.r.annotations.doc(annotation_id)
        if doc is None:
            return
        for callback in self.on_change:
            try:
                callback(event, annotation_id, doc)
            except LabelDeskError:
                pass
