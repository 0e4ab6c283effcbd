"""Whole-project files: one portable zip with everything a project holds, and back.

    manifest.json   {"format": "labeldesk-project", "version": 1, "labeldesk": "<version>",
                     "created_at": ..., "project_id": <old id>, "counts": {...}}
    project.json    settings (Label Studio's writable project fields), label_config, views,
                    the users annotations refer to (id, email, names)
    tasks.jsonl     one task per line, as stored (original ids kept), with "annotations" and
                    "predictions" embedded as stored documents (original ids kept too)
    history.jsonl   the annotation history of the project, one version per line, oldest
                    first, as stored (core/history.py; annotation, task and user ids original)
    media/<name>    the project's uploads, under their stored names

Restoring makes a new project: new ids for everything (the answer maps old ids to new), upload
URLs /data/upload/<old project>/... rewritten to the new project's, annotation and prediction
references (parent_annotation, parent_prediction) remapped, counters recomputed from the data
exactly as the store keeps them, the annotation history carried over with its ids remapped (a
file without history.jsonl gives each annotation an "imported" version). It is one store
transaction: all of it, or nothing.

Reading a zip trusts nothing: entries with "..", absolute or drive paths, backslashes,
symlinks, duplicate or overlapping entries are refused (400) before anything is written; so
are zips over the caps below (413): more than MAX_ENTRIES entries (counted before zipfile
parses them), more than `max_bytes` uncompressed, an entry inflating more than MAX_RATIO times,
a JSON member over MAX_JSON_BYTES, a task line over MAX_LINE_BYTES. The caps are checked on the
declared sizes first, then on the bytes actually inflated: every entry is read in blocks (media
copied to their file, tasks a line at a time), never whole, so memory stays flat whatever the
zip says. A refusal mid-way leaves nothing: no project, no media file, no temp file.
"""

import datetime
import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

import orjson

from desktop import __version__
from desktop.core import clock, history, jsonload
from desktop.core.errors import TooLarge, ValidationError

FORMAT = "labeldesk-project"
VERSION = 1
# Caps on reading (docs/export.md). All are checked on what the zip declares before anything
# is read, and again on the bytes actually inflated while they are read in blocks.
MAX_BYTES = 20 * 1024 ** 3  # uncompressed, all entries together (the CLI's ceiling)
HTTP_FACTOR = 8  # over HTTP: at most 8 x max_body_bytes uncompressed (2 GB for 250 MB bodies)
DISK_RESERVE = 256 * 1024 ** 2  # and never more than the free disk space less this
MAX_ENTRIES = 200_000  # zipfile holds ~600 bytes per entry in memory: 120 MB at most
MAX_RATIO = 400  # an entry may inflate to 400 x its compressed size (LabelDesk's own: < 250)
RATIO_SLACK = 1024 ** 2  # ... plus this much (tiny entries compress absurdly well)
MAX_JSON_BYTES = 32 * 1024 ** 2  # manifest.json, project.json: read whole, then parsed
MAX_LINE_BYTES = 64 * 1024 ** 2  # one task (with its annotations) in tasks.jsonl
BLOCK = 1024 ** 2  # bytes read at a time
KEEP_PROJECT = ("title", "description", "label_config", "expert_instruction",
                "show_instruction", "show_skip_button", "enable_empty_annotation",
                "show_annotation_history", "color", "maximum_annotations", "is_published",
                "model_version", "is_draft", "min_annotations_to_start_training",
                "show_collab_predictions", "sampling", "show_ground_truth_first",
                "annotator_evaluation_enabled", "show_overlap_first",
                "overlap_cohort_percentage", "task_data_login", "task_data_password",
                "control_weights", "evaluate_predictions_automatically", "skip_queue",
                "reveal_preannotations_interactively", "pinned_at")
CHUNK = 1000


def archive_name(project_id, title="", now=None):
    now = now or datetime.datetime.now()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title or "").strip("-")[:40]
    return (f"labeldesk-project-{project_id}{'-' + slug if slug else ''}"
            f"-{now.strftime('%Y-%m-%d-%H-%M')}.zip")


# -- writing ----------------------------------------------------------------------------------

