"""In-memory indexes kept current by the storage's change notifications.

They are derived state: built from the documents at open, or taken from what the last clean
close saved beside exactly these files (db/index_cache.py), so they can't disagree with the
data on disk.
"""

from collections import Counter
from itertools import repeat

from desktop.db.index_cache import fingerprint

MISSING = object()
SMALL = 16  # groups this small are sorted on each ids() call, not kept sorted


def key_function(key):
    """`key` as a function of a document (a field name: the field's value, None if missing)."""
    return key if callable(key) else (lambda doc, field=key: doc.get(field))


def cache_key(kind, table, key, function=None):
    """The name an index is saved under (db/index_cache.py), None if it can't be: a key
    function is not named by its field."""
    if callable(key):
        return None
    if function is None:
        return f"{kind}:{table}:{key}"
    digest = fingerprint(function)
    return None if digest is None else f"{kind}:{table}:{key}:{digest}"


def keys_of(key, docs):
    """[key of each document of `docs`], in order; a field is read by dict.get in C."""
    if callable(key):
        return list(map(key, docs.values()))
    return list(map(dict.get, docs.values(), repeat(key)))


class Index:
    """The ids of a table's documents grouped by a key, listed in id order.

    A group of one document is its id itself, not a dict of one (a task's one annotation or
    prediction: a million of them took 180 MB of dicts)."""

    def __init__(self, storage, table, key):
        self.field = key
        self.key = key_function(key)
        self.groups = {}  # key -> a document id, or {id: None} of two or more
        self._sorted = {}
        self.cache_key = cache_key("index", table, key)
        storage.observe(table, self._changed, self._build, cache=self, added=self._added)

    def cache_state(self):
        return [[key, [group] if group.__class__ is int else list(group)]
                for key, group in self.groups.items()]

    def cache_load(self, state):
        groups = {}
        for key, ids in state:
            if not ids:
                raise ValueError("an empty group")
            groups[key] = ids[0] if len(ids) == 1 else dict.fromkeys(ids)
        self.groups = groups
        self._sorted = {}

    def _build(self, docs):
        keys = keys_of(self.field, docs)
        if len(keys) > 1 and keys.count(keys[0]) == len(keys):  # the usual part: one group
            self._merge(keys[0], dict.fromkeys(docs))
            return
        for doc_id, value in zip(docs, keys):
            self._add(value, doc_id)

    def _added(self, docs):
        """_changed(id, None, doc) of each of `docs` (new to the table), at once."""
        self._build(docs)
        if self._sorted:
            for value in set(keys_of(self.field, docs)):
                self._sorted.pop(value, None)  # sorted again when next asked

    def _merge(self, value, members):
        group = self.groups.get(value)
        if group is None:
            self.groups[value] = members
        elif group.__class__ is int:
            self.groups[value] = {group: None, **members}
        else:
            group.update(members)

    def _add(self, value, doc_id):
        groups = self.groups
        group = groups.get(value)
        if group is None:
            groups[value] = doc_id
        elif group.__class__ is int:
            if group != doc_id:
                groups[value] = {group: None, doc_id: None}
        else:
            group[doc_id] = None

    def _remove(self, value, doc_id):
        groups = self.groups
        group = groups.get(value)
        if group is None:
            return
        if group.__class__ is int:
            if group == doc_id:
                del groups[value]
            return
        group.pop(doc_id, None)
        if len(group) == 1:
            groups[value] = next(iter(group))
        elif not group:
            del groups[value]

    def _changed(self, doc_id, old, new):
        old_key = MISSING if old is None else self.key(old)
        new_key = MISSING if new is None else self.key(new)
        if old_key == new_key:
            return
        if old_key is not MISSING:
            self._remove(old_key, doc_id)
            self._sorted.pop(old_key, None)
        if new_key is not MISSING:
            self._add(new_key, doc_id)
            ordered = self._sorted.get(new_key)
            if ordered is not None:
                if not ordered or doc_id > ordered[-1]:
                    ordered.append(doc_id)
                else:
                    del self._sorted[new_key]

    def ids(self, key):
        """The ids in `key`'s group, ascending (a shared list: don't change it). Small groups
        (a task's annotations or predictions) are sorted afresh, not kept: a pass over a
        million tasks' predictions kept a million lists (~100 MB)."""
        ordered = self._sorted.get(key)
        if ordered is None:
            group = self.groups.get(key, ())
            if group.__class__ is int:
                return [group]
            if len(group) <= SMALL:
                return sorted(group)
            ordered = self._sorted[key] = sorted(group)
        return ordered

    def count(self, key):
        group = self.groups.get(key, ())
        return 1 if group.__class__ is int else len(group)

    def __contains__(self, key):
        return key in self.groups


