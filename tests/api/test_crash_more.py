"""kill -9 in the middle of the big operations, and a disk that fills up under a running server.

Each scenario runs a child `labeldesk serve` (tests/api/formats/conftest.py: serve_process), kills
it with SIGKILL at random moments (or at a chosen phase of a compaction, watched from here),
restarts it and checks: every acknowledged (2xx) write is there; an import of 100k tasks is all
there or not at all; nothing half-written is loaded or served; the app starts and its log says what
opening found ("store recovery: ..."). The figures are printed (pytest -s shows them).
See docs/reliability.md for the promises these tests hold LabelDesk to.
"""

import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

import orjson
import pytest
import requests

from crashhelp import (  # noqa: F401
    UNCLEAN,
    Writer,
    check_survivors,
    fill,
    post_json,
    recovery_log,
    resolve_in_flight,
    tmpfs,
    top_up,
)
from datahelp import LABEL_CONFIG

pytestmark = [pytest.mark.slow, pytest.mark.timeout(170)]

BIG = 100_000


def seeded():
    seed = random.randrange(1 << 30)
    return seed, random.Random(seed)




def assert_said_what_happened(process, context):
    notes = recovery_log(process)
    assert UNCLEAN in notes, (context, "".join(process.lines))
    return notes


def project_numbers(api, project_id):
    response = api.get(f"/api/projects/{project_id}", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    listed = api.get(f"/api/tasks?project={project_id}&page_size=1", timeout=30).json()
    assert "total" in listed, listed
    assert listed["total"] == body["task_number"], (listed["total"], body["task_number"])
    return body




# -- 1. kill -9 during the import of 100k tasks -------------------------------------------------

def test_sigkill_during_100k_import_is_all_or_nothing(serve_process, tmp_path):
    seed, rng = seeded()
    data = tmp_path / "data"
    process = serve_process(data)
    project_id = process.api.project(title="Big import")["id"]
    body = orjson.dumps([{"text": f"task {i:06d}", "n": i} for i in range(BIG)])
    # one undisturbed import first: it is acknowledged, and its length sets the kill window
    started = time.monotonic()
    response = post_json(process.url, process.token, f"/api/projects/{project_id}/import", body)
    duration = time.monotonic() - started
    assert response.status_code == 201, response.text
    acknowledged, landed_anyway, rounds = 1, 0, 4
    for round_number in range(rounds):
        outcome = {}

        def send(url=process.url, token=process.token, outcome=outcome):
            try:
                answer = post_json(url, token, f"/api/projects/{project_id}/import", body)
                outcome["status"] = answer.status_code
            except requests.RequestException:
                outcome["status"] = None  # the server died under it

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        time.sleep(rng.uniform(0.02, duration * 1.1))
        process.kill()
        sender.join(timeout=30)
        if outcome.get("status") == 201:
            acknowledged += 1
        else:
            assert outcome.get("status") is None, outcome
        process = serve_process(data)
        assert_said_what_happened(process, (seed, round_number))
        numbers = project_numbers(process.api, project_id)
        count = numbers["task_number"]
        assert count % BIG == 0, f"seed {seed}: half an import loaded: {count} tasks"
        assert count // BIG in (acknowledged, acknowledged + 1), (seed, count, acknowledged)
        if count // BIG > acknowledged:
            landed_anyway += 1  # committed, but the answer never reached the client
            acknowledged += 1
    # every batch is whole: inner ids run 1..N without a gap
    total = acknowledged * BIG
    last = process.api.get(f"/api/tasks?project={project_id}&page_size=1&page={total}"
                           ).json()["tasks"][0]
    assert last["inner_id"] == total
    assert last["data"]["n"] == BIG - 1
    print(f"\n100k import: {rounds} kills within {duration:.2f}s imports; {acknowledged} "
          f"imports present ({landed_anyway} committed without an answer), seed {seed}")
    process.stop()


# -- 2. kill -9 during an export, with a labeler writing at the same time -----------------------

class Labeler(threading.Thread):
    """Posts annotations on random tasks; remembers the acknowledged ones and the one in flight."""

    def __init__(self, url, token, task_ids, rng):
        super().__init__(daemon=True)
        self.url, self.task_ids, self.rng = url, task_ids, rng
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.acknowledged = {}  # annotation id -> (task id, choice)
        self.in_flight = None
        self.error = None
        self.stop = threading.Event()

    def run(self):
        number = 0
        while not self.stop.is_set():
            number += 1
            task_id = self.rng.choice(self.task_ids)
            choice = f"c{number}"
            self.in_flight = (task_id, choice)
            result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                       "value": {"choices": ["Pos"]}, "id": choice}]
            try:
                answer = self.session.post(f"{self.url}/api/tasks/{task_id}/annotations",
                                           json={"result": result}, timeout=30)
            except requests.RequestException:
                return
            if answer.status_code != 201:
                self.error = f"{answer.status_code} {answer.text[:300]}"
                return
            self.acknowledged[answer.json()["id"]] = (task_id, choice)
            self.in_flight = None


