"""The Assistants page in the browser (headless Chromium, tests/helpers/uihelp.py): reached from
the web app's main menu with the project open, teach mode and near-duplicates turned on with
their switches, the scan's progress, teach mode's stats after a submit, uncertainty sampling
switched on; nothing leaves the machine, no page error."""

import pytest

from assisthelp import TEXT_CONFIG, texts_with_duplicates
from datahelp import wait_for
from uihelp import browser, ui  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(120)


def test_turn_assistants_on_from_the_web_apps_menu(ui, tmp_path):  # noqa: F811
    api = ui.api
    api.project(title="Other")
    project = api.project(title="Reviews", label_config=TEXT_CONFIG)["id"]
    texts, copies = texts_with_duplicates(40, 3, seed=4)
    api.post(f"/api/projects/{project}/import", json=[{"text": t} for t in texts])
    page = ui.sign_in().page
    ui.open_app(f"/projects/{project}/data")
    page.click(".lsf-menu-header__trigger")
    page.click("#labeldesk-assistants")
    page.wait_for_url(f"{ui.live.ui_url}/desktop#/assistants?project={project}")
    teach = page.locator("[data-assistant=teach]")
    teach.wait_for()
    assert page.locator("#assistants-project").input_value() == str(project)
    assert "Fills label (choices) on text" in teach.inner_text()
    assert "labels Pos, Neg" in teach.inner_text()

    teach.locator(".switch").click()
    page.locator("[data-assistant=teach] .teach-stats").wait_for()
    assert api.get(f"/api/ml?project={project}").json()[0]["title"] == "Teach mode"
    page.click("#use-uncertainty")
    wait_for(lambda: api.get(f"/api/projects/{project}").json()["sampling"] ==
             "Uncertainty sampling")

    duplicates = page.locator("[data-assistant=duplicates]")
    duplicates.locator(".switch").click()
    page.locator("[data-assistant=duplicates] .duplicates-scan").wait_for()
    assert "near-duplicates found" in duplicates.inner_text()

    task = api.get(f"/api/projects/{project}/next").json()
    api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [
        {"from_name": "label", "to_name": "text", "type": "choices",
         "value": {"choices": ["Pos"]}}]})
    wait_for(lambda: api.get(f"/api/assistants?project={project}").json()[2]["stats"])
    page.reload()
    page.locator("[data-assistant=teach] .teach-stats >> text=Labels seen: 1").wait_for()
    page.screenshot(path=str(tmp_path / "assistants.png"), full_page=True)

    teach.locator(".switch").click()  # off again: its ML backend goes
    wait_for(lambda: api.get(f"/api/ml?project={project}").json() == [])
    assert not ui.errors, ui.errors
    ui.assert_offline()
