"""Trash benchmark (issue 20): delete a big project into the trash, restart, restore it, empty.

The server is `python -m desktop serve --no-auth --port 0` in a child process (fsync on), as in
bench/api.py. The project: N short text tasks (100k; `--tasks 1000000` for the issue's
figure), one in ten imported with
an annotation and a prediction, in ONE POST /import. Figures: DELETE /api/projects/{id} (the
whole project into the trash, one journal record), the restart that reads it back, POST
/api/ui/trash/{id}/restore (target: <= 30 s at 1M tasks), the restored project's counters
checked against the imported ones, then the delete again and DELETE /api/ui/trash/{id} (the
records dropped, the store compacted), and the size of db/ at each stage (and of backups/,
which keeps the snapshots compactions replaced).
"""

import os
import shutil
import tempfile

import orjson

from bench import Report, now, warn_if_busy
from bench.api import LABEL_CONFIG, RESULT, ChildServer, Client

RESTORE_TARGET_S = 30.0  # at 1M tasks (issue 20)


def folder_mb(path):
    total = 0
    for top, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(top, name))
            except OSError:
                pass
    return total / 1e6


def tasks_body(n):
    """N tasks as one JSON body; every tenth with an annotation and a prediction."""
    items = []
    for i in range(1, n + 1):
        item = {"data": {"text": f"Review {i}: the delivery was quick and the product works."}}
        if i % 10 == 0:
            item["annotations"] = [{"result": RESULT}]
            item["predictions"] = [{"result": RESULT, "score": 0.5, "model_version": "v1"}]
        items.append(item)
    return orjson.dumps(items)


def call(client, method, path, body=None, expect=(200, 201), timeout=None):
    return client.json(method, path, body, expect, timeout)[0]


def run(args):
    report = Report("trash", {"tasks": args.tasks})
    data_dir = tempfile.mkdtemp(prefix="labeldesk-bench-trash-", dir=args.tmp)
    db = os.path.join(data_dir, "db")
    warn_if_busy(report)
    server = None
    try:
        print(f"-- trash: {args.tasks:,} tasks ({data_dir})", flush=True)
        server = ChildServer(data_dir)
        client = Client(server.url, timeout=600)
        project = call(client, "POST", "/api/projects", {"title": "Trash bench",
                                                        "label_config": LABEL_CONFIG})["id"]
        body = tasks_body(args.tasks)
        started = now()
        call(client, "POST", f"/api/projects/{project}/import", body, timeout=600)
        report.add("import_s", f"import {args.tasks:,} tasks (1/10 annotated, predicted)",
                   now() - started, "s")
        del body
        before = call(client, "GET", f"/api/projects/{project}")
        report.add("db_mb_imported", "db/ after the import", folder_mb(db), "MB")

        started = now()
        call(client, "DELETE", f"/api/projects/{project}", expect=(204,), timeout=600)
        report.add("delete_s", "DELETE the project (into the trash)", now() - started, "s")
        item = call(client, "GET", "/api/ui/trash")["items"][0]
        report.note(f"trash item: {item['counts']}, {item['size'] / 1e6:.0f} MB")
        report.add("rss_trash_mb", "server RSS with the project in the trash",
                   server.rss()["rss_mb"], "MB")

        client.close()
        server.stop()
        started = now()
        server = ChildServer(data_dir, timeout=600)
        report.add("restart_s", "restart with it in the trash", now() - started, "s")
        client = Client(server.url, timeout=600)

        started = now()
        call(client, "POST", f"/api/ui/trash/{item['id']}/restore", timeout=600)
        seconds = now() - started
        report.add("restore_s", f"restore the project ({args.tasks:,} tasks) from the trash",
                   seconds, "s", target=RESTORE_TARGET_S if args.tasks >= 1_000_000 else None)
        after = call(client, "GET", f"/api/projects/{project}")
        same = all(after[k] == before[k] for k in (
            "task_number", "total_annotations_number", "total_predictions_number",
            "num_tasks_with_annotations", "finished_task_number"))
        report.add("restored_same", "restored counters equal the imported ones", int(same), "",
                   target=1, op=">=")
        report.add("db_mb_restored", "db/ after the restore", folder_mb(db), "MB")

        call(client, "DELETE", f"/api/projects/{project}", expect=(204,), timeout=600)
        item = call(client, "GET", "/api/ui/trash")["items"][0]
        started = now()
        call(client, "DELETE", f"/api/ui/trash/{item['id']}", timeout=600)
        report.add("empty_s", "empty it from the trash (records and files)", now() - started,
                   "s")
        client.close()
        server.stop()
        server = None
        report.add("db_mb_emptied", "db/ after emptying (compacted at once)", folder_mb(db),
                   "MB")
        report.add("backups_mb_emptied", "backups/ then (snapshots kept until they rotate out)",
                   folder_mb(os.path.join(data_dir, "backups")), "MB")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=100_000,
                        help="tasks in the project (default 100000; the issue's figure: "
                        "--tasks 1000000)")
    parser.add_argument("--tmp", default=None, help="folder for the temp data dir")