def stored_annotations(api, task_ids):
    found = {}
    for task_id in task_ids:
        for annotation in api.get(f"/api/tasks/{task_id}/annotations").json():
            found[annotation["id"]] = (task_id, annotation["result"][0]["id"])
    return found


def test_sigkill_during_export_loses_nothing_and_leaves_no_partial_file(serve_process,
                                                                        tmp_path):
    seed, rng = seeded()
    data = tmp_path / "data"
    process = serve_process(data)
    project_id = process.api.project(title="Export")["id"]
    body = orjson.dumps([{"text": f"task {i:06d}"} for i in range(BIG)])
    response = post_json(process.url, process.token,
                         f"/api/projects/{project_id}/import?return_task_ids=true", body)
    assert response.status_code == 201, response.text
    labeled = response.json()["task_ids"][:50]
    export_path = f"/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=true"
    started = time.monotonic()
    first = process.api.get(export_path, timeout=60)
    duration = time.monotonic() - started
    assert first.status_code == 200 and len(orjson.loads(first.content)) == BIG
    acknowledged, cleaned, rounds = {}, 0, 5
    for round_number in range(rounds):
        labeler = Labeler(process.url, process.token, labeled, rng)
        labeler.start()
        exporter = threading.Thread(
            target=lambda url=process.url + export_path, s=process.api.session: _quiet(s, url),
            daemon=True)
        exporter.start()
        # the export writes a temporary file, then streams it: kill anywhere in there
        time.sleep(rng.uniform(0.05, duration * 1.2))
        process.kill()
        labeler.join(timeout=30)
        exporter.join(timeout=30)
        assert labeler.error is None, labeler.error
        acknowledged.update(labeler.acknowledged)
        process = serve_process(data)
        notes = assert_said_what_happened(process, (seed, round_number))
        cleaned += "unfinished export file" in notes
        leftovers = [p.name for p in (data / "export").glob(".*")]
        assert leftovers == [], f"seed {seed}: half-written exports kept: {leftovers}"
        stored = stored_annotations(process.api, labeled)
        missing = set(acknowledged) - set(stored)
        assert not missing, f"seed {seed}: acknowledged annotations lost: {sorted(missing)}"
        extra = set(stored) - set(acknowledged)
        assert len(extra) <= 1, f"seed {seed}: annotations nobody sent: {extra}"
        for annotation_id in extra:  # the one in flight landed: exactly what was sent
            assert stored[annotation_id] == labeler.in_flight, (stored[annotation_id],
                                                                labeler.in_flight)
            acknowledged[annotation_id] = stored[annotation_id]
        for annotation_id, value in acknowledged.items():
            assert stored[annotation_id] == value
        numbers = project_numbers(process.api, project_id)
        assert numbers["task_number"] == BIG
        assert numbers["total_annotations_number"] == len(acknowledged)
    final = process.api.get(export_path, timeout=60)
    exported = orjson.loads(final.content)
    assert len(exported) == BIG
    assert sum(len(t["annotations"]) for t in exported) == len(acknowledged)
    print(f"\nexport: {rounds} kills within {duration:.2f}s exports, {len(acknowledged)} "
          f"annotations kept, {cleaned} restarts removed an unfinished export file, seed {seed}")
    process.stop()


def _quiet(session, url):
    try:
        _ = session.get(url, timeout=60).content  # the whole body
    except requests.RequestException:
        pass


# -- 3. kill -9 during compaction ---------------------------------------------------------------

# "journal.ldb missing" never happens since compaction swaps journals by rename (it used to
# remove the old journal before creating the next, and a kill in between left a store that
# refused to open); the poller then kills at its time limit.
# "journal-next.ldb": a compaction in the background is writing its snapshot while writes go
# on into the next journal (docs/adr/0015-background-compaction.md); compactions no longer
# make journal.ldb.tmp (only a compaction at open does, and `labeldesk repair`).
PHASES = ("journal-next.ldb", "snapshot.ldb.next.tmp", "snapshot renamed", "journal.ldb missing",
          "random")


