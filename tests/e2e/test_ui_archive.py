"""LabelDesk's Project files page (/desktop#/projects, the app's menu → "Project files") in
headless Chromium (tests/helpers/uihelp.py): what it adds to Label Studio's web app.

"Save project file…" downloads the project's .zip, "Open project file…" brings the same project
back as a new one and opens it in the web app; "Live export folder" (JSON) → labeling in the web
app writes the annotation's file there, "Sync now" and "Stop" work; "Save export…" saves an
export in the chosen format; "Duplicate…" copies a project; in the window, "Import files…" and
"Import folder…" hand the files chosen in its native dialogs to its native side (stubbed here:
the native side itself is tests/api/test_ui_bridge.py's); each project links to its data in
the web app."""

import io
import json
import re
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

    ui.go("/projects")
    row = f"[data-project='{source}']"
    assert page.get_attribute(f"{row} a.project-link", "href") == f"/projects/{source}/data"
    with page.expect_download() as download:
        page.click(f"{row} .save-archive")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith(f"labeldesk-project-{source}-") and saved.suffix == ".zip"
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(saved.read_bytes())).read("manifest.json"))
    assert manifest["counts"]["tasks"] == 3 and manifest["counts"]["annotations"] == 1

    with page.expect_file_chooser() as chooser:
        page.click("#open-archive")
    chooser.value.set_files(str(saved))
    # the new project, in the web app's data manager
    page.wait_for_url(re.compile(rf"/projects/(?!{source}/)\d+/data"))
    copy = int(page.url.split("/projects/")[1].split("/")[0])
    page.wait_for_selector(".lsf-menu-header")
    page.wait_for_function("document.querySelectorAll('.lsf-table-row').length === 3")

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

    ui.go("/projects")
    page.click(f"[data-project='{project['id']}'] .live-toggle")
    page.wait_for_selector("#live-status >> text=Off")
    page.select_option("#live-format", "JSON")
    page.fill("#live-path", str(folder))
    page.click("#live-start")
    page.wait_for_selector("#live-status >> text=On: JSON into")
    assert folder.is_dir() and not list(folder.iterdir())

    # label a task in the web app: its annotation appears as a file named by its id
    first = ui.api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"][0]
    ui.open_app(f"/projects/{project['id']}/data?task={first['id']}")
    page.locator(".lsf-choice", has_text="Negative").first.click()
    page.get_by_role("button", name="Submit").click()
    [annotation] = wait_for(lambda: [a for t in ui.api.get("/api/tasks", params={
        "project": project["id"], "fields": "all"}).json()["tasks"] for a in t["annotations"]])
    written = wait_for(lambda: (folder / str(annotation["id"])).exists()
                       and json.loads((folder / str(annotation["id"])).read_text()))
    assert written["result"][0]["value"] == {"choices": ["Negative"]}
    assert written["task"]["data"] == {"text": "first text"}

    # Sync now rewrites a removed file; Stop keeps the files
    (folder / str(annotation["id"])).unlink()
    ui.go("/projects")
    page.click(f"[data-project='{project['id']}'] .live-toggle")
    page.wait_for_selector("#live-sync:visible")
    assert page.input_value("#live-path") == str(folder)
    page.click("#live-sync")
    wait_for(lambda: (folder / str(annotation["id"])).exists())
    page.click("#live-stop")
    page.wait_for_selector("#live-status >> text=Off")
    assert ui.api.get(f"/api/projects/{project['id']}/live-export").json()["enabled"] is False
    assert (folder / str(annotation["id"])).exists()
    assert not ui.errors, ui.errors


def test_save_an_export_and_duplicate(ui, tmp_path):
    page = ui.sign_in().page
    source = project_with_work(ui.api)
    ui.go("/projects")
    row = f"[data-project='{source}']"
    page.click(f"{row} .save-export")
    page.select_option("#export-format", "CSV")
    with page.expect_download() as download:
        page.click("#export-button")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert "sentiment" in lines[0] and len(lines) == 2  # the one labeled task
    page.wait_for_selector(f"{row} .project-status >> text=Downloaded")

    page.click(f"{row} .duplicate")
    page.fill(".modal input[type=text]", "Reviews, again")
    page.click(".modal .btn-primary")
    page.wait_for_selector("a.project-link >> text=Reviews, again")
    [copy] = [p for p in ui.api.get("/api/projects").json()["results"]
              if p["title"] == "Reviews, again"]
    assert copy["label_config"] == ui.api.get(f"/api/projects/{source}").json()["label_config"]
    assert copy["task_number"] == 3
    # an old address of a screen the web app now has leads there
    ui.go(f"/projects/{source}/label")
    page.wait_for_url(f"{ui.live.ui_url}/projects/{source}/data")
    assert not ui.errors, ui.errors


# The window's native side, as the page sees it (window.pywebview.api): what the dialogs chose,
# and every call recorded. The real one is tests/api/test_ui_bridge.py's.
FAKE_BRIDGE = """
window.bridgeCalls = [];
const files = [{name: "a.txt", size: 3, path: "/home/me/a.txt"},
               {name: "b.txt", size: 4, path: "/home/me/b.txt"}];
window.pywebview = {api: {
  choose_import_files: async () => { bridgeCalls.push(["choose_import_files"]); return files; },
  choose_import_folder: async () => { bridgeCalls.push(["choose_import_folder"]);
                                      return {folder: "/home/me/texts", files}; },
  import_paths: async (id, paths) => { bridgeCalls.push(["import_paths", id, paths]);
                                       return "j1"; },
  job: async (id) => ({id, state: "done", done: 7, total: 7, result: {
    task_count: 2, annotation_count: 0, prediction_count: 0, files: 2, errors: []}}),
}};
"""


def test_import_local_files_and_folders_in_the_window(ui):
    """In the window (its native side present) each project has "Import files…" and "Import
    folder…": the chosen paths go to the native side's import_paths for that project, and its
    summary shows. In a browser neither button is there (the web app's Import is)."""
    page = ui.sign_in().page
    project = ui.api.project(title="Local files", label_config=CONFIG)
    ui.go("/projects")
    row = f"[data-project='{project['id']}']"
    page.wait_for_selector(f"{row} .save-archive")
    assert page.locator(f"{row} .import-files").count() == 0
    page.add_init_script(FAKE_BRIDGE)
    page.reload()
    page.click(f"{row} .import-files")
    page.wait_for_selector(f"{row} .import-summary >> text=2 tasks created from 2 files")
    page.click(f"{row} .import-folder")
    page.wait_for_function("window.bridgeCalls.length === 4")
    paths = ["/home/me/a.txt", "/home/me/b.txt"]
    assert page.evaluate("window.bridgeCalls") == [
        ["choose_import_files"], ["import_paths", project["id"], paths],
        ["choose_import_folder"], ["import_paths", project["id"], paths]]
    assert not ui.errors, ui.errors
