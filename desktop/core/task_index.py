"""The data manager's indexes (docs/adr/0013-dm-indexes.md): per project, the values of the
columns its filters and orderings name, sorted orders and number ranges over them, and the
answers of recent queries, so that a filtered or sorted page costs what it shows.

Derived state, as desktop/db/indexes.py's: in memory only, made on a project's first filtered or
sorted page and a column's first use, under the store's lock. It stays current through a change
log per project: every change of one of its tasks, annotations or predictions (an observer of
the store, inside the write) appends the task's id. A column catches up from where it last read
the log (the changed tasks' values computed again and moved in its orders). A query's answer is
kept with the log's length and reused until the project changes; one ordered by id is then
mended from the tasks changed since (PATCH_MOST at most). A log that outgrows a quarter of the
project's tasks (an import, a bulk action) drops the project's indexes instead: the next query
makes them again.

select() answers what taskquery.scan() answers, or None where it can't be sure to (a column
whose values mix numbers and text, draft_exists, an unknown operator, a filter that raises):
the caller then makes the full pass. tests/unit/test_dm_indexes.py holds the two side by side.
"""

import bisect
from collections import OrderedDict

import orjson

from desktop.core import taskquery
from desktop.core.task_columns import Column
from desktop.core.task_filters import UNINDEXED, Query, evaluate, patch
from desktop.db.docs import decode

VIEWS_KEPT = 8  # answers kept per project
COLUMNS_KEPT = 12  # columns kept per project (the least recently used one goes)
PATCH_MOST = 512  # an answer ordered by id is mended for up to this many changes since
MIN_LOG = 4096  # a project's log may hold max(this, a quarter of its tasks) entries


