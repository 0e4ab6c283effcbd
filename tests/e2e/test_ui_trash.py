"""The trash in the browser (headless Chromium): the web app's delete dialog says how many
tasks, annotations and predictions go and that they go to the trash; the Trash page, reached
from the web app's menu, lists them, restores one, deletes one for good and empties it."""

import re

import pytest
from conftest import LiveServer

from datahelp import choice
from uihelp import UI, browser  # noqa: F401 - fixture
from webapphelp import TEXT_CONFIG, App

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def live(tmp_path):
    server = LiveServer(tmp_path / "data")
    yield server
    server.close()


def project_with_work(api, title, texts):
    pid = api.project(title=title, label_config=TEXT_CONFIG)["id"]
    answer = api.post(f"/api/projects/{pid}/import", json=[{"text": t} for t in texts])
    assert answer.status_code == 201, answer.text
    tasks = api.get("/api/tasks", params={"project": pid}).json()["tasks"]
    result = choice("Positive")
    api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result}
             ).raise_for_status()
    api.post("/api/predictions", json={"task": tasks[0]["id"], "result": result}
             ).raise_for_status()
    return pid, [t["id"] for t in tasks]


def test_the_delete_dialog_counts_what_goes_and_the_trash_gives_it_back(browser, live):  # noqa: F811
    api = live.api
    pid, ids = project_with_work(api, "Dialog", ["one", "two", "three"])
    before = api.get(f"/api/tasks/{ids[0]}").json()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    app = App(live, context).sign_in(f"/projects/{pid}/data")
    page = app.page
    try:
        page.wait_for_function("document.querySelectorAll('.lsf-table-row').length === 3")
        for task in ids[:2]:
            page.locator(f"input[aria-label='Select Task {task}']").click()
        page.locator("button", has_text=re.compile(r"^\s*2 Tasks\s*$")).click()
        page.locator(".lsf-menu-dm__item", has_text="Delete Tasks").click()
        dialog = page.locator(".lsf-modal-ls_visible")
        text = dialog.locator("[data-labeldesk='counted']")
        text.wait_for()
        words = text.inner_text()
        assert "You are about to delete 2 tasks with 1 annotation, 1 prediction." in words, words
        assert "trash for 30 days" in words and "can't be undone" not in words, words
        with page.expect_response(lambda r: "id=delete_tasks" in r.url) as deleted:
            dialog.get_by_role("button", name="Delete Tasks").click()
        assert deleted.value.status == 200
        page.wait_for_function("document.querySelectorAll('.lsf-table-row').length === 1")

        # the web app's menu leads to the Trash page
        page.click(".lsf-menu-header__trigger")
        page.locator("#labeldesk-trash").click()
        page.wait_for_selector(".trash-item")
        item = page.locator(".trash-item")
        assert item.count() == 1
        assert "2 tasks" in item.inner_text() and "1 annotation" in item.inner_text()
        item.locator(".restore-item").click()
        page.wait_for_selector("#trash-list >> text=The trash is empty")
        assert api.get(f"/api/tasks/{ids[0]}").json() == before
        assert api.get(f"/api/projects/{pid}").json()["task_number"] == 3
        app.assert_clean()
    finally:
        context.close()


def item(page, title):
    return page.locator(".trash-item", has=page.locator("h3", has_text=title))


def test_trash_page_restores_deletes_and_empties(browser, live):  # noqa: F811
    api = live.api
    kept, _ = project_with_work(api, "Comes back", ["a", "b"])
    gone, _ = project_with_work(api, "Goes for good", ["c"])
    third, _ = project_with_work(api, "Emptied", ["d"])
    for pid in (third, gone, kept):
        assert api.delete(f"/api/projects/{pid}").status_code == 204
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    ui = UI(live, context)
    try:
        page = ui.sign_in().page
        ui.go("/trash")
        page.wait_for_selector(".trash-item")
        assert page.locator(".trash-item h3").all_inner_texts() == [
            "Project “Comes back”", "Project “Goes for good”", "Project “Emptied”"]
        assert "2 tasks, 1 annotation, 1 prediction" in page.locator(".trash-item").first \
            .inner_text()

        item(page, "Comes back").locator(".restore-item").click()
        page.wait_for_selector(".toast >> text=Restored: Project “Comes back”")
        page.wait_for_function("document.querySelectorAll('.trash-item').length === 2")
        assert api.get(f"/api/projects/{kept}").json()["task_number"] == 2

        item(page, "Goes for good").locator(".delete-item").click()
        page.wait_for_selector(".modal >> text=Delete for good?")
        page.click(".modal .btn-danger:has-text('Delete')")
        page.wait_for_function("document.querySelectorAll('.trash-item').length === 1")

        page.click("#empty-trash")
        page.wait_for_selector(".modal >> text=Empty the trash?")
        page.click(".modal .btn-danger:has-text('Empty trash')")
        page.wait_for_selector("#trash-list >> text=The trash is empty")
        assert page.locator("#empty-trash").is_disabled()
        assert api.get("/api/ui/trash").json()["items"] == []
        for pid in (gone, third):
            assert api.get(f"/api/projects/{pid}").status_code == 404

        # the setting: on the Settings page, beside the data folder
        ui.go("/settings")
        field = page.wait_for_selector("#trash-days")
        assert field.input_value() == "30"
        field.fill("7")
        field.press("Tab")  # the change event
        page.wait_for_selector(".modal >> text=Keep deleted items 7 days?")  # fewer: asked first
        page.click(".modal .btn-danger:has-text('Keep them less')")
        page.wait_for_selector(".toast >> text=Deleted items stay in the trash 7 days")
        assert api.get("/api/ui/settings").json()["trash_days"] == 7
        assert not ui.errors, ui.errors
    finally:
        context.close()
    ui.assert_offline()
