"""The data manager's query language: filters, ordering and selected items over tasks (ref. §4.2).

Columns are Label Studio's (`filter:tasks:<column>`, `filter:tasks:data.<key>`), plus one of
LabelDesk's own: `filter:tasks:data` (no key), the whole task data as one text (every value,
nested ones too, joined by newlines), which the UI's search box uses to search every data
column at once (`contains` is case-insensitive, as for any String column).

The plain case (no filter, no ordering, everything selected) never looks at a task: the page is a
slice of the project's id index. Anything else is answered from the project's indexes
(desktop/core/task_index.py, docs/adr/0013-dm-indexes.md) or, where they can't promise the same
answer, by scan(): one pass over the project's tasks, the reference they are tested against.
"""

import functools
import time

import orjson

from desktop.core.errors import ValidationError


def parse_query(text):
    """The `query` parameter (a JSON string) as (filters, ordering, selected)."""
    if not text:
        return None, [], None
    try:
        query = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ValidationError({"query": ["Must be a JSON object."]}) from None
    if not isinstance(query, dict):
        raise ValidationError({"query": ["Must be a JSON object."]})
    return (query.get("filters"), query.get("ordering") or [],
            query.get("selectedItems") or query.get("selected_items"))


def check_query(filters, ordering, selected):
    """400 for a query whose parts have the wrong JSON types (they come from clients)."""
    if filters is not None and not isinstance(filters, dict):
        raise ValidationError({"filters": ["Must be an object or null."]})
    if filters and not isinstance(filters.get("items") or [], list):
        raise ValidationError({"filters": ["`items` must be a list."]})
    if not isinstance(ordering, (list, str)):
        raise ValidationError({"ordering": ["Must be a list of column names."]})
    if selected is None:
        return
    if not isinstance(selected, dict):
        raise ValidationError({"selectedItems": ["Must be an object."]})
    for key in ("included", "excluded"):
        ids = selected.get(key) or []
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                for i in ids):
            raise ValidationError({"selectedItems": [f"`{key}` must be a list of task ids."]})


def is_plain(filters, ordering, selected):
    items = (filters or {}).get("items") if isinstance(filters, dict) else None
    everything = not selected or (selected.get("all") and not selected.get("excluded"))
    return not items and not ordering and everything


class Columns:
    """Reads a column of a task the way the data manager shows it."""

    def __init__(self, tasks):
        self.tasks = tasks

    def value(self, column, task_id, task):
        read = reader(column)
        if read is not None:
            return read(task)
        if column == "id":
            return task_id
        if column in ("annotators", "ground_truth", "annotations_results", "avg_lead_time"):
            annotations = [a for _, a in self.tasks.annotations_of(task_id)] \
                if task.get("total_annotations") or task.get("cancelled_annotations") else []
            if column == "annotators":
                return sorted({a.get("completed_by") for a in annotations})
            if column == "ground_truth":
                return any(a.get("ground_truth") for a in annotations)
            if column == "avg_lead_time":
                times = [a["lead_time"] for a in annotations if a.get("lead_time") is not None]
                return sum(times) / len(times) if times else None
            return orjson.dumps([r for a in annotations for r in a.get("result") or []]).decode()
        if column in ("predictions_score", "predictions_model_versions", "predictions_results"):
            predictions = [p for _, p in self.tasks.predictions_of(task_id)] \
                if task.get("total_predictions") else []
            if column == "predictions_score":
                scores = [p["score"] for p in predictions if p.get("score") is not None]
                return sum(scores) / len(scores) if scores else None
            if column == "predictions_model_versions":
                return sorted({p.get("model_version") for p in predictions})
            return orjson.dumps([r for p in predictions for r in p.get("result") or []]).decode()
        if column in ("comment_count", "unresolved_comment_count"):
            return 0
        if column == "draft_exists":
            return task_id in self.tasks.r.drafts_by_task
        return None


COUNTERS = ("total_annotations", "cancelled_annotations", "total_predictions")
TASK_FIELDS = ("inner_id", "completed_at", "created_at", "updated_at", "file_upload",
               "storage_filename", "is_labeled", "overlap", "near_duplicate_of")


