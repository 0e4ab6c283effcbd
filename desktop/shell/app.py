"""LabelDesk wired together: settings, store, core modules and the HTTP API, in one object.

open_core is the one way to open a data folder's core, writable (LabelDesk) or, beside the
LabelDesk that holds it, read-only (ReadOnlyCore); desktop/shell/opening.py says why one
can't be opened.
"""

import errno
import logging
import threading
import time
from functools import cached_property

from desktop.api import create_api
from desktop.assistants.service import Assistants
from desktop.core.annotations import Annotations
from desktop.core.backups import Backups, backups_dir, read_beside
from desktop.core.data_manager import Actions, DataManager, Views
from desktop.core.drafts import Drafts
from desktop.core.history import AnnotationHistory
from desktop.core.organization import Organization
from desktop.core.predictions import Predictions
from desktop.core.projects import Projects
from desktop.core.records import Records
from desktop.core.sessions import Sessions
from desktop.core.tasks import Tasks
from desktop.core.trash import days_setting
from desktop.core.users import Users
from desktop.data_export.exports import Exports
from desktop.data_import.imports import Imports
from desktop.data_import.uploads import Uploads
from desktop.db import Store, StoreLocked
from desktop.db.backupfiles import is_kept
from desktop.db.backups import interrupted_restore
from desktop.io_storages.storages import Storages
from desktop.legacy.files import LegacyIO
from desktop.legacy.models import LegacyML
from desktop.legacy.project import Legacy
from desktop.ml.backends import MLBackends
from desktop.pushpull.jobs import Handovers
from desktop.webhooks.webhooks import Webhooks

log = logging.getLogger("labeldesk")

# What opening a data folder LabelDesk can't write to fails with: it is then opened read-only.
READ_ONLY_ERRORS = {errno.EROFS, errno.EACCES, errno.EPERM}


def open_core(settings, beside_running=False):
    """The data folder opened: a LabelDesk, holding its store's lock. When another LabelDesk
    holds it, StoreLocked; with `beside_running`, its data read-only beside it instead (a
    ReadOnlyCore: enough for `labeldesk export` and `labeldesk user`). A damaged store raises
    CorruptFile; a folder that can't be used, OSError."""
    try:
        return LabelDesk(settings)
    except StoreLocked:
        if not beside_running:
            raise
    return ReadOnlyCore(settings)