class ProjectIndex:
    """One project's columns, its change log and its recent answers."""

    def __init__(self, tasks_count):
        self.base = 0  # the log position of log[0]
        self.log = []  # ids of the tasks changed, in order
        self.limit = max(MIN_LOG, tasks_count // 4)
        self.columns = OrderedDict()  # name -> Column, least recently used first
        self.views = OrderedDict()  # query key -> [log position, ids, totals]

    @property
    def seq(self):
        return self.base + len(self.log)

    def changes_since(self, seen):
        """The ids of the tasks changed since log position `seen`, each once."""
        if seen < self.base:
            raise LookupError(f"the log before {self.base} is gone")  # never: see _build
        return dict.fromkeys(self.log[seen - self.base:])

    def trim(self):
        """Forget the log before the position every kept column has read and every kept answer
        can be mended from; a column left far behind goes (making it again costs less than
        catching up), and so does an answer too old to mend."""
        for name in [n for n, c in self.columns.items() if self.seq - c.seen > self.limit // 2]:
            del self.columns[name]
        for key in [k for k, v in self.views.items() if self.seq - v[0] > PATCH_MOST]:
            del self.views[key]
        seen = min([c.seen for c in self.columns.values()] + [v[0] for v in self.views.values()],
                   default=self.seq)
        if seen > self.base:
            del self.log[:seen - self.base]
            self.base = seen


class TaskIndex:
    """The indexes of every project that was filtered or sorted since the store opened."""

    def __init__(self, records, tasks):
        self.r = records
        self.tasks = tasks
        self.columns = taskquery.Columns(tasks)
        self.projects = {}  # project id -> ProjectIndex
        self.observing = False

    # -- keeping current (observers: inside a write, under the store's lock) --------------

    def _observe(self):
        """Follow the store's writes from the first index on (not from the store's opening:
        observing costs a call per document there, and there is nothing to keep yet)."""
        if not self.observing:
            observe = self.r.store.storage.observe
            # nothing is indexed yet: the documents already there need no call
            observe("tasks", self._task_changed, existing=False)
            observe("annotations", self._child_changed, existing=False)
            observe("predictions", self._child_changed, existing=False)
            self.observing = True

    def _task_changed(self, task_id, old, new):
        if self.projects:  # else nothing is indexed: the usual case while a store opens
            self._log(task_id, new if new is not None else old, old, new)

    def _child_changed(self, doc_id, old, new):
        if self.projects:
            doc = new if new is not None else old
            self._log(doc.get("task"), doc, old, new)

    def _log(self, task_id, doc, old, new):
        project_id = doc.get("project")
        index = self.projects.get(project_id)
        if index is not None:
            index.log.append(task_id)
            if len(index.log) > index.limit:
                del self.projects[project_id]  # made again when next asked
        if old is not None and new is not None and old.get("project") != new.get("project"):
            self.projects.pop(old.get("project"), None)

    def _catch_up(self, project_id, index, column):
        docs, value = self.r.tasks, self.columns.value
        for task_id in index.changes_since(column.seen):
            task = docs.doc(task_id)
            if task is None or task.get("project") != project_id:
                column.remove(task_id)
            else:
                column.set(task_id, value(column.name, task_id, task))
        column.seen = index.seq

    def _build(self, project_id, names):
        """The project's index with the columns `names` in it, to be caught up under the
        store's lock. A missing column reads every task of the project a chunk at a time
        (taskquery.chunked, holding the lock for one chunk), so writes get in between chunks;
        the log holds what they changed."""
        with self.r.lock:
            index = self.projects.get(project_id)
            if index is None:
                self._observe()
                index = self.projects[project_id] = ProjectIndex(
                    self.r.tasks_by_project.count(project_id))
            missing = [n for n in names if n not in index.columns]
            seq, ids = index.seq, self.tasks.ids(project_id)
        made = self._read([Column(name) for name in missing], seq, ids, project_id)
        with self.r.lock:
            for name, column in made.items():
                # not one another query made meanwhile, nor one whose changes since it began
                # another query's trim() forgot (it didn't know of it): then select() scans
                if name not in index.columns and column.seen >= index.base:
                    index.columns[name] = column
        return index

    def _read(self, columns, seq, ids, project_id):
        """The columns' values over the tasks `ids` as of log position `seq`: one pass over
        the tasks for all of them (the ids themselves need none, the predictions' score one
        over the project's predictions)."""
        value, reads, own = self.columns.value, [], []
        for column in columns:
            column.seen = seq
            if column.name == "id":
                column.values.update(zip(ids, ids))
            elif column.name == "predictions_score":
                column.values.update(self._scores(project_id, ids))
            elif (read := taskquery.reader(column.name)) is not None:  # the task holds it
                own.append((read, column.values))
            else:
                reads.append((column.name, column.values))
        # each task decoded, read and let go at once: many alive would wake the collector
        for found, blobs in taskquery.stored(self.r, ids) if own else ():
            if len(own) == 1:
                read, values = own[0]
                values.update(zip(found, map(read, map(decode, blobs))))
                continue
            for task_id, blob in zip(found, blobs):
                task = decode(blob)
                for read, values in own:
                    values[task_id] = read(task)

        def read(task_id, task):
            for name, values in reads:
                values[task_id] = value(name, task_id, task)
        if reads:
            taskquery.chunked(self.r, ids, read)
        return {column.name: column for column in columns}

    def _scores(self, project_id, ids):
        """{task id: predictions_score} over `ids` (Columns.value's: the mean of the scores
        its predictions have, in their order, else None), from one pass over the project's
        predictions rather than a look-up per task."""
        with self.r.lock:
            prediction_ids = list(self.r.predictions_by_project.ids(project_id))
        sums, counts = {}, {}
        for _, blobs in taskquery.stored(self.r, prediction_ids, self.r.predictions):
            for task_id, score in [(p["task"], p.get("score")) for p in map(decode, blobs)]:
                if score is None:
                    continue
                if task_id in sums:
                    sums[task_id] += score
                    counts[task_id] += 1
                else:
                    sums[task_id], counts[task_id] = 0 + score, 1  # as sum() adds them
        get = sums.get
        return {task_id: (total if (total := get(task_id)) is None else total / counts[task_id])
                for task_id in ids}

    # -- answering ------------------------------------------------------------------------

    def select(self, project_id, filters, ordering, selected, only_annotated):
        """taskquery.scan()'s answer from the indexes, or None where they can't give it."""
        tests, conjunction = taskquery.parse_tests(filters)
        order_by, descending = taskquery.parse_ordering(ordering)
        names = {c for c, *_ in tests} | {order_by}
        names.discard(None)
        # a search by id (every test "id equal"): its few tasks' totals are read from them;
        # any other answer keeps the counters' columns (it is patched after writes with them)
        if only_annotated or not (tests and names <= {"id"}
                                  and all(op == "equal" for _, op, *_ in tests)):
            names |= {"total_annotations", "total_predictions"}
        if names & UNINDEXED or any(op not in taskquery.OPERATORS for _, op, *_ in tests):
            return None
        if only_annotated:
            names.add("cancelled_annotations")
        query = Query(tests, conjunction, selected, only_annotated, order_by, descending)
        key = view_key(filters, ordering, selected, only_annotated)
        with self.r.lock:
            index = self.projects.get(project_id)
            view = index.views.get(key) if index is not None and key is not None else None
            if view is not None and view[0] == index.seq:
                index.views.move_to_end(key)
                return view[1]
        try:
            index = self._build(project_id, names)
        except Exception:  # noqa: BLE001 - a value scan() might not read (a filter before it)
            return None
        with self.r.lock:
            if self.projects.get(project_id) is not index or not names <= index.columns.keys():
                return None  # dropped or evicted meanwhile (a big write, another query)
            try:
                view = self._answer(project_id, index, names, query, index.views.get(key))
            except Exception:  # noqa: BLE001 - scan() raises it, or never reaches that task
                del self.projects[project_id]  # maybe half caught up: made again next time
                return None
            if key is not None:  # an answer of None too: the next one is made afresh
                index.views[key] = view
                index.views.move_to_end(key)
                if len(index.views) > VIEWS_KEPT:
                    index.views.popitem(last=False)
            return view[1]

    def _answer(self, project_id, index, names, query, before):
        """[log position, ids, totals] of the query, from the answer `before` (one of an
        earlier state, or None) where few tasks changed since, else evaluated afresh."""
        changed = counts = None
        if before is not None and before[1] is not None and query.by_id and \
                index.base <= before[0] and index.seq - before[0] <= PATCH_MOST:
            changed = index.changes_since(before[0])
            counts = self._counts_at(index, before, changed, query.descending)
        for name in names:
            index.columns.move_to_end(name)
            self._catch_up(project_id, index, index.columns[name])
        while len(index.columns) > max(COLUMNS_KEPT, len(names)):
            index.columns.popitem(last=False)
        index.trim()
        if changed is None:
            found = evaluate(index.columns, self.tasks.ids(project_id), query)
            return [index.seq, found, None if found is None else
                    self._sums(project_id, index, found)]
        found = patch(index.columns, before[1], changed, query)
        if counts is None or len(found) == self.r.tasks_by_project.count(project_id):
            return [index.seq, found, self._sums(project_id, index, found)]
        annotations = index.columns["total_annotations"].values
        predictions = index.columns["total_predictions"].values
        for task_id in among(found, changed, query.descending):
            counts[0] += annotations[task_id]
            counts[1] += predictions[task_id]
        return [index.seq, found, tuple(counts)]

    def _counts_at(self, index, before, changed, descending):
        """The totals of the answer `before` less the shares of the tasks `changed` since,
        read before the counters' columns catch up; None where they can't be read so."""
        annotations = index.columns.get("total_annotations")
        predictions = index.columns.get("total_predictions")
        if before[2] is None or annotations is None or predictions is None or \
                annotations.seen != before[0] or predictions.seen != before[0]:
            return None
        counts = list(before[2])
        for task_id in among(before[1], changed, descending):
            counts[0] -= annotations.values[task_id]
            counts[1] -= predictions.values[task_id]
        return counts

    def _sums(self, project_id, index, ids):
        """(annotations, predictions) over `ids`; None when they are all the project's (the
        project's counters answer then)."""
        if len(ids) == self.r.tasks_by_project.count(project_id):
            return None
        annotations = index.columns.get("total_annotations")
        predictions = index.columns.get("total_predictions")
        if annotations is None or predictions is None:  # a search by id: a few tasks
            value, docs = self.columns.value, self.r.tasks
            tasks = [(i, docs.doc(i)) for i in ids]
            return tuple(sum(value(name, i, task) for i, task in tasks if task is not None)
                         for name in ("total_annotations", "total_predictions"))
        return (sum(map(annotations.values.__getitem__, ids)),
                sum(map(predictions.values.__getitem__, ids)))

    def totals(self, project_id, ids):
        """(annotations, predictions) summed over `ids`, a list select() answered, while the
        project has not changed since; None otherwise."""
        with self.r.lock:
            index = self.projects.get(project_id)
            if index is None:
                return None
            view = next((v for v in reversed(index.views.values()) if v[1] is ids), None)
            return view[2] if view is not None and view[0] == index.seq else None


def among(line, changed, descending):
    """The ids of `changed` that are in `line` (ids in order, descending or not)."""
    by = (lambda i: -i) if descending else None
    found = []
    for task_id in changed:
        at = bisect.bisect_left(line, -task_id if by else task_id, key=by)
        if at < len(line) and line[at] == task_id:
            found.append(task_id)
    return found


def view_key(filters, ordering, selected, only_annotated):
    """A query as a key of the answers kept (None: not kept)."""
    try:
        return orjson.dumps([filters, ordering, selected, only_annotated],
                            option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