def write_archive(core, project_id, out, progress=None):
    """Write project `project_id` as a whole-project zip into the binary file `out`.

    Tasks are read CHUNK at a time under the store lock and streamed into the zip, so memory
    stays flat. `progress(done, total)` is called as tasks are written. Returns the counts.
    """
    r = core.records
    with r.lock:
        project = dict(core.projects.get(project_id))
        task_ids = list(r.tasks_by_project.ids(project_id))
        views = [{"id": i, **v} for i, v in r.views.docs().items()
                 if v.get("project") == project_id]
        uploads = [dict(r.uploads.doc(i), id=i) for i in core.uploads.of_project(project_id)]
    counts = {"tasks": 0, "annotations": 0, "predictions": 0, "media": 0, "history": 0}
    user_ids = set()
    total = len(task_ids)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        with zf.open("tasks.jsonl", "w", force_zip64=True) as f:
            for start in range(0, total, CHUNK):
                lines = []
                with r.lock:
                    for task_id in task_ids[start:start + CHUNK]:
                        task = r.tasks.doc(task_id)
                        if task is None:
                            continue
                        annotations = [dict(r.annotations.doc(i), id=i)
                                       for i in r.annotations_by_task.ids(task_id)] \
                            if task_id in r.annotations_by_task else []
                        predictions = [dict(r.predictions.doc(i), id=i)
                                       for i in r.predictions_by_task.ids(task_id)] \
                            if task_id in r.predictions_by_task else []
                        lines.append((task_id, task, annotations, predictions))
                buffer = []
                for task_id, task, annotations, predictions in lines:
                    for a in annotations:
                        for key in ("completed_by", "updated_by", "last_created_by"):
                            if isinstance(a.get(key), int):
                                user_ids.add(a[key])
                    if isinstance(task.get("updated_by"), int):
                        user_ids.add(task["updated_by"])
                    buffer.append(orjson.dumps({**task, "id": task_id,
                                                "annotations": annotations,
                                                "predictions": predictions},
                                               option=orjson.OPT_NON_STR_KEYS))
                    counts["tasks"] += 1
                    counts["annotations"] += len(annotations)
                    counts["predictions"] += len(predictions)
                if buffer:
                    f.write(b"\n".join(buffer) + b"\n")
                if progress:
                    progress(min(start + CHUNK, total), total)
        with zf.open("history.jsonl", "w", force_zip64=True) as f:
            buffer = []
            for _version_id, version in core.annotation_history.of_project_all(project_id):
                if isinstance(version.get("created_by"), int):
                    user_ids.add(version["created_by"])
                buffer.append(orjson.dumps(version))
                counts["history"] += 1
                if len(buffer) >= CHUNK:
                    f.write(b"\n".join(buffer) + b"\n")
                    buffer = []
            if buffer:
                f.write(b"\n".join(buffer) + b"\n")
        media = []
        for upload in uploads:
            name = upload["file"].rsplit("/", 1)[-1]
            path = core.uploads.folder(project_id) / name
            if path.is_file():
                # Media are compressed already; storing them is faster and no bigger.
                zf.write(path, "media/" + name, compress_type=zipfile.ZIP_STORED)
                media.append({"name": name, "size": upload.get("size"),
                              "created_at": upload.get("created_at")})
                counts["media"] += 1
        users = []
        with r.lock:
            for user_id in sorted(user_ids):
                user = r.store.table("users").doc(user_id)
                if user is not None:
                    users.append({"id": user_id, "email": user.get("email"),
                                  "first_name": user.get("first_name", ""),
                                  "last_name": user.get("last_name", "")})
        settings = {key: project[key] for key in KEEP_PROJECT if key in project}
        zf.writestr("project.json", orjson.dumps(
            {"id": project_id, "settings": settings, "created_at": project.get("created_at"),
             "views": views, "users": users, "media": media}, option=orjson.OPT_INDENT_2))
        zf.writestr("manifest.json", orjson.dumps(
            {"format": FORMAT, "version": VERSION, "labeldesk": __version__,
             "created_at": clock.iso(), "project_id": project_id, "counts": counts},
            option=orjson.OPT_INDENT_2))
    return counts


