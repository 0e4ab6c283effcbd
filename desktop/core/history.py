"""Annotation history: every state every annotation was in, kept for good (issue 20).

Every transaction that creates, changes or deletes annotations leaves one version per annotation
it changed: the state it left it in (a deleted one: the state it had), with who, when, the lead
time and Label Studio Enterprise's action name (`imported`, `submitted`, `updated`, `skipped`,
`prediction`, ...; `deleted` is LabelDesk's own). The version is written in the same journal
record as the change (db/history.py keeps it from there on), so whatever path changes an
annotation (the API, imports, project files, push/pull, the legacy API, the data manager) leaves
its versions without knowing of history; code that knows more says so with `note` (who, which
action, a comment) or hands in versions itself with `carry` (a project file's history).

The API is LSE's (/api/annotation-history/, /api/projects/{id}/annotation-history/), plus
LabelDesk's restore (/api/annotation-history/{id}/restore): the annotation takes that version's
result again, which is itself a new version. Deleting history (LSE's DELETE) hides the versions
from every answer; their bytes stay in the append-only files (docs/adr/0010).
"""

import functools

from desktop.core import clock
from desktop.core.errors import Conflict, NotFound, StoreError, ValidationError
from desktop.core.paging import page_params, page_slice
from desktop.core.users import ORGANIZATION
from desktop.db import CorruptFile
from desktop.db.docs import decoded
from desktop.db.history import TABLE

# LSE's AnnotationHistory.action choices, and the one LabelDesk adds for a deleted annotation.
ACTIONS = ("prediction", "propagated_annotation", "imported", "submitted", "updated", "skipped",
           "accepted", "rejected", "fixed_and_accepted", "deleted_review")
DELETED = "deleted"
# what a stored version holds (as_version)
STORED = ("annotation_id", "task_id", "project_id", "action", "created_by", "created_at",
          "lead_time", "result", "was_cancelled", "ground_truth", "comment", "draft_id",
          "started_at")
ORDERINGS = {"id": ("id", False), "-id": ("id", True), "created_at": ("created_at", False),
             "-created_at": ("created_at", True)}
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
QUERY_KEYS = {"annotation": "annotation_id", "task": "task_id", "project": "project_id"}


def locked(method):
    """records.locked's twin: core/records.py makes the trash, which notes history, so this
    module doesn't import it."""
    @functools.wraps(method)
    def holding_lock(self, *args, **kwargs):
        with self.r.lock:
            return method(self, *args, **kwargs)
    return holding_lock


def note(records, action=None, user=None, comment=None, draft_id=None):
    """Say, inside a transaction, what its annotation changes are: `action` (an LSE action name
    for the states it leaves; deletions stay `deleted`), `user` (who made them), a `comment`,
    the `draft_id` the annotation was made from."""
    context = records.store.storage.context
    if context is None:
        raise RuntimeError("history.note() belongs inside a transaction")
    noted = context.setdefault("history", {})
    for key, value in (("action", action), ("user", user), ("comment", comment),
                       ("draft_id", draft_id)):
        if value is not None:
            noted[key] = value


def carry(records, version):
    """Inside a transaction: `version` (a stored version, as as_version makes them) is written
    as it is, in the order carried; the annotation it names gets no version of its own from the
    transaction's changes (a project file's history)."""
    context = records.store.storage.context
    if context is None:
        raise RuntimeError("history.carry() belongs inside a transaction")
    context.setdefault("carried", []).append(version)


def carry_project(records, versions, project_id, annotations, tasks, user):
    """A project file's history into project `project_id`, which it makes (inside its
    transaction): `versions` its stored versions (oldest first), `annotations` and `tasks` its
    maps of old ids to new, `user` its map of user ids. A version of an annotation the file
    doesn't hold (deleted before it was written) gets an annotation id never given out, one per
    annotation, so its history stays together. Returns how many versions were carried."""
    storage = records.store.storage
    gone = {}  # old ids of annotations the file doesn't hold -> new ids
    count = 0
    for version in versions:
        if not isinstance(version, dict):
            continue
        old = version.get("annotation_id")
        new = annotations.get(old)
        if new is None:
            new = gone.get(old) or gone.setdefault(old, storage.take_id("annotations"))
        version = {key: version.get(key) for key in STORED}
        carry(records, {**version, "annotation_id": new,
                        "task_id": tasks.get(version.get("task_id")), "project_id": project_id,
                        "created_by": user(version.get("created_by"))})
        count += 1
    return count