def kill_at(process, folder, phase, rng, limit=2.0):
    """SIGKILL the child as soon as a compaction reaches `phase` (polled from here), or after
    a random moment when the phase is "random" or doesn't show up within `limit` seconds."""
    snapshot = folder / "snapshot.ldb"

    def inode():
        try:
            return os.stat(snapshot).st_ino
        except FileNotFoundError:
            return None

    if phase == "random":
        time.sleep(rng.uniform(0.05, 0.8))
        process.kill()
        return False
    before = inode()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if phase == "snapshot renamed":
            hit = inode() != before
        elif phase == "journal.ldb missing":
            hit = not os.path.exists(folder / "journal.ldb")
        else:
            hit = os.path.exists(folder / phase)
        if hit:
            process.kill()
            return True
    process.kill()
    return False


def store_generation(folder):
    with open(folder / "snapshot.ldb", "rb") as f:
        return orjson.loads(f.readline())["generation"]


class Patcher(Writer):
    """test_crash's writer, patching only (a small store compacts every few dozen writes)."""

    def run(self):
        self.rng_random = self.rng.random
        self.rng.random = lambda: 1.0  # never "create": Writer creates below 0.4
        try:
            super().run()
        finally:
            self.rng.random = self.rng_random


def test_sigkill_during_compaction(serve_process, tmp_path):
    seed, rng = seeded()
    data = tmp_path / "data"
    folder = data / "db"
    env = {"LABELDESK_COMPACT_MIN_BYTES": "4096"}  # compact every few writes
    known, pending, hits, acknowledged = {}, None, {}, 0
    process = serve_process(data, env=env)
    for number in range(20):
        known[process.api.project(title=f"Project {number}", description="")["id"]] = {
            "title": f"Project {number}", "description": ""}
    process.stop()
    rounds = 20
    for round_number in range(rounds):
        process = serve_process(data, env=env)
        if round_number:
            assert_said_what_happened(process, (seed, round_number))
        resolve_in_flight(process, known, pending)
        check_survivors(process, known, seed, round_number)
        writer = Patcher(process.url, process.token, rng, known)
        writer.start()
        phase = PHASES[round_number % len(PHASES)]
        time.sleep(0.05)
        hit = kill_at(process, folder, phase, rng)
        hits[phase] = hits.get(phase, 0) + hit
        writer.join(timeout=15)
        assert not writer.is_alive()
        assert writer.error is None, writer.error
        acknowledged += writer.acknowledged
        pending = writer.in_flight
    process = serve_process(data, env=env)
    resolve_in_flight(process, known, pending)
    check_survivors(process, known, seed, rounds)
    generation = store_generation(folder)
    process.stop()
    print(f"\ncompaction: {rounds} kills, caught in phase {hits}, {acknowledged} acknowledged "
          f"writes, {len(known)} projects, snapshot generation {generation}, seed {seed}")
    assert generation > rounds, "compaction hardly ran"
    assert sum(hits.values()) >= rounds * 2 // 5, hits


# -- 4. kill -9 during label-config changes -----------------------------------------------------

def big_config(size, tag):
    labels = "".join(f'<Choice value="{tag}{i}"/>' for i in range(size))
    return (f'<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
            f'<Choice value="Pos"/><Choice value="Neg"/>{labels}</Choices></View>')


