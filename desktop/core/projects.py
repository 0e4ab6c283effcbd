"""Projects: settings, label config and counters, in Label Studio's shapes."""

import re

from desktop import labelconfig
from desktop.core import clock
from desktop.core.errors import LabelDeskError, NotFound, ValidationError
from desktop.core.paging import page_slice, parse_bool
from desktop.core.records import PROJECT_COUNTERS, locked
from desktop.labelconfig.samples import PROJECT_EXAMPLES, complete_sample_task, sample_task

EMPTY_CONFIG = "<View></View>"
SAMPLING = ("Sequential sampling", "Uniform sampling", "Uncertainty sampling")
SKIP_QUEUE = ("REQUEUE_FOR_ME", "REQUEUE_FOR_OTHERS", "IGNORE_SKIPPED")

# Writable fields with their defaults, in the order of Label Studio's project object.
DEFAULTS = {
    "title": "", "description": "", "label_config": EMPTY_CONFIG, "expert_instruction": "",
    "show_instruction": False, "show_skip_button": True, "enable_empty_annotation": True,
    "show_annotation_history": False, "color": "#FFFFFF", "maximum_annotations": 1,
    "is_published": False, "model_version": "", "is_draft": False,
    "min_annotations_to_start_training": 0, "show_collab_predictions": True,
    "sampling": "Sequential sampling", "show_ground_truth_first": False,
    "annotator_evaluation_enabled": False, "show_overlap_first": False,
    "overlap_cohort_percentage": 100, "task_data_login": None, "task_data_password": None,
    "control_weights": None, "evaluate_predictions_automatically": False,
    "skip_queue": "REQUEUE_FOR_OTHERS", "reveal_preannotations_interactively": False,
    "pinned_at": None,
}
BOOLEANS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)} | {
    "start_training_on_annotation_update"}
INTEGERS = ("maximum_annotations", "min_annotations_to_start_training",
            "overlap_cohort_percentage")
NULLABLE_STRINGS = ("title", "description", "expert_instruction", "task_data_login",
                    "task_data_password", "model_version", "pinned_at")
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def only_fields(project, include):
    """A project's JSON with only the fields `include` ("id,title,…") names, in the object's own
    order, as LS's serializers answer `?include=`: unknown names are ignored, an empty value
    leaves no field at all, None (no parameter) leaves every field."""
    if include is None:
        return project
    wanted = {name.strip() for name in include.split(",")}
    return {key: value for key, value in project.items() if key in wanted}


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


