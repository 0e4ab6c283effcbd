"""An import checks and builds its tasks without the store's lock; only the write takes it."""

import threading

import pytest

from desktop.core.errors import NotFound
from desktop.core.settings import Settings
from desktop.shell.app import LabelDesk

CONFIG = '<View><Text name="text" value="$text"/></View>'


@pytest.fixture
def app(tmp_path):
    app = LabelDesk(Settings(data_dir=tmp_path / "data", auth=False, fsync=False))
    yield app
    app.close()


def test_the_checks_run_without_the_lock_and_the_write_with_it(app):
    project_id = app.projects.create({"title": "import", "label_config": CONFIG}, 1)
    imports, seen = app.imports, {}
    check, write = imports._check, imports._write

    def checking(*args):
        seen["check"] = app.records.lock._is_owned()
        return check(*args)

    def writing(*args):
        seen["write"] = app.records.lock._is_owned()
        return write(*args)
    imports._check, imports._write = checking, writing
    answer = imports.import_json(project_id, [{"text": "a"}, {"text": "b"}], 1)
    assert seen == {"check": False, "write": False} and answer["task_count"] == 2
    assert app.tasks.ids(project_id) and len(app.tasks.ids(project_id)) == 2


def test_a_project_deleted_while_its_import_is_checked_gets_nothing(app):
    project_id = app.projects.create({"title": "import", "label_config": CONFIG}, 1)
    imports = app.imports
    check = imports._check
    deleted = threading.Event()

    def checking(*args):
        built = check(*args)
        app.projects.delete(project_id, [app._delete_project_data])  # meanwhile
        deleted.set()
        return built
    imports._check = checking
    with pytest.raises(NotFound):
        imports.import_json(project_id, [{"text": "a"}], 1)
    assert deleted.is_set()
    assert not [d for d in app.records.tasks.docs().values() if d["project"] == project_id]