def test_sigkill_during_label_config_change(serve_process, tmp_path):
    seed, rng = seeded()
    data = tmp_path / "data"
    process = serve_process(data)
    project = process.api.project(title="Config 0", label_config=LABEL_CONFIG)
    project_id = project["id"]
    # tasks with annotations on "Pos": every config below keeps it, so every change is valid
    response = process.api.post(f"/api/projects/{project_id}/import", json=[
        {"data": {"text": f"t{i}"}, "annotations": [{"result": [
            {"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": ["Pos"]}}]}]} for i in range(200)])
    assert response.status_code == 201, response.text
    configs = [big_config(n, t) for n, t in ((0, "a"), (3000, "b"), (10, "c"), (8000, "d"))]
    current = {"title": "Config 0", "label_config": LABEL_CONFIG}
    changes, rounds = 0, 12
    for round_number in range(rounds):
        state = {"in_flight": None, "acknowledged": 0, "error": None}

        def change(url=process.url, token=process.token, round_number=round_number,
                   state=state):
            session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
            number = 0
            while True:
                number += 1
                fields = {"title": f"Config {round_number}.{number}",
                          "label_config": rng.choice(configs)}
                state["in_flight"] = fields
                try:
                    answer = session.patch(f"{url}/api/projects/{project_id}", json=fields,
                                           timeout=30)
                except requests.RequestException:
                    return
                if answer.status_code != 200:
                    state["error"] = f"{answer.status_code} {answer.text[:300]}"
                    return
                current.update(fields)
                state["in_flight"] = None
                state["acknowledged"] += 1

        changer = threading.Thread(target=change, daemon=True)
        changer.start()
        time.sleep(rng.uniform(0.05, 0.7))
        process.kill()
        changer.join(timeout=30)
        assert state["error"] is None, state["error"]
        changes += state["acknowledged"]
        process = serve_process(data)
        assert_said_what_happened(process, (seed, round_number))
        stored = process.api.get(f"/api/projects/{project_id}").json()
        now = {"title": stored["title"], "label_config": stored["label_config"]}
        allowed = [dict(current)]
        if state["in_flight"] is not None:
            allowed.append(state["in_flight"])
        assert now in allowed, f"seed {seed}: a config change half applied: {now['title']}"
        current.update(now)
        # the config that is there works: it parses and the tasks and annotations are intact
        validated = process.api.post(f"/api/projects/{project_id}/validate",
                                     json={"label_config": now["label_config"]})
        assert validated.status_code == 200, validated.text
        assert "Pos" in str(stored["parsed_label_config"])
        numbers = project_numbers(process.api, project_id)
        assert (numbers["task_number"], numbers["total_annotations_number"]) == (200, 200)
    print(f"\nlabel config: {rounds} kills, {changes} acknowledged changes, seed {seed}")
    process.stop()


# -- 5. a disk that fills up -------------------------------------------------------------------







def test_disk_full_answers_507_and_recovers(serve_process, tmp_path):
    with tmpfs(tmp_path / "small", "48m") as mountpoint:
        run_disk_full(serve_process, mountpoint)


def run_disk_full(serve_process, mountpoint):
    data = mountpoint / "data"
    # small compactions, so some are attempted (and fail) while the disk is full
    env = {"LABELDESK_COMPACT_MIN_BYTES": str(256 * 1024)}
    process = serve_process(data, env=env)
    api = process.api
    project_id = api.project(title="Full disk")["id"]
    filler = fill(mountpoint, leave=3 * 1024 * 1024)
    acknowledged_tasks, refused, number = 0, 0, 0
    batch = 400
    answers = []
    while refused < 3 and number < 400:
        number += 1
        items = [{"text": f"b{number}-{i}" + "x" * 500} for i in range(batch)]
        started = time.monotonic()
        response = api.post(f"/api/projects/{project_id}/import", json=items, timeout=30)
        answers.append(time.monotonic() - started)
        if response.status_code == 201:
            acknowledged_tasks += batch
            continue
        assert response.status_code == 507, response.text
        body = response.json()
        assert body["status_code"] == 507 and "disk" in body["detail"].lower(), body
        assert "Traceback" not in response.text
        refused += 1
    assert refused == 3, "the disk never filled"
    assert acknowledged_tasks > 0
    # small writes fail the same clean way once nothing fits; reads keep working
    top_up(filler)
    small = api.post("/api/projects", json={"title": "no room", "description": "x" * 20000})
    assert small.status_code == 507, small.text
    export = api.get(f"/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=1")
    assert export.status_code in (200, 507), export.text[:300]
    assert project_numbers(api, project_id)["task_number"] == acknowledged_tasks
    # the app still starts on a full disk (it needs no room to open) and serves reads
    process.kill()
    log = process.proc.stdout.read()
    assert "disk full on POST" in log and "Traceback" not in log, log[-3000:]
    process = serve_process(data, env=env)
    api = process.api
    assert project_numbers(api, project_id)["task_number"] == acknowledged_tasks
    assert [p["title"] for p in api.get("/api/projects").json()["results"]] == ["Full disk"]
    # room again: writes work, nothing acknowledged was lost, nothing refused was kept
    filler.unlink()
    response = api.post(f"/api/projects/{project_id}/import",
                        json=[{"text": "after"}] * 10)
    assert response.status_code == 201, response.text
    acknowledged_tasks += 10
    assert api.post("/api/projects", json={"title": "room again"}).status_code == 201
    export = api.get(f"/api/projects/{project_id}/export?exportType=JSON&download_all_tasks=1")
    assert export.status_code == 200 and len(orjson.loads(export.content)) == acknowledged_tasks
    process.stop()
    process = serve_process(data, env=env)
    assert recovery_log(process) == "", "".join(process.lines)  # a clean stop reports nothing
    assert project_numbers(process.api, project_id)["task_number"] == acknowledged_tasks
    assert len(process.api.get("/api/projects").json()["results"]) == 2
    process.stop()
    assert not list((data / "db").glob("*.tmp"))
    print(f"\ndisk full: {acknowledged_tasks} tasks acknowledged, 3 imports and a project "
          f"refused with 507 in {max(answers):.2f}s at most; {log.count('compaction failed')} "
          "compactions deferred while full")
    shutil.rmtree(data, ignore_errors=True)