def as_version(annotation_id, state, action, user, stamp, noted=None):
    """A stored version: the keys the history is indexed by, then what LSE's item holds, and
    what a restore needs (was_cancelled, ground_truth)."""
    noted = noted or {}
    return {"annotation_id": annotation_id, "task_id": state.get("task"),
            "project_id": state.get("project"), "action": action, "created_by": user,
            "created_at": stamp, "lead_time": state.get("lead_time"),
            "result": state.get("result"), "was_cancelled": bool(state.get("was_cancelled")),
            "ground_truth": bool(state.get("ground_truth")), "comment": noted.get("comment"),
            "draft_id": noted.get("draft_id"), "started_at": state.get("draft_created_at")}


def derived_action(old, new):
    """The action of a state no code named: LSE's words for what happened to the annotation."""
    if old is None:
        if new.get("last_action") in ACTIONS:
            return new["last_action"]
        return "skipped" if new.get("was_cancelled") else "submitted"
    if new.get("was_cancelled") and not old.get("was_cancelled"):
        return "skipped"
    return "updated"


class AnnotationHistory:
    """The history of the store's annotations: made at every commit, read by the API."""

    def __init__(self, records, annotations=None):
        self.r = records
        self.annotations = annotations
        self.storage = records.store.storage
        self.log = self.storage.history
        self.deletions = records.store.table("history_deletions")
        if not getattr(self.storage, "annotation_history_hook", False):
            self.storage.before_commit.append(self.versions)
            self.storage.annotation_history_hook = True

    # -- making versions (the store's commit hook) ---------------------------------------------

    def versions(self, undo, context):
        """The versions a transaction makes: one per annotation it changed, in id order."""
        before = {}
        for name, doc_id, old in undo:
            if name == "annotations" and doc_id not in before:
                before[doc_id] = old
        carried = context.get("carried") or []
        if not before and not carried:
            return []
        noted = context.get("history") or {}
        live = self.r.annotations.docs()
        stamp = clock.iso()
        out = [version for version in carried if isinstance(version, dict)]
        done = {version.get("annotation_id") for version in out}
        for annotation_id in sorted(before):
            if annotation_id in done:
                continue
            old, new = before[annotation_id], live.get(annotation_id)
            if new is None:
                if old is not None:
                    out.append(as_version(annotation_id, old, DELETED, noted.get("user"), stamp,
                                          noted))
                continue
            if new == old:
                continue
            action = noted.get("action") or derived_action(old, new)
            user = noted.get("user", new.get("updated_by") or new.get("completed_by"))
            out.append(as_version(annotation_id, new, action, user, stamp, noted))
        return out

    def check(self):
        """Read the history files whole, every checksum checked (in the background after the
        start): None, or where they are damaged."""
        try:
            self.log.verify()
        except CorruptFile as e:
            return f"{e.path}: {e.reason}"
        except (OSError, TypeError):
            return None  # closed meanwhile (LabelDesk was closed)
        return None

    # -- reading -------------------------------------------------------------------------------

    def as_json(self, version_id, version):
        """An item as LSE's AnnotationHistorySerializer answers it."""
        return {"id": version_id, "action": version.get("action"),
                "annotation_id": version.get("annotation_id"),
                "comment": version.get("comment"), "comment_id": None,
                "created_at": version.get("created_at"), "created_by": version.get("created_by"),
                "draft_id": version.get("draft_id"), "lead_time": version.get("lead_time"),
                "organization_id": ORGANIZATION["id"], "project_id": version.get("project_id"),
                "result": version.get("result"), "review_id": None,
                "started_at": version.get("started_at"), "task_id": version.get("task_id")}

    def _hidden(self):
        """(kind, id) -> the version id below which LSE's DELETE hid that one's history."""
        hidden = {}
        for doc in self.deletions.docs().values():
            key = (doc.get("key"), doc.get("value"))
            hidden[key] = max(hidden.get(key, 0), doc.get("below", 0))
        return hidden

    def _visible(self, entries):
        hidden = self._hidden()
        if not hidden:
            return entries
        return [e for e in entries
                if not any(e[0] < hidden.get((key, value), 0)
                           for key, value in zip(("annotation_id", "task_id", "project_id"),
                                                 e[1:]))]

    def _entries(self, key, value):
        try:
            return self._visible(self.log.entries(key, value))
        except CorruptFile as e:
            raise damaged(e) from None

    def _read(self, ids):
        try:
            return self.log.read(ids)
        except CorruptFile as e:
            raise damaged(e) from None

    @locked
    def of_annotation(self, annotation, ordering=None):
        """GET /api/annotation-history/?annotation=: every version of an annotation (deleted
        ones too), newest first unless `ordering` says otherwise."""
        if annotation in (None, ""):
            raise ValidationError({"annotation": ["This field is required."]})
        annotation_id = query_int("annotation", annotation)
        ids = [e[0] for e in self._entries("annotation_id", annotation_id)]
        versions = self._read(ids)
        items = [self.as_json(i, versions[i]) for i in ids if i in versions]
        field, reverse = ORDERINGS.get((ordering or "").strip(), ("id", True))
        items.sort(key=lambda item: (item[field] or "", item["id"]) if field == "created_at"
                   else item["id"], reverse=reverse)
        return items

    @locked
    def get_json(self, version_id):
        """GET /api/annotation-history/{id}/."""
        version = self._version(version_id)
        return self.as_json(version_id, version)

    def _version(self, version_id):
        version = self._read([version_id]).get(version_id) if isinstance(version_id, int) \
            else None
        if version is None or not self._visible([(version_id, *(version.get(k) for k in (
                "annotation_id", "task_id", "project_id")))]):
            raise NotFound("AnnotationHistory")
        return version

    @locked
    def of_project(self, project_id, page=None, page_size=None, created_from=None,
                   created_to=None, base_url=""):
        """GET /api/projects/{id}/annotation-history/: the project's versions, newest first,
        a page at a time (LSE's PaginatedAnnotationHistoryList)."""
        if self.r.projects.doc(project_id) is None:
            raise NotFound("Project")
        page, size = page_params(page, page_size, PAGE_SIZE, MAX_PAGE_SIZE)
        low, high = moment("created_at_from", created_from), moment("created_at_to", created_to)
        ids = sorted((e[0] for e in self._entries("project_id", project_id)), reverse=True)
        if low is not None or high is not None:
            versions = self._read(ids)
            ids = [i for i in ids if i in versions and within(versions[i], low, high)]
        start, stop = page_slice(len(ids), page, size)
        chosen = ids[start:stop]
        versions = self._read(chosen)

        def link(number):
            return f"{base_url}?page={number}&page_size={size}"
        return {"count": len(ids), "next": link(page + 1) if stop < len(ids) else None,
                "previous": link(page - 1) if page > 1 else None,
                "results": [self.as_json(i, versions[i]) for i in chosen if i in versions]}

    def of_project_all(self, project_id):
        """Every visible version of a project, oldest first, as stored (project files)."""
        with self.r.lock:
            ids = [e[0] for e in self._entries("project_id", project_id)]
        for start in range(0, len(ids), 1000):
            with self.r.lock:
                versions = self._read(ids[start:start + 1000])
            for version_id in ids[start:start + 1000]:
                if version_id in versions:
                    yield version_id, versions[version_id]

    # -- changing ------------------------------------------------------------------------------

    @locked
    def delete(self, annotation=None, task=None, project=None):
        """DELETE /api/annotation-history/?annotation=|task=|project=: LSE's removal of the
        history of an annotation, task or project; {"removed": how many}. The versions are hidden
        from every answer from now on (the files are append-only; docs/adr/0010)."""
        given = {name: value for name, value in (("annotation", annotation), ("task", task),
                                                 ("project", project)) if value not in (None, "")}
        if not given:
            raise ValidationError("Specify one of annotation, task or project to delete the "
                                  "history of.")
        wanted = {QUERY_KEYS[name]: query_int(name, value) for name, value in given.items()}
        removed = set()
        for key, value in wanted.items():
            removed.update(e[0] for e in self._entries(key, value))
        with self.r.transaction():
            below = self.storage.next_ids.get("annotation_history", 1)
            self.deletions.insert_multiple({"key": key, "value": value, "below": below}
                                           for key, value in wanted.items())
        return {"removed": len(removed)}

    @locked
    def restore(self, version_id, user_id):
        """POST /api/annotation-history/{id}/restore: the annotation takes that version's
        result (and skipped state) again; that is a new version. The user's draft of it goes
        (the editor would show the draft instead). Returns the annotation."""
        version = self._version(version_id)
        annotation_id = version.get("annotation_id")
        if self.r.annotations.doc(annotation_id) is None:
            raise Conflict(f"Annotation {annotation_id} was deleted: restore it from the trash "
                           "first, then this version.")
        fields = {"result": version.get("result"),
                  "was_cancelled": bool(version.get("was_cancelled"))}
        with self.r.transaction():
            drafts = [i for i in self.r.drafts_by_annotation.ids(annotation_id)
                      if self.r.drafts.doc(i).get("user") == user_id]
            self.r.drafts.remove(doc_ids=drafts)
            self.annotations.update(annotation_id, fields, user_id,
                                    comment=f"Restored version #{version_id}")
        return self.annotations.as_json(annotation_id)


