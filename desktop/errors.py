"""Domain errors raised by the core modules.

They carry what Label Studio reports, never how it is sent: desktop/api/ turns them into
Label Studio's error envelope, the CLI prints them. No HTTP and no Bottle here.
"""


class LabelDeskError(Exception):
    """Base class; `status` is the HTTP status the API layer answers with."""

    status = 400

    def __init__(self, detail="", **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ValidationError(LabelDeskError):
    """Bad input. `errors` maps a field (or "non_field_errors") to a list of messages."""

    status = 400

    def __init__(self, errors, detail="Validation error"):
        if isinstance(errors, str):
            errors = {"non_field_errors": [errors]}
        elif isinstance(errors, list):
            errors = {"non_field_errors": errors}
        super().__init__(detail)
        self.errors = errors


class NotFound(LabelDeskError):
    status = 404

    def __init__(self, model=None, detail=None):
        super().__init__(detail or (f"No {model} matches the given query." if model else "Not found."))


class Conflict(LabelDeskError):
    status = 409


class PermissionDenied(LabelDeskError):
    status = 403


class StoreError(LabelDeskError):
    """The store could not do what was asked (disk full, corrupt file, ...)."""

    status = 503
