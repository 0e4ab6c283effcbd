"""History benchmark (issue 20): what keeping every version of every annotation costs.

Steps: (1) annotation saves over HTTP on a project of 100k tasks (a child server, as `bench
api`): creates, then updates, p50/p95; with --baseline DIR (a checkout without history, e.g. the
main branch before it) the same saves run on a second server of that code, interleaved round by
round so both see the same machine. (2) In process, through the core: --annotations annotations
(100k) made and edited --edits times (5) each, every version kept: bytes of history.ldb and
history.idx per version (fsync off: the bytes don't depend on it; a time bound stops early and
extrapolates). (3) That store opened again: open time, the bytes of history read while opening,
the first lookup of an annotation's history (reads the index) and the next ones.
"""

import os
import shutil
import tempfile
import time

import orjson

from bench import Deadline, Report, now, summary_ms, warn_if_busy
from bench.api import LABEL_CONFIG, ChildServer, Client, make_tasks, task_list

SAVE_TARGET_MS = 5.0  # the API's target for a durable annotation write (bench api)
BEFORE = "before history: 0.75-0.93 ms p50 at 100k (bench api)"


def result(value):
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]


# -- (1) saves over HTTP ------------------------------------------------------------------------

class Side:
    """One server (ours, or the baseline's code) with a project of `tasks` tasks."""

    def __init__(self, name, code, tasks, tmp):
        self.name = name
        self.data = tempfile.mkdtemp(prefix=f"labeldesk-bench-history-{name}-", dir=tmp)
        self.server = ChildServer(self.data, code=code) if code else ChildServer(self.data)
        self.client = Client(self.server.url)
        project, _ = self.client.json("POST", "/api/projects",
                                      {"title": "bench history", "label_config": LABEL_CONFIG},
                                      expect=(201,))
        self.project = project["id"]
        self.client.json("POST", f"/api/projects/{self.project}/import",
                         orjson.dumps(make_tasks(tasks)), expect=(201, 200),
                         timeout=120 + tasks / 1000)
        self.tasks, page = [], 1
        while len(self.tasks) < 2000:
            data, _ = self.client.json("GET", f"/api/tasks?project={self.project}&page={page}"
                                              "&page_size=100")
            batch = [t["id"] for t in task_list(data)]
            if not batch:
                break
            self.tasks.extend(batch)
            page += 1
        self.creates, self.updates, self.annotations = [], [], []

    def round(self, count):
        start = len(self.annotations)
        for k in range(count):
            task = self.tasks[(start + k) % len(self.tasks)]
            data, took = self.client.json("POST", f"/api/tasks/{task}/annotations/",
                                          {"result": result("Pos"), "lead_time": 1.0},
                                          expect=(201,))
            self.creates.append(took)
            self.annotations.append(data["id"])
        for annotation in self.annotations[start:]:
            _, took = self.client.json("PATCH", f"/api/annotations/{annotation}/",
                                       {"result": result("Neg"), "lead_time": 2.0})
            self.updates.append(took)

    def close(self):
        self.client.close()
        self.server.stop()
        shutil.rmtree(self.data, ignore_errors=True)


def saves(args, report):
    if args.baseline:  # another checkout: read, never written to (no .pyc of ours in it)
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sides = [Side("history", None, args.tasks, args.tmp)]
    if args.baseline:
        sides.append(Side("baseline", args.baseline, args.tasks, args.tmp))
    try:
        deadline = Deadline(args.step_seconds)
        for _ in range(args.rounds):
            for side in sides:
                side.round(args.per_round)
            if deadline.over():
                report.note("saves: stopped early (time bound)")
                break
        ours = sides[0]
        base = sides[1] if len(sides) > 1 else None
        for key, what, mine, theirs in (
                ("create", "create annotation (POST)", ours.creates,
                 base.creates if base else None),
                ("update", "update annotation (PATCH)", ours.updates,
                 base.updates if base else None)):
            lat = summary_ms(mine)
            other = summary_ms(theirs) if theirs else None
            for p in ("p50", "p95"):  # the target on p50, as bench api's
                compare = (f"without history: {other[p]:.2f} ms ({args.baseline})" if other
                           else BEFORE if p == "p50" else None)
                report.add(f"{key}_{p}_ms", f"{what} with history at {args.tasks:,} tasks, "
                           f"{p} (n={lat['n']})", lat[p], "ms",
                           SAVE_TARGET_MS if p == "p50" else None, compare,
                           detail={"history": lat, "baseline": other})
    finally:
        for side in sides:
            side.close()


# -- (2) the bytes of every version, (3) opening with them ----------------------------------------

