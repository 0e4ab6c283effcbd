"""A project's columns as the data manager's indexes keep them (desktop/core/task_index.py):
each column's values by task id (taskquery.Columns.value()'s), and what is derived from them
when a query first needs it: a sorted order, the values as numbers in order, the values as
lowercased text. A query over them: task_filters.py.
"""

import bisect

import orjson

from desktop.core.taskquery import _number, sort_key

MISSING = object()


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Order:
    """A column's sort keys (taskquery.sort_key) and its tasks in order, both directions:
    ascending (key, id) and, read backwards, descending key with ascending ids, as scan()'s
    stable sorts give them; tasks without a value after either, by id."""

    def __init__(self, values):
        self.keys, self.absent = {}, []
        self.numbers = self.texts = self.nans = 0
        self.sorted = {}  # descending -> ids with a value, in key order (see above)
        keys, texts, numbers = self.keys, 0, 0
        for task_id, value in values.items():
            kind = value.__class__
            if kind is str:  # the usual values, keyed here as sort_key() keys them
                keys[task_id] = value
                texts += 1
            elif kind is int or kind is float:
                keys[task_id] = value
                numbers += 1
                self.nans += value != value
            elif value is None:
                self.absent.append(task_id)
            else:
                self.add(task_id, value, build=True)
        self.texts += texts
        self.numbers += numbers
        self.absent.sort()

    def _line(self, descending):
        line = self.sorted.get(descending)
        if line is None:
            keys = self.keys
            line = self.sorted[descending] = sorted(sorted(keys, reverse=descending),
                                                    key=keys.__getitem__)
        return line

    def _by(self, descending):
        keys = self.keys
        return (lambda i: (keys[i], -i)) if descending else (lambda i: (keys[i], i))

    def add(self, task_id, value, build=False):
        absent, key = sort_key(value)
        if absent:
            if build:
                self.absent.append(task_id)
            else:
                bisect.insort(self.absent, task_id)
            return
        self.keys[task_id] = key
        if is_number(key):
            self.numbers += 1
            self.nans += key != key
        else:
            self.texts += 1
        if not self.sortable():
            self.sorted.clear()  # made again once it is sortable (insort can't compare them)
            return
        for descending, line in self.sorted.items():
            bisect.insort(line, task_id, key=self._by(descending))

    def remove(self, task_id):
        key = self.keys.get(task_id, MISSING)
        if key is MISSING:
            at = bisect.bisect_left(self.absent, task_id)
            if at < len(self.absent) and self.absent[at] == task_id:
                del self.absent[at]
            return
        for descending, line in self.sorted.items():  # none while unsortable
            at = bisect.bisect_left(line, (key, -task_id if descending else task_id),
                                    key=self._by(descending))
            del line[at]
        del self.keys[task_id]
        if is_number(key):
            self.numbers -= 1
            self.nans -= key != key
        else:
            self.texts -= 1

    def sortable(self):
        """False where scan() falls back to comparing text (numbers and text mixed) or NaN
        leaves the order to the sort's algorithm."""
        return not self.nans and not (self.numbers and self.texts)

    def ids(self, descending, among=None):
        """The column's tasks in order; with `among` (a set), only those."""
        line = self._line(descending)
        if among is None:
            return (line[::-1] if descending else list(line)) + self.absent
        keys = self.keys
        if len(among) * 16 < len(keys) + len(self.absent):  # few: sort them as scan() does
            present = sorted(i for i in among if i in keys)
            present.sort(key=keys.__getitem__, reverse=descending)
            return present + sorted(i for i in among if i not in keys)
        ordered = [i for i in (reversed(line) if descending else line) if i in among]
        return ordered + [i for i in self.absent if i in among]


class Numbers:
    """A column's values as _matches' Number type reads them (_number), in order: ranges by
    bisection. NaN has no place in an order: those tasks are kept apart."""

    def __init__(self, values):
        self.number, self.nans, self.lists = {}, set(), 0
        for task_id, value in values.items():
            self.add(task_id, value, build=True)
        number = self.number
        self.line = sorted(sorted(number), key=number.__getitem__)

    def add(self, task_id, value, build=False):
        self.lists += isinstance(value, list)
        number = _number(value)
        if number is None:
            return
        if number != number:
            self.nans.add(task_id)
            return
        self.number[task_id] = number
        if not build:
            bisect.insort(self.line, task_id, key=self._by)

    def _by(self, task_id):
        return (self.number[task_id], task_id)

    def remove(self, task_id, value):
        self.lists -= isinstance(value, list)
        self.nans.discard(task_id)
        if task_id in self.number:
            at = bisect.bisect_left(self.line, (self.number[task_id], task_id), key=self._by)
            del self.line[at]
            del self.number[task_id]

    def between(self, low, high, low_open=False, high_open=False):
        """The ids whose number is within the bounds (None: unbounded)."""
        line, number = self.line, self.number.__getitem__
        start = 0 if low is None else (bisect.bisect_right if low_open else bisect.bisect_left)(
            line, low, key=number)
        stop = len(line) if high is None else (
            bisect.bisect_left if high_open else bisect.bisect_right)(line, high, key=number)
        return line[start:stop]


class Texts:
    """A column's values as _matches' text branch reads them, lowercased; list values apart
    (equal and contains test their items one by one)."""

    def __init__(self, values):
        self.text, self.lists, self.numbers = {}, set(), 0
        for task_id, value in values.items():
            self.add(task_id, value)

    def add(self, task_id, value):
        if isinstance(value, list):
            self.lists.add(task_id)
        self.numbers += is_number(value)
        text = "" if value is None else (value if isinstance(value, str)
                                         else orjson.dumps(value).decode())
        lowered = text.lower()
        self.text[task_id] = text if lowered == text else lowered  # one copy where it can

    def remove(self, task_id, value):
        self.lists.discard(task_id)
        self.numbers -= is_number(value)
        self.text.pop(task_id, None)


class Column:
    """One column's values over one project's tasks ({task id: Columns.value()}), with the
    structures derived from them made on first use and kept current by set() and remove()."""

    def __init__(self, name):
        self.name = name
        self.values = {}
        self.seen = 0  # the project's log position these values are current to
        self.derived = {}  # Order / Numbers / Texts -> instance

    def set(self, task_id, value):
        self.remove(task_id)
        self.values[task_id] = value
        for kind in self.derived.values():
            kind.add(task_id, value)

    def remove(self, task_id):
        old = self.values.pop(task_id, MISSING)
        if old is MISSING:
            return
        for kind in self.derived.values():
            if isinstance(kind, Order):
                kind.remove(task_id)
            else:
                kind.remove(task_id, old)

    def get(self, kind):
        made = self.derived.get(kind)
        if made is None:
            made = self.derived[kind] = kind(self.values)
        return made
