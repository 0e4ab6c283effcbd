"""Whole-project files (archive round trip, CLI, API, unsafe zips) and live export folders."""

import io
import json
import os
import re
import stat
import subprocess
import sys
import time
import zipfile

import pytest
from PIL import Image

from datahelp import wait_for
from desktop.core.errors import ValidationError
from desktop.data_import import archive

CONFIG = """<View><Image name="image" value="$image"/>
<RectangleLabels name="label" toName="image"><Label value="Cat"/><Label value="Dog"/>
</RectangleLabels></View>"""


def png(size, color=(10, 200, 10)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def box(label, x=10, y=20, size=(40, 30)):
    return {"type": "rectanglelabels", "from_name": "label", "to_name": "image",
            "original_width": size[0], "original_height": size[1], "image_rotation": 0,
            "value": {"x": x, "y": y, "width": 30, "height": 40, "rotation": 0,
                      "rectanglelabels": [label]}}


def fill(api, title="round trip"):
    """A project with uploads, URL tasks, annotations (one cancelled, one ground truth),
    predictions and a view; its id."""
    project = api.project(title=title, label_config=CONFIG, maximum_annotations=2,
                          description="kept", color="#123456")
    pid = project["id"]
    r = api.post(f"/api/projects/{pid}/import",
                 files=[("file", ("a.png", png((40, 30)))), ("file", ("b.png", png((64, 48))))])
    assert r.status_code == 201, r.text
    r = api.post(f"/api/projects/{pid}/import", json=[
        {"data": {"image": "https://example.org/x.png"}, "meta": {"source": "web"},
         "predictions": [{"result": [box("Dog")], "score": 0.5, "model_version": "m1"}]},
        {"image": "/data/upload/999/elsewhere.png"}])
    assert r.status_code == 201, r.text
    tasks = api.get(f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true").json()
    ids = [t["id"] for t in tasks]
    for task_id, label in zip(ids, ("Cat", "Dog", "Cat")):
        r = api.post(f"/api/tasks/{task_id}/annotations/", json={"result": [box(label)],
                                                                 "lead_time": 1.5})
        assert r.status_code == 201, r.text
    api.post(f"/api/tasks/{ids[0]}/annotations/", json={"result": [], "was_cancelled": True})
    api.post(f"/api/tasks/{ids[1]}/annotations/", json={"result": [box("Cat", 1, 1)],
                                                        "ground_truth": True})
    r = api.post("/api/dm/views", json={"project": pid, "data": {"title": "my tab"}})
    assert r.status_code in (200, 201), r.text
    return pid


def comparable(api, pid):
    """Everything an export shows of a project, with ids replaced by positions."""
    tasks = api.get(f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true").json()
    project = api.get(f"/api/projects/{pid}").json()
    out = []
    for t in tasks:
        t = dict(t)
        for key in ("id", "project"):
            t.pop(key)
        t["data"] = json.loads(json.dumps(t["data"]).replace(f"/data/upload/{pid}/",
                                                             "/data/upload/X/"))
        t["annotations"] = [{k: v for k, v in a.items() if k not in ("id", "task", "project")}
                            for a in t["annotations"]]
        t["predictions"] = len(t["predictions"])
        out.append(t)
    keep = {k: v for k, v in project.items() if k not in ("id", "created_at", "title",
                                                         "config_has_control_tags")}
    return out, keep


def test_round_trip_loses_nothing(live, make_live, tmp_path):
    api = live.api
    pid = fill(api)
    r = api.get(f"/api/projects/{pid}/archive")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert r.headers["filename"].startswith(f"labeldesk-project-{pid}-round-trip-")
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = zf.namelist()
    assert {"manifest.json", "project.json", "tasks.jsonl"} <= set(names)
    assert len([n for n in names if n.startswith("media/")]) == 2
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == "labeldesk-project" and manifest["version"] == 1
    versions = api.get(f"/api/projects/{pid}/annotation-history?page_size=1000").json()
    assert manifest["counts"] == {"tasks": 4, "annotations": 5, "predictions": 1, "media": 2,
                                  "history": versions["count"]}
    assert "history.jsonl" in names and versions["count"] >= 5

    # into another LabelDesk (another data dir), over the API
    other = make_live("other")
    r = other.api.post("/api/projects/archive?mapping=true",
                       files={"file": ("p.zip", r.content, "application/zip")})
    assert r.status_code == 201, r.text
    answer = r.json()
    new = answer["id"]
    assert answer["counts"] == manifest["counts"]
    assert len(answer["mapping"]["tasks"]) == 4
    before, after = comparable(api, pid), comparable(other.api, new)
    assert after == before
    assert other.api.get(f"/api/projects/{new}").json()["title"] == "round trip"
    # media came along and are served under the new project's URLs
    tasks = other.api.get(f"/api/projects/{new}/export?exportType=JSON"
                          "&download_all_tasks=true").json()
    uploaded = [t["data"]["image"] for t in tasks if t.get("file_upload")]
    assert len(uploaded) == 2 and all(u.startswith(f"/data/upload/{new}/") for u in uploaded)
    for url in uploaded:
        assert other.api.get(url).content[:8] == b"\x89PNG\r\n\x1a\n"
    # URLs of other projects are left alone
    assert any(t["data"]["image"] == "/data/upload/999/elsewhere.png" for t in tasks)
    # counters, ground truth and the view
    assert other.api.get(f"/api/dm/views?project={new}").json()[0]["data"]["title"] == "my tab"
    # the YOLO export of both is the same
    a = zipfile.ZipFile(io.BytesIO(api.get(f"/api/projects/{pid}/export?exportType=YOLO").content))
    b = zipfile.ZipFile(io.BytesIO(other.api.get(
        f"/api/projects/{new}/export?exportType=YOLO").content))
    assert sorted(a.namelist()) == sorted(b.namelist())
    for name in a.namelist():
        if name.endswith(".txt"):
            assert a.read(name) == b.read(name)

    # and once more into the same LabelDesk, with a new title: a second, separate project
    r = api.post("/api/projects/archive?title=copy",
                 data=api.get(f"/api/projects/{pid}/archive").content,
                 headers={"Content-Type": "application/zip"})
    assert r.status_code == 201, r.text
    copy = r.json()["id"]
    assert copy != pid and comparable(api, copy) == comparable(api, pid)
    assert api.get(f"/api/projects/{copy}").json()["title"] == "copy"


class raises:
    """pytest.raises(ValidationError) matching the messages, not the generic str()."""

    def __init__(self, pattern):
        self.pattern = pattern

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        # a ValidationError (400) or its TooLarge (413)
        assert kind is not None and issubclass(kind, ValidationError), \
            f"no ValidationError ({kind})"
        assert re.search(self.pattern, str(error.errors)), error.errors
        return True


def make_zip(path, entries, symlink=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


GOOD = {"manifest.json": json.dumps({"format": "labeldesk-project", "version": 1}),
        "project.json": json.dumps({"id": 1, "settings": {"title": "t"}}),
        "tasks.jsonl": ""}


@pytest.mark.parametrize("bad", [
    {"../evil.txt": "x"}, {"/etc/evil": "x"}, {"media/../../x.png": "x"}, {"C:/x": "x"},
    {"media\\..\\x": "x"}, {"media/sub/x.png": "x"}])
def test_unsafe_archives_are_refused(live, tmp_path, bad):
    path = make_zip(tmp_path / "bad.zip", {**GOOD, **bad})
    before = live.app.projects.ids()
    with raises("refused"):
        archive.import_archive(live.app, path, 1)
    assert live.app.projects.ids() == before
    r = live.api.post("/api/projects/archive", data=path.read_bytes(),
                      headers={"Content-Type": "application/zip"})
    assert r.status_code == 400 and "refused" in r.text


def test_symlinks_bombs_and_strangers_are_refused(live, tmp_path):
    with raises("symbolic link"):
        archive.import_archive(live.app, make_zip(tmp_path / "l.zip", GOOD, "media/x.png"), 1)
    bomb = make_zip(tmp_path / "bomb.zip", {**GOOD, "media/zeros.png": b"\0" * 5_000_000})
    assert bomb.stat().st_size < 100_000
    with raises("larger than"):
        archive.import_archive(live.app, bomb, 1, max_bytes=1_000_000)
    with raises("Not a LabelDesk project file"):
        archive.import_archive(live.app, make_zip(tmp_path / "o.zip", {"a.txt": "x"}), 1)
    with raises("Not a LabelDesk project file"):
        archive.import_archive(live.app, io.BytesIO(b"not a zip"), 1)
    newer = {**GOOD, "manifest.json": json.dumps({"format": "labeldesk-project", "version": 9})}
    with raises("version 9"):
        archive.import_archive(live.app, make_zip(tmp_path / "n.zip", newer), 1)


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "desktop", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def test_cli_export_import_round_trip(make_live, serve_process, tmp_path):
    source = make_live("source")
    pid = fill(source.api, "cli")
    before = comparable(source.api, pid)
    source.close()  # frees the data dir: the CLI opens it directly
    data = tmp_path / "source"
    out = tmp_path / "cli.zip"
    done = run_cli("export", pid, "--to", out, "--data-dir", data)
    assert done.returncode == 0, done.stderr
    assert "Wrote" in done.stdout and "4 tasks" in done.stdout
    assert "100%" in done.stderr and "[" in done.stderr  # the progress bar
    # a format export with the CLI
    done = run_cli("export", pid, "--format", "csv", "--to", tmp_path, "--data-dir", data, "-q")
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.glob(f"project-{pid}-at-*.csv"))

    target = tmp_path / "target"
    done = run_cli("import", out, "--data-dir", target)
    assert done.returncode == 0, done.stderr
    assert "as project 1" in done.stdout
    # while a server runs on that data dir: export still works (read-only), import is refused
    server = serve_process(target)
    done = run_cli("export", "1", "--to", tmp_path / "again.zip", "--data-dir", target, "-q")
    assert done.returncode == 0, done.stderr
    done = run_cli("import", out, "--data-dir", target)
    assert done.returncode != 0 and "POST /api/projects/archive" in done.stderr
    assert comparable(server.api, 1) == before
    server.stop()


# ---------------------------------------------------------------- live folders


def test_live_folder_json_writes_one_file_per_annotation(make_live, tmp_path):
    server = make_live("live", local_files_root=tmp_path)
    api = server.api
    pid = fill(api, "live json")
    folder = tmp_path / "out"
    r = api.put(f"/api/projects/{pid}/live-export", json={"path": str(folder), "format": "json"})
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "JSON" and r.json()["enabled"] is True
    server.app.exports.live.flush()
    existing = sorted(int(p.name) for p in folder.iterdir())
    assert len(existing) == 5
    task_id = api.get(f"/api/projects/{pid}/export?exportType=JSON").json()[0]["id"]
    r = api.post(f"/api/tasks/{task_id}/annotations/", json={"result": [box("Dog")]})
    ann = r.json()["id"]
    path = folder / str(ann)
    assert wait_for(path.exists)
    doc = json.loads(path.read_text())
    assert doc["id"] == ann and doc["result"][0]["value"]["rectanglelabels"] == ["Dog"]
    assert doc["completed_by"]["id"] == 1 and "email" in doc["completed_by"]
    assert doc["task"]["id"] == task_id and "data" in doc["task"]
    api.patch(f"/api/annotations/{ann}", json={"result": [box("Cat")]})
    assert wait_for(lambda: "Cat" in path.read_text())
    api.delete(f"/api/annotations/{ann}")
    assert wait_for(lambda: not path.exists())
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left


def test_live_folder_yolo_is_rewritten_atomically(make_live, tmp_path):
    server = make_live("live2", local_files_root=tmp_path)
    api = server.api
    pid = fill(api, "live yolo")
    folder = tmp_path / "yolo"
    r = api.put(f"/api/projects/{pid}/live-export", json={"path": str(folder), "format": "YOLO"})
    assert r.status_code == 200, r.text
    server.app.exports.live.flush()
    assert (folder / "classes.txt").read_text() == "Cat\nDog\n"
    labels = sorted(p.name for p in (folder / "labels").iterdir())
    assert len(labels) == 4  # every task, like download_all_tasks=true
    # a reader polling the label file while annotations change never sees half a file
    tasks = api.get(f"/api/projects/{pid}/export?exportType=JSON").json()
    target = next(t for t in tasks if t.get("file_upload"))
    label_file = folder / "labels" / (os.path.splitext(target["file_upload"])[0] + ".txt")
    seen = set()
    for i in range(5):
        api.post(f"/api/tasks/{target['id']}/annotations/", json={"result": [box("Dog", x=i)]})
        for _ in range(20):
            text = label_file.read_text()
            assert text == "" or all(len(line.split()) == 5 for line in text.splitlines())
            seen.add(text)
            time.sleep(0.01)
    server.app.exports.live.flush()
    assert len(seen) >= 1
    # unsupported format, path outside the allowed roots, the store's own folder
    r = api.put(f"/api/projects/{pid}/live-export", json={"path": str(folder),
                                                          "format": "CONLL2003"})
    assert r.status_code == 400 and "not supported" in r.text
    r = api.put(f"/api/projects/{pid}/live-export", json={"path": "/etc/labeldesk-out"})
    assert r.status_code == 400 and "must be inside" in r.text
    r = api.put(f"/api/projects/{pid}/live-export",
                json={"path": str(server.settings.data_dir / "db")})
    assert r.status_code == 400
    assert api.delete(f"/api/projects/{pid}/live-export").status_code == 204
    assert api.get(f"/api/projects/{pid}/live-export").json()["enabled"] is False


def test_project_delete_hook_drops_snapshots_and_live_setting(make_live, tmp_path):
    server = make_live("hook", local_files_root=tmp_path)
    api = server.api
    pid = fill(api, "hook")
    snap = api.post(f"/api/projects/{pid}/exports", json={}).json()
    api.post(f"/api/projects/{pid}/exports/{snap['id']}/convert", json={"export_type": "COCO"})
    api.put(f"/api/projects/{pid}/live-export", json={"path": str(tmp_path / "o")})
    files = list((server.settings.data_dir / "export").glob("snapshot-*"))
    assert len(files) == 2
    with server.app.records.transaction():
        server.app.exports.delete_project(pid)
    assert not list((server.settings.data_dir / "export").glob("snapshot-*"))
    assert api.get(f"/api/projects/{pid}/exports").json() == []
    assert api.get(f"/api/projects/{pid}/live-export").json()["enabled"] is False


def test_an_export_whose_file_is_gone_answers_404(make_live):
    """Issue 21: the download of a snapshot whose file was deleted or moved outside LabelDesk
    answered 507 (a failing disk); it is a 404 in Label Studio's envelope, saying so."""
    server = make_live("gone")
    api = server.api
    pid = fill(api, "gone")
    snap = api.post(f"/api/projects/{pid}/exports", json={}).json()
    base = f"/api/projects/{pid}/exports/{snap['id']}"
    assert api.post(f"{base}/convert", json={"export_type": "COCO"}).status_code == 200
    assert api.get(f"{base}/download", params={"exportType": "COCO"}).status_code == 200
    for path in (server.settings.data_dir / "export").glob("snapshot-*"):
        path.unlink()
    for method, path, kwargs in (("get", f"{base}/download", {}),
                                 ("get", f"{base}/download", {"params": {"exportType": "COCO"}}),
                                 ("get", f"{base}/download", {"params": {"exportType": "CSV"}}),
                                 ("post", f"{base}/convert", {"json": {"export_type": "CSV"}})):
        answer = getattr(api, method)(path, **kwargs)
        assert answer.status_code == 404, (path, kwargs, answer.text)
        body = answer.json()
        assert body["status_code"] == 404 and "missing" in body["detail"], body
        assert "Traceback" not in answer.text
    assert api.get(base).json()["status"] == "completed"
