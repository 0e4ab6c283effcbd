"""The data manager's indexes (desktop/core/task_index.py) against the full pass they replace
(taskquery.scan, kept as the reference), and the project summary's tallies
(desktop/core/project_summary.py) against a count over the annotations: random writes
(imports, tasks created, changed and deleted, annotations and predictions made, changed and
deleted, bulk actions, deletes back from the trash, a rolled-back transaction) between random
queries over the same project, in process; after every step each query gives the same ids in
the same order both ways (or the same error), and the summary the same figures in the same
order."""

import os

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from desktop.core import project_summary, taskquery
from desktop.core.errors import Conflict
from desktop.core.settings import Settings
from desktop.core.task_columns import Numbers, Order
from desktop.db import index_cache
from desktop.shell.app import LabelDesk

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
          '<Choice value="Pos"/><Choice value="Neg"/></Choices></View>')

words = st.sampled_from(["alpha", "Beta", "gamma delta", "", "10", "2.5", "ALPHA beta", "é"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), words,
                    st.sampled_from([0.5, 2.0, -1.25, 1e9]))
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(
    st.sampled_from(["a", "b"]), scalars, max_size=2))
# data.n holds numbers only (or nothing), data.x anything: both paths of the indexes
datas = st.fixed_dictionaries({"text": words}, optional={
    "n": st.one_of(st.integers(-5, 20), st.floats(-5, 20, allow_nan=False)), "x": values})
regions = st.lists(st.fixed_dictionaries({
    "from_name": st.sampled_from(["sentiment", "label"]), "to_name": st.just("text"),
    "type": st.sampled_from(["choices", "labels"]),
    "value": st.fixed_dictionaries({"choices": st.lists(st.sampled_from(["Pos", "Neg"]),
                                                        max_size=2),
                                    "labels": st.lists(st.sampled_from(["A", "B"]),
                                                       max_size=2)})}), max_size=2)
annotation_fields = st.fixed_dictionaries({"result": regions}, optional={
    "was_cancelled": st.booleans(), "ground_truth": st.booleans(),
    "lead_time": st.sampled_from([None, 1.5, 3.0, 7])})
pick = st.integers(0, 10_000)

operations = st.one_of(
    st.tuples(st.just("import"), st.lists(st.fixed_dictionaries({"data": datas}, optional={
        "annotations": st.lists(st.fixed_dictionaries({"result": regions}), max_size=1),
        "predictions": st.lists(st.fixed_dictionaries({"result": st.just([]), "score": st.one_of(
            st.none(), st.floats(0, 1, allow_nan=False))}), max_size=2)}), min_size=1,
        max_size=4)),
    st.tuples(st.just("create_task"), datas),
    st.tuples(st.just("update_task"), pick, datas),
    st.tuples(st.just("delete_task"), pick),
    st.tuples(st.just("annotate"), pick, annotation_fields),
    st.tuples(st.just("update_annotation"), pick, annotation_fields),
    st.tuples(st.just("delete_annotation"), pick),
    st.tuples(st.just("predict"), pick, st.one_of(st.none(), st.floats(0, 1, allow_nan=False)),
              st.sampled_from(["v1", "v2"])),
    st.tuples(st.just("delete_prediction"), pick),
    st.tuples(st.just("action"), st.sampled_from(["delete_tasks", "delete_tasks_annotations",
                                                  "delete_tasks_predictions",
                                                  "predictions_to_annotations"]), pick),
    st.tuples(st.just("rolled_back"), pick, datas),
    st.tuples(st.just("raw_annotation"), pick, st.sampled_from([None, 2.0, 9.5])),
    st.tuples(st.just("restore"), pick),
)

