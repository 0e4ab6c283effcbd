"""LabelDesk wired together: settings, store, core modules and the HTTP API, in one object."""

import logging

from .annotations import Annotations
from .api import create_api
from .db import Store
from .dm import Actions, Views
from .exports import Exports
from .imports import Imports
from .legacy import Legacy
from .ml import MLBackends
from .predictions import Predictions
from .projects import Projects
from .records import Records
from .sessions import Sessions
from .storages import Storages
from .tasks import Tasks
from .uploads import Uploads
from .users import Users

log = logging.getLogger("labeldesk")


class LabelDesk:
    """One data dir opened: the store, the core modules over it, and the WSGI app for both."""

    def __init__(self, settings):
        self.settings = settings
        self.store = Store(settings.store_dir, fsync=settings.fsync)
        for note in self.store.recovered:
            log.warning("store recovery: %s", note)
        self.records = records = Records(self.store)
        self.users = Users(self.store)
        self.users.secret_key()
        self.users.ensure_local_user(settings.username, settings.user_token)
        self.projects = Projects(records, self.users)
        self.tasks = Tasks(records, self.projects, self.users)
        self.annotations = Annotations(records, self.tasks, self.users)
        self.predictions = Predictions(records, self.tasks, self.projects)
        self.uploads = Uploads(records, settings.media_dir)
        self.imports = Imports(records, self.projects, self.tasks, self.predictions, self.uploads)
        self.views = Views(records, self.projects)
        self.actions = Actions(self)
        # Features that stand on the data API; each takes the whole core.
        self.exports = Exports(self)
        for note in self.exports.remove_leftovers() + self.uploads.remove_leftovers():
            log.warning("store recovery: %s", note)
        self.ml = MLBackends(self)
        self.storages = Storages(self)
        self.legacy = Legacy(self)
        self.sessions = Sessions(self)
        # Run inside the delete transaction, so a project goes with everything it owns.
        self.on_project_delete = [self._delete_project_data, self.ml.delete_project,
                                  self.storages.delete_project, self.exports.delete_project]
        self.wsgi = create_api(self)

    def _delete_project_data(self, project_id):
        records = self.records
        self.tasks.delete_many(list(records.tasks_by_project.ids(project_id)))
        self.views.reset(project_id)
        self.uploads.delete_project(project_id)

    def close(self):
        if self.exports.live is not None:
            self.exports.live.stop()
        self.store.close()