class Projects:
    def __init__(self, records, users):
        self.r = records
        self.users = users
        self._configs = {}  # project id -> (xml, LabelConfig): parsing once per change
        # (project id, user id) -> (the project's counters, (queue_done, queue_total)): a
        # user's queue is counted again only once an annotation, a skip or a task changed
        self._queues = {}

    # -- reading --------------------------------------------------------------------------

    @locked
    def get(self, project_id):
        project = self.r.projects.doc(project_id) if isinstance(project_id, int) else None
        if project is None:
            raise NotFound("Project")
        return project

    def config(self, project_id):
        """The parsed label config of a project (cached until the config changes)."""
        xml = self.get(project_id)["label_config"]
        cached = self._configs.get(project_id)
        if cached is None or cached[0] != xml:
            try:
                parsed = labelconfig.parse(xml)
            except labelconfig.LabelConfigError:
                parsed = labelconfig.parse(EMPTY_CONFIG)
            cached = self._configs[project_id] = (xml, parsed)
        return cached[1]

    def ids(self):
        return list(self.r.projects.docs())

    @locked
    def as_json(self, project_id, counters=True, user_id=None):
        """LS's ProjectSerializer; the queue is `user_id`'s (without one: all tasks as one
        annotator's, as webhooks and ML payloads give it)."""
        project = self.get(project_id)
        config = self.config(project_id)
        data = {"id": project_id}
        for key in ("title", "description", "label_config", "expert_instruction",
                    "show_instruction", "show_skip_button", "enable_empty_annotation",
                    "show_annotation_history"):
            data[key] = project.get(key, DEFAULTS[key])
        data["organization"] = 1
        for key in ("color", "maximum_annotations", "is_published", "model_version", "is_draft"):
            data[key] = project.get(key, DEFAULTS[key])
        data["created_by"] = self.users.brief(project.get("created_by"))
        data["created_at"] = project["created_at"]
        data["min_annotations_to_start_training"] = project.get(
            "min_annotations_to_start_training", 0)
        data["start_training_on_annotation_update"] = bool(
            project.get("min_annotations_to_start_training", 0))
        data["show_collab_predictions"] = project.get("show_collab_predictions", True)
        numbers = self.r.counters(project_id)
        for key in ("num_tasks_with_annotations", "task_number", "useful_annotation_number",
                    "ground_truth_number", "skipped_annotations_number",
                    "total_annotations_number", "total_predictions_number"):
            data[key] = numbers[key] if counters else None
        for key in ("sampling", "show_ground_truth_first", "annotator_evaluation_enabled",
                    "show_overlap_first", "overlap_cohort_percentage", "task_data_login",
                    "task_data_password"):
            data[key] = project.get(key, DEFAULTS[key])
        data["control_weights"] = project.get("control_weights") or config.control_weights
        data["parsed_label_config"] = config.parsed
        data["evaluate_predictions_automatically"] = project.get(
            "evaluate_predictions_automatically", False)
        data["config_has_control_tags"] = bool(config.parsed)
        for key in ("skip_queue", "reveal_preannotations_interactively", "pinned_at"):
            data[key] = project.get(key, DEFAULTS[key])
        data["finished_task_number"] = numbers["finished_task_number"] if counters else None
        if user_id is None:
            data["queue_total"] = numbers["task_number"] - numbers["finished_task_number"]
            data["queue_done"] = numbers["finished_task_number"]
        else:
            done, data["queue_total"] = self.queue(project_id, user_id)
            data["queue_done"] = done
        data["config_suitable_for_bulk_annotation"] = suitable_for_bulk_annotation(config.tree)
        data["state"] = None
        return data

    def queue(self, project_id, user_id):
        """(queue_done, queue_total) as LS's serializer counts them for the user: done = the
        tasks they annotated (not counting skips when skipped tasks come back to them); total =
        those plus the unlabeled tasks they haven't touched. Counted over the project's
        annotations once per change of its counters (every annotation created, deleted,
        skipped or unskipped, every task labeled or not changes them), not once per GET."""
        key = (project_id, user_id)
        stamp = (tuple(self.r.counters(project_id).values()),
                 self.get(project_id).get("skip_queue"))
        cached = self._queues.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        answer = self._count_queue(project_id, user_id)
        self._queues[key] = (stamp, answer)
        return answer

    def _count_queue(self, project_id, user_id):
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
        skip_queue = self.get(project_id).get("skip_queue")
        done = len(finished) if skip_queue == "REQUEUE_FOR_ME" else len(mine)
        return done, unlabeled - unlabeled_mine + len(mine)

    def counts(self, project_id):
        numbers = self.r.counters(project_id)
        return {"id": project_id, **{k: numbers[k] for k in (
            "task_number", "finished_task_number", "total_predictions_number",
            "total_annotations_number", "num_tasks_with_annotations",
            "useful_annotation_number", "ground_truth_number", "skipped_annotations_number")}}

    def list_ids(self, title=None, ids=None, ordering=None, pinned=None):
        """Project ids as Label Studio lists them: pinned first, then newest first."""
        projects = self.r.projects.docs()
        chosen = []
        for project_id, project in projects.items():
            if ids is not None and project_id not in ids:
                continue
            if title and title.lower() not in (project.get("title") or "").lower():
                continue
            if pinned == "pinned_only" and not project.get("pinned_at"):
                continue
            if pinned == "exclude_pinned" and project.get("pinned_at"):
                continue
            chosen.append(project_id)
        if ordering:
            field = ordering.lstrip("-")
            numbers = self.r.counters

            def key(i):
                if field == "id":
                    return i
                if field in PROJECT_COUNTERS:
                    return numbers(i)[field]
                value = projects[i].get(field, DEFAULTS.get(field))
                plain = isinstance(value, (int, float, str))
                return (value is None, value if plain else str(value))
            chosen.sort(key=key, reverse=ordering.startswith("-"))
        else:
            chosen.sort(key=lambda i: (not projects[i].get("pinned_at"),
                                       projects[i].get("pinned_at") or "", -i))
        return chosen

    @locked
    def page(self, page, page_size, counts=False, user_id=None, **filters):
        """(how many projects list_ids(**filters) picks, one page of them as JSON): the
        project list, or with `counts` only their counters (GET /api/projects/counts: LS
        orders them by id, oldest first, and has no `ordering` or `filter` there)."""
        if counts:
            filters.update(ordering="id", pinned=None)
        ids = self.list_ids(**filters)
        start, stop = page_slice(len(ids), page, page_size)
        if counts:
            return len(ids), [self.counts(i) for i in ids[start:stop]]
        return len(ids), [self.as_json(i, user_id=user_id) for i in ids[start:stop]]

    # -- writing --------------------------------------------------------------------------

    @locked
    def create(self, fields, user_id, from_form=False):
        """A new project. From an HTML form (`from_form`), as DRF reads one, a boolean field
        the form leaves out is false (an unchecked box), not its default."""
        if from_form and isinstance(fields, dict):
            fields = {**{k: False for k in BOOLEANS
                         if k != "start_training_on_annotation_update"}, **fields}
        clean = self._clean(fields, project_id=None)
        doc = {**DEFAULTS, **clean, "created_at": clock.iso(), "created_by": user_id}
        doc.pop("start_training_on_annotation_update", None)
        return self.r.projects.insert(doc)

    def update(self, project_id, fields):
        with self.r.transaction():
            self.get(project_id)
            clean = self._clean(fields, project_id=project_id)
            if "start_training_on_annotation_update" in clean:
                clean["min_annotations_to_start_training"] = int(
                    clean.pop("start_training_on_annotation_update"))
            if clean.get("show_collab_predictions") is False:
                clean["model_version"] = ""
            if clean:
                self.r.projects.update(clean, doc_ids=[project_id])

    def delete(self, project_id, on_delete=()):
        """The project and all it owns in one store write; `on_delete` callbacks run inside
        it. Their files (media, snapshots) are only collected there and removed once the
        write is committed (desktop/core/removals.py): a refused delete (a full or read-only disk)
        keeps every file, a kill leaves the project whole or gone. The trash keeps all of it,
        files included, as one item (desktop/core/trash.py)."""
        with self.r.trash.collect("project"), self.r.transaction():
            self.get(project_id)
            # its summary's tally first: the removal of its annotations then costs nothing
            # (a delete rolled back: counted again at its next summary)
            self.r.summaries.forget(project_id)
            for callback in on_delete:
                callback(project_id)
            self.r.projects.remove(doc_ids=[project_id])
            self._configs.pop(project_id, None)

    def _clean(self, fields, project_id):
        if not isinstance(fields, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(fields).__name__}.")
        errors, clean = {}, {}
        for key, value in fields.items():
            if key not in DEFAULTS and key != "start_training_on_annotation_update":
                continue  # read-only or unknown fields are ignored, as DRF does
            try:
                clean[key] = self._clean_field(key, value, project_id)
            except ValidationError as e:
                errors.update(e.errors)
        if errors:
            raise ValidationError(errors)
        return clean

    def _clean_field(self, key, value, project_id):
        def fail(message):
            raise ValidationError({key: [message]})

        if key in BOOLEANS:
            try:
                result = parse_bool(key, value)
            except ValidationError:
                result = None
            if result is None:
                fail("Must be a valid boolean.")
            return result
        if key in INTEGERS:
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                fail("A valid integer is required.")
            try:
                return int(value)
            except ValueError:
                fail("A valid integer is required.")
        if key == "label_config":
            return self._clean_config(value, project_id)
        if key == "title" and value is not None:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)  # LS's CharField takes a JSON number as its text
            if not isinstance(value, str):
                fail("Not a valid string.")
            if 0 < len(value) < 3:
                fail("Ensure this field has at least 3 characters.")
            if len(value) > 50:
                fail("Ensure this field has no more than 50 characters.")
            return value
        if key in NULLABLE_STRINGS:
            if value is not None and not isinstance(value, str):
                fail("Not a valid string.")
            if key == "model_version" and value and project_id is not None:
                self._check_model_version(project_id, value)
            return value
        if key == "color":
            if isinstance(value, (bool, list, dict)):
                fail("Not a valid string.")  # DRF's CharField, before LS's format check
            if not isinstance(value, str) or not COLOR.match(value):
                fail('Color must be in "#RRGGBB" format')
            return value
        if key == "sampling":
            if value not in SAMPLING:
                fail(f'"{value}" is not a valid choice.')
            return value
        if key == "skip_queue":
            if value not in SKIP_QUEUE:
                fail(f'"{value}" is not a valid choice.')
            return value
        if key == "control_weights":
            if value is not None and not isinstance(value, dict):
                fail("Value must be valid JSON.")
            return value
        return value

    def _clean_config(self, xml, project_id):
        if not isinstance(xml, str):
            raise ValidationError({"label_config": ["Not a valid string."]})
        if not xml.strip():
            raise ValidationError({"label_config": ["This field may not be blank."]})
        if project_id is not None:
            try:
                labelconfig.parse(xml)
            except labelconfig.LabelConfigError as e:
                # LS reports XML errors on PATCH in lxml's words, outside validation_errors
                raise LabelDeskError(e.lxml_message) from None
            except RecursionError:
                pass  # validate() reports it
        errors = labelconfig.validate(xml)
        if not errors and project_id is not None:
            errors = labelconfig.parse(xml).incompatibilities(self.summary(project_id),
                                                              strict=False)
        if errors:
            raise ValidationError({"label_config": errors})
        return xml

    @locked
    def validate_config(self, project_id, xml):
        """POST /api/projects/{id}/validate: strict check against the project's annotations."""
        if not isinstance(xml, str) or not xml.strip():
            raise ValidationError(["Label config is not set or is empty"])
        try:
            config = labelconfig.parse(xml)
        except labelconfig.LabelConfigError as e:
            # an XML error: LS puts lxml's message in `detail`, with no validation_errors
            raise LabelDeskError(e.lxml_message) from None
        except RecursionError:
            raise ValidationError(labelconfig.validate(xml)) from None
        errors = labelconfig.validate(xml) or config.incompatibilities(
            self.summary(project_id), strict=True)
        if errors:
            raise ValidationError(errors)
        old = self.config(project_id)
        changed = (old.data_types != config.data_types) if self.r.tasks_by_project.count(
            project_id) else None
        return {"config_essential_data_has_changed": changed}

    def sample_task(self, project_id, body, user_id, host=""):
        """POST /api/projects/{id}/sample-task: example data for a config (not yet saved), and
        with `include_annotation_and_prediction` an annotation and a prediction as well."""
        if not isinstance(body, dict):
            raise ValidationError("Invalid data. Expected a dictionary, but got "
                                  f"{type(body).__name__}.")
        xml = body.get("label_config")
        if not xml:
            raise ValidationError(["Label config is not set or is empty"])
        if not isinstance(xml, str):
            raise ValidationError({"label_config": ["Not a valid string."]})
        self.get(project_id)
        try:
            config = labelconfig.parse(xml)
            if body.get("include_annotation_and_prediction"):  # any truthy value, as in LS
                return {"sample_task": complete_sample_task(config, user_id, host)}
            return {"sample_task": sample_task(config, examples=PROJECT_EXAMPLES)}
        except labelconfig.LabelConfigError as e:
            # LS answers a config that isn't XML with a 500 naming the parser's error
            raise LabelDeskError(str(e)) from None
        except RecursionError:
            raise ValidationError(labelconfig.validate(xml)) from None

    def _check_model_version(self, project_id, version):
        for prediction_id in self.r.predictions_by_project.ids(project_id):
            if self.r.predictions.doc(prediction_id).get("model_version") == version:
                return
        for backend in self.r.ml_backends.docs().values():
            if backend.get("project") == project_id and backend.get("title") == version:
                return
        raise ValidationError({"model_version": [
            "Model version doesn't exist either as live model or as static predictions."]})

    @locked
    def summary(self, project_id):
        """What annotations use: the bookkeeping behind config-change validation (the
        figures kept current on writes: desktop/core/project_summary.py)."""
        created_at = self.get(project_id)["created_at"]
        created_annotations, created_labels = self.r.summaries.get(project_id)
        data_columns = dict(self.r.data_keys.get(project_id))
        total = self.r.tasks_by_project.count(project_id)
        return {"project": project_id, "created_at": created_at,
                "all_data_columns": data_columns,
                "common_data_columns": [k for k, n in data_columns.items() if n == total],
                "created_annotations": created_annotations, "created_labels": created_labels,
                "created_labels_drafts": {}}
