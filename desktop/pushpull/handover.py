"""What push and pull share: settings, errors, walking JSON values, reading the server, and the
`Handover` base (the client, batching, the stop and cancel hooks, messages, counters).

A hand-over may run inside the running app while labeling goes on (desktop/pushpull/jobs.py):
its writes are the domain's locked methods, and its reads of what other threads change (the
indexes of a project's tasks, annotations and predictions; the tables) are taken under the
store's lock, a batch at a time, never across a call to the server."""

import os
import re
import sys

import orjson

from desktop import labelconfig
from desktop.core.errors import LabelDeskError
from desktop.pushpull.lsclient import LabelStudio, LSError
from desktop.pushpull.progress import Progress

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


class PushPullError(LabelDeskError):
    """A hand-over that can't go on; the message says why and what to do."""


class Interrupted(PushPullError):
    """Stopped on purpose after some batches (tests, LABELDESK_PUSHPULL_STOP_AFTER)."""


class Cancelled(Interrupted):
    """Stopped by the user between two batches, the mapping saved: running it again resumes."""


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


NO_STOP = ""  # stop_after for a hand-over the environment's stop hook must not reach


def stop_plan(stop_after):
    """(batches, where) from a parameter or LABELDESK_PUSHPULL_STOP_AFTER="N[:before-save]"."""
    spec = stop_after if stop_after is not None else os.environ.get(STOP_ENV)
    if spec in (None, ""):
        return None
    if isinstance(spec, int):
        return spec, "after-save"
    count, _, where = str(spec).partition(":")
    return int(count), where or "after-save"


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


# -- the base of Pusher and Puller ----------------------------------------------------------


class Handover:
    """`progress`: draw bars and messages on `stream` (stderr). The hooks, for a job in the
    running app: `on_progress(stage, done, total)` hears every bar's steps, `on_message(text)`
    every message, and `cancel` (a threading.Event) set stops the hand-over at the next batch,
    its mapping saved (Cancelled)."""

    def __init__(self, app, url, token, batch_size, progress, stream, stop_after,
                 on_progress=None, on_message=None, cancel=None):
        self.app, self.r = app, app.records
        self.ls = LabelStudio(url, token)
        self.batch_size = max(1, batch_size)
        self.progress, self.stream = progress, stream or sys.stderr
        self.on_progress, self.on_message, self.cancel = on_progress, on_message, cancel
        self.stop = stop_plan(stop_after)
        self.batches = 0
        self.created = {"tasks": 0, "annotations": 0, "predictions": 0, "files": 0}
        self.updated = {"annotations": 0}

    def run_and_close(self):
        try:
            return self.run()
        finally:
            self.ls.close()

    def say(self, text):
        if self.on_message is not None:
            self.on_message(text)
        if self.progress:
            self.stream.write(text + "\n")
            self.stream.flush()

    def bar(self, label, total):
        return Progress(label, total, self.stream, self.progress, on_update=self.on_progress)

    def cancelled(self):
        return self.cancel is not None and self.cancel.is_set()

    def _check_cancel(self):
        """Between batches, once the mapping is saved: stop if the user cancelled."""
        if self.cancelled():
            raise Cancelled("cancelled; run it again to resume (nothing is sent twice)")

    def _check_stop(self, where):
        """The test hook: stop after N task batches, before or after the mapping is saved."""
        if self.stop is None:
            return
        if where == "before-save":
            self.batches += 1
        count, at = self.stop
        if at == where and self.batches >= count:
            raise Interrupted(f"stopped after {self.batches} batch(es) ({where})")

    def _mapped(self):
        """The summary's id mapping, from the mapping file (self.map)."""
        return {"tasks": self.map.ids("tasks"), "annotations": self.map.ids("annotations"),
                "predictions": self.map.ids("predictions"),
                "files": dict(self.map.table("files"))}