def export_to_file(core, project_id, path, progress=None):
    """Write the archive to `path` atomically (temp file in the same folder, then rename)."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path) or "."
    handle, tmp = tempfile.mkstemp(prefix=".labeldesk-", suffix=".zip.tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            counts = write_archive(core, project_id, out, progress)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return counts


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- reading ----------------------------------------------------------------------------------

def content_cap(folder, ceiling=MAX_BYTES):
    """The most uncompressed content a project file may unpack to: `ceiling`, and never more
    than the free space of the disk holding `folder` (the media folder) less DISK_RESERVE."""
    folder = Path(folder)
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ceiling
    return max(0, min(ceiling, free - DISK_RESERVE))


def count_entries(fp, most=MAX_ENTRIES):
    """How many records the central directory holds, counted by walking it (the count in the
    end record may lie), stopping past `most`: zipfile builds an object for every record when
    it opens a zip, so 3 million tiny entries in a 250 MB body would cost gigabytes."""
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    start = max(0, size - (22 + 65535 + 76))
    fp.seek(start)
    tail = fp.read(size - start)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        raise zipfile.BadZipFile("File is not a zip file")
    cd_size, = struct.unpack("<L", tail[at + 12:at + 16])
    first = start + at - cd_size
    if at >= 76 and tail[at - 20:at - 16] == b"PK\x06\x07":  # zip64: its own end record
        record = tail[at - 76:at - 20]
        if record[:4] != b"PK\x06\x06":
            raise zipfile.BadZipFile("Bad zip64 end record")
        cd_size, = struct.unpack("<Q", record[40:48])
        first = start + at - 76 - cd_size
    if first < 0:
        raise zipfile.BadZipFile("Bad offset for central directory")
    fp.seek(first)
    count = walked = 0
    while walked < cd_size and count <= most:
        head = fp.read(46)
        if len(head) < 46 or head[:4] != b"PK\x01\x02":
            raise zipfile.BadZipFile("Bad central directory")
        skip = sum(struct.unpack("<HHH", head[28:34]))
        fp.seek(skip, os.SEEK_CUR)
        walked += 46 + skip
        count += 1
    return count


def check_zip(zf, max_bytes=MAX_BYTES):
    """Refuse unsafe or oversized archives before reading any entry: by what the zip declares.
    (What is actually inflated is counted again while reading: see Budget and Metered.)"""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise TooLarge(f"Project archive refused: more than {MAX_ENTRIES} entries.")
    total = 0
    seen = set()
    for info in infos:
        name = info.filename
        parts = name.split("/")
        if (not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name
                or re.match(r"^[A-Za-z]:", name) or ".." in parts):
            raise ValidationError(f"Project archive refused: unsafe entry name {name!r}.")
        if name in seen:
            raise ValidationError(f"Project archive refused: {name!r} is in it twice.")
        seen.add(name)
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise ValidationError(f"Project archive refused: {name!r} is a symbolic link.")
        if info.flag_bits & 0x1:
            raise ValidationError(f"Project archive refused: {name!r} is encrypted.")
        total += info.file_size
        if total > max_bytes:
            raise TooLarge(too_big(max_bytes))
        if info.file_size > ratio_cap(info):
            raise TooLarge(bomb(name))
    # Entries whose data overlap (a zip bomb's trick: many names, one deflated kernel) are
    # refused: each entry's local header must start after the previous entry's data.
    end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < end:
            raise ValidationError(f"Project archive refused: {info.filename!r} overlaps "
                                  "another entry (a zip bomb?).")
        end = info.header_offset + 30 + info.compress_size
    return total


def ratio_cap(info):
    """The most an entry may inflate to: MAX_RATIO times its compressed size, plus a little."""
    return info.compress_size * MAX_RATIO + RATIO_SLACK


def bomb(name):
    return (f"Project archive refused: {name!r} inflates more than {MAX_RATIO} times its "
            "compressed size (a zip bomb?).")


def too_big(max_bytes):
    return (f"Project archive refused: its content is larger than {max_bytes} bytes "
            "uncompressed (the limit: see docs/export.md, and the free disk space).")


class Budget:
    """Counts the bytes actually inflated, against the total cap and each entry's ratio cap,
    while reading: a lying size header can't get past them, and nothing is read whole."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.left = max_bytes

    def open(self, zf, name):
        return Metered(zf.open(name), zf.getinfo(name), self)

    def spend(self, count):
        self.left -= count
        if self.left < 0:
            raise TooLarge(too_big(self.max_bytes))

    def read(self, zf, name, limit):
        """A small entry's bytes; larger than `limit` is refused before it is all read."""
        with self.open(zf, name) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"Project archive refused: {name} is larger than {limit} bytes.")
        return data

    def lines(self, zf, name):
        with self.open(zf, name) as f:
            while True:
                line = f.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return
                if len(line) > MAX_LINE_BYTES:
                    raise TooLarge(f"Project archive refused: a line of {name} is larger "
                                   f"than {MAX_LINE_BYTES} bytes.")
                if line.strip():
                    yield line