# -- 6. the data folder deleted while the server runs -------------------------------------------

def test_data_folder_deleted_while_serving_loses_nothing(serve_process, tmp_path):
    """rm -rf of the data folder under a running server: the next write finds its journal gone,
    writes all the data again from memory into a new db/ (with a loud warning), and goes on;
    after a restart every acknowledged write is there."""
    data = tmp_path / "data"
    process = serve_process(data)
    titles = {process.api.project(title=f"Before {n}")["id"]: f"Before {n}" for n in range(3)}
    shutil.rmtree(data)
    for n in range(3):
        titles[process.api.project(title=f"After {n}")["id"]] = f"After {n}"
    first = min(titles)
    assert process.api.patch(f"/api/projects/{first}", json={"title": "Renamed"}).ok
    titles[first] = "Renamed"
    assert (data / "db" / "snapshot.ldb").exists() and (data / "db" / "journal.ldb").exists()
    assert (data / "db").stat().st_mode & 0o777 == 0o700
    log = process.stop()
    assert "went away while it was running" in log and "from memory" in log, log[-2000:]
    process = serve_process(data)
    stored = {p["id"]: p["title"] for p in
              process.api.get("/api/projects?page_size=100").json()["results"]}
    assert stored == titles
    process.stop()


# -- 7. a read-only data folder -----------------------------------------------------------------

def test_read_only_data_folder_serves_reads_and_refuses_writes(serve_process, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test bind-mounts a folder read-only: run it as root (CI does)")
    data = tmp_path / "data"
    process = serve_process(data)
    project_id = process.api.project(title="Kept")["id"]
    imported = process.api.post(f"/api/projects/{project_id}/import",
                                json=[{"text": f"t{i}"} for i in range(5)])
    assert imported.status_code == 201, imported.text
    process.stop()
    shutil.rmtree(data / "tmp", ignore_errors=True)  # as in a folder no upload was made to yet
    before = {p.name: p.read_bytes() for p in (data / "db").iterdir() if p.is_file()}
    mountpoint = tmp_path / "readonly"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(data), str(mountpoint)],
                             capture_output=True, text=True)
    assert mounted.returncode == 0, mounted.stderr
    try:
        process = serve_process(mountpoint)
        assert any("read-only" in line for line in process.lines), "".join(process.lines)
        api = process.api
        assert [p["title"] for p in api.get("/api/projects").json()["results"]] == ["Kept"]
        assert project_numbers(api, project_id)["task_number"] == 5
        refused = api.post("/api/projects", json={"title": "New one"})
        assert refused.status_code == 507, refused.text
        assert "read-only" in refused.json()["detail"]
        assert "Traceback" not in refused.text
        assert [p["title"] for p in api.get("/api/projects").json()["results"]] == ["Kept"]
        validated = api.post("/api/projects/validate",  # a POST that writes nothing works
                             json={"label_config": "<View><Text name='t' value='$text'/></View>"})
        assert validated.status_code in (200, 204), validated.text
        warnings = api.get("/api/ui/session").json()["warnings"]  # the app shows them in a bar
        assert any("read-only" in w for w in warnings), warnings
        exported = api.get(f"/api/projects/{project_id}/export",
                           params={"exportType": "JSON", "download_all_tasks": "true"})
        assert exported.status_code == 200, exported.text  # made in the system's temp folder
        assert sorted(t["data"]["text"] for t in exported.json()) == [f"t{i}" for i in range(5)]
        log = process.stop()
        assert "Traceback" not in log, log[-3000:]
    finally:
        subprocess.run(["umount", str(mountpoint)], capture_output=True)
    after = {p.name: p.read_bytes() for p in (data / "db").iterdir() if p.is_file()}
    assert after == before


# -- 8. kill -9 at every step of a restore ------------------------------------------------------

