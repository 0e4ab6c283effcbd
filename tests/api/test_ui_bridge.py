"""The desktop window's native side without a window: imports of chosen files and folders go to
our own server in batches with progress; exports are saved where the (stubbed) dialog says.

Only the native dialog is stubbed (Dialogs answers as Qt's would), so what the page may name
is exactly what a user picked: anything else is refused before the file is touched."""

import json
import logging
import time
from pathlib import Path

import pytest

from datahelp import task_count
from desktop.shell import bridge as bridge_module
from desktop.shell.bridge import Bridge, Facade, LocalClient, Refused, exposed, folder_files


class Dialogs:
    """Stands in for the pywebview window's native file dialog: answers in turn."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def create_file_dialog(self, kind, directory=None, **options):
        self.asked.append((kind, options))
        answer = self.answers.pop(0)
        if answer is None:
            return None
        answer = answer if isinstance(answer, list) else [answer]
        return tuple(str(p) for p in answer)


def wait(desktop, job_id):
    deadline = time.time() + 30
    while time.time() < deadline:
        job = desktop.job(job_id)
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def make_bridge(live, tmp_path, *answers):
    desktop = Bridge(LocalClient(live.url, lambda: live.token), tmp_path)
    desktop._attach(Dialogs(*answers))
    return desktop


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
    desktop = make_bridge(live, tmp_path, folder)
    chosen = desktop.choose_import_folder()
    assert [f["path"] for f in chosen["files"]] == [str(p) for p in files]
    job = wait(desktop, desktop.import_paths(project["id"], [f["path"] for f in chosen["files"]]))
    assert job["state"] == "done", job
    assert job["result"]["task_count"] == 11 and job["result"]["requests"] == 3
    assert job["done"] >= job["total"] > 0
    assert not job["result"]["errors"]


def test_import_errors_are_reported_per_batch(live, tmp_path):
    project = live.api.project()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    worse = tmp_path / "worse.json"  # the server's error quotes the item: the page must not
    worse.write_text('[{"other": "SECRET-LINE-42"}]')
    desktop = make_bridge(live, tmp_path, [bad, worse])
    chosen = [f["path"] for f in desktop.choose_import_files()]
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(bridge_module, "BATCH_FILES", 1)
    try:
        job = wait(desktop, desktop.import_paths(project["id"], chosen))
    finally:
        monkeypatch.undo()
    assert job["state"] == "done"
    first, second = job["result"]["errors"]
    assert first["files"] == ["bad.json"] and first["status"] == 400
    assert second["files"] == ["worse.json"] and second["status"] == 400
    assert second["answer"]["detail"].startswith("Error at item 0")  # a short reason
    assert "SECRET-LINE-42" not in json.dumps(job)


def test_save_export_where_the_user_chose(live, tmp_path, monkeypatch):
    project = live.api.project()
    live.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}])
    target = tmp_path / "out" / "mine.json"
    target.parent.mkdir()
    desktop = make_bridge(live, tmp_path, target)
    url = f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true"
    job = wait(desktop, desktop.save_export(url, "fallback"))
    assert job["state"] == "done", job
    import webview
    [(kind, options)] = desktop._window.asked
    assert kind == webview.FileDialog.SAVE and options["save_filename"].endswith(".json")
    assert json.loads(target.read_text())[0]["data"] == {"text": "a"}
    assert not list(target.parent.glob(".*.part"))


def test_save_export_cancelled_and_refused(live, tmp_path, monkeypatch):
    project = live.api.project()
    desktop = make_bridge(live, tmp_path, None)
    job = wait(desktop, desktop.save_export(f"/api/projects/{project['id']}/export", "x"))
    assert job["state"] == "cancelled"
    for url in ("http://example.com/x", "/api/x\r\nHost: evil", 42, None):
        with pytest.raises(Refused):
            desktop.save_export(url, "x")
    assert Path(tmp_path).exists()


def test_open_a_project_file_chosen_in_the_dialog(live, tmp_path, monkeypatch):
    project = live.api.project(title="Packed")
    live.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "a"}, {"text": "b"}])
    packed = tmp_path / "packed.zip"
    packed.write_bytes(live.api.get(f"/api/projects/{project['id']}/archive").content)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    desktop = make_bridge(live, tmp_path, packed, bad)
    chosen = desktop.choose_project_file()
    assert chosen == {"path": str(packed), "name": "packed.zip", "size": packed.stat().st_size}
    job = wait(desktop, desktop.open_project_file(chosen["path"]))
    assert job["state"] == "done", job
    assert job["done"] >= job["total"] == packed.stat().st_size
    answer = job["result"]
    assert answer["counts"]["tasks"] == 2 and answer["project"]["title"] == "Packed"
    assert answer["id"] != project["id"]

    assert desktop.choose_project_file()["path"] == str(bad)
    job = wait(desktop, desktop.open_project_file(str(bad)))
    assert job["state"] == "error" and job["error"].startswith("bad.zip: ")


def test_install_an_assistant_pack_chosen_in_the_dialog(live, tmp_path, monkeypatch):
    """The Assistants page's "Install from a pack file…" in the window: the native dialog picks
    the pack, the bridge uploads it to POST /api/assistants/install (the server checks it and
    installs it offline; here pip installs into a folder of the test's own)."""
    import packhelp
    from desktop.assistants import pack

    packed = packhelp.make_pack(tmp_path, value=3)
    real = pack.pip_command
    monkeypatch.setattr(pack, "pip_command", lambda python=None, target=None: real(
        python, tmp_path / "site"))
    for key, value in packhelp.NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    desktop = make_bridge(live, tmp_path, packed, bad)
    chosen = desktop.choose_assistant_pack()
    assert chosen["path"] == str(packed) and chosen["name"] == "dummy-pack.zip"
    job = wait(desktop, desktop.install_assistant_pack(chosen["path"]))
    assert job["state"] == "done", job
    server_job = job["result"]
    assert server_job["kind"] == "install" and server_job["pack"] == "dummy-pack.zip"
    deadline = time.time() + 60
    while live.api.get(server_job["url"]).json()["status"] in ("queued", "running"):
        assert time.time() < deadline
        time.sleep(0.1)
    assert live.api.get(server_job["url"]).json()["status"] == "completed"
    assert (tmp_path / "site" / "labeldesk_pack_dummy" / "__init__.py").is_file()

    assert desktop.choose_assistant_pack()["path"] == str(bad)
    job = wait(desktop, desktop.install_assistant_pack(str(bad)))
    assert job["state"] == "error" and job["error"].startswith("bad.zip: not an assistant pack")
    with pytest.raises(Refused):
        desktop.install_assistant_pack(str(tmp_path / "other.zip"))


def test_paths_the_user_did_not_pick_are_refused_untouched(live, tmp_path, monkeypatch):
    """The page names only what the user picked in this window: a file outside, a crafted way
    out of a picked folder, a relative path or a non-path are refused before anything is read;
    refusals name the file, never its contents or where it is."""
    project = live.api.project()
    picked = tmp_path / "picked"
    (picked / "sub").mkdir(parents=True)
    (picked / "sub" / "a.txt").write_text("fine\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENTS\n")
    launched = []
    monkeypatch.setattr(bridge_module.subprocess, "Popen",
                        lambda args, **kw: launched.append(args))
    desktop = make_bridge(live, tmp_path, picked)
    assert desktop.choose_import_folder()["files"][0]["name"] == "a.txt"

    outside = [str(secret), f"{picked}/../secret.txt", f"{picked}/sub/../../secret.txt",
               "secret.txt", "", "/etc/passwd", str(picked) + "-other/x.txt"]
    for path in outside:
        with pytest.raises(Refused) as refused:
            desktop.import_paths(project["id"], [str(picked / "sub" / "a.txt"), path])
        message = str(refused.value)
        assert "SECRET-CONTENTS" not in message and str(tmp_path) not in message
        assert "refused" in message
        with pytest.raises(Refused):
            desktop.open_project_file(path)
    for wrong in ([None], [42], [["a"]], str(secret), {"path": str(secret)}):
        with pytest.raises(Refused):
            desktop.import_paths(project["id"], wrong)
    assert task_count(live.api, project["id"]) == 0

    # reveal: the data folder, a picked folder or one inside it; never a file, nor elsewhere
    for path in (str(secret), str(tmp_path), "/", str(picked / "sub" / "a.txt"), "../x", 7):
        with pytest.raises(Refused):
            desktop.reveal(path)
    assert launched == []
    assert desktop.reveal() and desktop.reveal(str(picked / "sub"))
    assert [args[-1] for args in launched] == [str(tmp_path), str(picked / "sub")]

    # the picked folder's own files do go in
    job = wait(desktop, desktop.import_paths(project["id"], [str(picked / "sub" / "a.txt")]))
    assert job["state"] == "done" and job["result"]["task_count"] == 1


def test_a_saved_export_grants_its_folder_only(live, tmp_path, monkeypatch):
    project = live.api.project()
    target = tmp_path / "out" / "saved.json"
    target.parent.mkdir()
    launched = []
    monkeypatch.setattr(bridge_module.subprocess, "Popen",
                        lambda args, **kw: launched.append(args))
    desktop = make_bridge(live, tmp_path, target)
    job = wait(desktop, desktop.save_export(f"/api/projects/{project['id']}/export", "x"))
    assert job["state"] == "done", job
    assert desktop.reveal(str(target.parent))  # the toast's "Show" after saving
    with pytest.raises(Refused):
        desktop.import_paths(project["id"], [str(target.parent / "other.json")])
    with pytest.raises(Refused):
        desktop.reveal(str(tmp_path))


def test_pywebview_reaches_only_the_public_functions(live, tmp_path, caplog):
    """pywebview 6.2 resolves a call's name in window.expose's functions, then along dotted
    attributes of js_api (underscores too): with the Bridge as js_api, `_window.gui.os.system`
    was reachable. The Facade has no attribute at all, so only the exposed names resolve."""
    import webview
    from webview.util import js_bridge_call
    from webview.window import Window

    desktop = make_bridge(live, tmp_path)
    showing = {"ours": True}
    window = Window("test", "test", "http://127.0.0.1:1/", js_api=Facade())  # never shown
    window.expose(*exposed(desktop, lambda: showing["ours"]))
    assert sorted(window._functions) == sorted(Bridge.PUBLIC)
    assert dir(window._js_api) == []
    for name in ("__class__", "__dict__", "_window", "client", "choose_folder", "__init__"):
        with pytest.raises(AttributeError):
            getattr(window._js_api, name)

    marker = tmp_path / "marker"
    paths = ["_window.gui.os.system", "_client.token", "__class__.__init__.__globals__",
             "choose_folder.__globals__.__setitem__", "job.__builtins__.exec",
             "desktop.__closure__.__getitem__", "__class__.__subclasses__", "_dialog",
             "_grants.add_folder", "os.system", "__init__", "_attach", "Bridge"]
    with caplog.at_level(logging.ERROR, logger="pywebview"):
        for path in paths:
            js_bridge_call(window, path, [f"touch {marker}"], "1")
    refused = [r.getMessage() for r in caplog.records if "does not exist" in r.getMessage()]
    assert refused == [f"Function {path}() does not exist" for path in paths]
    assert not marker.exists()
    assert webview.windows == []  # nothing was started

    # the exposed functions answer our page only
    call = window._functions["desktop"]
    assert call() == {"desktop": True, "platform": __import__("sys").platform}
    # the API token, which no cookie session is given (the Settings page shows it from here)
    assert window._functions["api_token"]() == {"token": live.token}
    showing["ours"] = False
    with pytest.raises(Refused):
        call()
    with pytest.raises(Refused):
        window._functions["api_token"]()
