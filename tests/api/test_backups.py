"""Backups (desktop/core/backups.py): made now or daily at start, kept N at a time, left by every
compaction, restored from the CLI (app closed) or in the running app over HTTP; a damaged backup
is refused and a full disk fails a backup cleanly."""

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import requests

from crashhelp import fill, tmpfs
from datahelp import IMAGE_CONFIG, wait_for
from desktop.core.backups import StoreSwitched
from desktop.db import Store
from desktop.db.backups import parse, read_backup
from desktop.db.journal import read_snapshot
from paths import ROOT

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View>"""


def labeldesk(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def add_work(api, title, texts):
    project = api.project(title=title, label_config=CONFIG)
    api.post(f"/api/projects/{project['id']}/import",
             json=[{"text": t} for t in texts]).raise_for_status()
    task = api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"][0]
    api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [
        {"from_name": "c", "to_name": "text", "type": "choices",
         "value": {"choices": ["A"]}}]}).raise_for_status()
    return project["id"]


def state(api):
    """Everything a user sees of the data: projects, their tasks, annotations, counters."""
    projects = api.get("/api/projects", params={"page_size": 1000}).json()["results"]
    seen = {}
    for p in sorted(projects, key=lambda p: p["id"]):
        tasks = api.get("/api/tasks", params={"project": p["id"], "fields": "all",
                                              "page_size": 10000}).json()["tasks"]
        seen[p["id"]] = (p["title"], p["task_number"], p["total_annotations_number"],
                         [(t["id"], t["data"], [(a["id"], a["result"]) for a in t["annotations"]])
                          for t in tasks])
    return seen


def backups_of(folder):
    return sorted(p.name for p in Path(folder, "backups").glob("snapshot-*.ldb"))


def browser_session(url, secret):
    """A requests session signed in as the window is: cookie, and the CSRF token."""
    client = requests.Session()
    response = client.post(f"{url}/api/ui/session", json={"secret": secret})
    assert response.status_code == 201, response.text
    return client, response.json()["csrf_token"]


# -- making and keeping -------------------------------------------------------------------------

def test_back_up_now_over_http_lists_and_keeps_the_newest_n(make_live):
    live = make_live(backups_keep=3)
    api = live.api
    add_work(api, "Reviews", ["one", "two", "three"])
    assert api.get("/api/ui/backups").json()["backups"] == []
    made = []
    for _ in range(5):
        response = api.post("/api/ui/backups")
        assert response.status_code == 201, response.text
        made.append(response.json())
    backup = made[-1]
    assert (backup["kind"], backup["projects"], backup["tasks"], backup["annotations"]) == \
        ("manual", 1, 3, 1)
    assert re.fullmatch(r"snapshot-\d{8}T\d{6}Z-g\d+-manual-n\d+\.ldb", backup["name"])
    listing = api.get("/api/ui/backups").json()
    assert listing["keep"] == 3 and listing["folder"] == str(live.settings.data_dir / "backups")
    # the newest three, newest first; the two oldest files are gone, their .json too
    assert [b["name"] for b in listing["backups"]] == [b["name"] for b in made[:1:-1]]
    folder = live.settings.data_dir / "backups"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [b["name"] for b in made[2:]] + [b["name"] + ".json" for b in made[2:]])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # each is a whole, checksummed snapshot of the store
    header, tables = read_backup(str(folder / backup["name"]))
    assert len(tables["tasks"]["docs"]) == 3 and len(tables["projects"]["docs"]) == 1


def test_backups_made_at_the_same_moment_get_their_own_files(make_live):
    from concurrent.futures import ThreadPoolExecutor
    live = make_live(backups_keep=10)
    add_work(live.api, "Busy", ["a", "b"])
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: live.api.post("/api/ui/backups"), range(4)))
    assert [a.status_code for a in answers] == [201] * 4
    names = {a.json()["name"] for a in answers}
    assert len(names) == 4 and sorted(names) == backups_of(live.settings.data_dir)
    for name in names:
        read_backup(str(live.settings.data_dir / "backups" / name))


def test_backup_routes_need_the_token_and_a_csrf_header(make_live):
    live = make_live(reopenable=True)
    add_work(live.api, "Mine", ["a"])
    name = live.api.post("/api/ui/backups").json()["name"]
    assert live.anonymous.get("/api/ui/backups").status_code == 401
    assert live.anonymous.post("/api/ui/backups").status_code == 401
    assert live.anonymous.post("/api/ui/backups/restore", json={"name": name}).status_code == 401
    client, csrf = browser_session(live.ui_url, live.app.sessions.one_time_secret())
    assert client.get(f"{live.ui_url}/api/ui/backups").status_code == 200
    refused = client.post(f"{live.ui_url}/api/ui/backups/restore", json={"name": name})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.post(f"{live.ui_url}/api/ui/backups").status_code == 403
    # restoring is never a GET
    assert client.get(f"{live.ui_url}/api/ui/backups/restore").status_code == 405
    assert len(backups_of(live.settings.data_dir)) == 1
    answer = client.post(f"{live.ui_url}/api/ui/backups/restore", json={"name": name},
                         headers={"X-CSRFToken": csrf})
    assert answer.status_code == 200, answer.text
    assert answer.json()["url"].startswith("/desktop#secret=")  # a way back in for the page


# -- restoring in the running app ---------------------------------------------------------------

def test_restore_over_http_gives_back_exactly_the_backup(make_live):
    live = make_live(reopenable=True)
    api = live.api
    first = add_work(api, "Before", ["alpha", "beta", "gamma"])
    kept = state(api)
    backup = api.post("/api/ui/backups").json()
    # change everything: edit, delete, add
    tasks = api.get("/api/tasks", params={"project": first}).json()["tasks"]
    api.patch(f"/api/tasks/{tasks[1]['id']}", json={"data": {"text": "changed"}}) \
        .raise_for_status()
    api.delete(f"/api/tasks/{tasks[2]['id']}").raise_for_status()
    add_work(api, "After", ["later"])
    changed = state(api)
    assert changed != kept
    old_app = live.app

    answer = api.post("/api/ui/backups/restore", json={"name": backup["name"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["reopened"] is True and body["restored"]["name"] == backup["name"]
    previous = body["previous_state"]
    assert previous["kind"] == "before-restore" and previous["projects"] == 2
    assert live.app is not old_app
    assert state(api) == kept
    # on disk too: the store's tables are the backup's
    folder = live.settings.data_dir
    _, restored = read_backup(str(folder / "backups" / backup["name"]))
    for name in ("projects", "tasks", "annotations", "predictions"):
        assert sorted(map(tuple, orjson.loads(orjson.dumps(restored[name]["docs"])))) == \
            sorted(map(tuple, orjson.loads(orjson.dumps(
                sorted(live.app.store.storage.tables[name].items()))))), name
    # and new ids don't reuse the ones the backup had given out
    assert api.project(title="New")["id"] > max(kept)
    # the state it replaced was backed up first: restoring that brings the changes back
    answer = api.post("/api/ui/backups/restore", json={"name": previous["name"]})
    assert answer.status_code == 200, answer.text
    assert state(api) == changed
    # the settings keep saying where the folder comes from
    assert live.app.settings.data_dir_source == old_app.settings.data_dir_source


def test_a_write_racing_a_restore_is_refused_and_not_kept(make_live):
    live = make_live(reopenable=True)
    add_work(live.api, "Kept", ["x"])
    name = live.api.post("/api/ui/backups").json()["name"]
    old_app = live.app
    live.api.post("/api/ui/backups/restore", json={"name": name}).raise_for_status()
    # a request that was still running on the replaced LabelDesk writes now
    with pytest.raises(StoreSwitched) as refused:
        old_app.projects.create({"title": "lost in the switch", "label_config": CONFIG}, 1)
    assert refused.value.status == 503
    assert "lost in the switch" not in str(live.api.get("/api/projects").json())
    live.app.store.close()
    store = Store(live.settings.store_dir, readonly=True)
    assert [p["title"] for p in store.table("projects").all()] == ["Kept"]


def test_a_restore_while_a_compaction_writes_in_the_background_keeps_the_backup(make_live):
    """A compaction was writing its snapshot when the restore switched the files: it stops
    and never renames its snapshot (the old data) over the restored one, nor its journal."""
    live = make_live(reopenable=True)
    add_work(live.api, "Kept", ["x", "y"])
    kept = state(live.api)
    name = live.api.post("/api/ui/backups").json()["name"]
    add_work(live.api, "Later", ["z"])
    storage = live.app.store.storage
    with storage.lock:  # the write crossing the threshold: journals switched, snapshot pending
        job = storage._start_compaction(background=False)
    folder = live.settings.store_dir
    assert (folder / "journal-next.ldb").exists()
    live.api.post("/api/ui/backups/restore", json={"name": name}).raise_for_status()
    assert not (folder / "journal-next.ldb").exists()
    job.write()  # the compaction's thread, going on after the switch
    assert job.error is not None
    assert state(live.api) == kept
    live.app.store.close()
    store = Store(folder, readonly=True)
    assert [p["title"] for p in store.table("projects").all()] == ["Kept"]
    store.close()


def test_restore_needs_a_reopenable_app(make_live):
    live = make_live()  # served without Reopenable: it can't switch its data
    add_work(live.api, "Here", ["x"])
    name = live.api.post("/api/ui/backups").json()["name"]
    answer = live.api.post("/api/ui/backups/restore", json={"name": name})
    assert answer.status_code == 409 and "labeldesk restore" in answer.json()["detail"]


def damage(path):
    raw = bytearray(Path(path).read_bytes())
    raw[-10] ^= 0xFF
    Path(path).write_bytes(bytes(raw))
    Path(str(path) + ".json").unlink()  # the list then reads the file itself


def test_a_damaged_backup_is_refused_and_nothing_changes(make_live):
    live = make_live(reopenable=True)
    api = live.api
    add_work(api, "Precious", ["a", "b"])
    backup = api.post("/api/ui/backups").json()
    api.project(title="Since then")
    before = state(api)
    folder = live.settings.data_dir / "backups"
    damage(folder / backup["name"])
    listed = api.get("/api/ui/backups").json()["backups"]
    assert listed[0]["damaged"] == "checksum mismatch: the file was changed or damaged"
    app = live.app
    for name, status in ((backup["name"], 400), ("snapshot-nope.ldb", 404),
                         ("../db/snapshot.ldb", 404), ("", 400), (None, 400)):
        answer = api.post("/api/ui/backups/restore", json={"name": name})
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["status_code"] == status and "Traceback" not in answer.text
        if status == 400 and name:
            assert "damaged" in str(body["validation_errors"]) and \
                "Nothing was changed" in str(body["validation_errors"])
    assert live.app is app and state(api) == before
    assert backups_of(live.settings.data_dir) == [backup["name"]]  # no before-restore made
    # not a snapshot at all, and truncated: refused the same way
    (folder / "snapshot-20200101T000000Z-g1-manual.ldb").write_bytes(b"hello")
    full = (folder / backup["name"]).read_bytes()
    (folder / "snapshot-20200101T000001Z-g1-manual.ldb").write_bytes(full[:len(full) // 2])
    for name in ("snapshot-20200101T000000Z-g1-manual.ldb",
                 "snapshot-20200101T000001Z-g1-manual.ldb"):
        answer = api.post("/api/ui/backups/restore", json={"name": name})
        assert answer.status_code == 400, answer.text
    assert live.app is app and state(api) == before
    # the CLI refuses it too (with the app closed), and the store stays as it was
    data = live.settings.data_dir
    live.close()
    result = labeldesk("restore", "--data-dir", str(data), backup["name"])
    assert result.returncode != 0 and "damaged" in result.stderr and "Nothing was changed" \
        in result.stderr, result.stderr
    store = Store(data / "db", readonly=True)
    assert sorted(p["title"] for p in store.table("projects").all()) == \
        ["Precious", "Since then"]


# -- the CLI ----------------------------------------------------------------------------------

def test_cli_backup_list_and_restore(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data)
    add_work(process.api, "Kept", ["one", "two"])
    kept = state(process.api)
    # `labeldesk backup` beside the running app: its data as saved on disk
    result = labeldesk("backup", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "LabelDesk is running" in result.stdout and "1 project, 2 tasks" in result.stdout
    name = re.search(r"(snapshot-\S+\.ldb)", result.stdout)[1]
    process.api.project(title="Added later")
    changed = state(process.api)
    # restore refuses while the app runs
    result = labeldesk("restore", "--data-dir", str(data), name)
    assert result.returncode != 0 and "LabelDesk is running" in result.stderr
    process.stop()

    result = labeldesk("backups", "--data-dir", str(data))
    assert result.returncode == 0 and name in result.stdout, result.stdout
    assert re.search(re.escape(name) + r"\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+[\d.]+ kB\s+1\s+2",
                     result.stdout), result.stdout
    result = labeldesk("restore", "--data-dir", str(data), name)
    assert result.returncode == 0, result.stderr
    assert "Backed up the current state first: snapshot-" in result.stdout
    assert "(2 projects, 2 tasks)" in result.stdout
    assert f"Restored {name}" in result.stdout and "1 project, 2 tasks" in result.stdout
    previous = re.search(r"first: (snapshot-\S+\.ldb)", result.stdout)[1]
    assert parse(previous)["kind"] == "before-restore"

    process = serve_process(data)
    assert state(process.api) == kept
    assert process.api.get("/api/projects").json()["count"] == 1
    process.stop()
    # a backup's path works too, and so does going back
    result = labeldesk("restore", "--data-dir", str(data), str(data / "backups" / previous))
    assert result.returncode == 0, result.stderr
    process = serve_process(data)
    assert state(process.api) == changed
    process.stop()
    result = labeldesk("restore", "--data-dir", str(data), "snapshot-missing.ldb")
    assert result.returncode != 0 and "No backup named" in result.stderr
    result = labeldesk("backup", "--data-dir", str(tmp_path / "typo"))
    assert result.returncode != 0 and "no LabelDesk data" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_cli_restore_over_an_unreadable_store_keeps_its_files(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data)
    add_work(process.api, "Good times", ["a"])
    name = process.api.post("/api/ui/backups").json()["name"]
    process.stop()
    journal = data / "db" / "journal.ldb"
    lines = journal.read_bytes().split(b"\n")
    lines[1] = lines[1][:20] + b"garbage" + lines[1][27:]
    journal.write_bytes(b"\n".join(lines))
    damaged = journal.read_bytes()
    result = labeldesk("restore", "--data-dir", str(data), name)
    assert result.returncode == 0, result.stderr
    assert "could not be read" in result.stdout
    kept = list((data / "backups").glob("damaged-*/journal.ldb"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged
    process = serve_process(data)
    assert [p["title"] for p in process.api.get("/api/projects").json()["results"]] == \
        ["Good times"]
    process.stop()


# -- automatic backups ------------------------------------------------------------------------


def test_every_compaction_leaves_the_previous_generation_as_a_backup(serve_process, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_bytes(orjson.dumps({"backups_keep": 3}))
    process = serve_process(data, env={"LABELDESK_COMPACT_MIN_BYTES": "20000"})
    api = process.api
    project = api.project(title="Growing", label_config=CONFIG)["id"]
    for batch in range(30):
        api.post(f"/api/projects/{project}/import",
                 json=[{"text": f"batch {batch} task {i} " + "x" * 150} for i in range(40)]) \
            .raise_for_status()
    process.stop()
    names = backups_of(data)
    kinds = [parse(n)["kind"] for n in names]
    assert kinds == ["compaction"] * 3, names  # several compactions; the newest 3 kept
    store = Store(data / "db", readonly=True)
    now_tasks = {i: d for i, d in store.storage.tables["tasks"].items()}
    generations = []
    for name in names:
        path = data / "backups" / name
        header, tables = read_backup(str(path))
        assert header["generation"] == parse(name)["generation"]
        generations.append(header["generation"])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        docs = dict(tables["tasks"]["docs"])
        assert 0 < len(docs) < len(now_tasks) and len(docs) % 40 == 0  # whole imports only
        assert all(now_tasks[i] == d for i, d in docs.items())  # an earlier state of the same
    assert generations == sorted(set(generations))
    assert read_snapshot(str(data / "db" / "snapshot.ldb"))[0]["generation"] > generations[-1]
    assert not list((data / "db").glob("*.tmp")) and not list((data / "backups").glob("*.tmp"))


def test_a_compaction_goes_on_when_its_backup_cannot_be_made(serve_process, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "backups").write_text("a file where the folder should be")
    process = serve_process(data, env={"LABELDESK_COMPACT_MIN_BYTES": "20000"})
    project = process.api.project(title="Growing", label_config=CONFIG)["id"]
    for _ in range(10):
        answer = process.api.post(f"/api/projects/{project}/import",
                                  json=[{"text": "x" * 200}] * 40)
        assert answer.status_code == 201, answer.text
    assert process.api.get(f"/api/projects/{project}").json()["task_number"] == 400
    log = "".join(process.lines) + process.stop()
    assert "could not keep the previous snapshot as a backup" in log
    assert "Traceback" not in log
    assert read_snapshot(str(data / "db" / "snapshot.ldb"))[0]["generation"] > 2
    process = serve_process(data)
    assert process.api.get(f"/api/projects/{project}").json()["task_number"] == 400
    process.stop()


def test_daily_backup_at_start_when_the_newest_is_a_day_old(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data)
    process.stop()
    process = serve_process(data)  # no projects: nothing worth a backup
    add_work(process.api, "Daily", ["a", "b"])
    time.sleep(0.5)
    assert backups_of(data) == []
    process.stop()

    process = serve_process(data)
    daily = wait_for(lambda: backups_of(data))
    assert [parse(n)["kind"] for n in daily] == ["daily"]
    wait_for(lambda: (data / "backups" / (daily[0] + ".json")).exists())
    _, tables = read_backup(str(data / "backups" / daily[0]))
    assert len(tables["tasks"]["docs"]) == 2
    log = process.stop()
    assert "backups: made " + daily[0] in "".join(process.lines) + log
    process = serve_process(data)  # the newest is minutes old: none
    time.sleep(1)
    assert backups_of(data) == daily
    process.stop()
    # make it two days old: the next start backs up again
    old = daily[0].replace(daily[0][9:25], time.strftime("%Y%m%dT%H%M%SZ",
                                                         time.gmtime(time.time() - 2 * 86400)))
    assert parse(old)["time"] < time.time() - 86400
    os.rename(data / "backups" / daily[0], data / "backups" / old)
    process = serve_process(data)
    wait_for(lambda: len(backups_of(data)) == 2)
    process.stop()


def test_a_full_disk_fails_a_backup_cleanly_and_writes_go_on(serve_process, tmp_path):
    with tmpfs(tmp_path / "small", "24m") as mountpoint:
        run_full_disk(serve_process, mountpoint)


def run_full_disk(serve_process, mountpoint):
    data = mountpoint / "data"
    process = serve_process(data)
    api = process.api
    project = add_work(api, "Big enough", ["t" * 400 + str(i) for i in range(6000)])
    filler = fill(mountpoint, leave=1024 * 1024)  # room for writes, not for a 3 MB backup
    answer = api.post("/api/ui/backups")
    assert answer.status_code == 507, answer.text
    assert "disk" in answer.json()["detail"].lower()
    assert list((data / "backups").iterdir()) == []  # no partial file
    assert api.post("/api/projects", json={"title": "still writable"}).status_code == 201
    assert api.get(f"/api/projects/{project}").json()["task_number"] == 6000
    # the CLI says so too
    result = labeldesk("backup", "--data-dir", str(data))
    assert result.returncode != 0 and "No space left" in result.stderr, result.stderr
    process.stop()
    # the daily backup at start fails in the background: the app starts and serves
    process = serve_process(data)
    assert process.api.post("/api/projects", json={"title": "after start"}).status_code == 201
    time.sleep(2)  # the daily backup runs (and fails) in the background meanwhile
    log = "".join(process.lines) + process.stop()
    assert "daily backup failed" in log and "Traceback" not in log, log
    assert not list((data / "backups").glob("*.ldb*"))
    # room again: backing up works
    filler.unlink()
    process = serve_process(data)
    wait_for(lambda: backups_of(data))
    assert process.api.post("/api/ui/backups").status_code == 201
    titles = [p["title"] for p in process.api.get("/api/projects").json()["results"]]
    assert sorted(titles) == ["Big enough", "after start", "still writable"]
    process.stop()


def test_a_running_app_makes_the_daily_backup_when_one_falls_due(serve_process, tmp_path):
    """Not only at start: an app left open for days keeps making its daily backup."""
    data = tmp_path / "data"
    process = serve_process(data, env={"LABELDESK_BACKUP_CHECK_SECONDS": "0.5"})
    add_work(process.api, "Left open", ["a"])
    first = wait_for(lambda: backups_of(data))  # the projects appeared: one is due at once
    assert [parse(n)["kind"] for n in first] == ["daily"]
    time.sleep(1.5)
    assert backups_of(data) == first  # a fresh one: nothing more
    old = first[0].replace(first[0][9:25], time.strftime("%Y%m%dT%H%M%SZ",
                                                         time.gmtime(time.time() - 2 * 86400)))
    os.rename(data / "backups" / first[0], data / "backups" / old)  # as if a day had passed
    assert len(wait_for(lambda: [n for n in backups_of(data) if n != old])) == 1
    process.stop()



# -- the files backups name: uploads and exports -------------------------------------------------

def upload_images(api, project_id, names):
    files = {f"file{i}": (name, b"\x89PNG " + name.encode() * 50) for i, name in enumerate(names)}
    answer = api.post(f"/api/projects/{project_id}/import", files=files)
    assert answer.status_code == 201, answer.text


def served(api, project_id):
    """{a task's image URL: (status, bytes)} for every task of a project."""
    tasks = api.get("/api/tasks", params={"project": project_id, "fields": "all",
                                          "page_size": 1000}).json()["tasks"]
    seen = {}
    for task in tasks:
        answer = api.get(task["data"]["image"])
        seen[task["data"]["image"]] = (answer.status_code, answer.content)
    return seen


def photos_and_export(api):
    """A project of 3 images, backed up; then 3 more images and a snapshot export.
    (project, backup, {URL: (status, bytes)} at the backup, the same now, export download)"""
    project = api.project(title="Photos", label_config=IMAGE_CONFIG)["id"]
    upload_images(api, project, ["a.png", "b.png", "c.png"])
    at_backup = served(api, project)
    backup = api.post("/api/ui/backups").json()
    upload_images(api, project, ["d.png", "e.png", "f.png"])
    export = api.post(f"/api/projects/{project}/exports", json={"title": "snap"}).json()
    download = f"/api/projects/{project}/exports/{export['id']}/download"
    exported = api.get(download)
    assert exported.status_code == 200 and len(orjson.loads(exported.content)) == 6
    everything = served(api, project)
    assert len(at_backup) == 3 and len(everything) == 6
    assert all(status == 200 for status, _ in everything.values())
    return project, backup, at_backup, everything, (download, exported.content)


def test_restore_keeps_the_files_made_after_the_backup_and_undoing_it_gives_them_back(
        make_live, caplog):
    """Issue 21: the reopen's start-up cleanup deleted the uploads and exports made after the
    backup as orphans; restoring the before-restore backup then gave 404 images and a 507."""
    live = make_live(reopenable=True)
    api = live.api
    project, backup, at_backup, everything, (download, exported) = photos_and_export(api)
    answer = api.post("/api/ui/backups/restore", json={"name": backup["name"]})
    assert answer.status_code == 200, answer.text
    assert served(api, project) == at_backup
    assert "interrupted upload" not in caplog.text and "kept in backups/files/" in caplog.text
    # undo the restore: every image and the export are back, byte for byte
    previous = answer.json()["previous_state"]["name"]
    answer = api.post("/api/ui/backups/restore", json={"name": previous})
    assert answer.status_code == 200, answer.text
    assert served(api, project) == everything
    again = api.get(download)
    assert again.status_code == 200 and again.content == exported


def test_cli_restore_keeps_the_files_made_after_the_backup(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data)
    project, backup, at_backup, everything, (download, exported) = photos_and_export(
        process.api)
    process.stop()
    result = labeldesk("restore", "--data-dir", str(data), backup["name"])
    assert result.returncode == 0, result.stderr
    previous = re.search(r"first: (snapshot-\S+\.ldb)", result.stdout)[1]
    process = serve_process(data)
    assert served(process.api, project) == at_backup
    log = "".join(process.lines)
    assert "interrupted upload" not in log and "kept in backups/files/" in log, log
    process.stop()
    result = labeldesk("restore", "--data-dir", str(data), previous)
    assert result.returncode == 0, result.stderr
    process = serve_process(data)
    assert served(process.api, project) == everything
    again = process.api.get(download)
    assert again.status_code == 200 and again.content == exported
    process.stop()


def test_a_deleted_project_comes_back_from_a_backup_with_its_images(make_live):
    live = make_live(reopenable=True)
    api = live.api
    project = api.project(title="Deleted later", label_config=IMAGE_CONFIG)["id"]
    upload_images(api, project, ["x.png", "y.png"])
    kept = served(api, project)
    backup = api.post("/api/ui/backups").json()
    media = live.settings.data_dir / "media" / "upload" / str(project)
    pool = live.settings.data_dir / "backups" / "files" / "media" / "upload" / str(project)
    for path in media.iterdir():  # kept by a hard link: no copy
        assert (pool / path.name).stat().st_ino == path.stat().st_ino
    assert api.delete(f"/api/projects/{project}").status_code == 204
    assert api.delete("/api/ui/trash").json()["files"] == 2  # and from the trash, for good
    assert not media.exists()
    answer = api.post("/api/ui/backups/restore", json={"name": backup["name"]})
    assert answer.status_code == 200, answer.text
    assert served(api, project) == kept
    assert all(status == 200 for status, _ in kept.values())


def test_kept_files_go_once_no_backup_names_them(make_live):
    live = make_live(backups_keep=2)
    api = live.api
    project = api.project(title="Short-lived", label_config=IMAGE_CONFIG)["id"]
    upload_images(api, project, ["x.png", "y.png"])
    api.post("/api/ui/backups").raise_for_status()
    pool = live.settings.data_dir / "backups" / "files"
    assert len([p for p in pool.rglob("*") if p.is_file()]) == 2
    assert api.delete(f"/api/projects/{project}").status_code == 204
    # emptied from the trash for good; the store is compacted at once (a compaction backup
    # of the state before, which predates the images)
    api.delete("/api/ui/trash").raise_for_status()
    assert [b["kind"] for b in api.get("/api/ui/backups").json()["backups"]] == [
        "compaction", "manual"]
    assert len([p for p in pool.rglob("*") if p.is_file()]) == 2  # the first names them: kept
    api.post("/api/ui/backups").raise_for_status()  # the first rotated out: they go
    assert [p for p in pool.rglob("*") if p.is_file()] == []
    assert not list((live.settings.data_dir / "media" / "upload").rglob("*.png"))


def test_a_compaction_backup_gives_back_the_images_deleted_since(serve_process, tmp_path):
    data = tmp_path / "data"
    env = {"LABELDESK_COMPACT_MIN_BYTES": "20000"}
    process = serve_process(data, env=env)
    api = process.api
    project = api.project(title="Compacted", label_config=IMAGE_CONFIG)["id"]
    upload_images(api, project, ["p.png", "q.png"])
    kept = served(api, project)
    other = api.project(title="Busy")["id"]

    def grow(rounds):
        for _ in range(rounds):
            api.post(f"/api/projects/{other}/import",
                     json=[{"text": "x" * 200}] * 40).raise_for_status()

    grow(4)  # compactions: the current snapshot names the images
    assert api.delete(f"/api/projects/{project}").status_code == 204
    grow(8)  # more compactions: snapshots naming the images become backups
    process.stop()
    with_images = [n for n in backups_of(data) if parse(n)["kind"] == "compaction" and any(
        d.get("project") == project
        for _, d in read_backup(str(data / "backups" / n))[1].get("uploads", {"docs": []})["docs"])]
    assert with_images, backups_of(data)
    result = labeldesk("restore", "--data-dir", str(data), with_images[-1])
    assert result.returncode == 0, result.stderr
    process = serve_process(data)
    assert served(process.api, project) == kept
    process.stop()


# -- clock changes -------------------------------------------------------------------------------

def test_backups_are_ordered_and_rotated_by_number_not_by_the_clock(serve_process, tmp_path):
    """Issue 21: after a session with the clock a year ahead no daily backup was made for a
    year; with the clock behind, each new backup deleted the one before."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_bytes(orjson.dumps({"backups_keep": 3}))
    check = {"LABELDESK_BACKUP_CHECK_SECONDS": "0.5"}
    year = 365 * 86400
    process = serve_process(data, env={**check, "LABELDESK_CLOCK_OFFSET_SECONDS": str(year)})
    add_work(process.api, "Clockwork", ["a"])
    ahead = wait_for(lambda: backups_of(data))
    assert parse(ahead[0])["time"] > time.time() + year - 3600
    process.stop()
    # the clock right again: the newest backup is dated a year ahead, its age unknown: due
    process = serve_process(data, env=check)
    both = wait_for(lambda: len(backups_of(data)) == 2 and backups_of(data))
    today = [n for n in both if n not in ahead]
    assert abs(parse(today[0])["time"] - time.time()) < 600
    listed = [b["name"] for b in process.api.get("/api/ui/backups").json()["backups"]]
    assert listed == today + ahead  # newest first: by number, not by date
    time.sleep(1.5)
    assert len(backups_of(data)) == 2  # and a fresh one: no more
    process.stop()
    # the clock a month behind: new backups are the newest, and rotation keeps them
    process = serve_process(data, env={"LABELDESK_CLOCK_OFFSET_SECONDS": str(-30 * 86400)})
    made = []
    for _ in range(3):
        answer = process.api.post("/api/ui/backups")
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["name"])
        listed = [b["name"] for b in process.api.get("/api/ui/backups").json()["backups"]]
        assert listed[0] == made[-1] and set(made) <= set(listed), (made, listed)
    assert listed == made[::-1]  # the year-ahead and today's went: the oldest by number
    assert [parse(n)["number"] for n in listed] == sorted(
        (parse(n)["number"] for n in listed), reverse=True)
    process.stop()


def test_backup_names_of_the_first_format_still_parse_and_count_as_older(tmp_path):
    from desktop.db.backups import list_backups
    folder = tmp_path / "backups"
    folder.mkdir()
    names = ["snapshot-20990101T000000Z-g3-manual.ldb",  # the first format, dated ahead
             "snapshot-20990101T000000Z-g3-manual-2.ldb",
             "snapshot-20200101T000000Z-g9-daily-n1.ldb",
             "snapshot-20100101T000000Z-g9-before-restore-n2.ldb"]
    for name in names:
        (folder / name).write_bytes(b"x")
    assert parse(names[1])["kind"] == "manual" and parse(names[3])["kind"] == "before-restore"
    assert [i["name"] for i in list_backups(str(folder), count=False)] == \
        [names[3], names[2], names[1], names[0]]
