"""The data manager: its columns, its view of a project, and the bulk actions over
selected tasks (ref. §4.4, §9), as Label Studio 1.23.2 answers them. The saved views
(tabs) are in dm_views.py, the fixed descriptions in dm_columns.py."""

from desktop.core import clock, drafts, fields, history, taskquery
from desktop.core.dm_columns import (
    ACTIONS,
    MEDIA_TYPES,
    NEAR_DUPLICATE_ACTIONS,
    NEAR_DUPLICATE_COLUMN,
    UNLISTED,
    task_columns,
)
from desktop.core.dm_views import Views
from desktop.core.errors import Bare, NotFound, ValidationError
from desktop.core.fields import FieldError
from desktop.core.records import locked
from desktop.labelconfig import UNDEFINED_KEY


class DataManager:
    """What the data manager asks of a project before it shows it: columns, state, forms."""

    def __init__(self, core):
        self.core = core
        self.r = core.records

    @locked
    def columns(self, project_id):
        """GET /api/dm/columns: the label config's data keys first, then the other keys of the
        tasks' data (type "Unknown"), the task columns, and `data` over the data columns."""
        self.core.projects.get(project_id)
        config = self.core.projects.config(project_id)
        from_config = {k: v for k, v in config.data_types.items() if "[" not in k}
        types = dict(from_config)
        for key in self.r.data_keys.get(project_id):
            if key not in types:
                types[key] = "Unknown"
        if from_config:
            types.pop(UNDEFINED_KEY, None)
        columns = [{"id": key, "title": key if key != UNDEFINED_KEY else "data",
                    "type": kind if kind in MEDIA_TYPES else "String", "target": "tasks",
                    "parent": "data",
                    "visibility_defaults": {"explore": True, "labeling": key in from_config
                                            or key == UNDEFINED_KEY},
                    "project_defined": True} for key, kind in types.items()]
        members = sorted(self.core.users.users.docs())
        columns += task_columns(members, self.model_versions(project_id))
        if self.core.projects.get(project_id).get("near_duplicates"):
            columns.append(dict(NEAR_DUPLICATE_COLUMN))
        columns.append({"id": "data", "title": "data", "type": "List", "target": "tasks",
                        "children": list(types), "project_defined": False})
        return {"columns": columns}

    def model_versions(self, project_id):
        """LS's project.get_model_versions(): the predictions' versions, latest first, then the
        project's own version when no prediction has it."""
        latest = {}
        for prediction_id in self.r.predictions_by_project.ids(project_id):
            doc = self.r.predictions.doc(prediction_id)
            version = doc.get("model_version") or ""
            latest[version] = max(latest.get(version, ""), doc.get("created_at") or "")
        versions = sorted(latest, key=latest.get, reverse=True)
        own = self.core.projects.get(project_id).get("model_version")
        if own and own not in versions:
            versions.append(own)
        return versions

    @locked
    def project(self, project_id, user_id):
        """GET /api/dm/project: LS's ProjectSerializer without the counters (they are null
        there), the queue of the requesting user, and the data manager's extra keys."""
        projects = self.core.projects
        data = projects.as_json(project_id, counters=False, user_id=user_id)
        data.update(can_delete_tasks=True, can_manage_annotations=True, can_manage_tasks=True,
                    source_syncing=False, target_syncing=False,
                    task_count=self.r.tasks_by_project.count(project_id),
                    annotation_count=self.r.annotations_by_project.count(project_id),
                    config_has_control_tags=bool(projects.config(project_id).parsed))
        return data

    @locked
    def actions(self, project_id):
        return [{**a, "dialog": dict(a["dialog"])} for a in actions_of(self.core, project_id)]

    @locked
    def form(self, action_id, project_id):
        """GET /api/dm/actions/{id}/form: the action's dialog form for the project; [] for an
        action without one. An unknown action: LS's 500 message, answered 404 here."""
        self.core.projects.get(project_id)
        if action_id not in {a["id"] for a in actions_of(self.core, project_id)} | set(UNLISTED):
            raise NotFound(detail=f"Can't find '{action_id}' in registered actions")
        if action_id == "predictions_to_annotations":
            versions = self.model_versions(project_id)
            first = self.core.projects.get(project_id).get("model_version") or ""
            if first:
                versions = [first] + [v for v in versions if v != first]
            return [{"columnCount": 1, "fields": [
                {"type": "select", "name": "model_version", "label": "Choose predictions",
                 "options": versions, "value": first}]}]
        if action_id == "delete_tasks_annotations":
            return [{"columnCount": 1, "fields": [
                {"type": "select", "name": "annotator", "label": "Annotator",
                 "options": self._annotator_options(project_id), "placeholder": "All",
                 "searchable": True}]}]
        if action_id == "cache_labels":
            controls = list(self.core.projects.config(project_id).parsed)
            return [{"columnCount": 1, "fields": [
                {"type": "select", "name": "control_tag", "label": "Choose a control tag",
                 "options": ["ALL", *controls]},
                {"type": "input", "name": "custom_control_tag",
                 "label": "Custom control tag if it's not in label config"},
                {"type": "select", "name": "with_counters", "label": "With counters",
                 "options": ["Yes", "No"]},
                {"type": "select", "name": "source", "label": "Source",
                 "options": ["Annotations", "Predictions"]}]}]
        return []

    @locked
    def label_links(self, project, page):
        """GET /api/label_links: Community has no custom labels, so an empty page; LS's 400 for
        a `project` that names none and 404 for a page past the first."""
        self.core.views.list_filter(project)
        if page not in (None, "", "1", "last"):
            raise NotFound(detail="Invalid page.")
        return {"count": 0, "next": None, "previous": None, "results": []}

    def _annotator_options(self, project_id):
        """The users with annotations or drafts in the project, by id."""
        ids = {self.r.annotations.doc(i).get("completed_by")
               for i in self.r.annotations_by_project.ids(project_id)}
        for draft in self.r.drafts.docs().values():
            task = self.r.tasks.doc(draft.get("task"))
            if task is not None and task.get("project") == project_id:
                ids.add(draft.get("user"))
        options = []
        for user_id in sorted(i for i in ids if isinstance(i, int)):
            user = self.core.users.users.doc(user_id)
            if user is not None:
                name = f"{user.get('first_name', '')} {user.get('last_name', '')}".strip()
                options.append({"value": str(user_id),
                                "label": name or user.get("username") or user["email"]})
        return options