class Totals:
    """Per-group sums of the numbers `values(doc)` returns, e.g. project counters from tasks."""

    def __init__(self, storage, table, key, values, width):
        """`values(doc)`: a tuple of `width` numbers (hashable: the build counts them)."""
        self.field = key
        self.key = key_function(key)
        self.values = values
        self.zero = (0,) * width
        self.sums = {}
        self.cache_key = cache_key("totals", table, key, values)
        storage.observe(table, self._changed, self._build, cache=self, added=self._build)

    def cache_state(self):
        return [[key, list(sums)] for key, sums in self.sums.items()]

    def cache_load(self, state):
        sums = {key: tuple(values) for key, values in state}
        if any(len(values) != len(self.zero) for values in sums.values()):
            raise ValueError("sums of another width")
        self.sums = sums

    def _build(self, docs):
        # documents mostly give the same few tuples (a new task: one task, nothing else):
        # counted in C, each distinct one added once, times its count
        counted = Counter(zip(keys_of(self.field, docs), map(self.values, docs.values())))
        for (group, values), times in counted.items():
            self._add(group, tuple(value * times for value in values), 1)

    def _add(self, key, values, sign):
        current = self.sums.get(key, self.zero)
        self.sums[key] = tuple(a + sign * b for a, b in zip(current, values))

    def _changed(self, doc_id, old, new):
        if old is not None:
            self._add(self.key(old), self.values(old), -1)
        if new is not None:
            self._add(self.key(new), self.values(new), 1)

    def get(self, key):
        return self.sums.get(key, self.zero)


class Counts:
    """Per group, how many documents hold each of the items `items(doc)` lists (a project's
    tasks per data key: its data columns), items in the order the group first held them."""

    def __init__(self, storage, table, key, items):
        self.field = key
        self.key = key_function(key)
        self.items = items
        self.counts = {}
        self.cache_key = cache_key("counts", table, key, items)
        storage.observe(table, self._changed, self._build, cache=self, added=self._build)

    def cache_state(self):
        return [[key, list(group.items())] for key, group in self.counts.items()]

    def cache_load(self, state):
        self.counts = {key: dict(pairs) for key, pairs in state}

    def _build(self, docs):
        items, counts = self.items, self.counts
        for group_key, doc in zip(keys_of(self.field, docs), docs.values()):
            group = counts.get(group_key)
            if group is None:
                group = counts[group_key] = {}
            for item in items(doc):
                group[item] = group.get(item, 0) + 1

    def _changed(self, doc_id, old, new):
        if old is not None:
            old_key, old_items = self.key(old), self.items(old)
            if new is not None and self.key(new) == old_key and self.items(new) == old_items:
                return  # the usual update (a task's counters): nothing to count again
            group = self.counts.get(old_key, {})
            for item in old_items:
                left = group.get(item, 0) - 1
                if left > 0:
                    group[item] = left
                else:
                    group.pop(item, None)
            if not group:
                self.counts.pop(old_key, None)
        if new is not None:
            new_key = self.key(new)
            group = self.counts.get(new_key)
            if group is None:
                group = self.counts[new_key] = {}
            for item in self.items(new):
                group[item] = group.get(item, 0) + 1

    def get(self, key):
        """{item: documents holding it} of `key`'s group (a shared dict: don't change it)."""
        return self.counts.get(key, {})


class Watermark:
    """Per group, an id below which every document of the group passes `test`: where a scan for
    the group's first document that fails can start (a project's first unlabeled task), so the
    scan does not grow with the documents already done.

    The scan moves it up (`advance`, under the store's lock, after checking the documents it
    passes); any change that leaves a failing document below it moves it down."""

    def __init__(self, storage, table, key, test):
        self.key = key_function(key)
        self.test = test
        self.marks = {}
        # the documents already there leave every mark at 0 (the scan moves it up)
        storage.observe(table, self._changed, existing=False, added=self._added)

    def _changed(self, doc_id, old, new):
        if new is not None and not self.test(new):
            key = self.key(new)
            if doc_id < self.marks.get(key, 0):
                self.marks[key] = doc_id

    def _added(self, docs):
        """_changed of each of `docs` ({id: document}, new to the table): none can lower a
        mark when they all have ids above every mark (new ids are: an import's)."""
        if not self.marks or min(docs) >= max(self.marks.values()):
            return
        for doc_id, doc in docs.items():
            self._changed(doc_id, None, doc)

    def get(self, key):
        return self.marks.get(key, 0)

    def advance(self, key, doc_id):
        """Every document of `key` with an id below `doc_id` passes the test."""
        self.marks[key] = max(doc_id, self.marks.get(key, 0))
