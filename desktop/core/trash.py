"""The trash: deleted projects, tasks, annotations and predictions, kept `trash_days` (30) days
with their files, and given back under their own ids (docs/adr/0011-trash.md).

* A delete runs as it always did, inside `collect()`, which makes it one store transaction.
  Before that commits, every document the delete removed, from whatever table (a project's
  tasks, annotations, predictions, drafts, tabs, uploads, snapshots, ML backends, storages,
  webhooks, live export folder, ...), is copied into `trash_records` with its table and id,
  and the files the delete would have unlinked stay where they are, named by the item (table
  `trash`). Documents the delete changed but kept (the task whose counters an annotation's
  delete changed) are kept as they were, with a checksum of what the delete left. The delete
  and its trash item are one journal record: after a kill, both or neither.
* `restore()` is one transaction: every document back under its own id (the store's id
  counters only grow, so no id is reused meanwhile), the changed ones back as they were where
  nothing touched them since (the tasks that were touched are counted again), the item gone.
  No file moved, so nothing happens on disk: a kill leaves the item whole in the trash or
  whole restored.
* `purge()` (empty one item or all; expiry) is one transaction dropping the records; the
  files go after it committed (a kill between leaves files no record names, which the
  start-up cleanup removes).

Kill points for the crash tests: desktop/db/backups.py `step()` (LABELDESK_RESTORE_KILL_AT=
trash-delete-collected, trash-restore-staged, trash-restore-committed, trash-purge-committed,
trash-purge-unlinking).
"""

import logging
import os
import threading
import zlib
from contextlib import contextmanager
from datetime import datetime, timezone

import orjson

from desktop.core import clock, history
from desktop.core.errors import Conflict, NotFound, ValidationError
from desktop.db.backupfiles import files_named
from desktop.db.backups import now, step
from desktop.db.storage import Document

log = logging.getLogger("labeldesk.trash")

ITEMS, RECORDS = "trash", "trash_records"
KINDS = ("project", "tasks", "annotations", "predictions")
DEFAULT_DAYS, MAX_DAYS, DAY = 30, 3650, 86400
CHUNK = 5000  # documents per trash_records document
ORDER = ("projects", "tasks", "annotations", "predictions", "drafts")  # parents first
CHECK_SECONDS = 3600  # how often a running app looks for expired items


def days_setting(settings):
    """settings.trash_days as a number of days (0: deletes are final); the default when the
    value is not one."""
    days = getattr(settings, "trash_days", DEFAULT_DAYS)
    return days if isinstance(days, int) and not isinstance(days, bool) \
        and 0 <= days <= MAX_DAYS else DEFAULT_DAYS


