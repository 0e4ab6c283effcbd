"""What push and pull share: settings, errors, walking JSON values, reading the server, and the
`Handover` base (the client, batching, the stop hook, messages, counters)."""

import os
import re
import sys

import orjson

from desktop import labelconfig
from desktop.pushpull.lsclient import LabelStudio, LSError

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
    def __init__(self, app, url, token, batch_size, progress, stream, stop_after):
        self.app, self.r = app, app.records
        self.ls = LabelStudio(url, token)
        self.batch_size = max(1, batch_size)
        self.progress, self.stream = progress, stream or sys.stderr
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
        if self.progress:
            self.stream.write(text + "\n")
            self.stream.flush()

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