class Metered:
    """An entry being read: read(n) and readline(limit) only, each counted as it comes."""

    def __init__(self, file, info, budget):
        self.file, self.name, self.budget = file, info.filename, budget
        self.allowed = ratio_cap(info)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()
        return False

    def read(self, size=-1):
        return self.take(self.file.read(size if size is not None and size >= 0 else BLOCK))

    def readline(self, limit=-1):
        return self.take(self.file.readline(limit))

    def take(self, data):
        self.allowed -= len(data)
        if self.allowed < 0:
            raise TooLarge(bomb(self.name))
        self.budget.spend(len(data))
        return data


def read_json_entry(zf, budget, name):
    try:
        return jsonload.loads(budget.read(zf, name, MAX_JSON_BYTES))
    except KeyError:
        raise ValidationError(f"Not a LabelDesk project file: {name} is missing.") from None
    except orjson.JSONDecodeError as e:
        raise ValidationError(f"Project archive refused: {name} is not JSON ({e}).") from None


def rewrite_urls(value, old, new):
    """Replace /data/upload/<old>/ by /data/upload/<new>/ in every string of a task's data."""
    if isinstance(value, str):
        return value.replace(old, new) if old in value else value
    if isinstance(value, list):
        return [rewrite_urls(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: rewrite_urls(v, old, new) for k, v in value.items()}
    return value


# What a damaged zip raises from zipfile/zlib: bad CRC, broken deflate, a truncated or lying
# header ("negative seek value", "zip file version 6.4"), an unreadable JSON line.
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError)


def import_archive(core, source, user_id, max_bytes=None, title=None):
    """Restore a whole-project zip (a path or a seekable binary file) as a new project.

    `max_bytes` caps the uncompressed content (MAX_BYTES by default; the API passes less), and
    so does the free disk space (content_cap). Returns {"project": new id, "counts": {...},
    "tasks": {old: new}, "annotations": {...}, "predictions": {...}}.
    """
    max_bytes = content_cap(core.uploads.root, MAX_BYTES if max_bytes is None else max_bytes)
    opened = None
    try:
        try:
            if isinstance(source, (str, os.PathLike)):
                source = opened = open(source, "rb")
            if count_entries(source) > MAX_ENTRIES:
                raise TooLarge(f"Project archive refused: more than {MAX_ENTRIES} entries.")
            source.seek(0)
            zf = zipfile.ZipFile(source)
        except (OSError, *DAMAGED, struct.error) as e:
            raise ValidationError(f"Not a LabelDesk project file: {e}") from None
        try:
            return _import_zip(core, zf, user_id, max_bytes, title)
        except DAMAGED as e:  # a corrupt entry (bad CRC, broken deflate, truncated, bad line)
            raise ValidationError(f"Project archive refused: a damaged entry ({e}).") from None
    finally:
        if opened is not None:
            opened.close()


def _import_zip(core, zf, user_id, max_bytes, title):
    with zf:
        check_zip(zf, max_bytes)
        budget = Budget(max_bytes)
        manifest = read_json_entry(zf, budget, "manifest.json")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValidationError("Not a LabelDesk project file: manifest.json has another "
                                  "format.")
        if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
            raise ValidationError(f"This project file is version {manifest.get('version')}; "
                                  f"this LabelDesk reads versions up to {VERSION}. "
                                  "Update LabelDesk.")
        meta = read_json_entry(zf, budget, "project.json")
        if not isinstance(meta, dict) or not isinstance(meta.get("settings"), dict):
            raise ValidationError("Project archive refused: project.json has no settings.")
        names = set(zf.namelist())
        if "tasks.jsonl" not in names:
            raise ValidationError("Not a LabelDesk project file: tasks.jsonl is missing.")
        media = [n for n in zf.namelist() if n.startswith("media/") and not n.endswith("/")]
        for name in media:
            if name.count("/") != 1:
                raise ValidationError(f"Project archive refused: unexpected entry {name!r}.")
        return _restore(core, zf, budget, manifest, meta, media, user_id, title)