# each column with the type the web app sends for it
NATURAL = {"id": "Number", "inner_id": "Number", "data": "String", "data.text": "String",
           "data.n": "Number", "data.x": "Unknown", "data.x.a": "Unknown",
           "total_annotations": "Number", "cancelled_annotations": "Number",
           "total_predictions": "Number", "completed_at": "Datetime", "created_at": "Datetime",
           "updated_at": "Datetime", "is_labeled": "Boolean", "annotators": "List",
           "ground_truth": "Boolean", "annotations_results": "String", "avg_lead_time": "Number",
           "predictions_score": "Number", "predictions_model_versions": "List",
           "predictions_results": "String", "file_upload": "String", "comment_count": "Number"}
COLUMNS = list(NATURAL)
MAIN = ["id", "data", "data.text", "data.n", "data.x", "total_annotations", "completed_at",
        "predictions_score", "avg_lead_time", "annotators"]
TYPES = ["Number", "String", "Unknown", "Boolean", "Datetime", "List", None]
OPERATORS = list(taskquery.OPERATORS)
bounds = st.fixed_dictionaries({}, optional={"min": scalars, "max": scalars})


@st.composite
def items(draw):
    column = draw(st.one_of(st.sampled_from(MAIN), st.sampled_from(COLUMNS)))
    kind = draw(st.one_of(st.just(NATURAL[column]), st.sampled_from(TYPES)))
    operator = draw(st.sampled_from(OPERATORS))
    if operator in ("in", "not_in"):
        value = draw(st.one_of(bounds, scalars))
    elif kind == "Number":
        value = draw(st.one_of(st.integers(-2, 12), st.floats(-2, 12, allow_nan=False),
                               scalars))
    else:
        value = draw(st.one_of(words, scalars))
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind,
            "value": value}


orderings = st.one_of(st.just([]), st.one_of(st.sampled_from(MAIN), st.sampled_from(
    COLUMNS)).flatmap(lambda c: st.sampled_from([[f"tasks:{c}"], [f"-tasks:{c}"]])))
queries = st.fixed_dictionaries({
    "filters": st.one_of(st.none(), st.fixed_dictionaries({
        "conjunction": st.sampled_from(["and", "or"]), "items": st.lists(items(), max_size=3)})),
    "ordering": orderings,
    "selected": st.one_of(st.none(), st.just({"all": True}), st.fixed_dictionaries({
        "all": st.just(True), "excluded": st.lists(pick, max_size=3)}),
        st.fixed_dictionaries({"all": st.just(False), "included": st.lists(pick, max_size=4)})),
    "only_annotated": st.booleans()})


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    app = LabelDesk(Settings(data_dir=tmp_path_factory.mktemp("task-index"), auth=False,
                             fsync=False))
    yield app
    app.close()


def nth(items, k):
    return items[k % len(items)] if items else None


def apply(core, project_id, operation):
    kind, *args = operation
    tasks = list(core.tasks.ids(project_id))
    annotations = list(core.records.annotations_by_project.ids(project_id))
    predictions = list(core.records.predictions_by_project.ids(project_id))
    if kind == "import":
        core.imports.import_json(project_id, args[0], 1)
    elif kind == "create_task":
        core.tasks.create(project_id, args[0])
    elif kind == "update_task" and tasks:
        core.tasks.update(nth(tasks, args[0]), {"data": args[1]}, 1)
    elif kind == "delete_task" and tasks:
        core.tasks.delete(nth(tasks, args[0]))
    elif kind == "annotate" and tasks:
        core.annotations.create(nth(tasks, args[0]), dict(args[1]), 1)
    elif kind == "update_annotation" and annotations:
        core.annotations.update(nth(annotations, args[0]), dict(args[1]), 1)
    elif kind == "delete_annotation" and annotations:
        core.annotations.delete(nth(annotations, args[0]), 1)
    elif kind == "predict" and tasks:
        core.predictions.create({"task": nth(tasks, args[0]), "result": [], "score": args[1],
                                 "model_version": args[2]})
    elif kind == "delete_prediction" and predictions:
        core.predictions.delete(nth(predictions, args[0]))
    elif kind == "action" and tasks:
        body = {"selectedItems": {"all": False, "included": [nth(tasks, args[1])]}}
        core.actions.run(args[0], project_id, body, 1)
    elif kind == "raw_annotation" and annotations:  # a write that leaves the task as it is
        core.records.annotations.update({"lead_time": args[1]},
                                        doc_ids=[nth(annotations, args[0])])
    elif kind == "restore":  # one of the deletes back from the trash (its newest by default)
        items = sorted(core.records.trash.items.docs())
        if items:
            try:
                core.records.trash.restore(items[-1 - args[0] % 2 if len(items) > 1 else -1])
                event("a delete back from the trash")
            except Conflict:
                pass  # what it belongs to is in the trash too
    elif kind == "rolled_back" and tasks:
        with pytest.raises(RuntimeError), core.records.transaction():
            core.tasks.update(nth(tasks, args[0]), {"data": args[1]}, 1)
            core.annotations.create(nth(tasks, args[0]), {"result": []}, 1)
            raise RuntimeError("undo")


