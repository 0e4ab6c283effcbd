"""A data-manager query over a project's columns (desktop/core/task_columns.py), with
taskquery.scan()'s answer, or None where that can't be promised.

Every branch here mirrors one of taskquery._matches(): a filter that can't be answered from the
derived structures is answered by _matches() itself over the column's values, which are
Columns.value()'s, so the only thing saved there is reading the tasks.
"""

import bisect

from desktop.core.task_columns import Numbers, Order, Texts
from desktop.core.taskquery import _matches, _number

UNINDEXED = {"draft_exists"}  # read from the drafts, which the change log doesn't follow
RANGES = ("greater", "greater_or_equal", "less", "less_or_equal")
TEXT_OPERATORS = ("contains", "not_contains", "starts_with", "ends_with", "equal", "not_equal")
LIST_OPERATORS = ("equal", "not_equal", "contains", "not_contains")  # _matches' any() branch


class Unanswerable(Exception):
    """The columns can't promise scan()'s answer: the caller makes the scan."""


class Query:
    """A query as taskquery parses it: what evaluate() and patch() read."""

    def __init__(self, tests, conjunction, selected, only_annotated, order_by, descending):
        self.tests, self.conjunction = tests, conjunction
        self.selected, self.only_annotated = selected, only_annotated
        self.order_by, self.descending = order_by, descending
        self.by_id = order_by is None or order_by == "id"  # ascending, or descending by id


def evaluate(columns, ids, query):
    """taskquery.scan()'s answer from current columns (every task of the project in each), or
    None. `ids`: the project's task ids, ascending."""
    # every task of the project (a search by id has its id column alone)
    members = (columns.get("total_annotations") or columns["id"]).values
    chosen, selected = None, query.selected  # None: every task
    if selected:
        if selected.get("all"):
            excluded = set(selected.get("excluded") or ())
            chosen = {i for i in ids if i not in excluded} if excluded else None
        else:
            chosen = {i for i in selected.get("included") or () if i in members}
    if query.only_annotated:
        cancelled = columns["cancelled_annotations"].values
        chosen = {i for i in (members if chosen is None else chosen)
                  if members[i] or cancelled[i]}
    tests = query.tests
    try:
        if tests and query.conjunction != "or":
            for test in tests:  # in order: each one over the tasks the ones before passed
                chosen = matching(columns[test[0]], ids, chosen, *test[1:])
        elif tests:
            passed = set()
            for test in tests:  # each over every candidate: a superset of what scan() tests
                passed.update(matching(columns[test[0]], ids, chosen, *test[1:]))
            chosen = passed
    except Unanswerable:
        return None
    if query.by_id:
        if chosen is None:
            line = list(ids)
        elif len(chosen) * 8 < len(ids):
            line = sorted(chosen)
        else:
            line = [i for i in ids if i in chosen]
        return line[::-1] if query.descending else line
    order = columns[query.order_by].get(Order)
    if not order.sortable():
        return None
    return order.ids(query.descending, chosen)


def patch(columns, line, changed, query):
    """An answer ordered by id (`line`) made current for the tasks `changed` since: each one
    tested as scan() tests a task, then taken out or put in its place."""
    # every task of the project (a search by id has its id column alone)
    members = (columns.get("total_annotations") or columns["id"]).values
    selected, tests = query.selected, query.tests
    every = query.conjunction != "or"
    excluded = included = None
    if selected and selected.get("all"):
        excluded = set(selected.get("excluded") or ())
    elif selected:
        included = set(selected.get("included") or ())

    def passes(task_id):
        if task_id not in members or excluded is not None and task_id in excluded or \
                included is not None and task_id not in included:
            return False
        if query.only_annotated and not (members[task_id] or
                                         columns["cancelled_annotations"].values[task_id]):
            return False
        if not tests:
            return True
        results = (_matches(op, kind, columns[name].values[task_id], value)
                   for name, op, kind, value in tests)
        return all(results) if every else any(results)

    line = list(line)
    by = (lambda i: -i) if query.descending else None
    for task_id in changed:
        at = bisect.bisect_left(line, -task_id if by else task_id, key=by)
        there = at < len(line) and line[at] == task_id
        if passes(task_id):
            if not there:
                line.insert(at, task_id)
        elif there:
            del line[at]
    return line


