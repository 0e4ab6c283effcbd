"""The editor's History panel on LabelDesk's annotation history (issue 20), in Debian's Chromium:
it lists the versions of the annotation in front of the user, from the API, and one click on
"Restore this version" under a version picked there makes the annotation that version again
(desktop/ui/js/webapp-history.js; the panel switched on by a set-up patch, desktop/ui/webapp.py).
"""

import pytest
from conftest import LiveServer

from uihelp import browser  # noqa: F401 - fixture
from webapphelp import TEXT_CONFIG, App


def choice(value):
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]


@pytest.fixture
def app(browser, tmp_path):  # noqa: F811 - fixture
    live = LiveServer(tmp_path / "data")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield App(live, context)
    context.close()
    live.close()


def visible_tab(page, name):
    return page.locator(".lsf-panel-tabs__tab:visible", has_text=name).first


def test_the_history_panel_lists_the_versions_and_restores_one_in_a_click(app):
    api = app.api
    project = api.project(title="Reviews", label_config=TEXT_CONFIG)["id"]
    task = api.post(f"/api/projects/{project}/import?return_task_ids=true",
                    json=[{"text": "a fine day"}]).json()["task_ids"][0]
    values = ["Positive", "Negative", "Positive", "Negative"]
    annotation = api.post(f"/api/tasks/{task}/annotations",
                          json={"result": choice(values[0])}).json()["id"]
    for value in values[1:]:
        api.patch(f"/api/annotations/{annotation}", json={"result": choice(value)})
    view = api.post("/api/dm/views", json={"project": project}).json()["id"]

    page = app.sign_in(f"/projects/{project}/data?tab={view}&task={task}").page
    page.wait_for_selector(".lsf-editor .lsf-richtext__line >> text=a fine day")
    visible_tab(page, "History").click()
    page.wait_for_selector(".lsf-history-item >> nth=3")
    items = page.locator(".lsf-history-item")
    assert items.count() == 4  # every version, newest first, from the API
    reasons = page.eval_on_selector_all(
        ".lsf-history-item__comment-content", "els => els.map(e => e.dataset.reason)")
    assert reasons == ["Updated", "Updated", "Updated", "Submitted"]
    page.screenshot(path=str(app.live.settings.data_dir / "history-panel.png"))

    items.nth(3).click()  # the first version: the editor shows it, read-only
    bar = page.wait_for_selector("#labeldesk-history-restore")
    assert bar.text_content().startswith("Version #1 (Submitted, ")
    page.click("#labeldesk-history-restore button")  # the one click
    page.wait_for_function("document.querySelectorAll('.lsf-history-item').length === 5")

    assert api.get(f"/api/annotations/{annotation}").json()["result"] == choice(values[0])
    shown = page.evaluate("window.Htx.annotationStore.selected.serializeAnnotation()"
                          ".map(r => r.value.choices)")
    assert shown == [[values[0]]]  # the editor shows the annotation as it is now
    newest = api.get(f"/api/annotation-history?annotation={annotation}").json()[0]
    assert newest["comment"] == "Restored version #1" and newest["result"] == choice(values[0])
    assert page.eval_on_selector(".lsf-history-item__comment-content",
                                 "e => e.textContent") == "Restored version #1"
    assert page.query_selector("#labeldesk-history-restore") is None

    # a change made in the editor shows up in the panel once saved
    page.locator(".lsf-choices label", has_text="Negative").first.click()
    page.get_by_test_id("bottombar-update-button").click()
    page.wait_for_function("document.querySelectorAll('.lsf-history-item').length === 6")
    assert api.get(f"/api/annotations/{annotation}").json()["result"][0]["value"] == {
        "choices": ["Negative"]}
    app.assert_clean()


def test_a_version_of_another_task_is_never_shown(app):
    """The panel is given the versions of the annotation on screen only: moving to another task
    shows that one's."""
    api = app.api
    project = api.project(title="Two", label_config=TEXT_CONFIG)["id"]
    first, second = api.post(f"/api/projects/{project}/import?return_task_ids=true",
                             json=[{"text": "first"}, {"text": "second"}]).json()["task_ids"]
    one = api.post(f"/api/tasks/{first}/annotations", json={"result": choice("Positive")})
    api.patch(f"/api/annotations/{one.json()['id']}", json={"result": choice("Negative")})
    api.post(f"/api/tasks/{second}/annotations", json={"result": choice("Positive")})
    view = api.post("/api/dm/views", json={"project": project}).json()["id"]
    page = app.sign_in(f"/projects/{project}/data?tab={view}&task={first}").page
    page.wait_for_selector(".lsf-editor .lsf-richtext__line >> text=first")
    visible_tab(page, "History").click()
    page.wait_for_selector(".lsf-history-item >> nth=1")
    assert page.locator(".lsf-history-item").count() == 2
    app.goto(f"/projects/{project}/data?tab={view}&task={second}")
    page.wait_for_selector(".lsf-editor .lsf-richtext__line >> text=second")
    visible_tab(page, "History").click()
    page.wait_for_function("document.querySelectorAll('.lsf-history-item').length === 1")
    app.assert_clean()
