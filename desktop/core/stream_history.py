"""The label stream's history: the tasks a user was handed in a project, in order, with the
annotation they made of each (Label Studio's LabelStreamHistory). The editor's "back" button
walks it (GET /api/projects/{id}/label-stream-history).

One small document per entry in the `stream_history` table: {"user", "project", "task",
"annotation"}, id order = hand-out order, the newest LIMIT kept per user and project.

Handing a task out must stay as fast as a read (the label stream's p95, tests/api/test_load.py),
so it writes nothing: the entry waits in memory and is stored with the next write of that
user's annotation in the project, in the same transaction. What was handed out and never
annotated before a restart is forgotten; it joins the history again when handed out again.
"""

from desktop.core.records import locked

LIMIT = 100  # LS's LABEL_STREAM_HISTORY_LIMIT
TASK_ID, ANNOTATION_ID = "taskId", "annotationId"


class StreamHistory:
    def __init__(self, records, projects):
        self.r = records
        self.projects = projects
        # (user, project) -> task ids handed out, not stored yet; read and changed under the
        # store's lock (add: Tasks.next_task, fill: Annotations.create's transaction, get)
        self.pending = {}

    def _stored(self, user_id, project_id):
        return list(self.r.stream_history_by_key.ids((user_id, project_id)))

    def add(self, user_id, project_id, task_id):
        """The stream handed `task_id` out (LS's add_stream_history): remembered once."""
        key = (user_id, project_id)
        docs = self.r.stream_history
        pending = self.pending.setdefault(key, [])
        if task_id in pending or any(docs.doc(i)["task"] == task_id
                                     for i in self._stored(user_id, project_id)):
            return
        pending.append(task_id)
        del pending[:-LIMIT]

    def fill(self, user_id, project_id, task_id, annotation_id):
        """The user annotated `task_id` (LS's fill_history_annotation): its entry names the
        annotation. Called inside the annotation's transaction, which stores what was pending
        with it (the usual case: the task was just handed out)."""
        key = (user_id, project_id)
        docs = self.r.stream_history
        pending = self.pending.get(key) or ()
        if task_id in pending:
            del self.pending[key]
            for pending_task in pending:
                docs.insert({"user": user_id, "project": project_id, "task": pending_task,
                             "annotation": annotation_id if pending_task == task_id else None})
            stored = self._stored(user_id, project_id)
            if len(stored) > 2 * LIMIT:  # trimmed now and then, not at every annotation
                docs.remove(doc_ids=stored[:-LIMIT])
            return
        mine = [i for i in self._stored(user_id, project_id) if docs.doc(i)["task"] == task_id]
        if mine:
            docs.update({"annotation": annotation_id}, doc_ids=mine)

    @locked
    def get(self, project_id, user_id):
        """The user's history in the project: tasks deleted since are left out, annotations
        deleted since are null (LS prunes the same way; a GET here writes nothing)."""
        self.projects.get(project_id)
        docs = self.r.stream_history
        entries = [(docs.doc(i)["task"], docs.doc(i)["annotation"])
                   for i in self._stored(user_id, project_id)]
        entries += [(t, None) for t in self.pending.get((user_id, project_id), ())]
        result = []
        for task_id, annotation_id in entries[-LIMIT:]:
            task = self.r.tasks.doc(task_id)
            if task is None or task.get("project") != project_id:
                continue
            if annotation_id is not None and self.r.annotations.doc(annotation_id) is None:
                annotation_id = None
            result.append({TASK_ID: task_id, ANNOTATION_ID: annotation_id})
        return result
