"""Import and export storages: local folders and S3 (ref. §8).

An import storage turns files into tasks: one task per file with `use_blob_urls` (the file's URL
under the first data key), else the tasks a JSON file holds. A sync adds only files no task of
the storage came from yet. An export storage writes each annotation as a JSON file named by its
id: all of them on sync, and each one again whenever it is saved.

Syncs run in the request that asks for them, without the store lock while files are listed or
read; bucket writes for annotations go through a background queue.
"""

import base64
import logging
import queue
import threading
import time
import traceback

import orjson

from desktop.core import clock, jsonload
from desktop.core.errors import LabelDeskError, NotFound, ValidationError
from desktop.core.files import atomic_write
from desktop.core.records import locked
from desktop.data_export.annotation_file import annotation_file
from desktop.io_storages import localfiles, s3

log = logging.getLogger("labeldesk.storages")

TYPES = {"s3": "AWS S3", "localfiles": "Local files"}
# Label Studio has these too; LabelDesk says so instead of pretending.
OTHER_TYPES = ("gcs", "azure", "redis", "s3s", "gcs_sa", "gcswif", "azure_spi", "databricks")
COMMON = ("title", "description", "regex_filter", "use_blob_urls", "synchronizable")
FIELDS = {
    ("import", "localfiles"): COMMON + ("path", "recursive_scan"),
    ("export", "localfiles"): COMMON + ("path", "can_delete_objects"),
    ("import", "s3"): COMMON + ("bucket", "prefix", "presign", "presign_ttl", "recursive_scan",
                                "aws_access_key_id", "aws_secret_access_key",
                                "aws_session_token", "aws_sse_kms_key_id", "region_name",
                                "s3_endpoint"),
    ("export", "s3"): COMMON + ("bucket", "prefix", "can_delete_objects", "aws_access_key_id",
                                "aws_secret_access_key", "aws_session_token",
                                "aws_sse_kms_key_id", "region_name", "s3_endpoint"),
}
BOOLEANS = ("use_blob_urls", "synchronizable", "recursive_scan", "presign",
            "can_delete_objects")
DEFAULTS = {"title": "", "description": None, "regex_filter": None, "use_blob_urls": False,
            "synchronizable": True, "recursive_scan": False, "presign": True, "presign_ttl": 1,
            "can_delete_objects": None, "prefix": "", "path": None, "bucket": None}


def check_type(kind_type):
    if kind_type in TYPES:
        return kind_type
    if kind_type in OTHER_TYPES:
        raise NotFound(detail=f"Storage type {kind_type!r} is not available in LabelDesk: "
                              "use local files or S3 (or an S3-compatible endpoint).")
    raise NotFound()


