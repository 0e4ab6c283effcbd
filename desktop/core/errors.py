"""Domain errors raised by the core modules.

They carry what Label Studio reports, never how it is sent: desktop/api/ turns them into
Label Studio's error envelope, the CLI prints them. No HTTP and no Bottle here.
"""

import errno


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
        default = f"No {model} matches the given query." if model else "Not found."
        super().__init__(detail or default)


class Conflict(LabelDeskError):
    status = 409


class AuthFailed(LabelDeskError):
    """No valid credentials: Label Studio's 401 (the API adds `WWW-Authenticate: Token`)."""

    status = 401


class PermissionDenied(LabelDeskError):
    status = 403


class Bare(LabelDeskError):
    """An error Label Studio answers without its envelope: `body` is the whole JSON answer
    (its 0.x API, and a few 1.x answers that come straight from a serializer)."""

    def __init__(self, body, status=400):
        super().__init__("")
        self.bare, self.status = body, status


class CannotOpen(LabelDeskError):
    """LabelDesk can't open as asked: the data folder's settings.json is unreadable, its store
    damaged or held by another LabelDesk, the folder unusable, or there is no display for the
    window. `detail` says why and what to do; the API answers 400, the CLI ends with it (exit
    status `exit_code`: 0 when another LabelDesk's window was brought forward instead)."""

    status = 400

    def __init__(self, detail, exit_code=1):
        super().__init__(detail)
        self.exit_code = exit_code


class StoreError(LabelDeskError):
    """The store could not do what was asked (disk full, corrupt file, ...)."""

    status = 503


class TooLarge(ValidationError):
    """Input over one of LabelDesk's size caps (a body, a form, a project file's content)."""

    status = 413


class StorageFailed(StoreError):
    """LabelDesk's data folder (store, media, exports, settings) refused an operation: disk
    full, read-only, an I/O error, no permission. Answered 507 ("Insufficient Storage"):
    nothing of the request was saved (the store cuts a failed write off and keeps its state;
    deletes touch files only after their commit). `cause` is the short name for the log."""

    status = 507

    CAUSES = {"ENOSPC": "disk full", "EDQUOT": "disk quota exceeded",
              "EFBIG": "file too large for the disk", "EROFS": "read-only",
              "EIO": "I/O error", "EACCES": "permission denied", "EPERM": "permission denied",
              "EMFILE": "too many open files", "ENFILE": "too many open files"}
    ADVICE = {"disk full": "Free some space and try again.",
              "disk quota exceeded": "Free some space (or raise the quota) and try again.",
              "file too large for the disk": "Use a data folder on another file system.",
              "read-only": "Make the data folder writable (or choose another one) and try "
                           "again.",
              "I/O error": "The disk may be failing or was disconnected: check it, and make "
                           "a backup of the data folder.",
              "permission denied": "Give your user write access to the data folder and try "
                                   "again."}

    def __init__(self, error):
        name = errno.errorcode.get(error.errno, "")
        self.cause = self.CAUSES.get(name, "storage error")
        what = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename else ""
        headline = {"disk full": "The disk holding LabelDesk's data is full",
                    "read-only": "LabelDesk's data folder is read-only"}.get(
            self.cause, f"LabelDesk's data folder could not be used: {self.cause}")
        super().__init__(f"{headline} ({what}{where}): the request was not carried out and "
                         "nothing of it was saved. "
                         + self.ADVICE.get(self.cause, "Check the disk and try again."))
        self.error = error
