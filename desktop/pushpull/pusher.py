"""push: a LabelDesk project onto a Label Studio server (see the package docstring)."""

import orjson

from desktop.pushpull.handover import (
    BATCH_SIZE,
    LOCAL_MEDIA,
    LS_PREFIX,
    MEDIA_BATCH_BYTES,
    MEDIA_BATCH_FILES,
    MEDIA_SUFFIXES,
    PROJECT_FIELDS,
    Handover,
    PushPullError,
    data_key_count,
    map_strings,
    remote_tasks,
    remote_users,
    strings_in,
)
from desktop.pushpull.lsclient import LSError
from desktop.pushpull.mapping import Mapping


class Pusher(Handover):
    def __init__(self, app, project_id, url, token, remote_project=None, batch_size=BATCH_SIZE,
                 progress=True, stream=None, stop_after=None, **hooks):
        self.project_id = project_id
        self.project = app.projects.get(project_id)  # an unknown project opens no connection
        super().__init__(app, url, token, batch_size, progress, stream, stop_after, **hooks)
        self.map = Mapping.open(app.settings.data_dir, "push", self.ls.url, project_id)
        self.given_target = remote_project

    def run(self):
        self._check_cancel()
        remote = self._target()
        self.remote_id = remote["id"]
        with self.r.lock:
            local_users = {i: u["email"] for i, u in self.r.store.table("users").docs().items()}
        by_email = {email: i for i, email in remote_users(self.ls).items()}
        self.user_map = {i: by_email[e] for i, e in local_users.items() if e in by_email}

        if (self.map.doc["pending"]
                or (self.given_target is not None and not self.map.doc["tasks"])
                or (remote.get("task_number") or 0) != len(self.map.doc["tasks"])):
            self._rebuild()

        with self.r.lock:
            task_ids = list(self.app.tasks.ids(self.project_id))
        mapped = self.map.ids("tasks")
        new = [i for i in task_ids if i not in mapped]
        self._push_media(new, remote)
        if remote.get("label_config") != self.project["label_config"]:
            self.ls.patch(f"/api/projects/{self.remote_id}/",
                          {"label_config": self.project["label_config"]})
        self._push_tasks(new)
        self._push_changes([i for i in task_ids if i in mapped])
        self._finish_project()
        return self.summary()

    # the remote project ------------------------------------------------------------------

    def _target(self):
        target = self.given_target or self.map.doc["target"]
        if target is not None:
            try:
                remote = self.ls.get(f"/api/projects/{int(target)}/")
            except LSError as e:
                if e.status != 404:
                    raise
                if self.given_target is not None:
                    raise PushPullError(f"There is no project {target} on {self.ls.url}.") \
                        from None
                self.say(f"Project {target} is gone from {self.ls.url}; creating it again.")
                self.map.reset()
            else:
                if self.map.doc["target"] != remote["id"]:
                    self.map.reset()
                    self.map.doc["target"] = remote["id"]
                    self.map.save()
                return remote
        fields = {k: self.project.get(k) for k in PROJECT_FIELDS if k in self.project}
        fields = {k: v for k, v in fields.items() if v is not None}
        if not self._needs_media_first():
            fields["label_config"] = self.project["label_config"]
        remote = self.ls.post("/api/projects/", fields)
        self.map.doc["target"] = remote["id"]
        self.map.save()
        self.say(f"Created project {remote['id']} on {self.ls.url}")
        return remote

    def _needs_media_first(self):
        """A multi-key config with media to upload: set the config after the upload."""
        if data_key_count(self.project["label_config"]) <= 1:
            return False
        with self.r.lock:
            return any(self._local_media(doc["data"]) for doc in self._docs(
                self.app.tasks.ids(self.project_id)))

    def _docs(self, task_ids):
        """The tasks still there (the app may delete some while it pushes); hold the lock."""
        docs = (self.r.tasks.doc(i) for i in task_ids)
        return [doc for doc in docs if doc is not None]

    # rebuilding the mapping from the server ----------------------------------------------

    def _rebuild(self):
        self.say("Checking what the server already has ...")
        local_tasks = self._ours(remote_tasks(self.ls, self.remote_id))
        with self.r.lock:
            self._rebuild_from(local_tasks)
        self.map.save()

    def _rebuild_from(self, local_tasks):
        tasks_map, annotations, predictions = {}, {}, {}
        for local_id, task in local_tasks.items():
            tasks_map[str(local_id)] = task["id"]
            local_annotations = dict(self.app.tasks.annotations_of(local_id))
            for annotation in sorted(task.get("annotations") or [], key=lambda a: a["id"]):
                source = annotation.get("import_id")
                if source in local_annotations and str(source) not in annotations:
                    annotations[str(source)] = [annotation["id"],
                                                local_annotations[source]["updated_at"]]
            remaining = sorted(task.get("predictions") or [], key=lambda p: p["id"])
            for prediction_id, prediction in self.app.tasks.predictions_of(local_id):
                for candidate in remaining:
                    if (candidate.get("model_version") == prediction.get("model_version")
                            and candidate.get("result") == prediction.get("result")):
                        predictions[str(prediction_id)] = candidate["id"]
                        remaining.remove(candidate)
                        break
        self.map.doc.update(tasks=tasks_map, annotations=annotations, predictions=predictions,
                            pending=None)

    def _ours(self, tasks):
        """{local task id: remote task} of the remote tasks pushed from this project; a task
        imported twice by a retried request is deleted from the server."""
        local_tasks, dupes = {}, []
        for task in sorted(tasks, key=lambda t: t["id"]):
            local_id = (task.get("meta") or {}).get("labeldesk_id")
            doc = self.r.tasks.doc(local_id) if isinstance(local_id, int) else None
            if doc is None or doc["project"] != self.project_id:
                continue
            if local_id in local_tasks:
                dupes.append(task["id"])
                continue
            local_tasks[local_id] = task
        if dupes:
            self.ls.post("/api/dm/actions/", {"selectedItems": {"all": False, "included": dupes}},
                         params={"id": "delete_tasks", "project": self.remote_id})
            self.say(f"Deleted {len(dupes)} task(s) imported twice by an interrupted push.")
        return local_tasks

    # media --------------------------------------------------------------------------------

    def _local_media(self, data):
        found = []
        for text in strings_in(data):
            if LOCAL_MEDIA.match(text):
                path = self.app.uploads.url_to_path(text)
                if path is not None:
                    found.append((text, path))
        return found

    def _push_media(self, task_ids, remote):
        files = self.map.table("files")
        wanted = {}
        with self.r.lock:
            docs = self._docs(task_ids)
        for doc in docs:
            for url, path in self._local_media(doc["data"]):
                key = LOCAL_MEDIA.match(url).expand(r"/data/upload/\1/\2")
                if key not in files and key not in wanted:
                    wanted[key] = path
        if not wanted:
            return
        fast = data_key_count(remote.get("label_config") or "") <= 1
        bar = self.bar("media", len(wanted))
        items = list(wanted.items())
        batch, size = [], 0
        for key, path in items:
            if fast and path.suffix.lower() in MEDIA_SUFFIXES:
                data = path.read_bytes()
                batch.append((key, path, data))
                size += len(data)
                if len(batch) >= MEDIA_BATCH_FILES or size >= MEDIA_BATCH_BYTES:
                    self._upload_batch(batch, bar)
                    batch, size = [], 0
            else:
                self._upload_replacing(key, path, bar)
        if batch:
            self._upload_batch(batch, bar)

    def _upload_name(self, path):
        return LS_PREFIX.sub("", path.name) or path.name

    def _upload_batch(self, batch, bar):
        answer = self.ls.upload(
            f"/api/projects/{self.remote_id}/import",
            [(f"file{n}", self._upload_name(path), data) for n, (_, path, data) in
             enumerate(batch)], params={"commit_to_project": "false"})
        ids = answer.get("file_upload_ids") or []
        listed = self.ls.get(f"/api/projects/{self.remote_id}/file-uploads",
                             ids=orjson.dumps(ids).decode())
        by_id = {u["id"]: u["file"] for u in listed}
        for (key, path, _), upload_id in zip(batch, ids):
            stored = by_id.get(upload_id, "")
            if not stored.endswith(self._upload_name(path)):
                raise PushPullError(f"Label Studio stored {path.name} as {stored!r}; "
                                    "can't tell where it is.")
            self.map.table("files")[key] = "/data/" + stored
        self.created["files"] += len(batch)
        self.map.save()
        bar.update(len(batch))
        self._check_cancel()

    def _upload_replacing(self, key, path, bar):
        placeholder = self.ls.upload(
            f"/api/projects/{self.remote_id}/import",
            [("file", "labeldesk-media.json", b'[{"labeldesk": "media placeholder"}]')],
            params={"commit_to_project": "false"})
        upload_id = placeholder["file_upload_ids"][0]
        answer = self.ls.upload(f"/api/import/file-upload/{upload_id}",
                                [("file", self._upload_name(path), path.read_bytes())],
                                method="PATCH")
        self.map.table("files")[key] = "/data/" + answer["file"]
        self.created["files"] += 1
        self.map.save()
        bar.update()
        self._check_cancel()

    def _remote_data(self, data):
        files = self.map.table("files")

        def swap(text):
            match = LOCAL_MEDIA.match(text)
            if match:
                return files.get(match.expand(r"/data/upload/\1/\2"), text)
            return text
        return map_strings(data, swap)

    # tasks ----------------------------------------------------------------------------------

    def _annotation_fields(self, doc):
        fields = {"result": doc.get("result") or [],
                  "was_cancelled": bool(doc.get("was_cancelled")),
                  "ground_truth": bool(doc.get("ground_truth")),
                  "lead_time": doc.get("lead_time")}
        user = self.user_map.get(doc.get("completed_by"))
        if user is not None:
            fields["completed_by"] = user
        return fields

    @staticmethod
    def _prediction_fields(doc):
        fields = {"result": doc.get("result") or [], "model_version": doc.get("model_version", "")}
        if doc.get("score") is not None:
            fields["score"] = doc["score"]
        return fields

    def _task_item(self, task_id, task):
        """A local task as Label Studio imports it, carrying its local id in meta (under the
        store's lock)."""
        item = {"data": self._remote_data(task["data"]),
                "meta": {**(task.get("meta") or {}), "labeldesk_id": task_id}}
        if task.get("overlap", 1) != 1:
            item["overlap"] = task["overlap"]
        annotations = self.app.tasks.annotations_of(task_id)
        if annotations:
            item["annotations"] = [{**self._annotation_fields(a), "id": i}
                                   for i, a in annotations]
        predictions = self.app.tasks.predictions_of(task_id)
        if predictions:
            item["predictions"] = [self._prediction_fields(p) for _, p in predictions]
        return item

    def _push_tasks(self, task_ids):
        if not task_ids:
            return
        bar = self.bar("tasks", len(task_ids))
        for start in range(0, len(task_ids), self.batch_size):
            batch = task_ids[start:start + self.batch_size]
            with self.r.lock:
                docs = {i: self.r.tasks.doc(i) for i in batch}
                batch = [i for i in batch if docs[i] is not None]  # deleted meanwhile
                items = [self._task_item(i, docs[i]) for i in batch]
            if not batch:
                bar.update(len(docs))
                continue
            self.map.doc["pending"] = {"tasks": batch}
            self.map.save()
            answer = self.ls.post(f"/api/projects/{self.remote_id}/import", items,
                                  params={"return_task_ids": "true"})
            remote_ids = answer.get("task_ids") or []
            if len(remote_ids) != len(batch):
                raise PushPullError("Label Studio did not return the ids of the imported tasks "
                                    f"({answer!r}); run push again to reconcile.")
            self._check_stop("before-save")
            self._record_batch(batch, remote_ids)
            self.map.doc["pending"] = None
            self.map.save()
            self.created["tasks"] += len(batch)
            bar.update(len(docs))
            self._check_stop("after-save")
            self._check_cancel()

    def _record_batch(self, batch, remote_ids):
        tasks = self.map.table("tasks")
        for local_id, remote_id in zip(batch, remote_ids):
            tasks[str(local_id)] = remote_id
        need = [r for local_id, r in zip(batch, remote_ids)
                if self.r.annotations_by_task.count(local_id)
                or self.r.predictions_by_task.count(local_id)]
        if not need:
            return
        remote = {t["id"]: t for t in remote_tasks(self.ls, self.remote_id, ids=need)}
        with self.r.lock:
            self._record_annotations(batch, remote_ids, remote)

    def _record_annotations(self, batch, remote_ids, remote):
        annotations, predictions = self.map.table("annotations"), self.map.table("predictions")
        for local_id, remote_id in zip(batch, remote_ids):
            task = remote.get(remote_id)
            if task is None:
                continue
            by_source = {a.get("import_id"): a["id"] for a in task.get("annotations") or []}
            for annotation_id, doc in self.app.tasks.annotations_of(local_id):
                if annotation_id in by_source:
                    annotations[str(annotation_id)] = [by_source[annotation_id],
                                                       doc["updated_at"]]
                    self.created["annotations"] += 1
            remote_predictions = sorted(p["id"] for p in task.get("predictions") or [])
            for (prediction_id, _), remote_prediction in zip(
                    self.app.tasks.predictions_of(local_id), remote_predictions):
                predictions[str(prediction_id)] = remote_prediction
                self.created["predictions"] += 1

    # changes to tasks already pushed ------------------------------------------------------

    def _changes(self, task_ids):
        """[(kind, task id, local id, doc)]: annotations and predictions added (or annotations
        changed) since the last push."""
        with self.r.lock:
            return self._changes_locked(task_ids)

    def _changes_locked(self, task_ids):
        annotations, predictions = self.map.table("annotations"), self.map.table("predictions")
        todo = []
        for task_id in task_ids:
            for annotation_id, doc in self.app.tasks.annotations_of(task_id):
                known = annotations.get(str(annotation_id))
                if known is None or known[1] != doc["updated_at"]:
                    todo.append(("annotation", task_id, annotation_id, doc))
            for prediction_id, doc in self.app.tasks.predictions_of(task_id):
                if str(prediction_id) not in predictions:
                    todo.append(("prediction", task_id, prediction_id, doc))
        return todo

    def _push_changes(self, task_ids):
        todo = self._changes(task_ids)
        if not todo:
            return
        tasks = self.map.table("tasks")
        bar = self.bar("changes", len(todo))
        for n, (kind, task_id, local_id, doc) in enumerate(todo, 1):
            if self.cancelled():
                self.map.save()
                self._check_cancel()
            remote_task = tasks[str(task_id)]
            if kind == "annotation":
                self._push_annotation(remote_task, local_id, doc)
            else:
                answer = self.ls.post("/api/predictions/",
                                      {**self._prediction_fields(doc), "task": remote_task})
                self.map.table("predictions")[str(local_id)] = answer["id"]
                self.created["predictions"] += 1
            if n % 50 == 0:
                self.map.save()
            bar.update()
        self.map.save()

    def _push_annotation(self, remote_task, local_id, doc):
        annotations = self.map.table("annotations")
        fields = self._annotation_fields(doc)
        known = annotations.get(str(local_id))
        if known is None:
            answer = self.ls.post(f"/api/tasks/{remote_task}/annotations/",
                                  {**fields, "import_id": local_id})
            annotations[str(local_id)] = [answer["id"], doc["updated_at"]]
            self.created["annotations"] += 1
        else:
            fields.pop("completed_by", None)
            self.ls.patch(f"/api/annotations/{known[0]}/", fields)
            known[1] = doc["updated_at"]
            self.updated["annotations"] += 1

    def _finish_project(self):
        version = self.project.get("model_version")
        if version:
            try:
                self.ls.patch(f"/api/projects/{self.remote_id}/", {"model_version": version})
            except LSError:
                pass  # a live-model version the server does not know: leave its own

    def summary(self):
        return {"url": self.ls.url, "local_project": self.project_id,
                "remote_project": self.remote_id,
                "project_url": f"{self.ls.url}/projects/{self.remote_id}/",
                "mapping_file": str(self.map.path),
                "created": self.created, "updated": self.updated, **self._mapped()}


def push(app, project_id, url, token, **options):
    """Push a LabelDesk project to Label Studio; returns the summary with the id mapping."""
    return Pusher(app, project_id, url, token, **options).run_and_close()
