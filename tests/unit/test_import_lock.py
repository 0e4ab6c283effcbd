"""An import reads its files, checks and builds its tasks without the store's lock; only the
write takes it."""

import threading

import pytest

from desktop.core.errors import NotFound
from desktop.core.settings import Settings
from desktop.data_import import importers
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

    def checking(*args, **kwargs):
        seen["check"] = app.records.lock._is_owned()
        return check(*args, **kwargs)

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

    def checking(*args, **kwargs):
        built = check(*args, **kwargs)
        app.projects.delete(project_id, [app._delete_project_data])  # meanwhile
        deleted.set()
        return built
    imports._check = checking
    with pytest.raises(NotFound):
        imports.import_json(project_id, [{"text": "a"}], 1)
    assert deleted.is_set()
    assert not [d for d in app.records.tasks.docs().values() if d["project"] == project_id]


@pytest.mark.parametrize("commit", [True, False])
def test_uploaded_files_are_read_without_the_lock(app, monkeypatch, commit):
    """A file upload (the Import dialog's, commit_to_project false, then a reimport) parses
    its files without the store's lock: another client is answered meanwhile."""
    project_id = app.projects.create({"title": "import", "label_config": CONFIG}, 1)
    read, seen = importers.read_tasks, []

    def reading(*args, **kwargs):
        seen.append(app.records.lock._is_owned())
        return read(*args, **kwargs)
    monkeypatch.setattr(importers, "read_tasks", reading)
    answer = app.imports.import_files(project_id, [("a.json", b'[{"text": "a"}, {"text": "b"}]')],
                                      1, commit=commit)
    assert seen == [False] and answer["task_count"] == 2
    assert len(app.tasks.ids(project_id)) == (2 if commit else 0)
    assert len(app.uploads.of_project(project_id)) == 1


def test_a_project_deleted_while_its_files_are_read_gets_nothing(app, monkeypatch):
    project_id = app.projects.create({"title": "import", "label_config": CONFIG}, 1)
    read = importers.read_tasks

    def reading(*args, **kwargs):
        items = read(*args, **kwargs)
        app.projects.delete(project_id, [app._delete_project_data])  # meanwhile
        return items
    monkeypatch.setattr(importers, "read_tasks", reading)
    with pytest.raises(NotFound):
        app.imports.import_files(project_id, [("a.json", b'[{"text": "a"}]')], 1)
    assert not app.records.uploads.search(lambda d: d["project"] == project_id)
    assert not [d for d in app.records.tasks.docs().values() if d["project"] == project_id]