class LabelDesk:
    """One data dir opened: the store, the core modules over it, and the WSGI app for both."""

    def __init__(self, settings):
        self.settings = settings
        self.readonly = None  # why the data folder can't be written to, when it can't
        self.store = self._open_store(settings)
        for note in self.store.recovered:
            log.warning("store recovery: %s", note)
        self.records = records = Records(self.store)
        self.users = Users(self.store)
        if self.readonly is None:
            self.users.secret_key()
            self.users.ensure_local_user(settings.username, settings.user_token)
        elif self.store.table("users").doc(1) is None:
            self.store.close()
            raise OSError(errno.EROFS, f"The data folder {settings.data_dir} is read-only and "
                          "holds no LabelDesk data yet: choose a folder LabelDesk can write to")
        self.organization = Organization(records, self.users)
        if self.readonly is None:
            self.organization.invite()  # its invite token, made once
        self.projects = Projects(records, self.users)
        self.tasks = Tasks(records, self.projects, self.users)
        self.annotations = Annotations(records, self.tasks, self.users)
        # every change of an annotation leaves a version, from here on (core/history.py)
        self.annotation_history = AnnotationHistory(records, self.annotations)
        self.predictions = Predictions(records, self.tasks, self.projects)
        self.uploads = Uploads(records, settings.media_dir)
        self.imports = Imports(records, self.projects, self.tasks, self.predictions, self.uploads)
        self.views = Views(records, self.projects)
        self.actions = Actions(self)
        self.data_manager = DataManager(self)
        self.drafts = Drafts(records, self.tasks, self.annotations)
        self.trash = records.trash  # what deletes keep, for settings.trash_days days
        self.trash.days = lambda: days_setting(self.settings)
        self.trash.recount = self.tasks.recount
        self.stream_history = self.tasks.history
        # Features that stand on the data API; each takes the whole core.
        self.exports = Exports(self)
        for note in self.exports.remove_leftovers() + self.uploads.remove_leftovers() + (
                [] if self.store.readonly else interrupted_restore(
                    settings.store_dir, self.store.storage.journal.generation)):
            log.warning("store recovery: %s", note)
        self.trash.expire()
        self._remove_orphans()
        self.base_url = None  # http://127.0.0.1:<port>, once the first request came in
        self.ml = MLBackends(self)
        self.assistants = Assistants(self)  # the built-in model servers, as ML backends
        self.storages = Storages(self)
        self.webhooks = Webhooks(self)
        self.legacy = Legacy(self)
        self.legacy_io = LegacyIO(self)
        self.legacy_ml = LegacyML(self)
        self.sessions = Sessions(self)
        self.backups = Backups(self)  # and from now on compactions keep the old snapshot
        self.handovers = Handovers(self)  # push and pull to a Label Studio server, as jobs
        # Run inside the delete transaction, so a project goes with everything it owns.
        self.on_project_delete = [self._delete_project_data, self.ml.delete_project,
                                  self.assistants.delete_project,
                                  self.storages.delete_project, self.exports.delete_project,
                                  self.webhooks.delete_project]
        self.reopen = None  # reopen(data_dir, commit) when served by a Reopenable
        self.wsgi = create_api(self)
        threading.Thread(target=self._check_history, name="labeldesk-history-check",
                         daemon=True).start()

    @property
    def warnings(self):
        """What the user must be told while LabelDesk runs (the UI may show them): a read-only
        data folder, data files deleted under the running app and written again."""
        notes = [f"The data folder {self.settings.data_dir} is read-only ({self.readonly}): "
                 "LabelDesk shows the data, and every change is refused."] if self.readonly \
            else []
        return notes + list(self.store.warnings)

    def _open_store(self, settings):
        """The store; read-only when the data folder can't be written to (a read-only mount,
        no permission): every read is served, every write refused with OSError(EROFS)."""
        try:
            settings.make_private()  # the data folder 0700, its files 0600 (settings.py)
            return Store(settings.store_dir, fsync=settings.fsync)
        except OSError as e:
            if e.errno not in READ_ONLY_ERRORS:
                raise
            self.readonly = f"{e.strerror}: {e.filename}" if e.filename else str(e.strerror)
        log.warning("The data folder %s can't be written to (%s). LabelDesk opens it read-only: "
                    "everything can be seen, and every change is refused.", settings.data_dir,
                    self.readonly)
        return Store(settings.store_dir, readonly=True,
                     readonly_reason=f"LabelDesk can't write there ({self.readonly}), so it "
                     "shows the data and refuses every change")

    def _remove_orphans(self):
        """Start-up cleanup after a kill: exports left unfinished are marked failed, and the
        media and export files no record names are removed (desktop/core/removals.py says how a
        delete can leave them; an interrupted upload or import leaves them too). A file a
        backup keeps (backups/files/: one the store stopped naming when a backup was restored)
        is only unlinked here, never lost. Not on a read-only store: nothing could be changed,
        and nothing is lost by waiting."""
        if self.store.readonly:
            return
        started = time.perf_counter()
        folder = str(backups_dir(self.settings))

        def kept(name):
            return is_kept(folder, name)

        trashed = self.trash.files()  # media/… and export/… names the trash keeps

        def shown_or_trashed(names):
            return self.uploads.named_by_tasks(names) | {
                n for n in names if f"media/{n}" in trashed}

        notes = self.exports.recover(kept=kept, keep={
            n.split("/", 1)[1] for n in trashed if n.startswith("export/")}) + \
            self.uploads.remove_orphans(keep_referenced=shown_or_trashed, kept=kept)
        for note in notes:
            log.warning("store recovery: %s", note)
        if notes:
            log.warning("store recovery: start-up cleanup took %.3f s",
                        time.perf_counter() - started)

    def _check_history(self):
        """The annotation history files read whole once (opening reads only their ends): damage
        is logged and shown to the user, with where it is."""
        problem = self.annotation_history.check()
        if problem:
            log.error("annotation history: %s", problem)
            self.store.storage.warnings.append(f"The annotation history is damaged: {problem}")

    def _delete_project_data(self, project_id):
        records = self.records
        self.tasks.delete_many(list(records.tasks_by_project.ids(project_id)))
        self.views.reset(project_id)
        self.uploads.delete_project(project_id)

    def close(self):
        self.handovers.close()  # running jobs stop at a batch's end, resumable
        self.assistants.close()
        self.backups.stop()
        self.trash.stop()
        self.webhooks.close()
        if self.exports.live is not None:
            self.exports.live.stop()
        self.store.close()


