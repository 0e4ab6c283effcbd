"""A snapshot export's body (POST /api/projects/{id}/exports), checked as Label Studio 1.23.2
checks it: the same fields, the same coercions and the same validation_errors shape (nested
options report their errors nested; a field's errors in the order LS declares its fields)."""

from desktop.core.errors import ValidationError

TITLE_MAX = 2048
TRUE = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1"}
FALSE = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
         "0"}
ONLY_OR_EXCLUDE = {"only": "only", "exclude": "exclude", "None": None}


class Invalid(Exception):
    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def null_check(value, allow_null):
    if value is None and not allow_null:
        raise Invalid(["This field may not be null."])


def boolean(allow_null=False):
    def check(value):
        null_check(value, allow_null)
        if value is None:
            return None
        if value is True or value is False:
            return value
        if isinstance(value, (int, float)):
            if value == 1:
                return True
            if value == 0:
                return False
        elif isinstance(value, str):
            if value in TRUE:
                return True
            if value in FALSE:
                return False
        raise Invalid(["Must be a valid boolean."])
    return check


def integer(value):
    null_check(value, False)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Invalid(["A valid integer is required."])
    if isinstance(value, float):
        if value != int(value):
            raise Invalid(["A valid integer is required."])
        return int(value)
    try:
        return int(value)
    except ValueError:
        raise Invalid(["A valid integer is required."]) from None


def only_or_exclude(value):
    if value is None:
        return None
    if isinstance(value, (dict, list)) or str(value) not in ONLY_OR_EXCLUDE:
        shown = {True: "True", False: "False"}.get(value, value)
        raise Invalid([f'"{shown}" is not a valid choice.'])
    return ONLY_OR_EXCLUDE[str(value)]


def nested(fields):
    """A dict of known fields (unknown keys are dropped, as LS does); None is 'may not be null'."""
    def check(value):
        null_check(value, False)
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise Invalid({"non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {kind}."]})
        out, errors = {}, {}
        for name, field in fields.items():
            if name in value:
                try:
                    out[name] = field(value[name])
                except Invalid as e:
                    errors[name] = e.errors
        if errors:
            raise Invalid(errors)
        return out
    return check


ONLY_ID = nested({"only_id": boolean()})
OPTIONS = {
    "task_filter_options": nested({
        "view": integer, "skipped": only_or_exclude, "finished": only_or_exclude,
        "annotated": only_or_exclude, "only_with_annotations": boolean()}),
    "annotation_filter_options": nested({
        "usual": boolean(allow_null=True), "ground_truth": boolean(allow_null=True),
        "skipped": boolean(allow_null=True)}),
    "serialization_options": nested({
        "drafts": ONLY_ID, "predictions": ONLY_ID, "include_annotation_history": boolean(),
        "annotations__completed_by": ONLY_ID, "interpolate_key_frames": boolean()}),
}


def title(value):
    null_check(value, False)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise Invalid(["Not a valid string."])
    if len(value) > TITLE_MAX:
        raise Invalid([f"Ensure this field has no more than {TITLE_MAX} characters."])
    return value


def check_snapshot_body(fields):
    """The body of a snapshot export: {"title", "task_filter_options", ...} with the values
    as LS coerces them (options as given when absent), or a ValidationError like LS's."""
    if not isinstance(fields, dict):
        kind = type(fields).__name__
        raise ValidationError(f"Invalid data. Expected a dictionary, but got {kind}.")
    try:
        return SNAPSHOT_BODY(fields)
    except Invalid as e:
        raise ValidationError(e.errors) from None


SNAPSHOT_BODY = nested({"title": title, **OPTIONS})
