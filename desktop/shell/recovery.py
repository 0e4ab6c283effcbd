"""What the window shows when LabelDesk's data can't be opened (a damaged store: CorruptFile).

A user who double-clicks LabelDesk sees no terminal, so a refusal on stderr looks like an app
that doesn't open. Instead the window mode opens a small recovery window (window.open_recovery)
that says which file is damaged and why, that nothing was changed, and offers the two ways
back that the command line has: repair (`labeldesk repair`: every readable record kept, the
originals moved aside) and restoring a backup (`labeldesk restore`: the current files are kept
first). Both run here with LabelDesk closed, under the store's lock, exactly as the commands
do; then the user opens LabelDesk: its main window opens and this one closes.

The page (ui/recovery.html and ui/js/recovery.js, inlined into one static page: no server, no
network) gets its text only from the functions below, and shows it as text, never as HTML.
Nothing here knows of pywebview: the functions are plain and testable without a window.
"""

import logging
import os
import threading
import time

from desktop.core import backups as store_backups
from desktop.core import repair as store_repair
from desktop.core.errors import CannotOpen, LabelDeskError
from desktop.db import CorruptFile, StoreLocked
from desktop.db.backups import list_backups
from desktop.db.journal import NewerFormat
from desktop.shell.opening import error_text, plural
from desktop.ui import vendored

log = logging.getLogger("labeldesk.recovery")

PAGE = vendored.UI_DIR / "recovery.html"
STYLE_LINK = '<link rel="stylesheet" href="/static/css/app.css">'
SCRIPT_TAG = '<script src="/static/js/recovery.js"></script>'
# The page loads nothing and sends nothing: inline style and script only ('unsafe-eval' is how
# pywebview runs its own bridge script and the answers to calls in the page).
CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")


def page():
    """The recovery page as one HTML string: the stylesheet and the script put inline.

    It holds no data: the page asks for the problem and the backups (Recovery.problem,
    Recovery.backups), so a file name can never become markup."""
    script = (vendored.UI_DIR / "js" / "recovery.js").read_text(encoding="utf-8")
    return static_page(PAGE, CSP).replace(SCRIPT_TAG, f"<script>{inline(script)}</script>")


def static_page(path, csp):
    """A page of desktop/ui (`path`) as one HTML string the window shows without a server: the
    stylesheet put inline, `csp` in its {{CSP}} meta tag (the window's loading page too)."""
    css = (vendored.UI_DIR / "css" / "app.css").read_text(encoding="utf-8")
    # its fonts are served by our server, which isn't running here: system fonts instead
    css = "\n".join(line for line in css.splitlines() if not line.startswith("@font-face"))
    html = path.read_text(encoding="utf-8").replace("{{CSP}}", csp)
    return html.replace(STYLE_LINK, f"<style>{inline(css)}</style>")


def inline(text):
    """A stylesheet or script that can't end its inline element early ("<\\/" means "</")."""
    return text.replace("</", "<\\/")


def describe(settings, error):
    """What is wrong, for the page: the data folder, the damaged file and why."""
    path = str(error.path)
    # the reason goes on to say what to do at the command line; the page says it with buttons
    reason = str(error.reason).split(" Nothing was changed")[0].rstrip(" .") + "."
    # a newer LabelDesk's data is not damaged: only an upgrade opens it (no repair, no restore)
    return {"data_dir": str(settings.data_dir), "path": path, "file": os.path.basename(path),
            "reason": reason, "record": error.record, "offset": error.offset,
            "newer": isinstance(error, NewerFormat)}


def repair(settings):
    """`labeldesk repair` (cli.cmd_repair) on the data folder: under the store's lock, then
    released as it was found. {"ok": True, "changed", "lines"} or {"ok": False, "message",
    "cannot_repair"} (cannot_repair: the files can't be repaired, a backup is the way back)."""
    folder = settings.store_dir
    try:
        report = store_repair.repair_locked(folder, fsync=settings.fsync)
    except StoreLocked as e:
        return _failed(f"Another LabelDesk is using this data folder ({e}). Close it, then "
                       "try again.")
    except store_repair.CannotRepair as e:
        return _failed(str(e), cannot_repair=True)
    except OSError as e:
        return _failed(f"The repair failed: {e.strerror or e}. The original files are as "
                       f"they were, or kept in {folder}/damaged-*.")
    log.info("recovery: %s", " ".join(report.lines()[:1]))
    return {"ok": True, "changed": report.changed, "lines": report.lines()}