class Storages:
    def __init__(self, core):
        self.core = core
        self.r = core.records
        self._sync_locks = {}
        self._guard = threading.Lock()
        self._writes = queue.Queue(maxsize=100000)
        self._writer = None
        core.annotations.on_change.append(self._annotation_changed)

    @property
    def root(self):
        return self.core.settings.local_files_root

    # -- records --------------------------------------------------------------------------

    @locked
    def get(self, storage_id, kind=None, kind_type=None):
        doc = self.r.storages.doc(storage_id) if isinstance(storage_id, int) else None
        if doc is None or (kind and doc["kind"] != kind) or (kind_type and
                                                               doc["type"] != kind_type):
            raise NotFound(detail="Not found.")
        return doc

    @locked
    def updated_json(self, storage_id):
        """The answer to a PATCH/PUT: LS's serializer writes no `type` there."""
        data = self.as_json(storage_id)
        data.pop("type", None)
        return data

    @locked
    def as_json(self, storage_id, doc=None):
        doc = doc or self.get(storage_id)
        data = {"id": storage_id, "type": doc["type"],
                "synchronizable": doc.get("synchronizable", True)}
        if doc["type"] == "localfiles":
            data.update(path=doc["path"], regex_filter=doc.get("regex_filter"),
                        use_blob_urls=doc.get("use_blob_urls", False))
        else:
            if doc["kind"] == "import":
                data["presign"] = doc.get("presign", True)
        data.update(last_sync=doc.get("last_sync"), last_sync_count=doc.get("last_sync_count"),
                    last_sync_job=None, status=doc.get("status", "initialized"),
                    traceback=doc.get("traceback"), meta=doc.get("meta", {}),
                    title=doc.get("title") or "", description=doc.get("description"),
                    created_at=doc["created_at"])
        if doc["type"] == "s3":
            data.update(bucket=doc.get("bucket"), prefix=doc.get("prefix") or "",
                        regex_filter=doc.get("regex_filter"),
                        use_blob_urls=doc.get("use_blob_urls", False),
                        aws_sse_kms_key_id=doc.get("aws_sse_kms_key_id"),
                        region_name=doc.get("region_name"), s3_endpoint=doc.get("s3_endpoint"))
            if doc["kind"] == "import":
                data["presign_ttl"] = doc.get("presign_ttl", 1)
        if doc["kind"] == "import":
            data["recursive_scan"] = doc.get("recursive_scan", False)
        else:
            data["can_delete_objects"] = doc.get("can_delete_objects")  # LS: null unless set
        data["project"] = doc["project"]
        return data

    @locked
    def list(self, kind, project_id, kind_type=None):
        docs = self.r.storages.docs()
        return [self.as_json(i, d) for i, d in sorted(docs.items())
                if d["kind"] == kind and d["project"] == project_id
                and (kind_type is None or d["type"] == kind_type)]

    def of_project(self, project_id, kind):
        return [(i, d) for i, d in sorted(self.r.storages.docs().items())
                if d["project"] == project_id and d["kind"] == kind]

    def _clean(self, kind, kind_type, fields, partial):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        allowed = FIELDS[(kind, kind_type)]
        clean = {}
        for key in allowed:
            if key not in fields:
                continue
            value = fields[key]
            if key in BOOLEANS:
                if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                    value = value.lower() in ("true", "1")
                if not isinstance(value, bool):
                    raise ValidationError({key: ["Must be a valid boolean."]})
            elif key == "presign_ttl":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValidationError({key: ["A valid integer is required."]})
            elif value is not None and not isinstance(value, str):
                raise ValidationError({key: ["Not a valid string."]})
            clean[key] = value
        localfiles.check_regex(clean.get("regex_filter"))
        if kind_type == "localfiles" and ("path" in clean or not partial):
            localfiles.check_folder(clean.get("path"), self.root)
            clean["path"] = clean["path"].strip()
        if kind_type == "s3" and not partial and not clean.get("bucket"):
            raise ValidationError({"bucket": ["This field is required."]})
        return clean

    def _project(self, fields):
        project_id = fields.get("project") if isinstance(fields, dict) else None
        if project_id is None:
            raise ValidationError({"project": ["This field is required."]})
        if not isinstance(project_id, int) or self.r.projects.doc(project_id) is None:
            raise ValidationError({"project": [f'Invalid pk "{project_id}" - object does not '
                                               "exist."]})
        return project_id

    def _check_connection(self, doc):
        if doc["type"] == "localfiles":
            localfiles.check_folder(doc.get("path"), self.root)
        else:
            s3.validate(doc)

    def validate(self, kind, kind_type, fields):
        """POST /api/storages/<type>/validate: the checks of create, nothing stored."""
        kind_type = check_type(kind_type)
        base = {}
        if isinstance(fields, dict) and isinstance(fields.get("id"), int):
            with self.r.lock:
                base = dict(self.get(fields["id"], kind, kind_type))
        clean = self._clean(kind, kind_type, fields, partial=bool(base))
        doc = {**DEFAULTS, **base, **clean, "type": kind_type, "kind": kind}
        self._check_connection(doc)

    def create(self, kind, kind_type, fields):
        kind_type = check_type(kind_type)
        with self.r.lock:
            project_id = self._project(fields)
        clean = self._clean(kind, kind_type, fields, partial=False)
        doc = {key: DEFAULTS.get(key) for key in FIELDS[(kind, kind_type)]}
        doc.update(clean)
        doc.update(kind=kind, type=kind_type, project=project_id, created_at=clock.iso(),
                   status="initialized", last_sync=None, last_sync_count=None, traceback=None,
                   meta={})
        self._check_connection(doc)  # may talk to a bucket: outside the store lock
        with self.r.transaction():
            self.core.projects.get(project_id)
            return self.r.storages.insert(doc)

    def update(self, storage_id, kind, kind_type, fields):
        kind_type = check_type(kind_type)
        with self.r.lock:
            doc = dict(self.get(storage_id, kind, kind_type))
        clean = self._clean(kind, kind_type, fields, partial=True)
        self._check_connection({**doc, **clean})
        with self.r.transaction():
            self.get(storage_id, kind, kind_type)
            if clean:
                self.r.storages.update(clean, doc_ids=[storage_id])

    def delete(self, storage_id, kind, kind_type):
        """The storage goes, its tasks stay; as LS's cascade drops their links, the tasks no
        longer name a storage_filename."""
        with self.r.transaction():
            doc = self.get(storage_id, kind, check_type(kind_type))
            tasks = self.r.tasks
            linked = [i for i in self.core.tasks.ids(doc["project"])
                      if tasks.doc(i).get("_storage") == storage_id]
            if linked:
                tasks.update({"storage_filename": None, "_storage": None}, doc_ids=linked)
            self.r.storages.remove(doc_ids=[storage_id])

    def delete_project(self, project_id):
        """Called inside the project's delete transaction."""
        ids = [i for i, d in self.r.storages.docs().items() if d["project"] == project_id]
        self.r.storages.remove(doc_ids=ids)

    # -- sync -----------------------------------------------------------------------------

    def sync(self, storage_id, kind, kind_type, user_id):
        """Run a sync now; the storage's status, counts and errors say how it went. Returns
        the storage as it was once queued (LS answers a new export storage so: its sync runs
        after the answer there)."""
        kind_type = check_type(kind_type)
        with self._guard:
            lock = self._sync_locks.setdefault(storage_id, threading.Lock())
        with lock:
            with self.r.lock:
                doc = dict(self.get(storage_id, kind, kind_type))
                meta = dict(doc.get("meta") or {})
                meta["attempts"] = meta.get("attempts", 0) + 1
                meta["time_queued"] = clock.iso()
                queued = self.as_json(storage_id, {**doc, "status": "queued", "meta": dict(meta),
                                                   "traceback": None})
                meta["time_in_progress"] = clock.iso()
                self._set(storage_id, status="in_progress", meta=meta, traceback=None)
            started = time.perf_counter()
            status, count, problems, existed = "completed", 0, [], 0
            try:
                if kind == "import":
                    count, existed, problems = self._sync_import(storage_id, doc, user_id)
                else:
                    count, problems = self._sync_export(doc)
                if problems:
                    status = "completed_with_errors"
            except LabelDeskError as e:
                status, problems = "failed", [str(getattr(e, "errors", None) or e.detail)]
            except Exception as e:
                if kind_type == "s3" and isinstance(e, s3.errors()):
                    status, problems = "failed", [f"S3: {e}"]
                else:
                    log.exception("sync of storage %s", storage_id)
                    status, problems = "failed", [traceback.format_exc()]
            meta.update(time_completed=clock.iso(), time_last_ping=clock.iso(),
                        duration=round(time.perf_counter() - started, 4))
            if kind == "import":
                meta["tasks_existed"] = existed
            else:  # LS: an export sync counts the annotations it wrote
                meta["total_annotations"] = count
            with self.r.lock:
                if self.r.storages.doc(storage_id) is None:
                    raise NotFound(detail="Not found.")
                self._set(storage_id, status=status, last_sync=clock.iso(),
                          last_sync_count=count, meta=meta,
                          traceback="\n".join(problems)[:20000] if problems else None)
        return queued

    def _set(self, storage_id, **changes):
        if self.r.storages.doc(storage_id) is not None:
            self.r.storages.update(changes, doc_ids=[storage_id])

    def _linked_keys(self, storage_id, project_id):
        docs = self.r.tasks
        return {docs.doc(i).get("storage_filename") for i in self.core.tasks.ids(project_id)
                if docs.doc(i).get("_storage") == storage_id}

    def _sync_import(self, storage_id, doc, user_id):
        """(new task count, files already linked, problems)."""
        project_id = doc["project"]
        regex = localfiles.check_regex(doc.get("regex_filter"))
        recursive = doc.get("recursive_scan", False)
        if doc["type"] == "localfiles":
            folder = localfiles.check_folder(doc["path"], self.root)
            listed, outside = localfiles.list_files(folder, self.root, regex, recursive)
            keys = [key for key, _ in listed]
            real = dict(listed)
        else:
            keys, outside = s3.list_keys(doc, regex, recursive), []
        with self.r.lock:
            linked = self._linked_keys(storage_id, project_id)
        fresh = [k for k in keys if k not in linked]
        client = s3.client(doc) if doc["type"] == "s3" and not doc.get("use_blob_urls") \
            else None
        problems = [f"{key}: skipped, a symlink to a file outside the storage's folder"
                    for key in outside]
        items, owners = [], []
        for key in fresh:
            try:
                if doc.get("use_blob_urls"):
                    url = localfiles.file_url(real[key], self.root) \
                        if doc["type"] == "localfiles" else f"s3://{doc['bucket']}/{key}"
                    found = [{"data": {"$undefined$": url}}]
                else:
                    raw = real[key].read_bytes() if doc["type"] == "localfiles" else \
                        s3.read(doc, key, client)
                    found = self._json_tasks(raw)
                with self.r.lock:  # validation only: nothing is written
                    self.core.imports.import_json(project_id, found, user_id, commit=False)
            except ValidationError as e:
                problems.append(f"{key}: {self._message(e)}")
                continue
            except (OSError, LabelDeskError) as e:
                problems.append(f"{key}: {e}")
                continue
            items.extend(found)
            owners.extend([key] * len(found))
        if items:
            with self.r.transaction():
                answer = self.core.imports.import_json(project_id, items, user_id,
                                                       return_task_ids=True)
                for task_id, key in zip(answer["task_ids"], owners):
                    self.r.tasks.update({"storage_filename": key, "_storage": storage_id},
                                        doc_ids=[task_id])
        return len(items), len(keys) - len(fresh), problems

    @staticmethod
    def _message(error):
        messages = [m for ms in error.errors.values() for m in
                    (ms if isinstance(ms, list) else [ms])]
        return "; ".join(str(m) for m in messages) or error.detail

    @staticmethod
    def _json_tasks(raw):
        try:
            value = jsonload.loads(raw)  # nesting capped
        except orjson.JSONDecodeError as e:
            raise ValidationError(f"Can't parse JSON: {e}. Files of a storage without "
                                  "\"use_blob_urls\" must hold tasks as JSON.") from None
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(i, dict) for i in items):
            raise ValidationError("A task file must hold a JSON object or a list of objects.")
        return items

    # -- export ---------------------------------------------------------------------------

    @staticmethod
    def _key(doc, annotation_id):
        prefix = (doc.get("prefix") or "").strip("/")
        return f"{prefix}/{annotation_id}" if prefix else str(annotation_id)

    def _sync_export(self, doc):
        with self.r.lock:
            ids = list(self.r.annotations_by_project.ids(doc["project"]))
            payloads = [(i, annotation_file(self.core, i)) for i in ids]
        problems = []
        if doc["type"] == "localfiles":
            folder = localfiles.check_folder(doc["path"], self.root)
            for annotation_id, data in payloads:
                try:
                    atomic_write(folder / str(annotation_id), data)
                except OSError as e:
                    problems.append(f"{annotation_id}: {e}")
        else:
            client = s3.client(doc)
            for annotation_id, data in payloads:
                s3.put(doc, self._key(doc, annotation_id), data, client)
        return len(payloads) - len(problems), problems

    def _annotation_changed(self, event, annotation_id, doc):
        try:
            self._export_one(event, annotation_id, doc)
        except Exception:  # an export folder must never fail a save
            log.exception("export storages for %s %s", event, annotation_id)

    def _export_one(self, event, annotation_id, doc):
        deleted = event == "ANNOTATIONS_DELETED"
        targets = self.of_project(doc["project"], "export")
        if not targets:
            return
        data = None if deleted else annotation_file(self.core, annotation_id)
        if data is None and not deleted:
            return  # deleted meanwhile: its own event follows
        for storage_id, doc in targets:
            if deleted and not doc.get("can_delete_objects"):
                continue
            if doc["type"] == "localfiles":
                try:
                    folder = localfiles.check_folder(doc["path"], self.root)
                    path = folder / str(annotation_id)
                    if deleted:
                        path.unlink(missing_ok=True)
                    else:
                        atomic_write(path, data)
                except (OSError, ValidationError) as e:
                    log.warning("export storage %s, annotation %s: %s", storage_id,
                                annotation_id, e)
            else:
                self._queue_write(dict(doc), self._key(doc, annotation_id), data)

    def _queue_write(self, doc, key, data):
        try:
            self._writes.put_nowait((doc, key, data))
        except queue.Full:
            log.warning("S3 export queue is full: %s dropped", key)
            return
        if self._writer is None or not self._writer.is_alive():
            self._writer = threading.Thread(target=self._write_objects, daemon=True,
                                            name="labeldesk-s3-export")
            self._writer.start()

    def _write_objects(self):
        while True:
            try:
                doc, key, data = self._writes.get(timeout=60)
            except queue.Empty:
                return
            try:
                if data is None:
                    s3.delete(doc, key)
                else:
                    s3.put(doc, key, data)
            except Exception as e:
                log.warning("S3 export of %s to %s failed: %s", key, doc.get("bucket"), e)
            finally:
                self._writes.task_done()

    def flush(self, timeout=10):
        """Wait until queued bucket writes are done (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._writes.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)

    # -- serving files --------------------------------------------------------------------

    def local_file(self, d):
        """The file for /data/local-files/?d=<d>, or NotFound."""
        with self.r.lock:
            folders = [d_["path"] for _, d_ in sorted(self.r.storages.docs().items())
                       if d_["type"] == "localfiles" and d_["kind"] == "import"]
        return localfiles.served_file(d, self.root, folders)

    def resolve(self, task_id, fileuri):
        """(redirect URL, None) or (None, (bytes, content type)) for a task's s3:// URI."""
        try:
            uri = base64.urlsafe_b64decode(fileuri + "=" * (-len(fileuri) % 4)).decode()
        except (ValueError, UnicodeDecodeError, TypeError):
            raise ValidationError("fileuri is not a valid base64 URI") from None
        if not uri.startswith("s3://"):
            raise NotFound()
        bucket, _, key = uri[5:].partition("/")
        with self.r.lock:
            task = self.core.tasks.get(task_id)
            matches = [d for _, d in self.of_project(task["project"], "import")
                       if d["type"] == "s3" and d.get("bucket") == bucket]
        if not matches or not key:
            raise NotFound()
        doc = dict(matches[0])
        try:
            if doc.get("presign", True):
                return s3.presigned_url(doc, bucket, key), None
            return None, s3.stream(doc, bucket, key)
        except s3.errors() as e:
            raise ValidationError(f"Can't read {uri}: {e}") from None

