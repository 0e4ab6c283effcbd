"""Request fields read as Django REST framework's serializer fields read them, with its messages.

Each reader takes the raw JSON value and returns the clean one, or raises ValidationError for
that one field. `check(errors, name, reader, *args)` collects a body's errors field by field
(DRF reports every bad field of a body at once).
"""

import math
import re

from desktop.core.errors import ValidationError

# DRF's BooleanField values (1 stands for True and 1.0 too, 0 for False and 0.0: equal keys)
TRUE = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1}
FALSE = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
         "0", 0}
_DECIMAL_TAIL = re.compile(r"\.0*\s*$")  # DRF's IntegerField takes 7.0 and "7.0" as 7


class FieldError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _hashable(value):
    return isinstance(value, (str, int, float, bool))


def null_check(value, nullable):
    if value is None and not nullable:
        raise FieldError("This field may not be null.")


def boolean(value, nullable=False):
    null_check(value, nullable)
    if value is None:
        return None
    if _hashable(value) and value in TRUE:
        return True
    if _hashable(value) and value in FALSE:
        return False
    raise FieldError("Must be a valid boolean.")


def number(value, nullable=True):
    null_check(value, nullable)
    if value is None:
        return None
    if isinstance(value, str) and len(value) > 1000:
        raise FieldError("String value too large.")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise FieldError("A valid number is required.") from None
    if not math.isfinite(result):  # DRF would store NaN; JSON can't carry it back
        raise FieldError("A valid number is required.")
    return result


def integer(value, nullable=False, message="A valid integer is required."):
    null_check(value, nullable)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError(message)
    if isinstance(value, str) and len(value) > 1000:
        raise FieldError("String value too large.")
    try:
        return int(_DECIMAL_TAIL.sub("", str(value)))
    except ValueError:
        raise FieldError(message) from None


def text(value, nullable=False):
    null_check(value, nullable)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError("Not a valid string.")
    value = str(value)
    if not value.strip():
        raise FieldError("This field may not be blank.")
    return value


def pk(value, exists, nullable=False):
    """A PrimaryKeyRelatedField: an id (a number, or a string of digits) of a record that
    `exists(id)`. Django's int() lookup takes 1.5 as 1, as DRF does."""
    null_check(value, nullable)
    if value is None:
        return None
    kind = type(value).__name__
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FieldError(f"Incorrect type. Expected pk value, received {kind}.")
    try:
        number_ = int(value) if not isinstance(value, float) or math.isfinite(value) else None
    except ValueError:
        number_ = None
    if number_ is None:
        raise FieldError(f"Incorrect type. Expected pk value, received {kind}.")
    if not exists(number_):
        raise FieldError(f'Invalid pk "{value}" - object does not exist.')
    return number_


def json_value(value, nullable=False):
    null_check(value, nullable)
    return value


def check(errors, fields, name, reader, *args, required=False, **kwargs):
    """Read `fields[name]` with `reader` into the returned (present, value); a bad or missing
    required field adds its message to `errors` (DRF's {field: [message]})."""
    if name not in fields:
        if required:
            errors[name] = ["This field is required."]
        return False, None
    try:
        return True, reader(fields[name], *args, **kwargs)
    except FieldError as e:
        errors[name] = [e.message]
        return False, None


def expect_object(body):
    """DRF's answer to a body that is JSON but not an object."""
    if not isinstance(body, dict):
        raise ValidationError("Invalid data. Expected a dictionary, but got "
                              f"{type(body).__name__}.")
    return body
