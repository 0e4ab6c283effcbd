"""The fuzz targets, shared by tests/unit/test_fuzz_parsers.py (hypothesis) and
scripts/fuzz_atheris.py (atheris). Each feeds one input to a parser and fails (raises
AssertionError, or lets an unexpected exception out) when the parser misbehaves."""

import io
import tempfile
from pathlib import Path

import orjson

from datahelp import LABEL_CONFIG
from desktop import labelconfig
from desktop.core.errors import LabelDeskError, ValidationError
from desktop.core.settings import Settings
from desktop.data_import.importers import read_tasks
from desktop.labelconfig import LabelConfigError
from desktop.labelconfig.samples import sample_task
from desktop.labelconfig.templates import template_list
from desktop.shell.app import LabelDesk

IMPORT_EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".txt", ".html")
# Label Studio's template gallery, as the web app offers it (set-up unpacks it)
TEMPLATES = sorted(t["config"] for t in template_list()["templates"]
                   if isinstance(t.get("config"), str))
assert TEMPLATES, "no label-config templates: run `make setup`"


def open_core(data_dir):
    """A LabelDesk (no server) with project 1 to import into and a valid archive's source."""
    core = LabelDesk(Settings(data_dir=Path(data_dir), fsync=False,
                              local_files_root=Path(data_dir)))
    project_id = core.projects.create({"title": "Fuzz", "label_config": LABEL_CONFIG}, 1)
    assert project_id == 1
    core.imports.import_json(1, [{"data": {"text": "a"}, "annotations": [{"result": [
        {"from_name": "sentiment", "to_name": "text", "type": "choices",
         "value": {"choices": ["Pos"]}}]}]}, {"text": "b"}], 1)
    return core


def _archive_seed():
    with tempfile.TemporaryDirectory() as folder:
        core = open_core(folder)
        try:
            from desktop.data_import import archive
            out = io.BytesIO()
            archive.write_archive(core, 1, out)
            return out.getvalue()
        finally:
            core.close()


ARCHIVE_SEED = _archive_seed()


def config_target(text):
    """parse() raises only LabelConfigError; validate() never raises and returns messages;
    what a parsed config derives (problems, samples, data checks) never raises."""
    messages = labelconfig.validate(text)
    assert isinstance(messages, list) and all(isinstance(m, str) and m for m in messages), \
        messages
    try:
        config = labelconfig.parse(text)
    except LabelConfigError as e:
        assert e.messages and all(isinstance(m, str) for m in e.messages)
        return
    except RecursionError:
        return  # validate() reports these as "too deeply nested"; parse() callers validate first
    problems = config.problems()
    assert isinstance(problems, list)
    assert isinstance(config.parsed, dict) and isinstance(config.data_keys, list)
    if not problems:
        task = sample_task(config)
        assert isinstance(task, dict)
        config.validate_task_data(dict(task))
        config.validate_task_data({"$undefined$": "x"}, "root")
        config.incompatibilities({"created_annotations": {"a|b|choices": 1},
                                  "created_labels": {"a": {"x": 1}}}, strict=True)


def import_file_target(core, filename, data):
    """read_tasks() gives a list or a ValidationError; the import of the file into a project
    commits everything or (on a refusal) nothing."""
    try:
        items = read_tasks(filename, data)
    except ValidationError:
        items = None
    else:
        assert isinstance(items, list)
    _refused_changes_nothing(core, lambda: core.imports.import_files(1, [(filename, data)], 1))


def import_body_target(core, body):
    """The JSON-body importer (POST /api/projects/1/import): a 201 answer or a refusal."""
    _refused_changes_nothing(core, lambda: core.imports.import_json(1, body, 1))


def archive_target(core, data):
    """A damaged project zip is refused with ValidationError and leaves the store as it was."""
    from desktop.data_import import archive
    _refused_changes_nothing(core, lambda: archive.import_archive(core, io.BytesIO(data), 1))


def store_state(core):
    storage = core.store.storage
    with storage.lock:
        return orjson.dumps({name: dict(docs) for name, docs in storage.tables.items() if docs},
                            option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def _refused_changes_nothing(core, call):
    before = store_state(core)
    try:
        call()
    except LabelDeskError:
        assert store_state(core) == before, "a refused import changed the store"
