"""Whole-project files and live export folders from the UI (tests/helpers/uihelp.py: headless
Chromium).

Export → "Download project file (.zip)", then Projects → "Open project file…" brings the same
project back as a new one; Project settings → live export folder (JSON) → labeling writes the
annotation's file there; "Sync now" and "Stop" work."""

import io
import json
import zipfile
from pathlib import Path

import pytest

from datahelp import wait_for
from uihelp import browser, ui  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(120)

CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single-radio">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""


def project_with_work(api):
    project = api.project(title="Reviews to keep", label_config=CONFIG)
    api.post(f"/api/projects/{project['id']}/import",
             json=[{"text": "great"}, {"text": "bad"}, {"text": "fine"}]).raise_for_status()
    tasks = api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"]
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
               "value": {"choices": ["Positive"]}}]
    api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result}) \
        .raise_for_status()
    api.post("/api/predictions", json={"task": tasks[1]["id"], "result": result, "score": 0.5}) \
        .raise_for_status()
    return project["id"]


def test_project_round_trips_through_its_file(ui, tmp_path):
    page = ui.sign_in().page
    source = project_with_work(ui.api)

    ui.go(f"/projects/{source}/export")
    with page.expect_download() as download:
        page.click("#archive-button")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith(f"labeldesk-project-{source}-") and saved.suffix == ".zip"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(saved.read_bytes())).read("manifest.json"))
    assert manifest["counts"]["tasks"] == 3 and manifest["counts"]["annotations"] == 1

    ui.go("/projects")
    page.wait_for_selector(f"[data-project='{source}']")
    with page.expect_file_chooser() as chooser:
        page.click("#open-archive")
    chooser.value.set_files(str(saved))
    page.wait_for_function(f"/#\\/projects\\/(?!{source}\\/)\\d+\\/data/.test(location.hash)")
    copy = int(page.url.split("/projects/")[1].split("/")[0])
    page.wait_for_function("document.querySelectorAll('tr[data-task]').length === 3")

    assert ui.api.get(f"/api/projects/{copy}").json()["title"] == "Reviews to keep"
    tasks = ui.api.get("/api/tasks", params={"project": copy, "fields": "all"}).json()["tasks"]
    assert [t["data"]["text"] for t in tasks] == ["great", "bad", "fine"]
    assert [len(t["annotations"]) for t in tasks] == [1, 0, 0]
    assert [len(t["predictions"]) for t in tasks] == [0, 1, 0]
    assert tasks[0]["annotations"][0]["result"][0]["value"] == {"choices": ["Positive"]}
    assert not ui.errors, ui.errors



def test_live_json_folder_gets_files_as_you_label(ui):
    page = ui.sign_in().page
    project = ui.api.project(title="Live labels", label_config=CONFIG)
    ui.api.post(f"/api/projects/{project['id']}/import",
                json=[{"text": "first text"}, {"text": "second text"}]).raise_for_status()
    folder = Path(ui.live.settings.data_dir) / "live" / "reviews"

    ui.go(f"/projects/{project['id']}/settings")
    page.wait_for_selector("#live-status >> text=Off")
    page.select_option("#live-format", "JSON")
    page.fill("#live-path", str(folder))
    page.click("#live-start")
    page.wait_for_selector("#live-status >> text=On: JSON into")
    assert folder.is_dir() and not list(folder.iterdir())

    # label a task in the editor: its annotation appears as a file named by its id
    ui.go(f"/projects/{project['id']}/label")
    page.wait_for_selector(".label-host .lsf-root")
    page.locator(".lsf-choice", has_text="Negative").first.click()
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".label-host >> text=second text")
    [annotation] = [a for t in ui.api.get("/api/tasks", params={
        "project": project["id"], "fields": "all"}).json()["tasks"] for a in t["annotations"]]
    written = wait_for(lambda: (folder / str(annotation["id"])).exists()
                       and json.loads((folder / str(annotation["id"])).read_text()))
    assert written["result"][0]["value"] == {"choices": ["Negative"]}
    assert written["task"]["data"] == {"text": "first text"}

    # Sync now rewrites a removed file; Stop keeps the files
    (folder / str(annotation["id"])).unlink()
    ui.go(f"/projects/{project['id']}/settings")
    page.wait_for_selector("#live-sync:visible")
    assert page.input_value("#live-path") == str(folder)
    page.click("#live-sync")
    wait_for(lambda: (folder / str(annotation["id"])).exists())
    page.click("#live-stop")
    page.wait_for_selector("#live-status >> text=Off")
    assert ui.api.get(f"/api/projects/{project['id']}/live-export").json()["enabled"] is False
    assert (folder / str(annotation["id"])).exists()
    assert not ui.errors, ui.errors