def outcome(function, *args):
    try:
        return list(function(*args))
    except Exception as e:  # noqa: BLE001 - the same error both ways is the same answer
        return type(e).__name__


def exactly(value):
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS)


def assert_as_made_afresh(core, project_id):
    """Every column the project's index keeps current holds what one made now would."""
    index = core.tasks.query_index.projects.get(project_id)
    if index is None:
        return
    columns = taskquery.Columns(core.tasks)
    with core.records.lock:
        tasks = {i: core.tasks.get(i) for i in core.tasks.ids(project_id)}
        for name, column in index.columns.items():
            if column.seen != index.seq:
                continue
            fresh = {i: columns.value(name, i, task) for i, task in tasks.items()}
            assert exactly(column.values) == exactly(fresh), name
            for kind, kept in column.derived.items():
                again = kind(column.values)
                if kind is Order:
                    assert (kept.keys, kept.absent) == (again.keys, again.absent), name
                    assert (kept.numbers, kept.texts, kept.nans) == (again.numbers, again.texts,
                                                                     again.nans)
                    for descending in kept.sorted:
                        assert kept.sorted[descending] == again._line(descending), name
                elif kind is Numbers:
                    assert (kept.number, kept.nans, kept.lists, kept.line) == (
                        again.number, again.nans, again.lists, again.line), name
                else:
                    assert (kept.text, kept.lists, kept.numbers) == (
                        again.text, again.lists, again.numbers), name


def check(core, project_id, query, answered):
    tasks = core.tasks
    selected = query["selected"]
    if selected and not selected["all"]:
        ids = tasks.ids(project_id)
        selected = {"all": False, "included": [nth(ids, k) for k in selected["included"]]}
    args = (core.records, tasks, project_id, query["filters"], query["ordering"], selected,
            query["only_annotated"])
    fast = outcome(taskquery.select, *args)
    assert fast == outcome(taskquery.scan, *args), query
    if isinstance(fast, str):
        return  # refused before any task is read (taskquery.check_query)
    indexed = tasks.query_index.select(project_id, *args[3:])
    answered.append(indexed is not None)
    event("answered from the index" if indexed is not None else "the full pass")
    if fast:
        event("a non-empty answer")
    if indexed is not None:
        assert list(indexed) == fast
        assert_as_made_afresh(core, project_id)
        if len(indexed) != tasks.r.tasks_by_project.count(project_id):
            sums = [0, 0]
            for task_id in indexed:
                task = tasks.get(task_id)
                sums[0] += task.get("total_annotations", 0)
                sums[1] += task.get("total_predictions", 0)
            assert tasks._totals(project_id, indexed) == tuple(sums)