def _restore(core, zf, budget, manifest, meta, media, user_id, title):
    r = core.records
    settings = dict(meta["settings"])
    if title is not None:
        settings["title"] = title
    old_project = meta.get("id", manifest.get("project_id"))
    users = r.store.table("users")
    by_email = {u.get("email"): i for i, u in users.docs().items()}
    user_map = {}
    for user in meta.get("users") or []:
        if isinstance(user, dict) and isinstance(user.get("id"), int):
            user_map[user["id"]] = by_email.get(user.get("email"), user_id)

    def user(value):
        if isinstance(value, int) and not isinstance(value, bool):
            return user_map.get(value, value if users.doc(value) is not None else user_id)
        return value

    label_config = settings.pop("label_config", None)
    written = []
    new_project = None
    carried = 0
    bulk = getattr(r.store, "bulk", None)
    try:
        with r.transaction():
            history.note(r, action="imported", user=user_id)  # annotations it has no history of
            # The label config is checked by the project's own validation, before any task.
            fields = {k: v for k, v in settings.items() if k in KEEP_PROJECT}
            if label_config is not None:
                fields["label_config"] = label_config
            new_project = core.projects.create(fields, user_id)
            old_prefix = f"/data/upload/{old_project}/"
            new_prefix = f"/data/upload/{new_project}/"
            for name in media:
                stored = name.split("/", 1)[1]
                if stored != os.path.basename(stored) or stored.startswith("."):
                    raise ValidationError(f"Project archive refused: bad media name {name!r}.")
                with budget.open(zf, name) as entry:  # copied in blocks, counted as it comes
                    core.uploads.write(new_project, stored, entry)
                written.append(stored)
            for view in meta.get("views") or []:
                if isinstance(view, dict):
                    doc = {k: v for k, v in view.items() if k != "id"}
                    doc["project"] = new_project
                    r.views.insert(doc)
            maps = {"tasks": {}, "annotations": {}, "predictions": {}}
            pending = []  # (new annotation id, doc) needing parent remaps
            with (bulk() if bulk else _null()):
                for line in budget.lines(zf, "tasks.jsonl"):
                    _restore_task(core, jsonload.loads(line), new_project, old_prefix,
                                  new_prefix, user, maps, pending)
                for annotation_id, parent_annotation, parent_prediction in pending:
                    changes = {}
                    if parent_annotation is not None:
                        changes["parent_annotation"] = maps["annotations"].get(parent_annotation)
                    if parent_prediction is not None:
                        changes["parent_prediction"] = maps["predictions"].get(parent_prediction)
                    r.annotations.update(changes, doc_ids=[annotation_id])
                for task_id in maps["tasks"].values():
                    core.tasks.recount(task_id)
                if "history.jsonl" in zf.namelist():
                    carried = history.carry_project(
                        r, (jsonload.loads(line) for line in budget.lines(zf, "history.jsonl")),
                        new_project, dict(maps["annotations"]), maps["tasks"], user)
    except BaseException:
        for stored in written:
            core.uploads.discard(new_project, stored)
        if new_project is not None:
            try:  # the new project's (now empty) media folder
                core.uploads.folder(new_project).rmdir()
            except OSError:
                pass
        raise
    counts = {"tasks": len(maps["tasks"]), "annotations": len(maps["annotations"]),
              "predictions": len(maps["predictions"]), "media": len(written),
              "history": carried}
    return {"project": new_project, "counts": counts, **maps}


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _restore_task(core, item, project_id, old_prefix, new_prefix, user, maps, pending):
    r = core.records
    if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
        raise ValidationError("Project archive refused: a task in tasks.jsonl has no data.")
    old_id = item.pop("id", None)
    annotations = item.pop("annotations", None) or []
    predictions = item.pop("predictions", None) or []
    doc = dict(item)
    doc["project"] = project_id
    doc["data"] = rewrite_urls(doc["data"], old_prefix, new_prefix)
    if "updated_by" in doc:
        doc["updated_by"] = user(doc["updated_by"])
    doc.setdefault("created_at", clock.iso())
    doc.setdefault("updated_at", doc["created_at"])
    doc.setdefault("inner_id", len(maps["tasks"]) + 1)
    task_id = r.tasks.insert(doc)
    maps["tasks"][old_id] = task_id
    for prediction in predictions:
        if not isinstance(prediction, dict):
            continue
        old = prediction.pop("id", None)
        prediction.update(task=task_id, project=project_id)
        maps["predictions"][old] = r.predictions.insert(prediction)
    for annotation in annotations:
        if not isinstance(annotation, dict):
            continue
        old = annotation.pop("id", None)
        annotation.update(task=task_id, project=project_id)
        for key in ("completed_by", "updated_by", "last_created_by"):
            if key in annotation:
                annotation[key] = user(annotation[key])
        new = r.annotations.insert(annotation)
        maps["annotations"][old] = new
        parent_a, parent_p = annotation.get("parent_annotation"), annotation.get(
            "parent_prediction")
        if parent_a is not None or parent_p is not None:
            pending.append((new, parent_a, parent_p))

