"""The desktop window's native side without a window: imports of chosen files and folders go to
our own server in batches with progress; exports are saved where the (stubbed) dialog says."""

import json
import time
from pathlib import Path

from desktop import bridge as bridge_module
from desktop.bridge import Bridge, LocalClient, folder_files


def wait(desktop, job_id):
    deadline = time.time() + 30
    while time.time() < deadline:
        job = desktop.job(job_id)
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def make_bridge(live, tmp_path):
    return Bridge(LocalClient(live.url, lambda: live.token), tmp_path)


def test_import_a_folder_in_batches(live, tmp_path, monkeypatch):
    project = live.api.project()
    folder = tmp_path / "texts"
    (folder / "more").mkdir(parents=True)
    for i in range(5):
        (folder / f"t{i}.txt").write_text(f"line {i}a\nline {i}b\n")
    (folder / "more" / "extra.csv").write_text("text\nfrom csv\n")
    (folder / ".hidden.txt").write_text("no")
    (folder / "notes.docx").write_text("no")
    files = folder_files(folder)
    assert [p.name for p in files] == [f"t{i}.txt" for i in range(5)] + ["extra.csv"]
    monkeypatch.setattr(bridge_module, "BATCH_FILES", 2)
    desktop = make_bridge(live, tmp_path)
    job = wait(desktop, desktop.import_paths(project["id"], [str(p) for p in files]))
    assert job["state"] == "done", job
    assert job["result"]["task_count"] == 11 and job["result"]["requests"] == 3
    assert job["done"] >= job["total"] > 0
    assert not job["result"]["errors"]


def test_import_errors_are_reported_per_batch(live, tmp_path):
    project = live.api.project()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    desktop = make_bridge(live, tmp_path)
    job = wait(desktop, desktop.import_paths(project["id"], [str(bad)]))
    assert job["state"] == "done"
    [error] = job["result"]["errors"]
    assert error["files"] == ["bad.json"] and error["status"] == 400


def test_save_export_where_the_user_chose(live, tmp_path, monkeypatch):
    project = live.api.project()
    live.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}])
    desktop = make_bridge(live, tmp_path)
    target = tmp_path / "out" / "mine.json"
    target.parent.mkdir()
    asked = []

    def dialog(kind, **options):
        asked.append((kind, options))
        return [target]
    monkeypatch.setattr(desktop, "_dialog", dialog)
    url = f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true"
    job = wait(desktop, desktop.save_export(url, "fallback"))
    assert job["state"] == "done", job
    assert asked[0][0] == "save" and asked[0][1]["save_filename"].endswith(".json")
    assert json.loads(target.read_text())[0]["data"] == {"text": "a"}
    assert not list(target.parent.glob(".*.part"))


def test_save_export_cancelled_and_refused(live, tmp_path, monkeypatch):
    project = live.api.project()
    desktop = make_bridge(live, tmp_path)
    monkeypatch.setattr(desktop, "_dialog", lambda kind, **options: [])
    job = wait(desktop, desktop.save_export(f"/api/projects/{project['id']}/export", "x"))
    assert job["state"] == "cancelled"
    try:
        desktop.save_export("http://example.com/x", "x")
    except ValueError:
        pass
    else:
        raise AssertionError("a foreign URL was accepted")
    assert Path(tmp_path).exists()


def test_open_a_project_file_chosen_in_the_dialog(live, tmp_path, monkeypatch):
    project = live.api.project(title="Packed")
    live.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}, {"text": "b"}])
    packed = tmp_path / "packed.zip"
    packed.write_bytes(live.api.get(f"/api/projects/{project['id']}/archive").content)
    desktop = make_bridge(live, tmp_path)
    monkeypatch.setattr(desktop, "_dialog", lambda kind, **options: [packed])
    chosen = desktop.choose_project_file()
    assert chosen == {"path": str(packed), "name": "packed.zip", "size": packed.stat().st_size}
    assert desktop.choose_folder() == str(packed)
    job = wait(desktop, desktop.open_project_file(chosen["path"]))
    assert job["state"] == "done", job
    assert job["done"] >= job["total"] == packed.stat().st_size
    answer = job["result"]
    assert answer["counts"]["tasks"] == 2 and answer["project"]["title"] == "Packed"
    assert answer["id"] != project["id"]

    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    job = wait(desktop, desktop.open_project_file(str(bad)))
    assert job["state"] == "error" and job["error"]
