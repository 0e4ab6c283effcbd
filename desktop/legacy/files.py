"""The 0.8–0.9 API's files on the current project: import, export, example tasks and files,
and the storage settings 0.x had (LabelDesk keeps tasks and annotations in its own store).

Routes: desktop/api/legacy.py; the current project and 0.x's shapes: desktop/legacy/project.py.
"""

import csv
import io
import os
import tempfile
import zipfile
from datetime import datetime

import orjson

from desktop import labelconfig
from desktop.core import clock
from desktop.core.errors import Bare, ValidationError
from desktop.labelconfig.samples import sample_task
from desktop.legacy.project import STORAGE_TYPES, messages, unix

# The file in 0.x's export zip, by format, when the exporter writes a single file
EXPORT_EXTENSIONS = {"TSV": ".tsv", "CSV": ".csv", "CONLL2003": ".conll"}


def iso_from_unix(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if isinstance(value, str) else None
    try:
        return clock.iso(datetime.fromtimestamp(value, clock.now().tzinfo))
    except (OverflowError, OSError, ValueError):
        return None


class LegacyIO:
    def __init__(self, core):
        self.core = core
        self.r = core.records
        self.legacy = core.legacy

    # -- import -------------------------------------------------------------------------------

    def import_tasks(self, body=None, files=None, user_id=1):
        """POST /api/project/import: 0.x's answer; 0.x task items (`completions`) are taken."""
        imports = self.core.imports
        with self.r.lock:
            project_id = self.legacy.current_project()
            try:
                if files:
                    answer = imports.import_files(project_id, files, user_id,
                                                  return_task_ids=True)
                    found = answer["found_formats"]
                else:
                    items = [body] if isinstance(body, dict) else body
                    if isinstance(items, list):
                        items = [self._old_item(i) for i in items]
                    answer = imports.import_json(project_id, items, user_id,
                                                 return_task_ids=True)
                    found = {"request": 1}
            except ValidationError as e:
                raise Bare(messages(e)) from None
        return {"task_count": answer["task_count"],
                "completion_count": answer["annotation_count"],
                "prediction_count": answer["prediction_count"],
                "duration": answer["duration"], "formats": found,
                "new_task_ids": answer["task_ids"]}

    @staticmethod
    def _old_item(item):
        """A 0.x task item: `completions` become annotations, with their unix times as ISO."""
        if not isinstance(item, dict) or "data" not in item or "completions" not in item:
            return item
        item = dict(item)
        completions = item.pop("completions")
        if not isinstance(completions, list):
            raise ValidationError("Task[completions] must be list")
        annotations = list(item.get("annotations") or [])
        for completion in completions:
            if isinstance(completion, dict):
                completion = dict(completion)
                for key in ("created_at", "updated_at"):
                    if key in completion:
                        completion[key] = iso_from_unix(completion[key])
                completion.setdefault("ground_truth", bool(completion.get("honeypot", False)))
                if completion.get("skipped"):
                    completion["was_cancelled"] = True
            annotations.append(completion)
        item["annotations"] = annotations
        return item

    # -- export -------------------------------------------------------------------------------

    def export(self, export_type, download_all_tasks=False):
        """/api/project/export: a zip of the format's output, as 0.x's converter folder was.

        Returns (binary file positioned at 0, download name). JSON tasks also carry 0.x's
        `completions`, so old readers of result.json keep working.
        """
        exports = self.core.exports
        export_type = export_type or "JSON"
        project_id = self.legacy.current_project()
        task_ids = exports.task_ids(project_id, download_all_tasks)
        tasks = exports.tasks(task_ids)
        if export_type == "JSON":
            tasks = self._with_completions(tasks)
        path, _, _ = exports.write(project_id, export_type, tasks)
        try:
            out = self._zipped(path, "result" + EXPORT_EXTENSIONS.get(export_type, ".json"))
        finally:
            os.unlink(path)
        out.seek(0)
        return out, datetime.now().strftime("%Y-%m-%d-%H-%M-%S") + ".zip"

    @staticmethod
    def _zipped(path, name):
        """A temporary zip of an export: its members when it is a zip, else the file as name."""
        out = tempfile.TemporaryFile()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as inner:
                    for member in inner.infolist():
                        archive.writestr(member, inner.read(member))
            else:
                archive.write(path, name)
        return out

    def _with_completions(self, tasks):
        for task in tasks:
            task["completions"] = [self._export_completion(a) for a in task.get("annotations", [])]
            yield task

    @staticmethod
    def _export_completion(annotation):
        return {"id": annotation["id"], "created_at": unix(annotation.get("created_at")),
                "lead_time": annotation.get("lead_time"), "result": annotation.get("result"),
                "was_cancelled": annotation.get("was_cancelled", False),
                "honeypot": annotation.get("ground_truth", False)}

    # -- storages -----------------------------------------------------------------------------

    def storage_settings(self):
        """0.x's storage form: LabelDesk keeps tasks and annotations in its own store."""
        def entry(kind, description):
            return {kind: {"fields": [], "type": kind, "current": True,
                           "description": description, "path": None}}
        return {"source": entry(STORAGE_TYPES["source"], "Tasks in LabelDesk's store"),
                "target": entry(STORAGE_TYPES["target"], "Annotations in LabelDesk's store")}

    @staticmethod
    def set_storage(storage_for, kind):
        if storage_for not in STORAGE_TYPES:
            raise Bare({"errors": {"storage_for": ['Must be "source" or "target"']}})
        if kind in (None, "", STORAGE_TYPES[storage_for]):
            return {"result": "ok"}
        raise Bare({"detail": f"Error while storage update: {kind} storages are set up per "
                              "project with /api/storages/ in LabelDesk"})

    # -- examples -----------------------------------------------------------------------------

    def example(self, xml=None, host=""):
        """/api/import-example: sample data for a config (the current project's by default)."""
        if xml is None:
            with self.r.lock:
                xml = self.core.projects.get(self.legacy.current_project())["label_config"]
        try:
            return sample_task(labelconfig.parse(xml), host)
        except (labelconfig.LabelConfigError, RecursionError, ValueError, TypeError):
            raise Bare("error while example generating") from None


def example_file(task, kind):
    """/api/import-example-file: two copies of a sample task as json, csv, tsv or txt."""
    kind = (kind or "json").lower()
    if kind == "json":
        return orjson.dumps([task, task], option=orjson.OPT_INDENT_2)
    if kind in ("csv", "tsv"):
        text = io.StringIO()
        writer = csv.writer(text, delimiter="," if kind == "csv" else "\t", lineterminator="\n")
        writer.writerow(list(task))
        row = [v if isinstance(v, str) else orjson.dumps(v).decode() for v in task.values()]
        writer.writerows([row, row])
        return text.getvalue().encode()
    if kind == "txt":
        if len(task) != 1:
            raise Bare({"detail": "A txt example needs a label config with exactly one data "
                                  "key; use json, csv or tsv"})
        value = next(iter(task.values()))
        line = value if isinstance(value, str) else orjson.dumps(value).decode()
        return (line.replace("\n", " ") + "\n").encode() * 2
    raise Bare({"detail": f'Unknown file type "{kind}": use json, csv, tsv or txt'})