def matching(column, ids, among, operator, kind, expected):
    """The ids in `among` (None: all) whose value in `column` passes the filter, as a set."""
    if column.name == "id" and (kind == "Number" or kind != "String" and operator not in (
            "in", "not_in")):  # tasks' ids are numbers: _matches' number branch
        found = _id_range(ids, operator, expected)
        if found is not None:
            return set(found) if among is None else among.intersection(found)
    if kind == "Number" and operator in RANGES + ("in", "not_in", "equal", "not_equal"):
        numbers = column.get(Numbers)
        if operator in RANGES or operator in ("in", "not_in") or not numbers.lists:
            found = _number_range(numbers, operator, expected)
            if found is not None:
                inside = set(found)
                if operator in ("not_in", "not_equal"):
                    return {i for i in (column.values if among is None else among)
                            if i not in inside}
                return inside if among is None else among & inside
    if operator in TEXT_OPERATORS and kind in ("String", "Unknown", None):
        texts = column.get(Texts)
        if kind == "String" or not texts.numbers:
            return _text_matches(column, texts, among, operator, kind, expected)
    values = column.values
    try:
        return {i for i in (values if among is None else among)
                if _matches(operator, kind, values[i], expected)}
    except Exception:  # noqa: BLE001 - scan() raises it, or doesn't reach that task
        raise Unanswerable() from None


def _id_range(ids, operator, expected):
    """The ids _matches' number branch passes for the id column; None: not answered here."""
    if operator in ("in", "not_in"):
        bounds = expected if isinstance(expected, dict) else {}
        low, high = _number(bounds.get("min")), _number(bounds.get("max"))
        if low is None and high is None or low != low or high != high:
            return None
        start = 0 if low is None else bisect.bisect_left(ids, low)
        stop = len(ids) if high is None else bisect.bisect_right(ids, high)
        inside = ids[start:stop]
        return inside if operator == "in" else _others(ids, inside)
    value = _number(expected)
    if operator not in RANGES + ("equal", "not_equal") or value is None or value != value:
        return None
    if operator in ("equal", "not_equal"):
        at = bisect.bisect_left(ids, value)
        inside = ids[at:at + 1] if at < len(ids) and ids[at] == value else []
        return inside if operator == "equal" else _others(ids, inside)
    if operator in ("greater", "greater_or_equal"):
        at = (bisect.bisect_right if operator == "greater" else bisect.bisect_left)(ids, value)
        return ids[at:]
    at = (bisect.bisect_left if operator == "less" else bisect.bisect_right)(ids, value)
    return ids[:at]


def _others(ids, inside):
    inside = set(inside)
    return [i for i in ids if i not in inside]


def _number_range(numbers, operator, expected):
    """The ids a Number filter passes, read from the column's numbers; for not_in and
    not_equal the ids it refuses. None: not answered here."""
    if operator in ("in", "not_in"):
        bounds = expected if isinstance(expected, dict) else {}
        low, high = _number(bounds.get("min")), _number(bounds.get("max"))
        if low is None and high is None:
            return None  # every number passes, NaN too
        if low != low or high != high:
            return []
        return numbers.between(low, high)
    value = _number(expected)
    if value is None or value != value:
        return [] if operator in RANGES else None
    if operator in ("equal", "not_equal"):
        return numbers.between(value, value)
    if operator in ("greater", "greater_or_equal"):
        return numbers.between(value, None, low_open=operator == "greater")
    return numbers.between(None, value, high_open=operator == "less")


def _text_matches(column, texts, among, operator, kind, expected):
    want = ("" if expected is None else str(expected)).lower()
    text = texts.text
    pool = text if among is None else among
    if operator == "contains":
        found = {i for i in pool if want in text[i]}
    elif operator == "not_contains":
        found = {i for i in pool if want not in text[i]}
    elif operator == "starts_with":
        found = {i for i in pool if text[i].startswith(want)}
    elif operator == "ends_with":
        found = {i for i in pool if text[i].endswith(want)}
    elif operator == "equal":
        found = {i for i in pool if text[i] == want}
    else:
        found = {i for i in pool if text[i] != want}
    if texts.lists and operator in LIST_OPERATORS:  # list values: item by item, as _matches
        values = column.values
        for i in texts.lists if among is None else texts.lists & among:
            found.discard(i)
            if _matches(operator, kind, values[i], expected):
                found.add(i)
    return found