class Actions:
    """POST /api/dm/actions: the bulk actions over the tasks a selection picks."""

    def __init__(self, core):
        self.core = core
        self.r = core.records

    def selected_ids(self, project_id, body, view_id=None):
        # A malformed body must never fall back to "all tasks" (that would delete them all).
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(body).__name__}.")
        selected = body.get("selectedItems") or body.get("selected_items") or {"all": True}
        filters, ordering = body.get("filters"), body.get("ordering") or []
        if view_id is not None:
            view = self.core.views.get(view_id)
            filters = filters or view["data"].get("filters")
        # taskquery.select checks the shapes of selectedItems, filters and ordering
        return taskquery.select(self.core.records, self.core.tasks, project_id, filters,
                                ordering, selected)

    def _checked(self, action, project_id, body, view_id):
        """LS's order of checks: the project (404), the selection, the action's id (422, bare),
        then the action (an unknown one: LS's 500, a 404 here)."""
        self.core.projects.get(project_id)
        ids = self.selected_ids(project_id, body, view_id)
        if action is None:
            raise Bare({"detail": f'No action id "{action}", use ?id=<action-id>'}, 422)
        if action not in {a["id"] for a in actions_of(self.core, project_id)} | set(UNLISTED):
            raise NotFound(detail=f"Can't find '{action}' in registered actions")
        return ids

    @locked
    def next_task(self, project_id, body, user_id, view_id=None):
        """The hidden `next_task` action, the data manager's label stream: (task id, queue).
        A body with filters, ordering or selected items is LS's "data manager queue": the
        first task of that selection, in its order. A selection of nothing ({"all": false,
        "included": []}, what the web app sends when the label stream page is opened or
        reloaded by its URL) is the whole project, as in LS's TaskQuerySet.prepared; the bulk
        actions keep reading it as nothing."""
        body = body or {}
        if isinstance(body, dict):
            for key in ("selectedItems", "selected_items"):
                selected = body.get(key)
                if isinstance(selected, dict) and not selected.get("all") \
                        and not selected.get("included"):
                    body = {**body, key: {"all": True}}
        ids = self._checked("next_task", project_id, body, view_id)
        dm_queue = bool(body.get("filters") or body.get("ordering") or body.get("selectedItems"))
        plain = view_id is None and not dm_queue
        return self.core.tasks.next_task(project_id, user_id, None if plain else ids, dm_queue)

    @locked
    def run(self, action, project_id, body, user_id, view_id=None):
        """Run a bulk action under the store lock; retrieve_tasks_predictions answers a job
        that MLBackends.finish_action waits for outside it."""
        core = self.core
        ids = self._checked(action, project_id, body, view_id)
        if action == "delete_tasks":
            with self.r.trash.collect("tasks"):  # the tabs too, when they go with the tasks
                history.note(self.r, user=user_id)  # who deleted their annotations
                count = core.tasks.delete_many(ids)
                reload = not self.r.tasks_by_project.count(project_id)
                if reload:  # LS: a project left without tasks loses its tabs
                    core.views.remove_of_project(project_id)
            return {"processed_items": count, "reload": reload,
                    "detail": f"Deleted {count} tasks"}
        if action == "delete_tasks_annotations":
            annotator = body.get("annotator") if isinstance(body, dict) else None
            if annotator not in (None, ""):
                try:
                    annotator = fields.integer(annotator)
                except FieldError as e:
                    raise ValidationError({"annotator": [e.message]}) from None  # LS: 500
            annotator = annotator or None
            touched = [t for t in ids if any(
                annotator is None or a.get("completed_by") == annotator
                for _, a in core.tasks.annotations_of(t))]
            with self.r.trash.collect("annotations"):
                history.note(self.r, user=user_id)
                count = core.annotations.delete_of_tasks(ids, annotator)
                self._touch(touched, user_id)
            return {"processed_items": count, "detail": f"Deleted {count} annotations"}
        if action == "delete_tasks_predictions":
            count = core.predictions.delete_of_tasks(ids)
            return {"processed_items": count, "detail": f"Deleted {count} predictions"}
        if action == "predictions_to_annotations":
            version = body.get("model_version") if isinstance(body, dict) else None
            count = self.predictions_to_annotations(ids, version, user_id)
            return {"detail": f"Created {count} annotations"}
        if action == "remove_duplicates":
            self.remove_duplicates(ids)
            return {}  # LS runs it as a job and answers nothing more
        if action == "retrieve_tasks_predictions":
            ml = getattr(core, "ml", None)
            if ml is None:
                raise ValidationError("No ML backend is connected to this project.")
            return ml.retrieve_predictions(project_id, ids)
        if action in ("delete_near_duplicates", "merge_near_duplicates"):
            return self.near_duplicates(ids, merge=action == "merge_near_duplicates")
        if action == "cache_labels":
            raise ValidationError("cache_labels is an experimental action LabelDesk doesn't run.")
        raise ValidationError("next_task answers the next task: see Actions.next_task.")

    @locked
    def preview(self, action, project_id, body, view_id=None):
        """What a bulk action that deletes would take (counted as it counts) and a sentence
        saying it, with where it goes: the web app's dialog shows it before the action runs
        (desktop/ui/js/webapp-actions.js)."""
        if action not in PREVIEWED:
            raise ValidationError({"id": [f"One of {', '.join(PREVIEWED)}."]})
        ids = self._checked(action, project_id, body, view_id)
        r, tasks = self.r, self.core.tasks
        annotator = body.get("annotator") if isinstance(body, dict) else None
        annotator = int(annotator) if str(annotator).isdigit() else None  # the form's
        if action == "remove_duplicates":
            ids = self.duplicates(ids)
        counts = {"tasks": len(ids), "annotations": 0, "predictions": 0, "drafts": 0}
        if action != "delete_tasks_predictions":
            annotations = [i for t in ids for i, a in tasks.annotations_of(t)
                           if annotator is None or a.get("completed_by") == annotator]
            counts["annotations"] = len(annotations)
            counts["drafts"] = len(set(drafts.ids_of_tasks(r, ids, annotator)).union(
                *(r.drafts_by_annotation.ids(i) for i in annotations)))
        if action != "delete_tasks_annotations":
            counts["predictions"] = sum(r.predictions_by_task.count(t) for t in ids)
        if action == "delete_tasks_predictions":
            counts["annotations"] = counts["drafts"] = 0
        return {"action": action, **counts, "days": r.trash.days(),
                "text": preview_text(action, counts, r.trash.days(), annotator)}

    def predictions_to_annotations(self, task_ids, version, user_id):
        """An annotation from every prediction of the tasks that no annotation was made from
        yet; only those of `version` (a name or a list of names) when given (LS)."""
        core = self.core
        versions = None if version is None else \
            version if isinstance(version, list) else [version]
        created, touched = 0, []
        with core.records.transaction():
            for task_id in task_ids:
                used = {a.get("parent_prediction") for _, a in core.tasks.annotations_of(task_id)}
                for prediction_id, prediction in core.tasks.predictions_of(task_id):
                    if prediction_id in used or (versions is not None
                                                 and prediction.get("model_version")
                                                 not in versions):
                        continue
                    core.annotations.create(task_id, {"result": prediction.get("result") or [],
                                                      "parent_prediction": prediction_id,
                                                      "last_action": "prediction"}, user_id)
                    created += 1
                    touched.append(task_id)
            self._touch(sorted(set(touched)), user_id)
        return created

    def _touch(self, task_ids, user_id):
        """LS marks the tasks an action changed as updated, by the user."""
        if task_ids:
            self.r.tasks.update({"updated_at": clock.iso(), "updated_by": user_id},
                                doc_ids=task_ids)

    def near_duplicates(self, task_ids, merge):
        """Delete (or merge into the task they repeat) the selected near-duplicates whose
        original is still there."""
        tasks, count, moved = self.core.tasks, 0, 0
        with self.r.trash.collect("tasks"):  # one trash item: the deleted tasks, the moves
            for task_id in task_ids:
                task = self.r.tasks.doc(task_id)
                original = task.get("near_duplicate_of") if task else None
                if original is None or original == task_id or \
                        self.r.tasks.doc(original) is None:
                    continue
                if merge:
                    moved += tasks.merge_into(task_id, original)
                else:
                    tasks.delete_many([task_id])
                count += 1
        detail = f"Merged {count} near-duplicates ({moved} annotations moved)" if merge \
            else f"Deleted {count} near-duplicates"
        return {"processed_items": count, "reload": True, "detail": detail}

    def remove_duplicates(self, task_ids):
        duplicates = self.duplicates(task_ids)
        self.core.tasks.delete_many(duplicates)
        return len(duplicates)

    def duplicates(self, task_ids):
        """The tasks remove_duplicates deletes: those without annotations whose data an
        earlier task has."""
        core = self.core
        seen, duplicates = {}, []
        for task_id in task_ids:
            key = repr(sorted(core.tasks.get(task_id)["data"].items()))
            if key in seen:
                if not core.tasks.get(task_id).get("total_annotations"):
                    duplicates.append(task_id)
            else:
                seen[key] = task_id
        return duplicates


