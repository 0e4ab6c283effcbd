"""pull: a Label Studio project into LabelDesk (see the package docstring)."""

import urllib.parse

from desktop.core.errors import LabelDeskError
from desktop.data_import.uploads import safe_name
from desktop.pushpull.handover import (
    BATCH_SIZE,
    LS_PREFIX,
    PROJECT_FIELDS,
    REMOTE_MEDIA,
    Handover,
    PushPullError,
    map_strings,
    remote_users,
)
from desktop.pushpull.lsclient import LSError
from desktop.pushpull.mapping import Mapping


class Puller(Handover):
    def __init__(self, app, url, remote_project, token, into=None, batch_size=BATCH_SIZE,
                 progress=True, stream=None, stop_after=None, user_id=1, **hooks):
        super().__init__(app, url, token, batch_size, progress, stream, stop_after, **hooks)
        self.remote_id = int(remote_project)
        self.into = into
        self.user_id = user_id
        self.map = Mapping.open(app.settings.data_dir, "pull", self.ls.url, self.remote_id)
        self.unreachable = []

    def run(self):
        self._check_cancel()
        try:
            remote = self.ls.get(f"/api/projects/{self.remote_id}/")
        except LSError as e:
            if e.status == 404:
                raise PushPullError(f"There is no project {self.remote_id} on {self.ls.url}.") \
                    from None
            raise
        self.emails = remote_users(self.ls)
        self.local_id = self._target(remote)
        self._resolve_pending()
        self.say(f"Reading project {self.remote_id} from {self.ls.url} ...")
        tasks = self._export()
        predictions = self._remote_predictions()
        for found in predictions.values():
            found.sort(key=lambda p: p["id"])
        tasks.sort(key=lambda t: t["id"])
        mapped = self.map.ids("tasks")
        new = [t for t in tasks if t["id"] not in mapped]
        self._pull_tasks(new, predictions)
        self._pull_changes([t for t in tasks if t["id"] in mapped], predictions)
        self._finish_project(remote)
        return self.summary()

    def _export(self, **only):
        return self.ls.get(f"/api/projects/{self.remote_id}/export", exportType="JSON",
                           download_all_tasks="true", download_resources="false", **only)

    def _remote_predictions(self):
        """{remote task id: [prediction]} of the remote project."""
        predictions = {}
        for prediction in self.ls.get("/api/predictions/", project=self.remote_id):
            predictions.setdefault(prediction["task"], []).append(prediction)
        return predictions

    def _target(self, remote):
        local = self.into if self.into is not None else self.map.doc["target"]
        if local is not None:
            if self.r.projects.doc(int(local)) is None:
                if self.into is not None:
                    raise PushPullError(f"There is no LabelDesk project {local}.")
                self.say(f"LabelDesk project {local} is gone; pulling into a new one.")
                self.map.reset()
            else:
                if self.map.doc["target"] != int(local):
                    self.map.reset()
                    self.map.doc["target"] = int(local)
                    self.map.save()
                return int(local)
        fields = {k: remote[k] for k in PROJECT_FIELDS if remote.get(k) is not None}
        fields["label_config"] = remote.get("label_config") or "<View></View>"
        local = self.app.projects.create(fields, self.user_id)
        self.map.doc["target"] = local
        self.map.save()
        self.say(f"Created LabelDesk project {local}")
        return local

    def _resolve_pending(self):
        """A batch cut short: LabelDesk imported it whole or not at all."""
        pending = self.map.doc["pending"]
        if not pending:
            return
        after, remote_ids = pending["after"], pending["tasks"]
        with self.r.lock:
            landed = [i for i in self.app.tasks.ids(self.local_id) if i > after]
        if len(landed) == len(remote_ids):
            self._record_batch(remote_ids, landed)
        elif landed:
            raise PushPullError(f"LabelDesk project {self.local_id} changed during an "
                                "interrupted pull; pull into a new project (--into) instead.")
        self.map.doc["pending"] = None
        self.map.save()

    # media ----------------------------------------------------------------------------------

    def _fetch_media(self, data):
        files = self.map.table("files")
        ls_host = urllib.parse.urlsplit(self.ls.url).netloc

        def fetch(text):
            match = REMOTE_MEDIA.match(text)
            if not match or (match.group(2) and match.group(2) != ls_host):
                return text
            path = match.group(3)
            if text in files:
                return files[text]
            try:
                content = self.ls.download(path)
            except LSError:
                self.unreachable.append(text)
                return text
            name = LS_PREFIX.sub("", urllib.parse.unquote(path.rsplit("/", 1)[-1]))
            stored, url = self.app.uploads.plan(self.local_id, safe_name(name))
            self.app.uploads.write(self.local_id, stored, content)
            files[text] = url
            self.created["files"] += 1
            return url
        return map_strings(data, fetch)

    # tasks ----------------------------------------------------------------------------------

    def _annotation_fields(self, annotation):
        fields = {"result": annotation.get("result") or [],
                  "was_cancelled": bool(annotation.get("was_cancelled")),
                  "ground_truth": bool(annotation.get("ground_truth")),
                  "lead_time": annotation.get("lead_time")}
        email = self.emails.get(annotation.get("completed_by"))
        if email:
            fields["completed_by"] = {"email": email}
        return fields

    @staticmethod
    def _prediction_fields(prediction):
        return {"result": prediction.get("result") or [],
                "model_version": prediction.get("model_version") or "",
                "score": prediction.get("score")}

    def _task_item(self, task, predictions):
        """A remote task as LabelDesk imports it, its media fetched."""
        meta = {k: v for k, v in (task.get("meta") or {}).items() if k != "labeldesk_id"}
        item = {"data": self._fetch_media(task["data"]), "meta": meta,
                "overlap": task.get("overlap", 1)}
        item["annotations"] = [
            {**self._annotation_fields(a), "id": a["id"],
             "created_at": a.get("created_at"), "updated_at": a.get("updated_at")}
            for a in sorted(task.get("annotations") or [], key=lambda a: a["id"])]
        item["predictions"] = [self._prediction_fields(p)
                               for p in predictions.get(task["id"], [])]
        return item

    def _pull_tasks(self, tasks, predictions):
        if not tasks:
            return
        bar = self.bar("tasks", len(tasks))
        for start in range(0, len(tasks), self.batch_size):
            batch = tasks[start:start + self.batch_size]
            items = [self._task_item(task, predictions) for task in batch]
            remote_ids = [t["id"] for t in batch]
            with self.r.lock:
                existing = self.app.tasks.ids(self.local_id)
                after = existing[-1] if existing else 0
            self.map.doc["pending"] = {"tasks": remote_ids, "after": after}
            self.map.save()  # the files fetched for this batch are in it too
            answer = self.app.imports.import_json(self.local_id, items, self.user_id,
                                                  return_task_ids=True)
            self._check_stop("before-save")
            self._record_batch(remote_ids, answer["task_ids"], tasks=batch,
                               predictions=predictions)
            self.map.doc["pending"] = None
            self.map.save()
            self.created["tasks"] += len(batch)
            bar.update(len(batch))
            self._check_stop("after-save")
            self._check_cancel()

    def _record_batch(self, remote_ids, local_ids, tasks=None, predictions=None):
        self.map.table("tasks").update({str(r): i for r, i in zip(remote_ids, local_ids)})
        if tasks is None:  # after an interruption: read the server again for these tasks
            tasks = self._export(**{"ids[]": remote_ids})
            predictions = self._remote_predictions()
        by_id = {t["id"]: t for t in tasks}
        with self.r.lock:
            self._record_annotations(remote_ids, local_ids, by_id, predictions)

    def _record_annotations(self, remote_ids, local_ids, by_id, predictions):
        annotations, mapped_predictions = self.map.table("annotations"), \
            self.map.table("predictions")
        for remote_id, local_id in zip(remote_ids, local_ids):
            task = by_id.get(remote_id) or {}
            updated = {a["id"]: a.get("updated_at") for a in task.get("annotations") or []}
            for annotation_id, doc in self.app.tasks.annotations_of(local_id):
                source = doc.get("import_id")
                if source in updated:
                    annotations[str(source)] = [annotation_id, updated[source]]
                    self.created["annotations"] += 1
            remote_predictions = sorted(p["id"] for p in (predictions or {}).get(remote_id, []))
            for remote_prediction, (prediction_id, _) in zip(
                    remote_predictions, self.app.tasks.predictions_of(local_id)):
                mapped_predictions[str(remote_prediction)] = prediction_id
                self.created["predictions"] += 1

    # changes to tasks already pulled ------------------------------------------------------

    def _changes(self, tasks, predictions):
        """[(kind, local task id, remote item)]: annotations and predictions made (or
        annotations changed) on the server since the last pull."""
        annotations, mapped_predictions = self.map.table("annotations"), \
            self.map.table("predictions")
        local_tasks = self.map.table("tasks")
        todo = []
        for task in tasks:
            local_task = local_tasks[str(task["id"])]
            for annotation in task.get("annotations") or []:
                known = annotations.get(str(annotation["id"]))
                if known is None or known[1] != annotation.get("updated_at"):
                    todo.append(("annotation", local_task, annotation))
            for prediction in predictions.get(task["id"], []):
                if str(prediction["id"]) not in mapped_predictions:
                    todo.append(("prediction", local_task, prediction))
        return todo

    def _pull_changes(self, tasks, predictions):
        todo = self._changes(tasks, predictions)
        if not todo:
            return
        bar = self.bar("changes", len(todo))
        for kind, local_task, item in todo:
            if self.cancelled():
                self.map.save()
                self._check_cancel()
            if self.r.tasks.doc(local_task) is None:
                bar.update()
                continue  # deleted here: the local deletion stands
            if kind == "annotation":
                self._pull_annotation(local_task, item)
            else:
                fields = self._prediction_fields(item)
                local = self.app.predictions.create({**fields, "task": local_task})
                self.map.table("predictions")[str(item["id"])] = local
                self.created["predictions"] += 1
            bar.update()
        self.map.save()

    def _pull_annotation(self, local_task, item):
        annotations = self.map.table("annotations")
        fields = self._annotation_fields(item)
        fields.pop("completed_by", None)
        known = annotations.get(str(item["id"]))
        if known is None:
            with self.r.lock:
                adopted = next((i for i, a in self.app.tasks.annotations_of(local_task)
                                if a.get("import_id") == item["id"]), None)
            if adopted is None:
                adopted = self.app.annotations.create(
                    local_task, {**fields, "import_id": item["id"],
                                 "last_action": "imported"}, self.user_id)
                self.created["annotations"] += 1
            annotations[str(item["id"])] = [adopted, item.get("updated_at")]
        else:
            try:
                self.app.annotations.update(known[0], fields, self.user_id)
                self.updated["annotations"] += 1
            except LabelDeskError:
                pass  # deleted here: the local deletion stands
            known[1] = item.get("updated_at")

    def _finish_project(self, remote):
        version = remote.get("model_version")
        if version and not self.app.projects.get(self.local_id).get("model_version") == version:
            try:
                self.app.projects.update(self.local_id, {"model_version": version})
            except LabelDeskError:
                pass

    def summary(self):
        return {"url": self.ls.url, "remote_project": self.remote_id,
                "local_project": self.local_id, "mapping_file": str(self.map.path),
                "created": self.created, "updated": self.updated,
                "unreachable_media": self.unreachable, **self._mapped()}


def pull(app, url, remote_project, token, **options):
    """Pull a Label Studio project into LabelDesk; returns the summary with the id mapping."""
    return Puller(app, url, remote_project, token, **options).run_and_close()
