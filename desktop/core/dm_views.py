"""The data manager's saved views (tabs), with Label Studio 1.23.2's ViewSerializer rules."""

from desktop.core import fields
from desktop.core.errors import NotFound, ValidationError
from desktop.core.fields import FieldError, check
from desktop.core.records import locked


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
            elif "filters" in body["data"] and not isinstance(body["data"]["filters"], dict):
                errors["data"] = {"filters": ["Value must be a JSON object."]}  # LS: 500
            else:
                clean["data"] = body["data"]
        if errors:
            raise ValidationError(errors)
        return clean

    @staticmethod
    def _filters(filters):
        """`filters` as LS stores and answers them (its FilterGroup): each item is {filter,
        operator, type, value} and a `child_filter` only when it has one (the web app's own
        keys, such as "child_filter": null, are not echoed)."""
        def item(source, nested=True):
            if not isinstance(source, dict):
                return source  # taskquery refuses it with LS's message
            out = {"filter": source.get("filter", ""), "operator": source.get("operator", ""),
                   "type": source.get("type", ""), "value": source.get("value", {})}
            if nested and source.get("child_filter"):
                out["child_filter"] = item(source["child_filter"], nested=False)
            return out
        items = filters.get("items")
        if not isinstance(items, list):
            return filters
        return {"conjunction": filters["conjunction"], "items": [item(i) for i in items]}

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
            data["filters"] = Views._filters(filters)
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