def backups(settings):
    """The backups in <data dir>/backups/, newest first, as `labeldesk backups` lists them:
    name, local time, kind, counts (None where unknown), size, and damaged (a reason)."""
    found = []
    for info in list_backups(str(store_backups.backups_dir(settings))):
        entry = store_backups.as_json(info)
        entry["when"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["time"]))
        found.append(entry)
    return found


def restore(settings, name):
    """`labeldesk restore NAME` (backups.restore_closed): the backup becomes the store, the
    current files backed up (or copied as they are, when they can't be read) first.

    Only the name of a backup listed in backups/ is taken, never a path.
    {"ok": True, "lines"} or {"ok": False, "message"}."""
    if not isinstance(name, str) or name not in {b["name"] for b in backups(settings)}:
        return _failed("There is no such backup in the backups folder.")
    try:
        done = store_backups.restore_closed(settings, name)
    except StoreLocked:
        return _failed("Another LabelDesk is using this data folder. Close it, then try again.")
    except LabelDeskError as e:
        return _failed(error_text(e))
    except OSError as e:
        return _failed(f"The restore failed: {e.strerror or e}. The data was left as it was.")
    restored, before = done["restored"], done["previous_state"]
    lines = []
    if before:
        lines.append(f"The current state was backed up first: {before['name']}.")
    if done["damaged"]:
        lines.append(f"The current files could not be read; they were copied as they were "
                     f"to {done['damaged']}.")
    lines.append(f"Restored {restored['name']}: {plural(restored['projects'], 'project')}, "
                 f"{plural(restored['tasks'], 'task')}.")
    log.info("recovery: restored %s", restored["name"])
    return {"ok": True, "lines": lines}


def _failed(message, cannot_repair=False):
    return {"ok": False, "message": message, "cannot_repair": cannot_repair}


class Recovery:
    """The recovery window's functions, for one damaged data folder. `open_labeldesk()` opens
    the data and LabelDesk's main window (window.open_main); `close()` closes this window."""

    PUBLIC = ("problem", "repair", "backups", "restore", "open_labeldesk", "quit")

    def __init__(self, settings, error, open_labeldesk, close):
        self.settings = settings
        self.error = error
        self._open = open_labeldesk
        self.close = close
        self.opened = False
        self.busy = threading.Lock()  # one action at a time (a double click)

    def problem(self):
        return describe(self.settings, self.error)

    def repair(self):
        with self.busy:
            return repair(self.settings)

    def backups(self):
        return backups(self.settings)

    def restore(self, name):
        with self.busy:
            return restore(self.settings, name)

    def open_labeldesk(self):
        """Open LabelDesk's main window, then close this one. If the data still doesn't open,
        say why and stay; opening.open_app raises CannotOpen when another LabelDesk took the
        folder meanwhile (its message is shown)."""
        with self.busy:
            if not self.opened:
                try:
                    self._open()
                except CorruptFile as e:
                    self.error = e
                    problem = describe(self.settings, e)
                    return _failed(f"LabelDesk still can't open its data: {problem['path']} "
                                   f"is damaged: {problem['reason']}")
                except CannotOpen as e:
                    return _failed(e.detail if e.exit_code else "Another LabelDesk opened "
                                   "this data folder; its window was brought to the front.")
                except Exception as e:  # noqa: BLE001 - said in the window, not lost in a log
                    log.exception("recovery: LabelDesk could not be opened")
                    return _failed(f"LabelDesk could not be opened: {e}")
                self.opened = True
        self._close_soon()
        return {"ok": True}

    def quit(self):
        self._close_soon()
        return {"ok": True}

    def _close_soon(self):
        """Close the window just after this call has answered the page (pywebview answers
        by running script in it)."""
        timer = threading.Timer(0.2, self.close)
        timer.daemon = True
        timer.start()