def restored_state(tables, current, backup):
    """What a restore of the backup named `backup` puts in place: its `tables` with every
    counter at least where the store's (`current`, None when it couldn't be read) was, so no id
    the store gave out is given again (nor an annotation's history mixed with another's), and
    the versions the restore makes: one for every annotation it changes ("updated" to the
    backup's state, or "deleted"), saying which backup. (tables, history operations)."""
    out = dict(tables)
    if current is None:
        return out, []
    for name, table in current.items():
        mine = out.get(name) or {"next_id": 1, "docs": []}
        out[name] = {**mine, "next_id": max(mine.get("next_id", 1), table.get("next_id", 1))}
    before = {i: decoded(d) for i, d in (current.get("annotations") or {}).get("docs") or ()}
    after = {i: decoded(d) for i, d in (tables.get("annotations") or {}).get("docs") or ()}
    history = out.get(TABLE) or {"next_id": 1, "docs": []}
    next_id, stamp = history.get("next_id", 1), clock.iso()
    noted = {"comment": f"Restored from the backup {backup}"}
    ops = []
    for annotation_id in sorted(set(before) | set(after)):
        old, new = before.get(annotation_id), after.get(annotation_id)
        if old == new:
            continue
        version = as_version(annotation_id, old, DELETED, None, stamp, noted) if new is None \
            else as_version(annotation_id, new, "updated", None, stamp, noted)
        ops.append([TABLE, "p", next_id, version])
        next_id += 1
    out[TABLE] = {**history, "next_id": next_id}
    return out, ops


def query_int(name, value):
    """A query parameter that must be an id (DRF's words); ValidationError otherwise."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({name: ["A valid integer is required."]}) from None
    if number < 0 or number > 2 ** 63 - 1:
        raise ValidationError({name: ["A valid integer is required."]})
    return number


def moment(name, value):
    """An ISO 8601 date-time of a query, as an aware datetime; None when not given."""
    if value in (None, ""):
        return None
    from datetime import datetime, timezone
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValidationError({name: ["Enter a valid date/time."]}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def within(version, low, high):
    try:
        when = clock.parse(version.get("created_at"))
    except (TypeError, ValueError):
        return False
    return (low is None or when >= low) and (high is None or when <= high)


def damaged(error):
    """What a damaged history file answers: where it is damaged, and what to do."""
    return StoreError(f"LabelDesk's annotation history is damaged: {error}")
