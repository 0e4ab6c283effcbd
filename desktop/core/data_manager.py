"""The data manager: its columns, its view of a project, saved views (tabs), and the bulk
actions over selected tasks (ref. §4.4, §9), as Label Studio 1.23.2 answers them."""

from desktop.core import clock, fields, taskquery
from desktop.core.dm_columns import ACTIONS, MEDIA_TYPES, UNLISTED, task_columns
from desktop.core.errors import Bare, NotFound, ValidationError
from desktop.core.fields import FieldError, check
from desktop.core.records import locked
from desktop.labelconfig import UNDEFINED_KEY

BULK_DISALLOWED = {"labels", "brush", "brushlabels", "ellipse", "ellipselabels", "keypoint",
                   "keypointlabels", "polygon", "polygonlabels", "rectangle", "rectanglelabels",
                   "hypertextlabels", "paragraphlabels", "timeserieslabels", "videorectangle"}
BULK_CHECKED = {"choices", "taxonomy", "datetime", "number", "rating", "textarea"}


def suitable_for_bulk_annotation(tree):
    """LS's config_suitable_for_bulk_annotation: no region tags, no per-region or per-item
    controls, no Choices/Taxonomy with a `value`, no labeling or remote Taxonomy."""
    for element in tree.iter():
        if not isinstance(element.tag, str) or not element.get("name"):
            continue
        tag = element.tag.lower()
        if tag in BULK_DISALLOWED or (tag.endswith("labels") and tag != "labels"):
            return False
        if tag in BULK_CHECKED:
            if any((element.get(a) or "false").lower() == "true"
                   for a in ("perRegion", "perItem")):
                return False
            if tag in ("choices", "taxonomy") and element.get("value") is not None:
                return False
        if tag == "taxonomy" and ((element.get("labeling") or "false").lower() == "true"
                                  or element.get("apiUrl") is not None):
            return False
    return True


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
        data = projects.as_json(project_id, counters=False)
        project = projects.get(project_id)
        done, total = self._queue(project_id, user_id, project.get("skip_queue"))
        data["queue_total"], data["queue_done"] = total, done
        data["config_suitable_for_bulk_annotation"] = suitable_for_bulk_annotation(
            projects.config(project_id).tree)
        data.update(can_delete_tasks=True, can_manage_annotations=True, can_manage_tasks=True,
                    source_syncing=False, target_syncing=False,
                    task_count=self.r.tasks_by_project.count(project_id),
                    annotation_count=self.r.annotations_by_project.count(project_id),
                    config_has_control_tags=bool(projects.config(project_id).parsed))
        return data

    def _queue(self, project_id, user_id, skip_queue):
        """(queue_done, queue_total) as LS's serializer counts them for the user: done = the
        tasks they annotated (not counting skips when skipped tasks come back to them); total =
        those plus the unlabeled tasks they haven't touched."""
        mine, finished = set(), set()
        for annotation_id in self.r.annotations_by_project.ids(project_id):
            doc = self.r.annotations.doc(annotation_id)
            if doc.get("completed_by") == user_id:
                mine.add(doc["task"])
                if not doc.get("was_cancelled"):
                    finished.add(doc["task"])
        counters = self.r.counters(project_id)
        unlabeled = counters["task_number"] - counters["finished_task_number"]
        unlabeled_mine = sum(1 for t in mine if not self.r.tasks.doc(t).get("is_labeled"))
        done = len(finished) if skip_queue == "REQUEUE_FOR_ME" else len(mine)
        return done, unlabeled - unlabeled_mine + len(mine)

    @locked
    def actions(self, project_id):
        self.core.projects.get(project_id)
        return [{**a, "dialog": dict(a["dialog"])} for a in ACTIONS]

    @locked
    def form(self, action_id, project_id):
        """GET /api/dm/actions/{id}/form: the action's dialog form for the project; [] for an
        action without one. An unknown action: LS's 500 message, answered 404 here."""
        self.core.projects.get(project_id)
        if action_id not in {a["id"] for a in ACTIONS} | set(UNLISTED):
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