def volume(args, report):
    from desktop.core.settings import Settings
    from desktop.db import Store
    from desktop.shell.app import LabelDesk

    data = tempfile.mkdtemp(prefix="labeldesk-bench-history-volume-", dir=args.tmp)
    try:
        app = LabelDesk(Settings(data_dir=data, fsync=False))
        try:
            project = app.projects.create({"title": "bench history",
                                           "label_config": LABEL_CONFIG}, 1)
            n = args.annotations
            tasks = app.imports.import_json(project, make_tasks(n), 1,
                                            return_task_ids=True)["task_ids"]
            deadline = Deadline(args.volume_seconds)
            started = now()
            made = []
            for task in tasks:
                made.append(app.annotations.create(task, {"result": result("Pos"),
                                                          "lead_time": 3.5}, 1))
                if deadline.over():
                    break
            edits = 0
            for edit in range(args.edits):
                if deadline.over():
                    break
                for annotation in made:
                    app.annotations.update(annotation, {
                        "result": result("Neg" if edit % 2 == 0 else "Pos"),
                        "lead_time": 4.0 + edit}, 1)
                    edits += 1
                    if deadline.over():
                        break
            took = now() - started
            app.store.compact()  # every version in the history files
            history = app.store.storage.history
            versions = history.versions
        finally:
            app.close()
        db = os.path.join(data, "db")
        ldb, idx = (os.path.getsize(os.path.join(db, name))
                    for name in ("history.ldb", "history.idx"))
        wanted = n * (1 + args.edits)
        done = f"{len(made):,} annotations, {edits:,} edits, {versions:,} versions in {took:.0f} s"
        if versions < wanted:
            report.note(f"volume: stopped by the time bound after {done}; the figures per "
                        f"version hold for {wanted:,} (extrapolated below)")
        else:
            report.note(f"volume: {done} (fsync off: it changes no byte)")
        per = (ldb + idx) / versions
        report.add("bytes_per_version", f"history on disk per version ({versions:,} versions: "
                   f"history.ldb {ldb / 1e6:.1f} MB + history.idx {idx / 1e6:.2f} MB)", per,
                   "B", None, f"raw JSON of a version: {raw_size(db):.0f} B",
                   detail={"ldb": ldb, "idx": idx, "versions": versions})
        report.add("history_mb", f"history of {n:,} annotations x {args.edits} edits "
                   f"({wanted:,} versions)", per * wanted / 1e6, "MB", None,
                   "extrapolated" if versions < wanted else None)
        opening(db, versions, made, report, Store)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def raw_size(db):
    """The mean size of a version as JSON (what the journal holds before a flush)."""
    from desktop.db.history import HistoryLog
    log = HistoryLog(db, readonly=True)
    try:
        ids = log.ids()[:1000]
        versions = log.read(ids)
    finally:
        log.close()
    return sum(len(orjson.dumps(v)) for v in versions.values()) / max(1, len(versions))


def opening(db, versions, made, report, Store):
    """Open the store with its history: time, bytes of history read, lookups."""
    from desktop.core.history import AnnotationHistory
    from desktop.core.records import Records

    read = {"bytes": 0}
    real = os.pread

    def counting(fd, size, offset):
        data = real(fd, size, offset)
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith("history."):
            read["bytes"] += len(data)
        return data

    times = []
    for attempt in range(3):
        os.pread = counting if attempt == 0 else real
        try:
            start = now()
            store = Store(db, fsync=False)
            times.append(now() - start)
        finally:
            os.pread = real
        if attempt < 2:
            store.close()
    try:
        times.sort()
        report.add("open_s", f"open the store with {versions:,} versions of history (median of 3)",
                   times[1], "s", None, f"history files: {sizes(db)}")
        report.add("open_history_bytes", "bytes of the history files read while opening",
                   read["bytes"], "B", None, "the index's record headers and its last record")
        from desktop.db.history import HistoryLog
        start = now()
        HistoryLog(db, readonly=True).close()
        report.add("open_history_ms", "of the open: the history files' part", (now() - start)
                   * 1000, "ms")
        history = AnnotationHistory(Records(store))
        start = now()
        first = history.of_annotation(made[0])
        report.add("first_lookup_ms", f"first lookup of an annotation's history ({len(first)} "
                   "versions; reads the index)", (now() - start) * 1000, "ms")
        seconds = []
        step = max(1, len(made) // 200)
        for annotation in made[::step][:200]:
            start = now()
            history.of_annotation(annotation)
            seconds.append(now() - start)
        lat = summary_ms(seconds)
        report.add("lookup_p50_ms", f"lookup of an annotation's history, p50 (n={lat['n']})",
                   lat["p50"], "ms", None, detail=lat)
    finally:
        store.close()


def sizes(db):
    return ", ".join(f"{name} {os.path.getsize(os.path.join(db, name)) / 1e6:.1f} MB"
                     for name in ("snapshot.ldb", "journal.ldb", "history.ldb", "history.idx"))


def run(args):
    report = Report("history", {"tasks": args.tasks, "annotations": args.annotations,
                                "edits": args.edits})
    warn_if_busy(report)
    print(f"-- history: saves at {args.tasks:,} tasks"
          + (f" (baseline {args.baseline})" if args.baseline else ""), flush=True)
    started = time.perf_counter()
    saves(args, report)
    if args.annotations > 0:
        print(f"-- history: {args.annotations:,} annotations x {args.edits} edits", flush=True)
        volume(args, report)
    report.note(f"history benchmark took {time.perf_counter() - started:.0f} s")
    return report


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks of the save figures")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of saves")
    parser.add_argument("--per-round", type=int, default=100,
                        help="annotations created, then updated, per round and server")
    parser.add_argument("--baseline", default=None,
                        help="a checkout without history whose server saves beside ours")
    parser.add_argument("--annotations", type=int, default=100_000,
                        help="annotations of the volume figures (0: no volume figures)")
    parser.add_argument("--edits", type=int, default=5, help="edits of each annotation")
    parser.add_argument("--step-seconds", type=float, default=120,
                        help="time bound of the save step")
    parser.add_argument("--volume-seconds", type=float, default=150,
                        help="time bound of making the versions (then extrapolated)")
    parser.add_argument("--tmp", default=None, help="folder for the temp data dirs")


if __name__ == "__main__":
    import argparse

    from bench import OUT_DIR
    parser = argparse.ArgumentParser(prog="python -m bench.history")
    add_arguments(parser)
    result_ = run(parser.parse_args())
    print(result_.table())
    print("written to", result_.write(OUT_DIR))