def check_summary(core, project_id):
    summary = core.projects.summary(project_id)
    with core.records.lock:
        counted = project_summary.count(core.records, project_id)
    # the same keys in the same order: compared as JSON text
    assert orjson.dumps([summary["created_annotations"], summary["created_labels"]]) == \
        orjson.dumps(list(counted))


# LABELDESK_INDEX_EXAMPLES=1000 for a longer run
@settings(max_examples=int(os.environ.get("LABELDESK_INDEX_EXAMPLES") or 60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps=st.lists(st.tuples(operations, st.lists(queries, min_size=1, max_size=3)),
                      min_size=1, max_size=12))
def test_indexes_and_tallies_equal_a_count_afresh(core, steps):
    project_id = core.projects.create({"title": "index", "label_config": CONFIG}, 1)
    answered = []
    try:
        for operation, step_queries in steps:
            for query in step_queries:  # before the write: the index made or caught up
                check(core, project_id, query, answered)
            core.projects.summary(project_id)  # its tallies made, then kept current
            apply(core, project_id, operation)
            for query in step_queries:  # after it: the same queries see the write
                check(core, project_id, query, answered)
            check_summary(core, project_id)
    finally:
        core.projects.delete(project_id, [core._delete_project_data])


def test_the_usual_queries_are_answered_from_the_index(core):
    """The data manager's usual pages never fall back to the full pass."""
    project_id = core.projects.create({"title": "usual", "label_config": CONFIG}, 1)
    core.imports.import_json(project_id, [
        {"data": {"text": f"Review {i}", "n": i % 7},
         "predictions": [{"result": [], "score": (i % 5) / 5}],
         **({"annotations": [{"result": []}]} if i % 2 else {})} for i in range(1, 60)], 1)
    ids = core.tasks.ids(project_id)
    usual = [
        ([("id", "equal", "Number", ids[4])], []),
        ([("id", "in", "Number", {"min": ids[3], "max": ids[9]})], []),
        ([("total_annotations", "greater", "Number", 0)], []),
        ([], ["tasks:data.text"]), ([], ["-tasks:predictions_score"]),
        ([("data.n", "greater", "Number", 3)], []),
        ([("data.text", "contains", "String", "review 1")], []),
        ([("data.n", "greater", "Number", 3), ("data.text", "contains", "String", "1")], []),
        ([], ["-tasks:total_annotations"]), ([], ["-tasks:completed_at"]), ([], ["-tasks:id"]),
        ([("data", "contains", "String", "view 2")], ["tasks:data.n"]),
    ]
    index = core.tasks.query_index
    for round_ in range(2):
        for tests, ordering in usual:
            filters = {"conjunction": "and", "items": [
                {"filter": f"filter:tasks:{c}", "operator": o, "type": t, "value": v}
                for c, o, t, v in tests]}
            args = (project_id, filters, ordering, {"all": True}, False)
            found = index.select(*args)
            assert found is not None, (tests, ordering)
            assert found == taskquery.scan(core.records, core.tasks, *args)
            assert index.select(*args) is found  # the answer kept until the project changes
        core.annotations.create(ids[round_ * 2], {"result": []}, 1)
    core.projects.delete(project_id, [core._delete_project_data])


def region(from_name, kind, labels):
    return {"from_name": from_name, "to_name": "text", "type": kind, "value": {kind: labels}}


def test_the_summary_keeps_the_order_a_count_gives(core):
    """A key's first place taken away (its first annotation deleted or changed): the next
    summary lists the keys as a count over the annotations by id meets them."""
    project_id = core.projects.create({"title": "summary", "label_config": CONFIG}, 1)
    tasks = core.imports.import_json(project_id, [{"text": str(i)} for i in range(4)], 1,
                                     return_task_ids=True)["task_ids"]
    first = core.annotations.create(tasks[0], {"result": [region("a", "labels", ["X", "Y"])]},
                                    1)
    core.annotations.create(tasks[1], {"result": [region("b", "choices", ["P"]),
                                                  region("a", "labels", ["Z"])]}, 1)
    core.annotations.create(tasks[2], {"result": [region("a", "labels", ["Y", "X"])]}, 1)
    for change in ("edit", "keep", "delete"):
        check_summary(core, project_id)
        if change == "edit":  # its first label goes: Z then Y then X
            core.annotations.update(first, {"result": [region("a", "labels", ["Q"])]}, 1)
        elif change == "keep":  # the same keys in the same places
            core.annotations.update(first, {"result": [region("a", "labels", ["Q"])],
                                            "lead_time": 4}, 1)
        else:
            core.annotations.delete(first, 1)
    check_summary(core, project_id)
    summary = core.projects.summary(project_id)
    assert list(summary["created_annotations"]) == ["b|text|choices", "a|text|labels"]
    assert summary["created_labels"] == {"b": {"P": 1}, "a": {"Z": 1, "Y": 1, "X": 1}}
    assert list(summary["created_labels"]["a"]) == ["Z", "Y", "X"]
    core.projects.delete(project_id, [core._delete_project_data])


def test_the_summary_is_kept_from_a_projects_creation_and_across_a_clean_restart(tmp_path):
    """A new project's tally starts empty and follows every write, an import's annotations
    included (its first summary counts nothing); a clean close saves the tallies and the next
    start takes them, and keeps them current (db/index_cache.py's own tests: a start beside
    files written since the save builds afresh)."""
    settings = Settings(data_dir=tmp_path / "data", auth=False, fsync=False)
    app = LabelDesk(settings)
    project_id = app.projects.create({"title": "kept", "label_config": CONFIG}, 1)
    other = app.projects.create({"title": "other", "label_config": CONFIG}, 1)
    assert project_id in app.records.summaries.tallies  # made with it: nothing to count
    app.imports.import_json(project_id, [
        {"data": {"text": str(i)},
         "annotations": [{"result": [region("sentiment", "choices", ["Pos" if i % 3 else "Neg"]),
                                     region("label", "labels", ["B", "A"][: 1 + i % 2])]}]}
        for i in range(30)], 1)
    tally = app.records.summaries.tallies[project_id]
    with app.records.lock:
        assert orjson.dumps(tally.answer()) == orjson.dumps(
            list(project_summary.count(app.records, project_id)))
    check_summary(app, project_id)
    app.projects.delete(other, [app._delete_project_data])
    assert other not in app.records.summaries.tallies
    before = app.projects.summary(project_id)
    app.close()

    app = LabelDesk(settings)  # the tallies the close saved
    try:
        assert app.records.store.storage.index_cache_used
        assert app.records.summaries.tallies[project_id].count == tally.count
        assert app.projects.summary(project_id) == before
        check_summary(app, project_id)
        app.annotations.create(app.tasks.ids(project_id)[0],
                               {"result": [region("label", "labels", ["C"])]}, 1)
        check_summary(app, project_id)
        after = app.projects.summary(project_id)
    finally:
        app.close()
    app = LabelDesk(settings)
    try:
        assert app.projects.summary(project_id) == after
        check_summary(app, project_id)
    finally:
        app.close()


@pytest.mark.parametrize("saved", [[[1, [[[], 1, [1, 0]]]]], [[1, [[["a", "x|y|z"], 0, [1, 0]]]]],
                                   [[1, [[["q", "x"], 1, [1, 0]]]]], [["one", []]], [[1]], 7])
def test_misshapen_saved_tallies_are_counted_instead(tmp_path, saved):
    settings = Settings(data_dir=tmp_path / "data", auth=False, fsync=False)
    app = LabelDesk(settings)
    project_id = app.projects.create({"title": "kept", "label_config": CONFIG}, 1)
    app.imports.import_json(project_id, [{"data": {"text": "a"}, "annotations": [
        {"result": [region("sentiment", "choices", ["Pos"])]}]}], 1)
    before = app.projects.summary(project_id)
    key = app.records.summaries.cache_key
    app.close()
    folder = str(tmp_path / "data" / "db")
    states = index_cache.load(folder)
    assert key in states
    states[key] = saved
    index_cache.save(folder, states)  # beside the same files: only its state is wrong
    app = LabelDesk(settings)
    try:
        assert project_id not in app.records.summaries.tallies
        assert app.projects.summary(project_id) == before
    finally:
        app.close()


def test_a_column_that_fails_to_read_leaves_the_answer_to_the_full_pass(core):
    """annotators of a task whose annotations name a user and no user (sorted() can't compare
    them) fails to read: the full pass reads it only for the tasks an earlier filter lets
    through, so the indexes answer nothing and the full pass answers (or raises) as before."""
    project_id = core.projects.create({"title": "odd", "label_config": CONFIG}, 1)
    first, second = core.imports.import_json(project_id, [{"text": "a"}, {"text": "b"}], 1,
                                             return_task_ids=True)["task_ids"]
    core.annotations.create(first, {"result": []}, 1)
    odd = core.annotations.create(first, {"result": []}, 1)
    core.records.annotations.update({"completed_by": None}, doc_ids=[odd])
    filters = {"conjunction": "and", "items": [
        {"filter": "filter:tasks:id", "operator": "equal", "type": "Number", "value": second},
        {"filter": "filter:tasks:annotators", "operator": "contains", "type": "List",
         "value": 1}]}
    args = (project_id, filters, [], {"all": True}, False)
    assert core.tasks.query_index.select(*args) is None
    assert taskquery.select(core.records, core.tasks, *args) == []
    with pytest.raises(TypeError):
        taskquery.select(core.records, core.tasks, project_id, None, ["tasks:annotators"],
                         {"all": True})
    core.projects.delete(project_id, [core._delete_project_data])


def test_queries_and_writes_at_once(core, monkeypatch):
    """Readers filtering and sorting while a writer labels, changes and deletes tasks (chunks
    of 7 tasks, so that writes get in while columns are made): once the writer is done, every
    answer and every kept column equals the reference."""
    import random
    import threading

    monkeypatch.setattr(taskquery, "CHUNK", 7)
    project_id = core.projects.create({"title": "at once", "label_config": CONFIG}, 1)
    core.imports.import_json(project_id, [{"data": {"text": f"t{i}", "n": i % 9}}
                                          for i in range(300)], 1)
    queries = [({"conjunction": "and", "items": [
        {"filter": f"filter:tasks:{c}", "operator": o, "type": t, "value": v}]}, ordering)
        for c, o, t, v in [("data.n", "greater", "Number", 4),
                           ("total_annotations", "greater", "Number", 0),
                           ("data.text", "contains", "String", "1")]
        for ordering in ([], ["-tasks:data.n"], ["tasks:completed_at"])]
    done, failures = threading.Event(), []

    def read():
        while not done.is_set():
            filters, ordering = random.choice(queries)
            try:
                taskquery.select(core.records, core.tasks, project_id, filters, ordering,
                                 {"all": True})
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(e)

    def write():
        rng = random.Random(5)
        for k in range(150):
            ids = core.tasks.ids(project_id)
            task_id = rng.choice(ids)
            if k % 10 == 9:
                core.tasks.delete(task_id)
            elif k % 3:
                core.annotations.create(task_id, {"result": []}, 1)
            else:
                core.tasks.update(task_id, {"data": {"text": f"u{k}", "n": rng.randrange(9)}})

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    write()
    done.set()
    for thread in readers:
        thread.join()
    assert not failures
    for filters, ordering in queries:
        args = (project_id, filters, ordering, {"all": True}, False)
        assert taskquery.select(core.records, core.tasks, *args) == \
            taskquery.scan(core.records, core.tasks, *args)
    assert_as_made_afresh(core, project_id)
    core.projects.delete(project_id, [core._delete_project_data])