@functools.lru_cache(maxsize=256)
def reader(column):
    """A function of a task document that gives `column`'s value, for the columns a task's
    own document holds (its data, its counters and fields); None for the others (the id,
    what its annotations, predictions or drafts make)."""
    if column == "data":
        return lambda task: data_text(task["data"])
    if column.startswith("data."):
        parts = tuple(column[5:].split("."))
        if len(parts) == 1:
            key = parts[0]
            return lambda task: task["data"].get(key) if isinstance(task["data"], dict) else None

        def walk(task):
            value = task["data"]
            for part in parts:
                value = value.get(part) if isinstance(value, dict) else None
            return value
        return walk
    if column in COUNTERS:
        return lambda task: task.get(column, 0)
    if column in TASK_FIELDS:
        return lambda task: task.get(column)
    return None


def data_text(data):
    """All of a task's data values as one text: strings as they are, other values as JSON;
    nested objects and lists walked in order (without recursion: data may nest deeply)."""
    parts, stack = [], [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
        elif value is not None:
            parts.append(orjson.dumps(value).decode())
    return "\n".join(parts)


def column_of(name):
    """`filter:tasks:data.text` / `tasks:id` -> `data.text` / `id`, refusing ORM lookups."""
    column = name.split(":", 2)[-1] if isinstance(name, str) else ""
    if not column or ("__" in column and not column.startswith("data.")):
        raise ValidationError({"filters": [f"Invalid filter or ordering column: {name!r}"]})
    return column


OPERATORS = ("exists", "not_exists", "empty", "in", "not_in", "equal", "not_equal", "contains",
             "not_contains", "starts_with", "ends_with", "greater", "greater_or_equal", "less",
             "less_or_equal")


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _matches(operator, kind, actual, expected):
    if operator in ("exists", "not_exists"):
        return (actual is not None) == (operator == "exists")
    if operator == "empty":
        empty = actual in (None, "", [], {})
        return empty == bool(expected)
    if isinstance(actual, list) and operator in ("equal", "not_equal", "contains",
                                                 "not_contains"):
        hit = any(_matches("equal", kind, a, expected) for a in actual)
        return hit if operator in ("equal", "contains") else not hit
    if operator in ("in", "not_in"):
        bounds = expected if isinstance(expected, dict) else {}
        low, high = bounds.get("min"), bounds.get("max")
        if kind == "Number":
            actual, low, high = _number(actual), _number(low), _number(high)
        inside = actual is not None and (low is None or actual >= low) and \
            (high is None or actual <= high)
        return inside == (operator == "in")
    if kind == "Number" or (kind != "String" and isinstance(actual, (int, float))
                            and not isinstance(actual, bool)):
        a, e = _number(actual), _number(expected)
        if operator in ("contains", "not_contains", "starts_with", "ends_with"):
            a, e = str(actual), str(expected)
    elif kind == "Boolean":
        a, e = bool(actual), expected if isinstance(expected, bool) else \
            str(expected).lower() in ("true", "1", "yes")
    else:
        a = "" if actual is None else (actual if isinstance(actual, str)
                                        else orjson.dumps(actual).decode())
        e = "" if expected is None else str(expected)
        if operator in ("contains", "not_contains", "starts_with", "ends_with", "equal",
                        "not_equal") and kind in ("String", "Unknown", None):
            a, e = a.lower(), e.lower()
    try:
        if operator == "equal":
            return a == e
        if operator == "not_equal":
            return a != e
        if operator == "contains":
            return e in a
        if operator == "not_contains":
            return e not in a
        if operator == "starts_with":
            return a.startswith(e)
        if operator == "ends_with":
            return a.endswith(e)
        if a is None or e is None:
            return False
        if operator == "greater":
            return a > e
        if operator == "greater_or_equal":
            return a >= e
        if operator == "less":
            return a < e
        if operator == "less_or_equal":
            return a <= e
    except TypeError:
        return False
    raise ValidationError({"filters": [f"Unknown filter operator: {operator!r}"]})


CHUNK = 2000


def chunked(records, ids, work):
    """Run `work(task_id, task)` over `ids`, holding the store lock one chunk at a time.

    A filtered or sorted list of a big project is a pass over every task; releasing the lock
    between chunks lets a labeling write in instead of waiting for the whole pass. Documents
    are replaced, never changed in place, so each one is read whole.
    """
    docs = records.tasks
    for start in range(0, len(ids), CHUNK):
        with records.lock:
            for task_id in ids[start:start + CHUNK]:
                task = docs.doc(task_id)
                if task is not None:
                    work(task_id, task)
        time.sleep(0)  # hand the lock to a waiting writer


SLICE = 20000


def stored(records, ids, table=None):
    """(ids, their documents' stored bytes) over `ids` of `table` (the tasks' unless given), a
    slice at a time, each slice taken under the store's lock (a few milliseconds) to be
    decoded outside it (db/docs.py's decode). A document is replaced whole on a write, never
    changed in place, so each one read is one state of it."""
    table = records.tasks if table is None else table
    for start in range(0, len(ids), SLICE):
        part = ids[start:start + SLICE]
        with records.lock:
            blobs = list(map(table.docs().raw.get, part))
        found = [(i, blob) for i, blob in zip(part, blobs) if blob is not None]
        yield [i for i, _ in found], [blob for _, blob in found]


def sort_key(value):
    """Missing values last; numbers by value, anything else by its text."""
    if value is None:
        return (True, 0)
    if isinstance(value, bool):
        return (False, int(value))
    if isinstance(value, (list, dict)):
        value = orjson.dumps(value).decode()
    return (False, value if isinstance(value, (int, float)) else str(value))


def parse_tests(filters):
    """The filter items as [(column, operator, type, value)] and the conjunction."""
    items = (filters or {}).get("items") or [] if isinstance(filters, dict) else []
    conjunction = (filters or {}).get("conjunction", "and") if isinstance(filters, dict) else "and"
    tests = []
    for item in items:
        if not isinstance(item, dict):
            raise ValidationError({"filters": ["Each filter item must be an object."]})
        tests.append((column_of(item.get("filter")), item.get("operator"), item.get("type"),
                      item.get("value")))
    return tests, conjunction


def parse_ordering(ordering):
    """(column, descending) of the ordering's first name; (None, False) for ids ascending."""
    if not ordering:
        return None, None
    name = ordering[0] if isinstance(ordering, list) else ordering
    descending = isinstance(name, str) and name.startswith("-")
    column = column_of(name.lstrip("-") if isinstance(name, str) else name)
    if column == "id" and not descending:
        column = None  # ids are already ascending
    return column, descending


def select(records, tasks, project_id, filters, ordering, selected, only_annotated=False):
    """Ids of the project's tasks that pass the query, in its order.

    From the project's indexes (desktop/core/task_index.py) where they can answer it, else by
    scan(), the pass over every task that is their reference. Call it without holding the store
    lock: both take it themselves, a chunk at a time where they read many tasks.
    """
    check_query(filters, ordering, selected)
    if is_plain(filters, ordering, selected) and not only_annotated:
        with records.lock:
            # The index's own list, not a copy (a copy costs ~5 ms at 1M tasks): it is only
            # ever appended to or replaced, so slices of it taken later stay consistent.
            return tasks.ids(project_id)
    found = tasks.query_index.select(project_id, filters, ordering, selected, only_annotated)
    if found is not None:
        return found
    return scan(records, tasks, project_id, filters, ordering, selected, only_annotated)


def scan(records, tasks, project_id, filters, ordering, selected, only_annotated=False):
    """select() by one pass over the project's tasks: the reference the indexes must equal."""
    check_query(filters, ordering, selected)
    with records.lock:
        ids = tasks.ids(project_id)
    if is_plain(filters, ordering, selected) and not only_annotated:
        return ids
    columns = Columns(tasks)
    tests, conjunction = parse_tests(filters)
    if selected:
        if selected.get("all"):
            excluded = set(selected.get("excluded") or ())
            ids = [i for i in ids if i not in excluded] if excluded else ids
        else:
            included = set(selected.get("included") or ())
            ids = [i for i in ids if i in included]
    column, descending = parse_ordering(ordering)
    chosen, keys = [], {}

    def consider(task_id, task):
        if only_annotated and not (task.get("total_annotations") or
                                   task.get("cancelled_annotations")):
            return
        if tests:
            results = (_matches(op, kind, columns.value(col, task_id, task), value)
                       for col, op, kind, value in tests)
            if not (all(results) if conjunction != "or" else any(results)):
                return
        chosen.append(task_id)
        if column is not None:
            keys[task_id] = sort_key(columns.value(column, task_id, task))

    chunked(records, ids, consider)
    if column is not None:
        present = [i for i in chosen if not keys[i][0]]
        absent = [i for i in chosen if keys[i][0]]
        try:
            present.sort(key=keys.__getitem__, reverse=descending)
        except TypeError:  # numbers and text in one column: compare as text
            present.sort(key=lambda i: str(keys[i][1]), reverse=descending)
        chosen = present + absent
    return chosen