def check_days(value):
    """A trash_days value the user sent, or ValidationError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise ValidationError({"trash_days": [
            f"A whole number of days from 0 (deletes are final) to {MAX_DAYS}."]})
    return value


def checksum(doc):
    return zlib.crc32(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))


def iso(seconds):
    return clock.iso(datetime.fromtimestamp(seconds, timezone.utc))


class Trash:
    """The trash of one store. `days()` says how long items are kept (the app wires the
    setting in); `recount(task_id)` counts a task again (Tasks.recount)."""

    def __init__(self, records):
        self.r = records
        self.store = records.store
        self.items = self.store.table(ITEMS)
        self.records = self.store.table(RECORDS)
        self.records_by_item = self.store.index(RECORDS, "item")
        self.data_dir = os.path.dirname(os.path.abspath(self.store.folder))
        self.days = lambda: DEFAULT_DAYS
        self.recount = None
        self._collecting = False
        self._stopped = threading.Event()

    # -- a delete, into the trash -----------------------------------------------------------

    @contextmanager
    def collect(self, kind):
        """Run the delete in the block as one transaction that keeps what it removes as one
        trash item of `kind`. Inside another collect (a project's delete deletes its tasks)
        it is that one's; with the trash off (0 days) it is a plain transaction: deletes are
        final."""
        with self.r.lock:
            if self._collecting or self.days() <= 0:
                with self.r.transaction():
                    yield
                return
            with self.r.transaction(), self.store.bulk(freeze=False):
                undo = self.store.storage.undo  # the transaction's changes, oldest first
                mark = len(undo)
                self._collecting = True
                try:
                    with self.r.removals.withheld() as files:
                        yield
                finally:
                    self._collecting = False
                removed, changed = self._changes(undo[mark:])
                if removed:
                    self._keep(kind, removed, changed, files)
                    step("trash-delete-collected")
                else:
                    self.r.removals.later(files)

    def _changes(self, undo):
        """({table: [(id, doc)]} removed, {table: [(id, before, after)]} changed) by the
        changes `undo` lists, each document as it was before the first of them."""
        removed, changed, seen, live = {}, {}, set(), {}
        for name, doc_id, old in undo:
            if (name, doc_id) in seen:
                continue
            seen.add((name, doc_id))
            if old is None or name in (ITEMS, RECORDS):
                continue
            docs = live.get(name)
            if docs is None:
                docs = live[name] = self.store.table(name).docs()
            current = docs.get(doc_id)
            if current is None:
                removed.setdefault(name, []).append((doc_id, old))
            elif current is not old:
                changed.setdefault(name, []).append((doc_id, old, current))
        return removed, changed

    def _keep(self, kind, removed, changed, files):
        project_id, title = self._project_of(removed)
        paths = [self._relative(path) for what, path in files if what == "unlink"]
        item = {"kind": kind, "name": name_of(kind, removed, title), "project": project_id,
                "project_title": title, "deleted": now(), "counts": {
                    name: len(docs) for name, docs in removed.items()},
                "files": paths,
                "folders": [self._relative(path) for what, path in files if what == "rmdir"]}
        item["deleted_at"] = iso(item["deleted"])
        item["counts"]["files"] = len(paths)
        chunks, size = [], 0
        for name, docs in removed.items():
            for start in range(0, len(docs), CHUNK):
                part = [[i, doc] for i, doc in docs[start:start + CHUNK]]
                size += len(orjson.dumps(part))
                chunks.append({"table": name, "docs": part})
        for name, docs in changed.items():
            for start in range(0, len(docs), CHUNK):
                part = docs[start:start + CHUNK]
                chunks.append({"table": name, "changed": [
                    [i, before, checksum(after)] for i, before, after in part]})
        item["records_size"] = size
        item["size"] = size + sum(self._file_size(path) for path in paths)
        item_id = self.items.insert(item)
        self.records.insert_multiple({"item": item_id, **chunk} for chunk in chunks)
        return item_id

    def _project_of(self, removed):
        projects = removed.get("projects") or []
        if projects:
            return projects[0][0], projects[0][1].get("title")
        for name in ("tasks", "annotations", "predictions"):
            for _, doc in removed.get(name, ()):
                project = self.r.projects.doc(doc.get("project"))
                return doc.get("project"), (project or {}).get("title")
        return None, None

    def _relative(self, path):
        path = os.path.abspath(path)
        inside = os.path.commonpath([path, self.data_dir]) == self.data_dir
        return os.path.relpath(path, self.data_dir).replace(os.sep, "/") if inside else path

    def _absolute(self, name):
        return os.path.join(self.data_dir, *name.split("/")) if not os.path.isabs(name) \
            else name

    def _file_size(self, name):
        try:
            return os.stat(self._absolute(name)).st_size
        except OSError:
            return 0

    # -- reading ----------------------------------------------------------------------------

    def as_json(self, item_id, item=None):
        item = item or self.items.doc(item_id)
        return {"id": item_id, "kind": item["kind"], "name": item["name"],
                "project": item.get("project"), "project_title": item.get("project_title"),
                "deleted_at": item["deleted_at"],
                "expires_at": iso(item["deleted"] + self.days() * DAY),
                "size": item["size"], "counts": dict(item["counts"])}

    def listing(self):
        """Every item, the last deleted first (expired ones are purged first)."""
        self.expire()
        with self.r.lock:
            docs = self.items.docs()
            items = [self.as_json(i, d) for i, d in sorted(
                docs.items(), key=lambda pair: (pair[1]["deleted"], pair[0]), reverse=True)]
        return {"days": self.days(), "count": len(items),
                "size": sum(item["size"] for item in items), "items": items}

    def get_json(self, item_id):
        with self.r.lock:
            return self.as_json(item_id, self._get(item_id))

    def _get(self, item_id):
        item = self.items.doc(item_id) if isinstance(item_id, int) \
            and not isinstance(item_id, bool) else None
        if item is None:
            raise NotFound(detail=f"No item {item_id} in the trash (restored, emptied or "
                                  "expired).")
        return item

    def _records(self, item_id):
        removed, changed = {}, {}
        for chunk_id in self.records_by_item.ids(item_id):
            chunk = self.records.doc(chunk_id)
            if "docs" in chunk:
                removed.setdefault(chunk["table"], []).extend(chunk["docs"])
            else:
                changed.setdefault(chunk["table"], []).extend(chunk["changed"])
        return removed, changed

    # -- restore ----------------------------------------------------------------------------

    def restore(self, item_id):
        """Put the item's documents back under their ids, in one transaction; 409 when what
        they belong to is not there (in the trash itself, or gone for good)."""
        with self.r.transaction(), self.store.bulk(freeze=False):
            # the annotations it gives back get a version saying so (core/history.py)
            history.note(self.r, action="updated", comment="Restored from the trash")
            item = self._get(item_id)
            answer = self.as_json(item_id, item)
            removed, changed = self._records(item_id)
            self._check(item, removed)
            for name in sorted(removed, key=lambda n: (n not in ORDER, ORDER.index(n)
                                                       if n in ORDER else 0, n)):
                self.store.table(name).insert_multiple(
                    Document(doc, doc_id=i) for i, doc in removed[name])
            recount = set()
            for name, entries in changed.items():
                table = self.store.table(name)
                for doc_id, before, crc in entries:
                    current = table.doc(doc_id)
                    if current is not None and checksum(current) == crc:
                        table.update(replaced_by(before), doc_ids=[doc_id])
                    elif current is not None and name == "tasks":
                        recount.add(doc_id)
            if self.recount is not None:
                for task_id in sorted(recount):
                    self.recount(task_id)
            self.records.remove(doc_ids=list(self.records_by_item.ids(item_id)))
            self.items.remove(doc_ids=[item_id])
            step("trash-restore-staged")
        step("trash-restore-committed")
        return {"restored": answer}

    def _check(self, item, removed):
        """Every document's id free, and what each belongs to there or coming back with it."""
        for name, docs in removed.items():
            live = self.store.table(name).docs()
            taken = next((i for i, _ in docs if i in live), None)
            if taken is not None:
                raise Conflict(f"Can't restore {item['name']}: {name} {taken} exists again.")
        coming = {name: {i for i, _ in removed.get(name, ())} for name in ("projects", "tasks")}
        wanted = {"projects": set(), "tasks": set()}
        for name, docs in removed.items():
            for _, doc in docs:
                if isinstance(doc.get("project"), int):
                    wanted["projects"].add(doc["project"])
                if name in ("annotations", "predictions", "drafts") \
                        and isinstance(doc.get("task"), int):
                    wanted["tasks"].add(doc["task"])
        for name, word in (("projects", "project"), ("tasks", "task")):
            live = self.store.table(name).docs()
            for parent in sorted(wanted[name] - coming[name]):
                if parent not in live:
                    raise Conflict(f"Can't restore {item['name']}: its {word} {parent} "
                                   + self._whereabouts(name, parent))

    def _whereabouts(self, name, doc_id):
        for item_id in self.items.docs():
            for chunk_id in self.records_by_item.ids(item_id):
                chunk = self.records.doc(chunk_id)
                if chunk["table"] == name and any(i == doc_id for i, _ in chunk.get("docs", ())):
                    return (f"is in the trash too ({self.items.doc(item_id)['name']}, item "
                            f"{item_id}): restore that first.")
        return "was deleted for good."

    # -- emptying ---------------------------------------------------------------------------

    def purge(self, item_ids=None):
        """Drop items (all when None) for good: their records in one transaction, then their
        files; when they were a good part of the store (a quarter of its snapshot), the store
        is compacted at once, so that db/ gives their space back too (a compaction keeps the
        snapshot it replaces as a backup: that space comes back as backups rotate).
        {"removed": items, "size": bytes freed, "files": files removed}."""
        with self.r.transaction():
            if item_ids is None:
                item_ids = list(self.items.docs())
            items = {i: self._get(i) for i in item_ids}
            self.records.remove(doc_ids=[c for i in items for c in self.records_by_item.ids(i)])
            self.items.remove(doc_ids=list(items))
            named = self._named_elsewhere()
            files = [n for item in items.values() for n in item.get("files", ())
                     if n not in named]
            folders = [n for item in items.values() for n in item.get("folders", ())]
        step("trash-purge-committed")
        freed = sum(item["size"] for item in items.values())
        for number, name in enumerate(files):
            if number == len(files) // 2:
                step("trash-purge-unlinking")
            try:
                os.unlink(self._absolute(name))
            except FileNotFoundError:
                pass
            except OSError as e:  # an orphan now: the next start removes it
                log.warning("trash: could not remove %s (%s)", name, e.strerror)
        for name in folders:
            try:
                os.rmdir(self._absolute(name))
            except OSError:
                pass  # not empty (or gone): what is in it is someone else's
        records = sum(item.get("records_size", 0) for item in items.values())
        if records and records * 4 >= self.store.storage.snapshot_bytes:
            try:
                self.store.compact()
            except OSError as e:  # the purge stands; the next compaction frees the space
                log.warning("trash: could not compact the store after emptying: %s", e)
        return {"removed": len(items), "size": freed, "files": len(files)}

    def _named_elsewhere(self):
        """The files live records or other trash items name (a file is only ever one
        record's; this is the guard that keeps it so)."""
        named = files_named({name: self.store.table(name).docs()
                             for name in ("uploads", "exports")})
        for item in self.items.docs().values():
            named.update(item.get("files", ()))
        return named

    def files(self):
        """Every file an item of the trash names (start-up cleanup keeps them)."""
        with self.r.lock:
            return {name for item in self.items.docs().values()
                    for name in item.get("files", ())}

    def expire(self):
        """Purge the items older than the setting's days; how many went. Never raises."""
        try:
            if self.store.readonly:
                return 0
            limit = now() - self.days() * DAY
            with self.r.lock:
                old = [i for i, d in self.items.docs().items() if d["deleted"] <= limit]
            if old:
                done = self.purge(old)
                log.info("trash: %s item(s) older than %s days removed (%s bytes)",
                         done["removed"], self.days(), done["size"])
            return len(old)
        except Exception as e:  # noqa: BLE001 - logged; tried again at the next check
            log.warning("trash: could not remove expired items: %s", e)
            return 0

    def start(self):
        """Expire items now and then every CHECK_SECONDS, in a background thread."""
        thread = threading.Thread(target=self._watch, name="labeldesk-trash", daemon=True)
        thread.start()
        return thread

    def _watch(self):
        while not self._stopped.wait(CHECK_SECONDS):
            self.expire()

    def stop(self):
        self._stopped.set()


def replaced_by(before):
    """A TinyDB update that makes the document `before` again."""
    def transform(doc):
        doc.clear()
        doc.update(before)
    return transform


def name_of(kind, removed, title):
    """What the trash calls an item: a project's title; "Task 12", "40 tasks"; ..."""
    if kind == "project":
        projects = removed.get("projects") or [(None, {})]
        return title or f"Project {projects[0][0]}"
    docs = removed.get(kind) or []
    if len(docs) != 1:
        return f"{len(docs)} {kind}"
    doc_id, doc = docs[0]
    word = kind[:-1].capitalize()
    return f"{word} {doc_id}" + (f" of task {doc['task']}" if "task" in doc else "")