class Views:
    """Saved views (the data manager's tabs), with LS's ViewSerializer rules: `filters` (with a
    `conjunction`) and a non-empty `ordering` in `data` are kept apart from the rest of it, so
    a later update whose `data` lacks them keeps the old ones; the view's JSON puts them back
    at the end of `data`, after `selectedItems` (the top-level `selected_items`)."""

    def __init__(self, records, projects):
        self.r = records
        self.projects = projects

    def get(self, view_id):
        doc = self.r.views.doc(view_id) if isinstance(view_id, int) else None
        if doc is None:
            raise NotFound("View")
        return doc

    @locked
    def as_json(self, view_id):
        doc = self.get(view_id)
        return {"id": view_id, "data": doc["data"], "order": doc.get("order", 0),
                "user": doc.get("user"), "project": doc["project"]}

    @locked
    def list(self, project_id=None):
        """GET /api/dm/views, of one project (any project when None)."""
        views = self.r.views.docs()
        ids = [i for i, v in views.items() if project_id is None or v["project"] == project_id]
        ids.sort(key=lambda i: (views[i].get("order", 0), i))
        return [self.as_json(i) for i in ids]

    def list_filter(self, value):
        """The `project` filter of GET /api/dm/views: django-filter's choice of a project."""
        if value is None or value == "":
            return None
        try:
            project_id = int(value)
        except ValueError:
            project_id = None
        if project_id is None or self.r.projects.doc(project_id) is None:
            raise ValidationError({"project": [
                "Select a valid choice. That choice is not one of the available choices."]})
        return project_id

    def _project_exists(self, project_id):
        return self.r.projects.doc(project_id) is not None

    def _clean(self, body, partial):
        """The writable fields: project, data (an object), order, user, selected_items."""
        fields.expect_object(body)
        errors, clean = {}, {}
        for name, reader, args in (
                ("project", fields.pk, (self._project_exists,)),
                ("order", fields.integer, ()),
                ("user", fields.pk, (lambda i: self.r.store.table("users").doc(i) is not None,
                                     True)),
                ("selected_items", fields.json_value, (True,))):
            present, value = check(errors, body, name, reader, *args,
                                   required=name == "project" and not partial)
            if present:
                clean[name] = value
        if "data" in body:
            if body["data"] is None or not isinstance(body["data"], dict):
                errors["data"] = ["Value must be a JSON object."]  # LS: 500
            else:
                clean["data"] = body["data"]
        if errors:
            raise ValidationError(errors)
        return clean

    @staticmethod
    def _merge(old, new, selected_items):
        """The view's `data` after `new` (LS's to_internal_value then to_representation)."""
        old = old or {}
        rest = {k: v for k, v in new.items() if k not in ("filters", "ordering")}
        filters = new.get("filters")
        if not (isinstance(filters, dict) and filters.get("conjunction")):
            filters = old.get("filters")
        ordering = new.get("ordering") or old.get("ordering")
        data = dict(rest)
        if filters:
            data["filters"] = filters
        if selected_items:
            data["selectedItems"] = selected_items
        if ordering:
            data["ordering"] = ordering
        return data

    @locked
    def create(self, body, user_id):
        clean = self._clean(body, partial=False)
        data = clean.get("data") or {}
        project_id = clean["project"]
        order = clean.get("order", 0)
        filters = data.get("filters")
        if isinstance(filters, dict) and filters.get("conjunction"):
            order = len(self.list(project_id))  # LS: a view with filters goes last
        return self.r.views.insert({
            "project": project_id, "data": self._merge({}, data, clean.get("selected_items")),
            "order": order, "user": user_id, "selected_items": clean.get("selected_items")})

    @locked
    def update(self, view_id, body, partial=True):
        with self.r.transaction():
            doc = self.get(view_id)
            clean = self._clean(body, partial=partial)
            changes = {k: clean[k] for k in ("project", "order", "user", "selected_items")
                       if k in clean}
            selected = clean.get("selected_items", doc.get("selected_items"))
            old = {k: v for k, v in doc["data"].items() if k != "selectedItems"}
            if "data" in clean or "selected_items" in clean:
                new = clean.get("data", {k: v for k, v in old.items()
                                         if k not in ("filters", "ordering")})
                changes["data"] = self._merge(old, new, selected)
            if changes:
                self.r.views.update(changes, doc_ids=[view_id])

    @locked
    def delete(self, view_id):
        self.get(view_id)
        self.r.views.remove(doc_ids=[view_id])

    @locked
    def reorder(self, body):
        """POST /api/dm/views/order: {"project", "ids"}; the project's views among `ids` take
        their position as `order`."""
        fields.expect_object(body)
        errors = {}
        _, project_id = check(errors, body, "project", fields.integer, required=True)
        ids = body.get("ids")
        if "ids" not in body:
            errors["ids"] = ["This field is required."]
        elif not isinstance(ids, list):
            errors["ids"] = [f'Expected a list of items but got type "{type(ids).__name__}".']
        elif not ids:
            errors["ids"] = ["This list may not be empty."]
        else:
            item_errors = {}
            for position, value in enumerate(ids):
                try:
                    fields.integer(value)
                except FieldError as e:
                    item_errors[str(position)] = [e.message]
            if item_errors:
                errors["ids"] = item_errors
        if errors:
            raise ValidationError(errors)
        self.projects.get(project_id)
        with self.r.transaction():
            for order, view_id in enumerate(fields.integer(i) for i in ids):
                view = self.r.views.doc(view_id)
                if view is not None and view["project"] == project_id:
                    self.r.views.update({"order": order}, doc_ids=[view_id])

    @locked
    def reset(self, project):
        """DELETE /api/dm/views/reset: every view of the project (its id from the body or the
        query, as LS reads it)."""
        try:
            project_id = fields.pk(project, self._project_exists)
        except FieldError as e:
            raise ValidationError({"project": [e.message]}) from None
        self.remove_of_project(project_id)

    def remove_of_project(self, project_id):
        ids = [i for i, v in self.r.views.docs().items() if v["project"] == project_id]
        self.r.views.remove(doc_ids=ids)

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
            raise ValidationError("Invalid data. Expected a dictionary.")
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
        if action not in {a["id"] for a in ACTIONS} | set(UNLISTED):
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
            with self.r.transaction():
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
        if action == "cache_labels":
            raise ValidationError("cache_labels is an experimental action LabelDesk doesn't run.")
        raise ValidationError("next_task answers the next task: see Actions.next_task.")

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

    def remove_duplicates(self, task_ids):
        core = self.core
        seen, duplicates = {}, []
        for task_id in task_ids:
            key = repr(sorted(core.tasks.get(task_id)["data"].items()))
            if key in seen:
                if not core.tasks.get(task_id).get("total_annotations"):
                    duplicates.append(task_id)
            else:
                seen[key] = task_id
        core.tasks.delete_many(duplicates)
        return len(duplicates)
