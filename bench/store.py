"""Store benchmark (issue "foundation"): the journaled TinyDB store against stock TinyDB.

For a table of N task-sized documents (default 100k):

* one durable write (insert; update by doc_id), fsync on: p50/p95 over >= 500 writes;
* open time of the store in its three states: everything in the journal (as right after one big
  import), snapshot + journal (compacted, then 1000 single writes), snapshot only (compacted);
  each in a fresh child process, which also reports its RSS after the open;
* the same figures for stock TinyDB: JSONStorage (durable: it rewrites and fsyncs the whole
  file per write), CachingMiddleware(JSONStorage) and MemoryStorage (neither durable). Stock
  TinyDB writes cost O(table size), so they are sampled (a few writes, time-bounded) and the
  one-document-at-a-time import of N documents is extrapolated, not run.

`python -m bench.store --child KIND FOLDER` is the child-process side of the open figures.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from bench import Deadline, Report, now, proc_status, summary_ms, warn_if_busy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRITE_TARGET_MS = 2.0
OPEN_TARGET_S = 1.0
WRITE_PAUSE_TARGET_MS = 50.0  # issue 23: no write waits for a compaction
TIMESTAMP = "2026-05-01T12:00:00.000000Z"


def make_doc(i):
    """A task-sized document (~200 bytes of JSON), as the tasks table holds them."""
    return {"project": 1, "inner_id": i,
            "data": {"text": f"Task {i:07d}: the quick brown fox jumps over the lazy dog."},
            "created_at": TIMESTAMP, "updated_at": TIMESTAMP, "overlap": 1}


# -- child side: open a store / a TinyDB file, report time and RSS ---------------------------

def child_main(argv):
    kind, folder = argv[0], argv[1]
    records = "--records" in argv
    before = proc_status()
    if kind == "labeldesk":
        from desktop.db import Store
        start = now()
        store = Store(folder)
        table = store.table("tasks")
        if records:
            from desktop.core.records import Records
            Records(store)
        count = len(table)
        seconds = now() - start
    else:
        from tinydb import TinyDB
        from tinydb.middlewares import CachingMiddleware
        from tinydb.storages import JSONStorage, MemoryStorage
        start = now()
        if kind == "json":
            db = TinyDB(os.path.join(folder, "db.json"))
        elif kind == "caching":
            db = TinyDB(os.path.join(folder, "db.json"), storage=CachingMiddleware(JSONStorage))
        else:  # memory: nothing to open; build the table to see what holding it costs
            db = TinyDB(storage=MemoryStorage)
            db.table("tasks").insert_multiple(make_doc(i) for i in range(1, int(folder) + 1))
        count = len(db.table("tasks"))  # TinyDB reads the file at the first table access
        seconds = now() - start
    after = proc_status()
    print(json.dumps({"open_s": seconds, "count": count, "rss_before_mb": before["rss_mb"],
                      "rss_mb": after["rss_mb"], "hwm_mb": after["hwm_mb"]}))


def open_in_child(kind, folder, records=False, timeout=120):
    cmd = [sys.executable, "-m", "bench.store", "--child", kind, str(folder)]
    if records:
        cmd.append("--records")
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"child {' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def open_figures(kind, folder, reps, records=False):
    """Median open time over `reps` fresh processes, and the RSS of the last one."""
    runs = [open_in_child(kind, folder, records) for _ in range(reps)]
    runs.sort(key=lambda r: r["open_s"])
    median = runs[len(runs) // 2]
    return median["open_s"], median


# -- parent side ------------------------------------------------------------------------------

def timed_writes(write, count, deadline=None):
    """Durations of `count` calls write(k), k = 0.., stopping early at `deadline` (>= 3 done)."""
    seconds = []
    for k in range(count):
        start = now()
        write(k)
        seconds.append(now() - start)
        if deadline is not None and deadline.over() and len(seconds) >= 3:
            break
    return seconds


def store_files(folder):
    """"journal 23 MB" / "snapshot 216 MB + journal 0 MB": what an open has to read."""
    parts = []
    for name in ("snapshot", "journal"):
        path = os.path.join(folder, f"{name}.ldb")
        if os.path.exists(path):
            parts.append(f"{name} {os.path.getsize(path) / 1e6:.0f} MB")
    return " + ".join(parts)


def settle():
    """Flush what earlier steps left dirty (a 20 MB snapshot, a deleted journal), so that the
    timed writes measure steady state, not the write-back of the step before."""
    if hasattr(os, "sync"):
        os.sync()


def fsync_baseline(report, folder, count):
    """The disk's own floor: append ~200 bytes to a file and fsync it, as one journal write."""
    path = os.path.join(folder, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    record = b"x" * 199 + b"\n"
    try:
        settle()

        def write(_):
            os.write(fd, record)
            os.fsync(fd)
        lat = summary_ms(timed_writes(write, count))
    finally:
        os.close(fd)
        os.remove(path)
    report.add("disk_fsync_p50_ms", "disk: append 200 bytes + fsync (the floor of any durable "
               "write), p50", lat["p50"], "ms", detail=lat)
    report.add("disk_fsync_p95_ms", "disk: append 200 bytes + fsync, p95", lat["p95"], "ms",
               detail=lat)


def bench_labeldesk(report, n, writes, reps, work):
    from desktop.core.records import Records
    from desktop.db import Store

    fsync_baseline(report, work, writes)

    folder = os.path.join(work, "labeldesk")
    store = Store(folder)
    table = store.table("tasks")
    start = now()
    with store.transaction():
        for i in range(1, n + 1):
            table.insert(make_doc(i))
    report.add("ld_bulk_insert_s", f"LabelDesk: insert {n:,} docs in one transaction (durable)",
               now() - start, "s")
    store.close()
    files = store_files(folder)

    seconds, child = open_figures("labeldesk", folder, reps)
    if "snapshot" in files:  # the commit crossed the compaction threshold and compacted
        what = f"LabelDesk: open {n:,} as left by the bulk commit (it compacted: {files})"
    else:
        what = f"LabelDesk: open {n:,} from journal only ({files}, as after an import)"
    report.add("ld_open_journal_s", what, seconds, "s", OPEN_TARGET_S, detail=child)

    store = Store(folder)
    table = store.table("tasks")
    start = now()
    store.compact()
    report.add("ld_compact_s", f"LabelDesk: compaction of {n:,} in the foreground (at open, "
               "or asked for; writes never wait for one)", now() - start, "s")
    compaction_pause(report, store, table, n)

    settle()
    lat = summary_ms(timed_writes(lambda k: table.insert(make_doc(n + 1 + k)), writes))
    report.add("ld_insert_p50_ms", f"LabelDesk: durable insert into {n:,}, p50 (n={lat['n']})",
               lat["p50"], "ms", WRITE_TARGET_MS, detail=lat)
    report.add("ld_insert_p95_ms", f"LabelDesk: durable insert into {n:,}, p95",
               lat["p95"], "ms", detail=lat)
    settle()
    lat = summary_ms(timed_writes(
        lambda k: table.update({"overlap": 2 + k, "updated_at": TIMESTAMP},
                               doc_ids=[1 + (k * 197) % n]), writes))
    report.add("ld_update_p50_ms", f"LabelDesk: durable update by doc_id in {n:,}, p50 "
               f"(n={lat['n']})", lat["p50"], "ms", WRITE_TARGET_MS, detail=lat)
    report.add("ld_update_p95_ms", f"LabelDesk: durable update by doc_id in {n:,}, p95",
               lat["p95"], "ms", detail=lat)
    # What the store itself costs per write, without the disk: fsync off.
    store.storage.journal.fsync = False
    lat = summary_ms(timed_writes(lambda k: table.insert(make_doc(n + 1 + writes + k)), writes))
    store.storage.journal.fsync = True
    report.add("ld_insert_nofsync_p50_ms", f"LabelDesk: insert into {n:,} with fsync OFF "
               f"(CPU cost of the store), p50", lat["p50"], "ms", detail=lat)
    store.close()

    seconds, child = open_figures("labeldesk", folder, reps)
    report.add("ld_open_snap_journal_s", f"LabelDesk: open {n:,} from snapshot + "
               f"{3 * writes}-record journal", seconds, "s", OPEN_TARGET_S, detail=child)

    # The app's own open: the store plus the in-memory indexes Records builds over it.
    store = Store(folder)
    records = Records(store)
    settle()
    lat = summary_ms(timed_writes(lambda k: records.tasks.insert(make_doc(n + 3 * writes + k)),
                                  writes))
    report.add("ld_insert_indexed_p50_ms", "LabelDesk: durable insert with the app's indexes "
               f"(Records), p50 (n={lat['n']})", lat["p50"], "ms", WRITE_TARGET_MS, detail=lat)
    store.compact()
    store.close()
    snapshot_mb = os.path.getsize(os.path.join(folder, "snapshot.ldb")) / 1e6

    seconds, child = open_figures("labeldesk", folder, reps)
    report.add("ld_open_compacted_s", f"LabelDesk: open {n:,} after compaction "
               f"(snapshot {snapshot_mb:.0f} MB)", seconds, "s", OPEN_TARGET_S, detail=child)
    report.add("ld_open_rss_mb", f"LabelDesk: process RSS after open of {n:,}",
               child["rss_mb"], "MB", detail=child)
    report.add("ld_open_hwm_mb", f"LabelDesk: peak RSS during open of {n:,}",
               child["hwm_mb"], "MB", detail=child)
    seconds, child = open_figures("labeldesk", folder, reps, records=True)
    report.add("ld_open_records_s", f"LabelDesk: open {n:,} + build the app's indexes",
               seconds, "s", OPEN_TARGET_S, detail=child)
    report.add("ld_open_records_rss_mb", "LabelDesk: RSS after open + indexes",
               child["rss_mb"], "MB", detail=child)

    # Does a write cost grow with the table? The same writes into a small table.
    small = Store(os.path.join(work, "small"))
    table = small.table("tasks")
    with small.transaction():
        for i in range(1, 1001):
            table.insert(make_doc(i))
    settle()
    lat = summary_ms(timed_writes(lambda k: table.insert(make_doc(2000 + k)), writes))
    report.add("ld_insert_small_p50_ms", f"LabelDesk: durable insert into 1,000, p50 "
               f"(n={lat['n']}; compare with {n:,})", lat["p50"], "ms", WRITE_TARGET_MS,
               detail=lat)
    small.close()
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(os.path.join(work, "small"), ignore_errors=True)


def compaction_pause(report, store, table, n, least=300):
    """The longest wait of one durable write while the journal crosses the compaction
    threshold: the write that crosses it switches journals, a thread writes the snapshot, and
    writes go on meanwhile (docs/adr/0015-background-compaction.md). The threshold is lowered
    so that the next write crosses it; writes go on until the compaction has finished and at
    least `least` were timed."""
    storage = store.storage
    storage.COMPACT_MIN_BYTES, storage.snapshot_bytes = 0, 0  # this instance only
    settle()
    times, started, finished = [], now(), None
    k = 0
    while finished is None or k < least:
        t = now()
        table.update({"overlap": 3 + k, "updated_at": TIMESTAMP}, doc_ids=[1 + (k * 131) % n])
        times.append(now() - t)
        k += 1
        if k == 1:  # this write crossed it: nothing else above the threshold from now on
            storage.COMPACT_MIN_BYTES, storage.snapshot_bytes = 1 << 40, 1 << 40
        if finished is None and storage.compaction is None and storage.rotating is None:
            finished = now() - started
    lat = summary_ms(times)
    report.add("ld_compaction_write_max_ms", f"LabelDesk: longest wait of one durable write "
               f"while {n:,} are compacted in the background ({finished:.2f} s; {lat['n']} "
               "writes meanwhile)", lat["max"], "ms", WRITE_PAUSE_TARGET_MS, detail=lat)
    storage.COMPACT_MIN_BYTES = type(storage).COMPACT_MIN_BYTES
    storage.snapshot_bytes = os.path.getsize(storage.snapshot_path)


def bench_tinydb(report, n, sample, seconds_per_kind, work):
    from tinydb import TinyDB
    from tinydb.middlewares import CachingMiddleware
    from tinydb.storages import JSONStorage, MemoryStorage

    folder = os.path.join(work, "tinydb")
    os.makedirs(folder)
    path = os.path.join(folder, "db.json")
    db = TinyDB(path)
    start = now()
    db.table("tasks").insert_multiple(make_doc(i) for i in range(1, n + 1))
    report.add("tdb_json_bulk_s", f"TinyDB JSONStorage: insert_multiple of {n:,} (one write)",
               now() - start, "s")
    db.close()
    file_mb = os.path.getsize(path) / 1e6

    def import_hours(p50_ms):
        # A write costs ~ proportional to the table size, so one-at-a-time import of n costs
        # ~ sum over k<n of cost(k) = n/2 * cost(n).
        return p50_ms / 1000 * n / 2 / 3600

    kinds = (("json", "TinyDB JSONStorage", True), ("caching", "TinyDB CachingMiddleware", False),
             ("memory", "TinyDB MemoryStorage", False))
    for kind, label, durable in kinds:
        if kind == "memory":
            db = TinyDB(storage=MemoryStorage)
            db.table("tasks").insert_multiple(make_doc(i) for i in range(1, n + 1))
        elif kind == "caching":
            db = TinyDB(path, storage=CachingMiddleware(JSONStorage))
        else:
            db = TinyDB(path)
        table = db.table("tasks")
        len(table)  # the first read loads the file; not part of the write figures
        count = sample if durable else sample * 3
        suffix = "durable" if durable else "NOT durable"
        ins = summary_ms(timed_writes(lambda k, table=table: table.insert(make_doc(n + 1 + k)),
                                      count, Deadline(seconds_per_kind / 2)))
        report.add(f"tdb_{kind}_insert_p50_ms", f"{label}: insert into {n:,} ({suffix}), p50 "
                   f"(n={ins['n']})", ins["p50"], "ms", detail=ins)
        upd = summary_ms(timed_writes(
            lambda k, table=table: table.update({"overlap": 2 + k}, doc_ids=[1 + (k * 197) % n]),
            count,
            Deadline(seconds_per_kind / 2)))
        report.add(f"tdb_{kind}_update_p50_ms", f"{label}: update by doc_id in {n:,} "
                   f"({suffix}), p50 (n={upd['n']})", upd["p50"], "ms", detail=upd)
        hours = import_hours(ins["p50"])
        report.add(f"tdb_{kind}_import_h", f"{label}: {n:,} inserts one at a time "
                   "(extrapolated)", hours, "h", detail={"seconds": hours * 3600})
        if kind == "json":
            db.storage.close()
        elif kind == "caching":
            db.storage.storage.close()  # without flushing the cached writes
        del db, table

    for kind, label, _ in kinds:
        arg = str(n) if kind == "memory" else folder
        seconds, child = open_figures(kind, arg, 1)
        what = (f"{label}: open {n:,} ({file_mb:.0f} MB JSON file)" if kind != "memory"
                else f"{label}: build {n:,} in memory (no open)")
        report.add(f"tdb_{kind}_open_s", what, seconds, "s", detail=child)
        report.add(f"tdb_{kind}_rss_mb", f"{label}: process RSS holding {n:,}",
                   child["rss_mb"], "MB", detail=child)
    shutil.rmtree(folder, ignore_errors=True)


def run(args):
    n = args.docs
    report = Report("store", {"docs": n, "writes": args.writes})
    work = tempfile.mkdtemp(prefix="labeldesk-bench-store-", dir=args.tmp)
    warn_if_busy(report)
    try:
        print(f"-- store: LabelDesk journaled TinyDB, {n:,} docs, fsync on ({work})", flush=True)
        bench_labeldesk(report, n, args.writes, args.reps, work)
        if not args.no_tinydb:
            print(f"-- store: stock TinyDB, {n:,} docs", flush=True)
            bench_tinydb(report, n, args.tinydb_sample, args.tinydb_seconds, work)
            compare(report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return report


def compare(report):
    """Fill each LabelDesk row's compare column with the stock TinyDB figures."""
    rows = {r["key"]: r for r in report.rows}

    def tinydb(*keys):
        parts = []
        for key, label in keys:
            row = rows.get(key)
            if row and row["value"] is not None:
                parts.append(f"{label} {row['value']:.4g} {row['unit']}")
        return "; ".join(parts) or None

    pairs = {
        "ld_insert_p50_ms": (("tdb_json_insert_p50_ms", "JSON"),
                             ("tdb_caching_insert_p50_ms", "Caching"),
                             ("tdb_memory_insert_p50_ms", "Memory")),
        "ld_update_p50_ms": (("tdb_json_update_p50_ms", "JSON"),
                             ("tdb_caching_update_p50_ms", "Caching"),
                             ("tdb_memory_update_p50_ms", "Memory")),
        "ld_open_compacted_s": (("tdb_json_open_s", "JSON"), ("tdb_caching_open_s", "Caching")),
        "ld_open_rss_mb": (("tdb_json_rss_mb", "JSON"), ("tdb_memory_rss_mb", "Memory")),
        "ld_bulk_insert_s": (("tdb_json_bulk_s", "JSON insert_multiple"),),
    }
    for key, keys in pairs.items():
        if key in rows:
            rows[key]["compare"] = tinydb(*keys)


def add_arguments(parser):
    parser.add_argument("--docs", type=int, default=100_000, help="documents in the table")
    parser.add_argument("--writes", type=int, default=500, help="timed writes of each kind")
    parser.add_argument("--reps", type=int, default=3, help="child processes per open figure")
    parser.add_argument("--tinydb-sample", type=int, default=20,
                        help="JSONStorage writes sampled (x3 for the in-memory kinds)")
    parser.add_argument("--tinydb-seconds", type=float, default=16,
                        help="time bound for the sampled writes of one stock TinyDB kind")
    parser.add_argument("--no-tinydb", action="store_true", help="skip the stock TinyDB figures")
    parser.add_argument("--tmp", default=None, help="folder for the temp stores (a real disk)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        parser = argparse.ArgumentParser(prog="python -m bench.store")
        add_arguments(parser)
        from bench import OUT_DIR
        result = run(parser.parse_args())
        print(result.table())
        print("written to", result.write(OUT_DIR))
