"""Hand a project over to a Label Studio server, and bring one back: `labeldesk push` / `pull`.

push: creates the project on Label Studio with the same label config and settings, uploads the
media the tasks point at (/data/upload/...), imports the tasks with their annotations and
predictions, and returns the mapping of ids. pull: the reverse, into a LabelDesk project.

Idempotent and resumable. A mapping file per (data folder, server, project) lives in
<data dir>/pushpull/<hash>.json, written atomically after every batch: local <-> remote ids of
tasks, annotations, predictions and media files. A re-run skips what the mapping has, sends what
is new (tasks, annotations, predictions; annotations changed since the last run are updated) and
never duplicates. What a crash can leave unrecorded is found again on the server:
- every pushed task carries meta.labeldesk_id (the local task id) and every pushed annotation
  its local id as import_id (Label Studio's field for it), so the mapping is rebuilt from the
  server when a batch was cut short, when the remote task count disagrees with the mapping, or
  when the mapping file is gone (`--project-id` names the remote project then); a task imported
  twice by a retried request is deleted again;
- pulled batches are one LabelDesk transaction each: a batch noted as pending in the mapping is
  either all there (adopted) or not at all (imported again).

Media on push. Label Studio stores uploads as /data/upload/<project>/<8 hex>-<name> and only
accepts them through its import endpoint, which also parses them as tasks. With
commit_to_project=false the files are kept as file uploads and no task is made; that parse only
works while the project's config has at most one data key, so a new project is created without
its config, gets its media, then its config. Files added to a project that already has a
multi-key config go through a placeholder upload (a tiny JSON file, uncommitted) whose file is
then replaced with PATCH /api/import/file-upload/{id}. Either way the task data are rewritten to
the URLs Label Studio gave, and annotations stay attached because tasks are imported as JSON
with them.
"""

import hashlib
import os
import re
import sys
import time
import urllib.parse
from pathlib import Path

import orjson

from . import labelconfig
from .files import atomic_write
from .errors import LabelDeskError
from .lsclient import LabelStudio, LSError
from .uploads import safe_name

BATCH_SIZE = 250
MEDIA_BATCH_FILES = 50
MEDIA_BATCH_BYTES = 64 * 1024 * 1024
PAGE_SIZE = 500
STOP_ENV = "LABELDESK_PUSHPULL_STOP_AFTER"

# Project settings carried over both ways (the label config is handled on its own).
PROJECT_FIELDS = ("title", "description", "expert_instruction", "show_instruction",
                  "show_skip_button", "enable_empty_annotation", "show_annotation_history",
                  "color", "maximum_annotations", "sampling", "show_ground_truth_first",
                  "show_overlap_first", "overlap_cohort_percentage", "skip_queue",
                  "reveal_preannotations_interactively", "show_collab_predictions",
                  "evaluate_predictions_automatically", "min_annotations_to_start_training")

LOCAL_MEDIA = re.compile(r"^(?:https?://[^/]+)?/data/upload/(\d+)/([^/?#]+)$")
REMOTE_MEDIA = re.compile(r"^(?:(https?)://([^/]+))?(/data/upload/\d+/[^?#]+)$")
LS_PREFIX = re.compile(r"^[0-9a-f]{8}-")
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".svg", ".mp3", ".wav",
                  ".flac", ".m4a", ".ogg", ".mp4", ".webm", ".pdf")


class PushPullError(Exception):
    """A hand-over that can't go on; the message says why and what to do."""


class Interrupted(PushPullError):
    """Stopped on purpose after some batches (tests, LABELDESK_PUSHPULL_STOP_AFTER)."""


# -- small helpers ------------------------------------------------------------------------