PREVIEWED = ("delete_tasks", "delete_tasks_annotations", "delete_tasks_predictions",
             "remove_duplicates")


def preview_text(action, counts, days, annotator=None):
    """The sentence the confirm dialog shows: what goes, and whether it comes back."""
    def n(key, one):
        value = counts[key]
        return f"{value:,} {one if value == 1 else key}"
    if action in ("delete_tasks", "remove_duplicates"):
        extra = [n(k, k[:-1]) for k in ("annotations", "predictions", "drafts") if counts[k]]
        what = n("tasks", "task") + (" with " + ", ".join(extra) if extra else "")
    elif action == "delete_tasks_annotations":
        what = n("annotations", "annotation") + (
            f" (and {n('drafts', 'draft')})" if counts["drafts"] else "") + \
            f" of the {n('tasks', 'selected task')}" + (
                ", every annotator's (choosing one below deletes only theirs)"
                if annotator is None else "")
    else:
        what = n("predictions", "prediction") + f" of the {n('tasks', 'selected task')}"
    where = (f"They go to the trash for {days} day{'s' if days != 1 else ''}: LabelDesk's "
             "Trash page (in the menu) gives them back." if days > 0 else
             "The trash is off (LabelDesk's Settings): this can't be undone.")
    return f"You are about to delete {what}.\n\n{where}"


def actions_of(core, project_id):
    """The data manager's actions for a project: Label Studio's, then LabelDesk's
    near-duplicate actions once the project was scanned for them."""
    project = core.projects.get(project_id)
    return ACTIONS + (NEAR_DUPLICATE_ACTIONS if project.get("near_duplicates") else [])


__all__ = ["Actions", "DataManager", "Views"]
