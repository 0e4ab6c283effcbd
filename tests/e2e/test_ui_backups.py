"""Settings > Backups in the browser (tests/helpers/uihelp.py: headless Chromium): make data,
"Back up now", change the data, "Restore…" with its confirmation, and the old data is back."""

import pytest
from conftest import LiveServer

from uihelp import UI, browser  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(120)


def test_back_up_change_and_restore_from_the_settings_page(browser, tmp_path):  # noqa: F811
    live = LiveServer(tmp_path / "data", reopenable=True)  # as the window serves it
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    ui = UI(live, context)
    try:
        api = live.api
        project = api.project(title="Old reviews")
        api.post(f"/api/projects/{project['id']}/import",
                 json=[{"text": "kept"}, {"text": "also kept"}]).raise_for_status()
        page = ui.sign_in().page
        ui.go("/settings")
        page.wait_for_selector("#no-backups")
        page.click("#backup-now")
        page.wait_for_selector(".backup >> text=Backed up by you")
        assert "1 project, 2 tasks" in page.inner_text(".backup")

        # change the data: another project, the old one renamed, a task deleted
        api.project(title="Made after the backup")
        api.patch(f"/api/projects/{project['id']}", json={"title": "Renamed"}).raise_for_status()
        task = api.get("/api/tasks", params={"project": project["id"]}).json()["tasks"][0]
        api.delete(f"/api/tasks/{task['id']}").raise_for_status()
        ui.go("/projects")
        page.wait_for_selector("text=Made after the backup")

        ui.go("/settings")
        page.wait_for_selector(".backup .restore-backup")
        page.click(".backup .restore-backup")
        dialog = page.wait_for_selector(".modal >> text=Restore this backup?")
        assert dialog
        text = page.inner_text(".modal")
        assert "current state is backed up first" in text and "1 project, 2 tasks" in text
        page.click(".modal .btn-danger:has-text('Restore')")
        # the page reloads signed in to the restored data
        page.wait_for_selector("text=Old reviews")
        assert page.locator("text=Made after the backup").count() == 0
        titles = [p["title"] for p in api.get("/api/projects").json()["results"]]
        assert titles == ["Old reviews"]
        assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == 2

        # the state before the restore is listed, ready to go back to
        ui.go("/settings")
        page.wait_for_selector(".backup >> text=State before a restore")
        assert page.locator(".backup").count() == 2
        assert not ui.errors, ui.errors
    finally:
        context.close()
        live.close()
    ui.assert_offline()
