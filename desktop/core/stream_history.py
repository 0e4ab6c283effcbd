"""The label stream's history: the tasks a user was handed in a project, in order, with the
annotation they made of each (Label Studio's LabelStreamHistory). The editor's "back" button
walks it (GET /api/projects/{id}/label-stream-history).

One document per (user, project) in the `stream_history` table: {"user", "project", "data":
[{"taskId": id, "annotationId": id or None}, ...]}, the newest LIMIT tasks.
"""

from desktop.core.records import locked

LIMIT = 100  # LS's LABEL_STREAM_HISTORY_LIMIT
TASK_ID, ANNOTATION_ID = "taskId", "annotationId"


def _find(records, user_id, project_id):
    for doc_id, doc in records.stream_history.docs().items():
        if doc.get("user") == user_id and doc.get("project") == project_id:
            return doc_id, doc
    return None, None


def add(records, user_id, project_id, task_id):
    """The stream handed `task_id` out (LS's add_stream_history): appended once."""
    doc_id, doc = _find(records, user_id, project_id)
    if doc is None:
        records.stream_history.insert({"user": user_id, "project": project_id,
                                       "data": [{TASK_ID: task_id, ANNOTATION_ID: None}]})
        return
    data = doc.get("data") or []
    if any(item.get(TASK_ID) == task_id for item in data):
        return
    data = (data + [{TASK_ID: task_id, ANNOTATION_ID: None}])[-LIMIT:]
    records.stream_history.update({"data": data}, doc_ids=[doc_id])


def fill(records, user_id, project_id, task_id, annotation_id):
    """The user annotated `task_id`: its history entry names the annotation (LS's
    fill_history_annotation)."""
    doc_id, doc = _find(records, user_id, project_id)
    if doc is None or not any(item.get(TASK_ID) == task_id for item in doc.get("data") or []):
        return
    data = [{**item, ANNOTATION_ID: annotation_id} if item.get(TASK_ID) == task_id else item
            for item in doc["data"]]
    records.stream_history.update({"data": data}, doc_ids=[doc_id])


class StreamHistory:
    def __init__(self, records, projects):
        self.r = records
        self.projects = projects

    @locked
    def get(self, project_id, user_id):
        """The user's history in the project: tasks deleted since are left out, annotations
        deleted since are null (LS prunes the same way; a GET here writes nothing)."""
        self.projects.get(project_id)
        _, doc = _find(self.r, user_id, project_id)
        result = []
        for item in (doc or {}).get("data") or []:
            task = self.r.tasks.doc(item.get(TASK_ID))
            if task is None or task.get("project") != project_id:
                continue
            annotation_id = item.get(ANNOTATION_ID)
            if annotation_id is not None and self.r.annotations.doc(annotation_id) is None:
                annotation_id = None
            result.append({TASK_ID: item[TASK_ID], ANNOTATION_ID: annotation_id})
        return result
