"""LabelDesk wired together: settings, store, core modules and the HTTP API, in one object."""

import logging

from .api import create_api
from .db import Store
from .projects import Projects
from .records import Records
from .users import Users

log = logging.getLogger("labeldesk")


class LabelDesk:
    """One data dir opened: the store, the core modules over it, and the WSGI app for both."""

    def __init__(self, settings):
        self.settings = settings
        self.store = Store(settings.store_dir, fsync=settings.fsync)
        for note in self.store.recovered:
            log.warning("store recovery: %s", note)
        self.records = Records(self.store)
        self.users = Users(self.store)
        self.users.secret_key()
        self.users.ensure_local_user(settings.username, settings.user_token)
        self.projects = Projects(self.records, self.users)
        # Called inside the delete transaction so a project goes with everything it owns.
        self.on_project_delete = []
        self.wsgi = create_api(self)

    def close(self):
        self.store.close()