IMAGE_CONFIG = """<View><Image name="image" value="$image"/>
<Choices name="c" toName="image"><Choice value="A"/></Choices></View>"""


def restore_cli(data, name, env=None):
    return subprocess.run([sys.executable, "-m", "desktop", "restore", "--data-dir", str(data),
                           name], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def what_it_holds(api):
    """Projects, their tasks' data, and whether each task's image is served."""
    held = {}
    for project in api.get("/api/projects", params={"page_size": 100}).json()["results"]:
        tasks = api.get("/api/tasks", params={"project": project["id"], "fields": "all"}
                        ).json()["tasks"]
        held[project["title"]] = sorted(
            (str(t["data"]), api.get(t["data"]["image"]).status_code if "image" in t["data"]
             else None) for t in tasks)
    return held


@pytest.mark.parametrize("unreadable", [False, True], ids=["readable", "unreadable"])
def test_sigkill_at_every_step_of_a_restore(serve_process, tmp_path, unreadable):
    """`labeldesk restore` SIGKILLs itself at each of its steps (LABELDESK_RESTORE_KILL_AT):
    the next start opens the old state or the restored one, never an empty store, says what
    happened and where the state before is, and leaves no staged file; restoring again works.
    Over an unreadable store, "the old state" is a start refused for the damage."""
    from desktop.db.backups import RESTORE_STEPS
    made = tmp_path / "made"
    process = serve_process(made)
    api = process.api
    old = api.project(title="Backed up", label_config=IMAGE_CONFIG)["id"]
    answer = api.post(f"/api/projects/{old}/import",
                      files={"f": ("cat.png", b"\x89PNG cat"), "g": ("dog.png", b"\x89PNG dog")})
    assert answer.status_code == 201, answer.text
    backup = api.post("/api/ui/backups").json()["name"]
    restored = what_it_holds(api)
    api.project(title="Made later")
    api.patch(f"/api/projects/{old}", json={"title": "Renamed later"}).raise_for_status()
    before = what_it_holds(api)
    process.stop()
    if unreadable:  # a damaged journal record: the store refuses to open
        journal = made / "db" / "journal.ldb"
        lines = journal.read_bytes().split(b"\n")
        lines[2] = lines[2][:20] + b"garbage" + lines[2][27:]
        journal.write_bytes(b"\n".join(lines))
    outcomes = {}
    for step in RESTORE_STEPS:
        data = tmp_path / step
        shutil.copytree(made, data)
        killed = restore_cli(data, backup, env={"LABELDESK_RESTORE_KILL_AT": step})
        assert killed.returncode == -9, (step, killed.returncode, killed.stderr)
        try:
            process = serve_process(data)
        except RuntimeError as refused:
            assert unreadable, (step, str(refused))
            assert "damaged" in str(refused) and "repair" in str(refused), (step, str(refused))
            outcome = "old (refused: damaged)"
        else:
            held = what_it_holds(process.api)
            assert held, f"{step}: opened an empty store"
            assert held in (restored, before), (step, held)
            outcome = "new" if held == restored else "old"
            notes = recovery_log(process)
            if (data / "db" / "restore.json").exists() or "a restore of" in notes:
                assert f"a restore of {backup} was interrupted" in notes, (step, notes)
                where = re.search(r"from before it is kept in (\S+)", notes)
                assert where and (data / where[1]).exists(), (step, notes)
            process.stop()
            # a start that opens the store removes what the restore staged (a refused one
            # changes nothing: the next restore does)
            assert not list((data / "db").glob("snapshot.ldb.restore*")), step
            assert not (data / "db" / "restore.json").exists(), step
        outcomes[step] = outcome
        # and the restore, run again, goes through
        again = restore_cli(data, backup)
        assert again.returncode == 0, (step, again.stderr)
        assert not list((data / "db").glob("snapshot.ldb.restore*")), step
        assert not (data / "db" / "restore.json").exists(), step
        process = serve_process(data)
        assert what_it_holds(process.api) == restored, step
        process.stop()
    print(f"\nrestore killed at each step ({'unreadable' if unreadable else 'readable'} "
          f"store): {outcomes}")
    assert outcomes["locked"].startswith("old") and outcomes["done"] == "new"
    # old up to the snapshot's rename, new from it on (over an unreadable store too: the old
    # journal is then of an earlier generation, whose writes the restore replaced)
    switch = RESTORE_STEPS.index("snapshot-replaced")
    assert [o == "new" for o in outcomes.values()] == [
        i >= switch for i in range(len(RESTORE_STEPS))], outcomes
