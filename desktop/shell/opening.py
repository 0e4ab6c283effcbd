"""Opening a data folder, for a command or the window, and saying why it can't be opened.

open_app is the one way the shell opens LabelDesk's core (app.open_core): every command, the
window and the recovery window's "Open LabelDesk". Nothing here ends the process: a folder
that can't be opened raises CannotOpen (desktop/core/errors.py) with the words to say, and
cli.main says them and exits.
"""

from desktop.core.errors import CannotOpen
from desktop.db import CorruptFile, StoreLocked
from desktop.shell import instance


def open_app(settings, verb=None, recover=False, beside_running=False):
    """The data folder opened: a LabelDesk (or, `beside_running`, app.ReadOnlyCore when another
    LabelDesk holds the folder).

    Another LabelDesk holding it: with `verb` ("start", "serve"), it is asked to show its
    window or the user is told where it runs (instance.report_running: CannotOpen); else
    StoreLocked is raised, for the command to say what to do instead. A damaged store:
    CorruptFile with `recover` (the window then offers repair and backups,
    desktop/shell/recovery.py), else CannotOpen(damaged_message). A folder that can't be used
    (e.g. read-only and empty): CannotOpen."""
    from desktop.shell.app import open_core  # the whole app: only once something is opened
    try:
        return open_core(settings, beside_running)
    except CorruptFile as e:
        if recover:
            raise
        raise CannotOpen(damaged_message(e)) from None
    except StoreLocked as e:
        if verb:
            instance.report_running(settings, e, verb)
        raise
    except OSError as e:
        raise CannotOpen(f"LabelDesk can't open its data folder: {e.strerror or e}.") from None


def damaged_message(error):
    """What LabelDesk says when a store file is damaged (a CorruptFile) and it won't open."""
    from desktop.db.journal import NewerFormat
    if isinstance(error, NewerFormat):
        return f"LabelDesk can't open its data: {error.path} was {error.reason}"
    return (f"LabelDesk can't open its data: {error.path} is damaged ({error.reason}).\n"
            "The file was left as it is; nothing was replaced. Run `labeldesk repair` to "
            "keep every readable record, or restore a backup.")


def error_text(error):
    """A LabelDeskError as one line: its field messages, else its detail."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict):
        return " ".join(m for ms in errors.values() for m in (ms if isinstance(ms, list)
                                                             else [ms]))
    return str(error)


def plural(number, noun):
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
