"""Importing tasks (with their annotations and predictions) from JSON bodies and files.

All or nothing: every item is checked before anything is written, and the whole import is one
journal record, so a bad item or a crash leaves the project as it was.
"""

import time
import uuid
from collections import Counter

from desktop.core import clock, history
from desktop.core.errors import ValidationError
from desktop.core.paging import parse_bool
from desktop.core.predictions import clean_score
from desktop.core.tasks import UNDEFINED, counters
from desktop.data_import import importers
from desktop.data_import.progress import STEP, ImportProgress

MAX_FILES = 100
SINGLE_FILE_ONE_KEY = ("Your label config has more than one data key and direct file upload "
                       "supports only one data key. To import data with multiple data keys, "
                       "use a JSON or CSV file.")


def short_repr(item, limit=300):
    text = repr(item)
    return text if len(text) <= limit else text[:limit] + "…"


def check_regions(kind, regions):
    """Label Studio's checks on imported annotations/predictions (results are not validated)."""
    if not isinstance(regions, list):
        raise ValidationError(f"Task[{kind}s] must be list")
    for region in regions:
        if not isinstance(region, dict) or "result" not in region:
            raise ValidationError(f'{kind.capitalize()} must have "result" fields')
        if kind == "annotation" and not isinstance(region["result"], list):
            raise ValidationError(f'"result" field in {kind} must be list')