class ReadOnlyCore:
    """The data of a folder another LabelDesk holds, read beside it: the store read-only and
    unlocked (no lock, no repair, every write refused), with the core modules that read it,
    each made when first used (`labeldesk user` needs the users alone). No API, no threads."""

    def __init__(self, settings):
        self.settings = settings
        self.store = read_beside(settings)
        self.users = Users(self.store)

    @cached_property
    def records(self):
        return Records(self.store)

    @cached_property
    def projects(self):
        return Projects(self.records, self.users)

    @cached_property
    def tasks(self):
        return Tasks(self.records, self.projects, self.users)

    @cached_property
    def annotations(self):
        return Annotations(self.records, self.tasks, self.users)

    @cached_property
    def annotation_history(self):
        return AnnotationHistory(self.records, self.annotations)

    @cached_property
    def uploads(self):
        return Uploads(self.records, self.settings.media_dir)

    @cached_property
    def exports(self):
        return Exports(self, live=False)

    def close(self):
        self.store.close()


class Reopenable:
    """The WSGI callable of a server that outlives its data folder.

    Requests go to the current LabelDesk; reopen(path) opens another data folder and puts its
    LabelDesk in place (the Settings page's "Change…"): same process, same server and port.
    The old one is closed once the requests it was serving have finished (streamed downloads
    included). `on_reopen` callbacks get (old, new) right after the switch."""

    CLOSE_TIMEOUT = 120  # seconds to wait for the old folder's last requests

    def __init__(self, app):
        self.app = None
        self.on_reopen = []
        self._active = {}  # LabelDesk -> requests in progress
        self._idle = threading.Condition()
        self._switching = threading.Lock()
        self._install(app)

    def _install(self, app):
        app.reopen = self.reopen  # what the API's POST /api/ui/data-dir looks for
        with self._idle:
            self.app = app
        app.backups.start()  # the daily backup, in the background when one is due
        app.trash.start()  # and the trash's expired items go

    def __call__(self, environ, start_response):
        with self._idle:
            app = self.app
            self._active[app] = self._active.get(app, 0) + 1
        try:
            body = app.wsgi(environ, start_response)
        except BaseException:
            self._finished(app)
            raise
        return finishing(body, lambda: self._finished(app))

    def _finished(self, app):
        with self._idle:
            self._active[app] -= 1
            if not self._active[app]:
                del self._active[app]
                self._idle.notify_all()

    def reopen(self, data_dir, commit=None, prepare=None):
        """Open `data_dir` and serve it from now on; returns the new LabelDesk.

        `commit()` runs once the new folder is open and before the switch (the API saves the
        user config there); if it or the opening fails, nothing changes and the error is
        raised (StoreLocked when another LabelDesk has the folder open). `prepare(old)` runs
        first: a restore (desktop/core/backups.py) replaces the folder's store there and closes the
        old one, so that the same folder can be opened again."""
        with self._switching:
            old = self.app
            if prepare is not None:
                prepare(old)
            new = LabelDesk(old.settings.for_folder(data_dir))
            try:
                if commit is not None:
                    commit()
            except BaseException:
                new.close()
                raise
            self._install(new)
            old.reopen = None
            for callback in self.on_reopen:
                try:
                    callback(old, new)
                except Exception:  # noqa: BLE001 - the switch is done; a callback can't undo it
                    log.exception("after reopening the data folder")
            threading.Thread(target=self._close_when_idle, args=(old,),
                             name="labeldesk-close-old", daemon=True).start()
            log.info("data folder reopened: %s", new.settings.data_dir)
            return new

    def _close_when_idle(self, old):
        with self._idle:
            self._idle.wait_for(lambda: old not in self._active, timeout=self.CLOSE_TIMEOUT)
        old.close()

    def close(self):
        self.app.close()


def finishing(body, done):
    """`body` that calls done() once the server has closed it. A file sent through
    wsgi.file_wrapper (static files, media) is returned as it is, for waitress to send it
    without Python reading it; its file is open already and needs nothing of the store."""
    from waitress.buffers import ReadOnlyFileBasedBuffer
    if isinstance(body, ReadOnlyFileBasedBuffer):
        done()
        return body
    return _Finishing(body, done)


class _Finishing:
    """A WSGI response body that reports when the server is done with it (WSGI's close())."""

    def __init__(self, body, done):
        self._body, self._done = body, done

    def __iter__(self):
        return iter(self._body)

    def close(self):
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()