def map_strings(value, fn):
    """A copy of a JSON value with every string passed through fn."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    return value


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)


def data_key_count(xml):
    try:
        return len(labelconfig.parse(xml).data_keys)
    except Exception:  # an unparsable remote config: take the careful path
        return 2


def stop_plan(stop_after):
    """(batches, where) from a parameter or LABELDESK_PUSHPULL_STOP_AFTER="N[:before-save]"."""
    spec = stop_after if stop_after is not None else os.environ.get(STOP_ENV)
    if spec in (None, ""):
        return None
    if isinstance(spec, int):
        return spec, "after-save"
    count, _, where = str(spec).partition(":")
    return int(count), where or "after-save"


class Progress:
    """A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise."""

    def __init__(self, label, total, stream=None, enabled=True):
        self.label, self.total, self.done = label, total, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.started = time.monotonic()
        self._drawn, self._tenth = 0.0, -1
        self.update(0)

    def update(self, step=1):
        self.done += step
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._drawn < 0.1 and self.done < self.total:
                return
            self._drawn = now
            self.stream.write("\r" + self._line())
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            tenth = min(10, self.done * 10 // self.total)
            if tenth == self._tenth:
                return
            self._tenth = tenth
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def _line(self):
        width = 30
        filled = width * min(self.done, self.total) // self.total
        elapsed = time.monotonic() - self.started
        return (f"{self.label:<12} [{'#' * filled}{'.' * (width - filled)}] "
                f"{min(self.done, self.total)}/{self.total}  {elapsed:5.1f}s")


# -- the mapping file ---------------------------------------------------------------------


class Mapping:
    """local <-> remote ids for one (data folder, server, project); JSON, written atomically."""

    def __init__(self, path, doc):
        self.path = path
        self.doc = doc

    @classmethod
    def open(cls, data_dir, kind, url, project_id):
        key = f"{kind}|{url}|{project_id}"
        path = Path(data_dir) / "pushpull" / (hashlib.sha256(key.encode()).hexdigest()[:20]
                                               + ".json")
        try:
            doc = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            doc = None
        except (OSError, orjson.JSONDecodeError):
            doc = None  # a damaged mapping is rebuilt from the server / the store
        mapping = cls(path, doc or {})
        mapping.doc.setdefault("kind", kind)
        mapping.doc.setdefault("url", url)
        mapping.doc.setdefault("project", project_id)
        mapping.reset(keep_target=True)
        return mapping

    def reset(self, keep_target=False):
        d = self.doc
        if not keep_target:
            d["target"] = None
        d.setdefault("target", None)
        for name in ("tasks", "annotations", "predictions", "files"):
            if not keep_target or not isinstance(d.get(name), dict):
                d[name] = {}
        if not keep_target:
            d["pending"] = None
        d.setdefault("pending", None)

    def table(self, name):
        return self.doc[name]

    def save(self):
        atomic_write(self.path, orjson.dumps(self.doc))

    def ids(self, name):
        """{local or remote id (int): the other id (int)} of one table."""
        return {int(k): (v[0] if isinstance(v, list) else v)
                for k, v in self.doc[name].items()}


# -- remote reads -------------------------------------------------------------------------


def remote_tasks(ls, project_id, ids=None):
    """All tasks of a remote project with annotations and predictions, page by page."""
    query = {"filters": None}
    if ids is not None:
        query["selectedItems"] = {"all": False, "included": list(ids)}
    query = orjson.dumps(query).decode()
    page, out = 1, []
    while True:
        try:
            answer = ls.get("/api/tasks/", project=project_id, fields="all", page=page,
                            page_size=PAGE_SIZE, resolve_uri="false", query=query)
        except LSError as e:
            if e.status == 404 and page > 1:
                break
            raise
        tasks = answer.get("tasks") or []
        out.extend(tasks)
        if len(tasks) < PAGE_SIZE:
            break
        page += 1
    return out


def remote_users(ls):
    try:
        users = ls.get("/api/users/")
    except LSError:
        return {}
    return {u["id"]: u.get("email") for u in users if isinstance(u, dict) and "id" in u}


# -- push -----------------------------------------------------------------------------------


class Pusher:
    def __init__(self, app, project_id, url, token, remote_project=None, batch_size=BATCH_SIZE,
                 progress=True, stream=None, stop_after=None):
        self.app, self.r = app, app.records
        self.project_id = project_id
        self.project = app.projects.get(project_id)
        self.ls = LabelStudio(url, token)
        self.batch_size = max(1, batch_size)
        self.progress, self.stream = progress, stream or sys.stderr
        self.stop = stop_plan(stop_after)
        self.batches = 0
        self.map = Mapping.open(app.settings.data_dir, "push", self.ls.url, project_id)
        self.given_target = remote_project
        self.created = {"tasks": 0, "annotations": 0, "predictions": 0, "files": 0}
        self.updated = {"annotations": 0}
        self.rebuilt = False

    def say(self, text):
        if self.progress:
            self.stream.write(text + "\n")
            self.stream.flush()

    def run(self):
        me = self.ls.get("/api/current-user/whoami")
        self.my_id = me.get("id")
        remote = self._target()
        self.remote_id = remote["id"]
        local_users = {i: u["email"] for i, u in self.r.store.table("users")._read_table().items()}
        by_email = {email: i for i, email in remote_users(self.ls).items()}
        self.user_map = {i: by_email[e] for i, e in local_users.items() if e in by_email}

        if (self.map.doc["pending"]
                or (self.given_target is not None and not self.map.doc["tasks"])
                or (remote.get("task_number") or 0) != len(self.map.doc["tasks"])):
            self._rebuild()

        task_ids = [i for i in self.app.tasks.ids(self.project_id)]
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
        return any(self._local_media(self.r.tasks.doc(i)["data"])
                   for i in self.app.tasks.ids(self.project_id))

    # rebuilding the mapping from the server ----------------------------------------------

    def _rebuild(self):
        self.rebuilt = True
        self.say("Checking what the server already has ...")
        tasks = remote_tasks(self.ls, self.remote_id)
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
        self.map.save()

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
        for task_id in task_ids:
            for url, path in self._local_media(self.r.tasks.doc(task_id)["data"]):
                key = LOCAL_MEDIA.match(url).expand(r"/data/upload/\1/\2")
                if key not in files and key not in wanted:
                    wanted[key] = path
        if not wanted:
            return
        fast = data_key_count(remote.get("label_config") or "") <= 1
        bar = Progress("media", len(wanted), self.stream, self.progress)
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

    def _remote_data(self, data):
        files = self.map.table("files")

        def swap(text):
            match = LOCAL_MEDIA.match(text)
            if match:
                return files.get(match.expand(r"/data/upload/\1/\2"), text)
            return text
        return map_strings(data, swap)

    # tasks ----------------------------------------------------------------------------------

    def _annotation_fields(self, annotation_id, doc):
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

    def _push_tasks(self, task_ids):
        if not task_ids:
            return
        bar = Progress("tasks", len(task_ids), self.stream, self.progress)
        for start in range(0, len(task_ids), self.batch_size):
            batch = task_ids[start:start + self.batch_size]
            items = []
            for task_id in batch:
                task = self.r.tasks.doc(task_id)
                item = {"data": self._remote_data(task["data"]),
                        "meta": {**(task.get("meta") or {}), "labeldesk_id": task_id}}
                if task.get("overlap", 1) != 1:
                    item["overlap"] = task["overlap"]
                annotations = self.app.tasks.annotations_of(task_id)
                if annotations:
                    item["annotations"] = [{**self._annotation_fields(i, a), "id": i}
                                           for i, a in annotations]
                predictions = self.app.tasks.predictions_of(task_id)
                if predictions:
                    item["predictions"] = [self._prediction_fields(p) for _, p in predictions]
                items.append(item)
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
            bar.update(len(batch))
            self._check_stop("after-save")

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

    def _check_stop(self, where):
        """The test hook: stop after N task batches, before or after the mapping is saved."""
        if self.stop is None:
            return
        if where == "before-save":
            self.batches += 1
        count, at = self.stop
        if at == where and self.batches >= count:
            raise Interrupted(f"stopped after {self.batches} batch(es) ({where})")

    def _push_changes(self, task_ids):
        """Annotations and predictions added (or annotations changed) since the last push."""
        annotations, predictions = self.map.table("annotations"), self.map.table("predictions")
        tasks = self.map.table("tasks")
        todo = []
        for task_id in task_ids:
            for annotation_id, doc in self.app.tasks.annotations_of(task_id):
                known = annotations.get(str(annotation_id))
                if known is None or known[1] != doc["updated_at"]:
                    todo.append(("annotation", task_id, annotation_id, doc))
            for prediction_id, doc in self.app.tasks.predictions_of(task_id):
                if str(prediction_id) not in predictions:
                    todo.append(("prediction", task_id, prediction_id, doc))
        if not todo:
            return
        bar = Progress("changes", len(todo), self.stream, self.progress)
        for n, (kind, task_id, local_id, doc) in enumerate(todo, 1):
            remote_task = tasks[str(task_id)]
            if kind == "annotation":
                fields = self._annotation_fields(local_id, doc)
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
            else:
                answer = self.ls.post("/api/predictions/",
                                      {**self._prediction_fields(doc), "task": remote_task})
                predictions[str(local_id)] = answer["id"]
                self.created["predictions"] += 1
            if n % 50 == 0:
                self.map.save()
            bar.update()
        self.map.save()

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
                "created": self.created, "updated": self.updated,
                "tasks": self.map.ids("tasks"), "annotations": self.map.ids("annotations"),
                "predictions": self.map.ids("predictions"),
                "files": dict(self.map.table("files"))}


def push(app, project_id, url, token, **options):
    """Push a LabelDesk project to Label Studio; returns the summary with the id mapping."""
    pusher = Pusher(app, project_id, url, token, **options)
    try:
        return pusher.run()
    finally:
        pusher.ls.close()


# -- pull -----------------------------------------------------------------------------------


class Puller:
    def __init__(self, app, url, remote_project, token, into=None, batch_size=BATCH_SIZE,
                 progress=True, stream=None, stop_after=None, user_id=1):
        self.app, self.r = app, app.records
        self.ls = LabelStudio(url, token)
        self.remote_id = int(remote_project)
        self.into = into
        self.batch_size = max(1, batch_size)
        self.progress, self.stream = progress, stream or sys.stderr
        self.stop = stop_plan(stop_after)
        self.batches = 0
        self.user_id = user_id
        self.map = Mapping.open(app.settings.data_dir, "pull", self.ls.url, self.remote_id)
        self.created = {"tasks": 0, "annotations": 0, "predictions": 0, "files": 0}
        self.updated = {"annotations": 0}
        self.unreachable = []

    say = Pusher.say

    def run(self):
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
        tasks = self.ls.get(f"/api/projects/{self.remote_id}/export", exportType="JSON",
                            download_all_tasks="true", download_resources="false")
        predictions = {}
        for prediction in self.ls.get("/api/predictions/", project=self.remote_id):
            predictions.setdefault(prediction["task"], []).append(prediction)
        for found in predictions.values():
            found.sort(key=lambda p: p["id"])
        tasks.sort(key=lambda t: t["id"])
        mapped = self.map.ids("tasks")
        new = [t for t in tasks if t["id"] not in mapped]
        self._pull_tasks(new, predictions)
        self._pull_changes([t for t in tasks if t["id"] in mapped], predictions)
        self._finish_project(remote)
        return self.summary()

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

    def _pull_tasks(self, tasks, predictions):
        if not tasks:
            return
        bar = Progress("tasks", len(tasks), self.stream, self.progress)
        for start in range(0, len(tasks), self.batch_size):
            batch = tasks[start:start + self.batch_size]
            items = []
            for task in batch:
                meta = {k: v for k, v in (task.get("meta") or {}).items() if k != "labeldesk_id"}
                item = {"data": self._fetch_media(task["data"]), "meta": meta,
                        "overlap": task.get("overlap", 1)}
                item["annotations"] = [
                    {**self._annotation_fields(a), "id": a["id"],
                     "created_at": a.get("created_at"), "updated_at": a.get("updated_at")}
                    for a in sorted(task.get("annotations") or [], key=lambda a: a["id"])]
                item["predictions"] = [self._prediction_fields(p)
                                       for p in predictions.get(task["id"], [])]
                items.append(item)
            remote_ids = [t["id"] for t in batch]
            existing = self.app.tasks.ids(self.local_id)
            self.map.doc["pending"] = {"tasks": remote_ids,
                                       "after": max(existing) if existing else 0}
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

    _check_stop = Pusher._check_stop

    def _record_batch(self, remote_ids, local_ids, tasks=None, predictions=None):
        self.map.table("tasks").update({str(r): l for r, l in zip(remote_ids, local_ids)})
        annotations, mapped_predictions = self.map.table("annotations"), \
            self.map.table("predictions")
        if tasks is None:  # after an interruption: read the server again for these tasks
            tasks = self.ls.get(f"/api/projects/{self.remote_id}/export", exportType="JSON",
                                download_all_tasks="true", download_resources="false",
                                **{"ids[]": remote_ids})
            predictions = {}
            for prediction in self.ls.get("/api/predictions/", project=self.remote_id):
                predictions.setdefault(prediction["task"], []).append(prediction)
        by_id = {t["id"]: t for t in tasks}
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

    def _pull_changes(self, tasks, predictions):
        """Annotations and predictions made (or annotations changed) on the server since."""
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
        if not todo:
            return
        bar = Progress("changes", len(todo), self.stream, self.progress)
        for kind, local_task, item in todo:
            if self.r.tasks.doc(local_task) is None:
                bar.update()
                continue  # deleted here: the local deletion stands
            if kind == "annotation":
                fields = self._annotation_fields(item)
                fields.pop("completed_by", None)
                known = annotations.get(str(item["id"]))
                if known is None:
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
            else:
                fields = self._prediction_fields(item)
                local = self.app.predictions.create({**fields, "task": local_task})
                mapped_predictions[str(item["id"])] = local
                self.created["predictions"] += 1
            bar.update()
        self.map.save()

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
                "unreachable_media": self.unreachable,
                "tasks": self.map.ids("tasks"), "annotations": self.map.ids("annotations"),
                "predictions": self.map.ids("predictions"),
                "files": dict(self.map.table("files"))}


def pull(app, url, remote_project, token, **options):
    """Pull a Label Studio project into LabelDesk; returns the summary with the id mapping."""
    puller = Puller(app, url, remote_project, token, **options)
    try:
        return puller.run()
    finally:
        puller.ls.close()