class Imports:
    def __init__(self, records, projects, tasks, predictions, uploads):
        self.r = records
        self.projects = projects
        self.tasks = tasks
        self.predictions = predictions
        self.uploads = uploads
        self.on_created = []  # callbacks(project_id, task_ids) after tasks are imported
        self.progress = ImportProgress()  # how far the imports under way have got

    def import_json(self, project_id, body, user_id, return_task_ids=False,
                    preannotated_from_fields=(), commit=True):
        """POST /api/projects/{id}/import with a JSON list or object. The items are checked
        and made into documents without the store's lock; only their write takes it (_store):
        other requests are answered meanwhile."""
        started = time.perf_counter()
        self.projects.get(project_id)
        items = [body] if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise ValidationError("load_tasks: No data found in DATA or in FILES")
        if not items:
            raise ValidationError("load_tasks: No tasks added")
        with self.progress.tracking(project_id):
            answer = self._store(project_id, items, user_id, preannotated_from_fields, commit)
        answer.update(file_upload_ids=[], could_be_tasks_list=False, found_formats=[],
                      data_columns=[])
        return self._finish(answer, started, return_task_ids)

    def import_files(self, project_id, files, user_id, return_task_ids=False,
                     preannotated_from_fields=(), commit=True):
        """POST /api/projects/{id}/import with uploads: files = [(filename, data)], data the
        bytes, or for a media file (which is not read) an open binary file. The files are
        read without the store's lock; storing them and their tasks takes it."""
        with self.progress.tracking(project_id):
            return self._import_files(project_id, files, user_id, return_task_ids,
                                      preannotated_from_fields, commit)

    def _import_files(self, project_id, files, user_id, return_task_ids,
                      preannotated_from_fields, commit):
        started = time.perf_counter()
        with self.r.lock:
            config = self.projects.config(project_id)
        if not files:
            raise ValidationError("load_tasks: No data found in DATA or in FILES")
        if len(files) > MAX_FILES:
            raise ValidationError(f"Too many files: {len(files)} (at most {MAX_FILES} "
                                  "per request)")
        planned, items, found, columns, list_like = [], [], {}, None, False
        for number, (filename, data) in enumerate(files):
            self.progress.update(project_id, "reading", number, len(files))
            importers.check_extension(filename)
            stored, url = self.uploads.plan(project_id, filename)
            single = importers.is_media(filename) or filename.lower().endswith(
                (".html", ".htm", ".xml"))
            if single and len(config.data_keys) > 1:
                raise ValidationError(SINGLE_FILE_ONE_KEY)
            file_items = importers.read_tasks(filename, data, url=url, stored=stored)
            ext = "." + filename.rsplit(".", 1)[-1].lower()
            found[ext] = found.get(ext, 0) + 1
            list_like = list_like or importers.is_list_format(filename)
            keys = set().union(*(i["data"].keys() for i in file_items if
                                 isinstance(i.get("data"), dict))) if file_items else set()
            columns = keys if columns is None else columns & keys
            planned.append((stored, data, file_items))
            items.extend(file_items)
        if not items:
            raise ValidationError("load_tasks: No tasks added")
        written = []
        try:
            upload_ids, names = [], {}
            with self.r.transaction():
                self.projects.get(project_id)  # not deleted meanwhile: a 404, nothing stored
                for stored, data, file_items in planned:
                    upload_id = self.uploads.write(project_id, stored, data)
                    written.append(stored)
                    upload_ids.append(upload_id)
                    names[upload_id] = stored
                    for item in file_items:  # as LS marks them (and shows them in errors)
                        item["file_upload_id"] = upload_id
                # not committed (the wizard uploads before its label config is saved): LS
                # reads the files only; the reimport that commits them checks them
                answer = self._store(project_id, items, user_id, preannotated_from_fields,
                                     commit, names, check=commit)
        except BaseException:
            for stored in written:
                self.uploads.discard(project_id, stored)
            raise
        answer.update(file_upload_ids=upload_ids, could_be_tasks_list=list_like,
                      found_formats=found, data_columns=sorted(columns or ()))
        return self._finish(answer, started, return_task_ids)

    def reimport(self, project_id, body, user_id):
        """POST /api/projects/{id}/reimport: the tasks of files uploaded before (most often
        with commit_to_project=false, as the create-project wizard does), read again, with
        CSV/TSV/TXT files as task lists or, `files_as_tasks_list` false, one task each. The
        tasks those uploads made before are replaced, in one write. The files are read and
        their tasks made without the store's lock; only the write takes it."""
        started = time.perf_counter()
        self.projects.get(project_id)
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(body).__name__}.")
        as_list = parse_bool("files_as_tasks_list", body.get("files_as_tasks_list"), True)
        chosen = body.get("file_upload_ids")
        if not chosen:
            return {"task_count": 0, "annotation_count": 0, "prediction_count": 0,
                    "duration": 0, "file_upload_ids": [], "found_formats": {},
                    "data_columns": []}
        if not isinstance(chosen, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in chosen):
            raise ValidationError({"file_upload_ids": ["Must be a list of file upload ids."]})
        with self.r.lock:
            config = self.projects.config(project_id)
            files = [(upload_id, self.r.uploads.doc(upload_id)["file"]) for upload_id in
                     sorted(set(chosen) & set(self.uploads.of_project(project_id)))]
        with self.progress.tracking(project_id):
            return self._reimport(project_id, user_id, started, chosen, as_list, config, files)

    def _reimport(self, project_id, user_id, started, chosen, as_list, config, files):
        items, formats, common, names = [], Counter(), set(), {}
        for number, (upload_id, file) in enumerate(files):
            self.progress.update(project_id, "reading", number, len(files))
            file_items, name = self._read_upload(project_id, upload_id, file, as_list, config)
            keys = set(file_items[0]["data"]) if file_items else set()
            check_columns(common, keys, file)
            common = keys if not common else common & keys
            items.extend(file_items)
            formats[importers.extension(name)] += 1
            names[upload_id] = name

        def replace():  # in the write's transaction: what those files made before goes
            self.tasks.delete_many(self._replaced(project_id, set(names.values())))
        if items:
            answer = self._store(project_id, items, user_id, (), True, names,
                                 before_write=replace)
        else:
            with self.r.transaction():
                replace()
            answer = {"task_count": 0, "annotation_count": 0, "prediction_count": 0}
        return {"task_count": answer["task_count"],
                "annotation_count": answer["annotation_count"],
                "prediction_count": answer["prediction_count"],
                "duration": round(time.perf_counter() - started, 4),
                "file_upload_ids": chosen, "found_formats": dict(formats),
                "data_columns": sorted(common)}

    def _replaced(self, project_id, stored_names):
        """The project's tasks made before from the uploads stored under `stored_names`."""
        return [i for i in self.r.tasks_by_project.ids(project_id)
                if self.r.tasks.doc(i).get("file_upload") in stored_names]

    def reimport_preview(self, project_id, body, days):
        """What POST /api/projects/{id}/reimport with `body` would replace (the tasks those
        uploads made before, with their annotations and predictions: into the trash for `days`
        days), and a sentence saying it, before it runs."""
        self.projects.get(project_id)
        chosen = body.get("file_upload_ids") if isinstance(body, dict) else None
        if chosen is not None and (not isinstance(chosen, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in chosen)):
            raise ValidationError({"file_upload_ids": ["Must be a list of file upload ids."]})
        names = {self.r.uploads.doc(i)["file"].rsplit("/", 1)[-1]
                 for i in set(chosen or ()) & set(self.uploads.of_project(project_id))}
        replaced = self._replaced(project_id, names)
        counts = {"tasks": len(replaced),
                  "annotations": sum(self.r.annotations_by_task.count(t) for t in replaced),
                  "predictions": sum(self.r.predictions_by_task.count(t) for t in replaced),
                  "drafts": 0}
        what = f"{counts['tasks']:,} task{'s' if counts['tasks'] != 1 else ''}" + (
            f" with {counts['annotations']:,} annotation(s), {counts['predictions']:,} "
            "prediction(s)" if counts["annotations"] or counts["predictions"] else "")
        where = (f"They go to the trash for {days} day{'s' if days != 1 else ''}: LabelDesk's "
                 "Trash page (in the menu) gives them back." if days > 0 else
                 "The trash is off (LabelDesk's Settings): this can't be undone.")
        return {"action": "reimport", **counts, "days": days,
                "text": f"Importing these files again replaces {what} made from them before."
                        f"\n\n{where}"}

    def _read_upload(self, project_id, upload_id, file, as_list, config):
        """(task items, stored file name) of one upload (`file`: its record's), each item
        marked with its file."""
        name = file.rsplit("/", 1)[-1]
        path = self.uploads.folder(project_id) / name
        url = f"/data/upload/{int(project_id)}/{name}"
        ext = importers.extension(name)
        single = importers.is_media(name) or ext in importers.HYPERTEXT_EXTENSIONS or (
            not as_list and ext in importers.LIST_EXTENSIONS)
        if single and len(config.data_keys) > 1:
            raise ValidationError(f"Failed to parse input file {name}: {SINGLE_FILE_ONE_KEY}")
        try:
            data = b"" if importers.is_media(name) else path.read_bytes()
        except OSError as e:
            raise ValidationError(f"Failed to parse input file {name}: {e.strerror or e}") \
                from None
        file_items = importers.read_tasks(name, data, url=url, as_list=as_list)
        for item in file_items:
            item["file_upload_id"] = upload_id
        return file_items, name

    def _finish(self, answer, started, return_task_ids):
        task_ids = answer.pop("task_ids")
        answer["duration"] = round(time.perf_counter() - started, 4)
        ordered = {k: answer[k] for k in ("task_count", "annotation_count", "prediction_count",
                                          "duration", "file_upload_ids", "could_be_tasks_list",
                                          "found_formats", "data_columns")}
        if return_task_ids:
            ordered["task_ids"] = task_ids
        return ordered

    def _store(self, project_id, items, user_id, preannotated_from_fields, commit,
               upload_names=None, check=True, before_write=None):
        """Check every item and make its documents (without the store's lock, unless the
        caller holds it), then write tasks, annotations and predictions in one record.
        `upload_names`: {upload id: stored file name} of the uploads items name by id;
        `check`: check the data against the label config (a dry run, commit false, too);
        `before_write()`: called first inside the write's transaction."""
        with self.r.store.bulk():
            task_docs, annotations, predictions = self._check(
                project_id, items, user_id, preannotated_from_fields, upload_names or {}, check,
                keep=commit)
            if not commit:
                return {"task_count": len(items), "annotation_count": None,
                        "prediction_count": None, "task_ids": []}
            if predictions:
                with self.r.lock:  # read once, not once for each prediction
                    parsed = self.projects.config(project_id).parsed
                build = self.predictions.build
                predictions = [(number, build(None, task_docs[number], fields,
                                              default_version="undefined", parsed=parsed))
                               for number, fields in predictions]
            return self._write(project_id, user_id, task_docs, annotations, predictions,
                               before_write)

    def _check(self, project_id, items, user_id, preannotated_from_fields, upload_names,
               check, keep=True):
        """(task documents, [(item number, annotation)], [(item number, prediction fields)])
        of `items`; ValidationError at the first bad one. Without `keep` (an upload not
        committed), the items are checked alike and nothing is kept (a million documents
        nobody writes)."""
        with self.r.lock:
            project = self.projects.get(project_id)
            config = self.projects.config(project_id)
            users = self.r.store.table("users").docs()
            known = {i: u["email"] for i, u in users.items()}
        first_key = config.data_keys[0] if config.data_keys else None
        validate = config.validate_task_data
        overlap = project.get("maximum_annotations", 1)
        parsed = config.parsed
        pre_fields = [f for f in preannotated_from_fields if f in parsed]
        stamp = clock.iso()
        emails = {email: i for i, email in reversed(known.items())}  # the first of an email
        users = (set(known), emails)
        task_docs, annotations, predictions = [], [], []
        progress = self.progress
        for number, item in enumerate(items):
            if not number % STEP:
                progress.update(project_id, "checking", number, len(items))
            if not isinstance(item, dict):
                raise ValidationError([f"Error at item {number}: task item must be a dict, "
                                       f"got {type(item).__name__}  :: {short_repr(item)}"])
            rooted = "data" in item
            data = item["data"] if rooted else item
            hint = "data" if rooted else "root"
            if not isinstance(data, dict):
                raise ValidationError([f"Error at item {number}: Task[data] must be dict or list"
                                       f" :: {short_repr(item)}"])
            if UNDEFINED in data and first_key:
                data = {(first_key if k == UNDEFINED else k): v for k, v in data.items()}
            message = validate(data, hint) if check else None
            if message:
                # LS's separator: two spaces after its root-item message, one after a "data" one
                separator = "  :: " if hint == "root" else " :: "
                raise ValidationError([f"Error at item {number}: {message.rstrip()}{separator}"
                                       f"{short_repr(item)}"])
            doc = {"project": project_id, "data": data, "created_at": stamp,
                   "updated_at": stamp}
            if overlap != 1:
                doc["overlap"] = overlap
            if rooted:
                self._take_root_fields(doc, item, number, annotations, predictions, user_id,
                                       stamp, upload_names, users)
            for field in pre_fields:
                if field in data:
                    kind = parsed[field]["type"].lower()
                    value = data[field]
                    predictions.append((number, {
                        "result": [{"from_name": field, "to_name": parsed[field]["to_name"][0],
                                    "type": kind, "value": {kind: value if isinstance(value, list)
                                                             else [value]}}],
                        "model_version": "preannotated", "score": None}))
            if keep:
                task_docs.append(doc)
            elif annotations or predictions:
                annotations.clear()
                predictions.clear()
        return task_docs, annotations, predictions

    def _write(self, project_id, user_id, task_docs, annotations, predictions, before_write):
        """`predictions`: [(item number, prediction document without its task)]."""
        self.progress.update(project_id, "saving", len(task_docs), len(task_docs))
        with self.r.transaction():
            # not deleted meanwhile: a 404 and nothing written
            project = self.projects.get(project_id)
            if before_write is not None:
                before_write()
            history.note(self.r, action="imported", user=user_id)
            inner = self.tasks.next_inner_id(project_id)
            for offset, doc in enumerate(task_docs):
                doc["inner_id"] = inner + offset
            # the new tasks' counters, from what comes with them (tasks.recount's, without
            # writing each task a second time)
            count_all = project.get("skip_queue") == "IGNORE_SKIPPED"
            annotated = {}
            for number, doc in annotations:
                annotated.setdefault(number, []).append(doc)
            predicted = Counter(number for number, _ in predictions)
            for number in annotated.keys() | predicted.keys():
                doc = task_docs[number]
                doc.update(counters(doc, annotated.get(number, ()), predicted[number],
                                    count_all))
            task_ids = self.r.tasks.adopt_multiple(task_docs)
            if annotations:
                docs = []
                for number, doc in annotations:
                    doc["task"] = task_ids[number]
                    docs.append(doc)
                self.r.annotations.adopt_multiple(docs)
            if predictions:
                docs = []
                for number, doc in predictions:
                    doc["task"] = task_ids[number]
                    docs.append(doc)
                self.r.predictions.adopt_multiple(docs)
                self.predictions.adopt_model_version(project_id, docs)
        for callback in self.on_created:
            callback(project_id, task_ids)
        return {"task_count": len(task_ids), "annotation_count": len(annotations),
                "prediction_count": len(predictions), "task_ids": task_ids}

    def _take_root_fields(self, doc, item, number, annotations, predictions, user_id, stamp,
                          upload_names, users):
        try:
            meta = item.get("meta")
            if meta:
                if not isinstance(meta, dict):
                    raise ValidationError("Task[meta] must be dict")
                doc["meta"] = meta
            if item.get("file_upload_id") in upload_names:
                doc["file_upload"] = upload_names[item["file_upload_id"]]
            elif item.get("file_upload"):
                doc["file_upload"] = item["file_upload"]
            for key in ("overlap",):
                if isinstance(item.get(key), int):
                    doc[key] = item[key]
            if "annotations" in item:
                check_regions("annotation", item["annotations"])
                for region in item["annotations"]:
                    annotations.append((number, self._imported_annotation(
                        region, doc["project"], user_id, stamp, users)))
            if "predictions" in item:
                check_regions("prediction", item["predictions"])
                for region in item["predictions"]:
                    predictions.append((number, region))
        except ValidationError as e:
            raise ValidationError([f"Error at item {number}: {m} :: {short_repr(item)}" for m in
                                   e.errors.get("non_field_errors", [e.detail])]) from None

    def _imported_annotation(self, region, project_id, user_id, stamp, users):
        """`users`: (the users' ids, {email: id}), read once for the whole import."""
        completed_by = region.get("completed_by", user_id)
        if isinstance(completed_by, dict):
            completed_by = users[1].get(completed_by.get("email"), user_id)
        if not isinstance(completed_by, int) or completed_by not in users[0]:
            completed_by = user_id
        lead_time = region.get("lead_time")
        return {"project": project_id, "result": region["result"],
                "completed_by": completed_by,
                "was_cancelled": bool(region.get("was_cancelled", False)),
                # Label Studio marks imported annotations as ground truth unless told otherwise.
                "ground_truth": bool(region.get("ground_truth", True)),
                "created_at": region.get("created_at") or stamp,
                "updated_at": region.get("updated_at") or stamp,
                "lead_time": clean_score(lead_time), "import_id": region.get("id"),
                # LS creates them in bulk: no save(), so no updated_by, result_count 0
                "last_action": None, "updated_by": None, "result_count": 0,
                "unique_id": str(uuid.uuid4())}



def check_columns(common, keys, file_name):
    """LS's check that a file's data keys meet those of the files before it."""
    if not common or common & keys:
        return
    new, old = ",".join(sorted(keys)), ",".join(sorted(common))
    prefix = "You're trying to import inconsistent data:\n"
    if new == importers.UNDEFINED:
        message = (f"uploading a single file {file_name} clashes with data key(s) found from "
                   f'other files:\n"{old}"')
    elif old == importers.UNDEFINED:
        message = (f"uploading tabular data from {file_name} with data key(s) {new}, clashes "
                   "with other raw binary files (images, audios, etc.)")
    else:
        message = (f'uploading tabular data from "{file_name}" with data key(s) "{new}", '
                   f'clashes with data key(s) found from other files:\n"{old}"')
    raise ValidationError(prefix + message)
