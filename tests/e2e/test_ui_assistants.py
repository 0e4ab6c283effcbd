"""The assistants in the browser (headless Chromium, tests/helpers/uihelp.py): the Assistants
page reached from the web app's main menu with the project open, teach mode and
near-duplicates turned on with their switches, the scan's progress, teach mode's stats after a
submit, uncertainty sampling switched on; and the web app's label stream with teach mode's guess
pre-selected, accepted with one key. Nothing leaves the machine, no page error."""

import pytest

from assisthelp import IMAGE_CONFIG, TEXT_CONFIG, texts_with_duplicates
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


def test_teach_modes_guess_is_preselected_and_one_key_accepts_it(ui):  # noqa: F811
    """The web app's label stream with teach mode: the task it is least sure of comes with its
    guess already chosen in the editor; Ctrl+Enter (Submit) saves it as the annotation."""
    api = ui.api
    texts = [f"good great fine {i}" if i % 2 else f"bad awful poor {i}" for i in range(30)]
    project = api.project(title="Teach", label_config=TEXT_CONFIG,
                          sampling="Uncertainty sampling")["id"]
    api.post(f"/api/projects/{project}/import", json=[{"text": t} for t in texts])
    assert api.post("/api/assistants/teach/enable", json={"project": project}).status_code == 200
    for _ in range(6):  # teach it good from bad
        task = api.get(f"/api/projects/{project}/next").json()
        label = "Pos" if "good" in task["data"]["text"] else "Neg"
        api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [
            {"from_name": "label", "to_name": "text", "type": "choices",
             "value": {"choices": [label]}}]})
    page = ui.sign_in().page
    ui.open_app(f"/projects/{project}/data")
    page.get_by_role("button", name="Label All Tasks").click()
    page.wait_for_selector(".lsf-choices")
    page.wait_for_function("() => document.querySelector('.lsf-choice__item input:checked')")
    text = page.locator(".lsf-richtext, .lsf-text").first.inner_text()
    assert ("good" in text) != ("bad" in text), text  # the task's text, one of the two kinds
    guess = "Pos" if "good" in text else "Neg"
    checked = page.locator(".lsf-choice__item", has_text=guess).locator("input")
    assert checked.is_checked(), f"{guess} is not pre-selected for {text!r}"
    before = api.get(f"/api/projects/{project}").json()["total_annotations_number"]
    # the key once the editor has settled, as a person presses it: Submit is there and
    # enabled, and the task's requests (the stream's next, history) have been answered
    submit = page.locator(".lsf-controls button", has_text="Submit")
    submit.wait_for()
    page.wait_for_function("b => !b.disabled", arg=submit.element_handle())
    page.wait_for_load_state("networkidle")
    page.keyboard.press("Control+Enter")
    try:
        wait_for(lambda: api.get(f"/api/projects/{project}").json()["total_annotations_number"]
                 == before + 1)
    except AssertionError:
        raise AssertionError(f"Ctrl+Enter saved nothing; the page's last answers: "
                             f"{ui.answers[-12:]}, errors {ui.errors}") from None
    tasks = api.get(f"/api/tasks?project={project}&fields=all&page_size=100").json()["tasks"]
    newest = max((a for t in tasks for a in t["annotations"]), key=lambda a: a["id"])
    assert newest["result"][0]["value"]["choices"] == [guess]
    assert not ui.errors, ui.errors
    ui.assert_offline()


def test_missing_assistants_install_from_a_pack_file(ui, tmp_path, monkeypatch):  # noqa: F811
    """Heavy assistants missing (spaCy and OpenCV, hidden from the worker) offer "Install from a
    pack file…": the pack chosen in the browser's file dialog is uploaded, checked and installed
    offline (pip into a folder of the test's own), and the page says so."""
    import packhelp
    from desktop.assistants import pack

    packhelp.hide_from_worker(tmp_path / "fake-site", monkeypatch, "cv2", "spacy")
    real = pack.pip_command
    monkeypatch.setattr(pack, "pip_command", lambda python=None, target=None: real(
        python, tmp_path / "site"))
    for key, value in packhelp.NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    packed = packhelp.make_pack(tmp_path / "made", value=9)

    project = ui.api.project(title="Scenes", label_config=IMAGE_CONFIG)["id"]
    page = ui.sign_in().page
    ui.go(f"/assistants?project={project}")
    panel = page.locator("#assistant-pack")
    page.locator("#install-pack").wait_for()
    assert "Named entities (spaCy, English) and Click-to-mask (OpenCV GrabCut)" in \
        panel.inner_text() and "make assistant-pack" in panel.inner_text()
    assert "Not installed: OpenCV" in page.locator("[data-assistant=mask]").inner_text()
    with page.expect_file_chooser() as chooser:
        page.click("#install-pack")
    chooser.value.set_files(packed)
    page.get_by_text("Installed from dummy-pack.zip").wait_for(timeout=60_000)
    assert (tmp_path / "site" / "labeldesk_pack_dummy" / "__init__.py").is_file()
    assert not ui.errors, ui.errors


def test_the_entities_label_map_shows_what_the_model_uses(ui):  # noqa: F811
    """Named entities on Label Studio's NER template: the page's label map starts from what the
    model uses (spaCy's PERSON -> PER, GPE -> LOC), and a change saved is the backend's."""
    import assistanthelp as h
    project = ui.api.project(title="NER", label_config=h.NER_CONFIG)["id"]
    ui.api.post(f"/api/projects/{project}/import", json=[{"text": "Angela Merkel in Paris."}])
    page = ui.sign_in().page
    ui.go(f"/assistants?project={project}")
    entities = page.locator("[data-assistant=entities]")
    entities.wait_for()
    entities.locator(".switch").click()
    person = page.get_by_label("Project label for PERSON")
    person.wait_for()
    assert person.input_value() == "PER"
    assert page.get_by_label("Project label for GPE").input_value() == "LOC"
    assert page.get_by_label("Project label for DATE").input_value() == ""
    page.get_by_label("Project label for GPE").select_option("MISC")
    page.get_by_role("button", name="Save the label map").click()

    def saved():
        backends = ui.api.get(f"/api/ml?project={project}").json()
        label_map = ((backends[0].get("extra_params") or {}).get("label_map") or {}) \
            if backends else {}
        return label_map if label_map.get("GPE") == "MISC" else None
    assert wait_for(saved)["PERSON"] == "PER"
    assert not ui.errors, ui.errors
