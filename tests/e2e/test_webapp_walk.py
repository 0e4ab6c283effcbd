"""The walk through Label Studio 1.23.2's web app on a real LabelDesk (issue 22; docs/adr/
0009-web-app.md), in Debian's headless Chromium: the data manager, labeling, drafts, every project
settings tab, export, LabelDesk's own pages from the app's menu, creating a project from a
template with a CSV and images, and the labeling controls at a small and a large window size.
Each step asserts what the user sees and what the API holds. The walk fails on any console
error, any answer >= 400 not in ALLOWED, and any request that leaves the machine."""

import json
import re

import pytest
from conftest import LiveServer

from datahelp import png
from uihelp import IN_CI, browser  # noqa: F401 - fixture
from webapphelp import TEXT_CONFIG, Allowed, App

pytestmark = pytest.mark.timeout(180)

ALLOWED = [
    # Submitting or skipping the last task asks for the next one: there is none, and Label
    # Studio 1.23.2 answers the same 404 (data_manager/actions/next_task.py raises NotFound).
    Allowed("POST", r"^/api/dm/actions\?id=next_task&", 404,
            "next_task when no task is left (LS: 404 'There are no tasks for <user>')"),
]
TEXTS = ["alpha good", "beta bad", "gamma ok", "delta fine"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("walk") / "data")
    yield server
    server.close()


@pytest.fixture(scope="module")
def walk(browser, live):  # noqa: F811 - fixture
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    app = App(live, context, ALLOWED).sign_in("/projects")
    yield app
    context.close()
    answers = len(app.answers)
    print(f"\nwalk: {answers} answers checked, {len(app.screens)} screens: "
          f"{', '.join(app.screens)}; expected 4xx: {app.expected}")


@pytest.fixture
def app(walk):
    """The walk's page, clean at the start of each step and checked at its end."""
    walk.problems.clear()
    yield walk
    walk.assert_clean()


def make_project(api, texts=TEXTS, title="Reviews"):
    project = api.project(title=title, label_config=TEXT_CONFIG)
    answer = api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t in texts])
    assert answer.status_code == 201, answer.text
    return project["id"]


def tasks(api, pid):
    return api.get("/api/tasks", params={"project": pid, "page_size": 100}).json()["tasks"]


def view(api, pid, tab):
    return api.get(f"/api/dm/views/{tab}", params={"project": pid}).json()


def active_tab(page):
    match = re.search(r"[?&]tab=(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def row_ids(page):
    """The ids of the rows shown, from their checkboxes ("Select Task 12")."""
    labels = page.locator(".lsf-table-row input[type=checkbox]").evaluate_all(
        "boxes => boxes.map(b => b.getAttribute('aria-label'))")
    return [int(label.rsplit(" ", 1)[1]) for label in labels]


def row_texts(page):
    return page.locator(".lsf-table-row").all_inner_texts()


def wait_rows(page, count):
    page.wait_for_function(
        "n => document.querySelectorAll('.lsf-table-row').length === n", arg=count)


def open_data(app, pid, count):
    app.goto(f"/projects/{pid}/data")
    wait_rows(app.page, count)


def choice(page, value):
    return page.locator(".lsf-choice__item", has_text=value).locator("input")


def wait_task(page, task):
    page.wait_for_function(
        "id => (document.querySelector('.lsf-current-task__task-id')?.firstChild?.textContent"
        " || '').trim() === String(id)", arg=task)


def missing_endpoints(api, *paths):
    """Which of the create-project wizard's endpoints (branch h-proj) don't answer 200 yet."""
    return [f"GET {path} answers {status}" for path in paths
            if (status := api.get(path).status_code) != 200]


def require(missing):
    """Steps that need branch h-proj's endpoints skip until it is merged; in CI they fail."""
    if missing:
        message = "endpoints missing (branch h-proj): " + "; ".join(missing)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# 1. the data manager ------------------------------------------------------------------------

def test_data_manager_tabs_columns_filter_sort_and_delete(app):
    api, page = app.api, app.page
    pid = make_project(api)
    open_data(app, pid, 4)
    assert page.locator(".lsf-tabs-dm__item").all_inner_texts() == ["Default"]
    first = active_tab(page)

    # a tab: added, shown, then back to the first one
    with page.expect_response(lambda r: r.request.method == "POST" and "/api/dm/views" in r.url):
        page.click(".lsf-tabs-dm__add")
    page.wait_for_function("document.querySelectorAll('.lsf-tabs-dm__item').length === 2")
    second = active_tab(page)
    assert second != first
    views = api.get("/api/dm/views", params={"project": pid}).json()
    assert [v["id"] for v in views] == [first, second]
    page.locator(".lsf-tabs-dm__item", has_text="Default").click()
    page.wait_for_url(re.compile(rf"[?&]tab={first}\b"))
    expect_active = page.locator(".lsf-tabs-dm__item_active")
    assert expect_active.inner_text().strip() == "Default"
    wait_rows(page, 4)

    # columns: "Annotated by" hidden, then shown again
    head = page.locator(".lsf-table-head")
    assert "Annotated by" in head.inner_text()
    page.get_by_role("button", name="Columns").click()
    annotated_by = page.locator(".lsf-menu-dm__item", has_text="Annotated by")
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/api/dm/views/" in r.url):
        annotated_by.click()
    page.wait_for_function(
        "!document.querySelector('.lsf-table-head').innerText.includes('Annotated by')")
    hidden = view(api, pid, first)["data"]["hiddenColumns"]["explore"]
    assert "tasks:annotators" in hidden
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/api/dm/views/" in r.url):
        annotated_by.click()
    page.wait_for_function(
        "document.querySelector('.lsf-table-head').innerText.includes('Annotated by')")
    assert "tasks:annotators" not in view(api, pid, first)["data"]["hiddenColumns"]["explore"]
    page.keyboard.press("Escape")

    # a filter: text contains "bad"
    page.get_by_role("button", name="Filters", exact=True).click()
    page.get_by_text("Add Filter").click()
    line = page.locator(".lsf-filterLine")
    assert "text" in line.locator(".lsf-field").inner_text()
    assert line.locator(".lsf-operation").inner_text().strip() == "contains"
    # the app saves a filter a moment after typing: its PATCH comes before the filter goes
    # (removing it earlier is Label Studio's own race: "n.unsetSelection is not a function")
    with page.expect_response(lambda r: "interaction=filter" in r.url):
        line.locator(".lsf-value input").fill("bad")
    wait_rows(page, 1)
    assert "beta bad" in row_texts(page)[0]
    filters = view(api, pid, first)["data"]["filters"]
    assert [(f["filter"], f["operator"], f["value"]) for f in filters["items"]] == [
        ("filter:tasks:data.text", "contains", "bad")]
    # Label Studio's own race: removing a filter line within a moment of its answers (on a
    # server as quick as this one) re-renders the removed filter: "Cannot read properties of
    # undefined (reading 'schema')" or "n.unsetSelection is not a function". The same walk
    # with 80 ms added to each API answer never shows it; a person takes longer anyway.
    page.wait_for_timeout(700)
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/api/dm/views/" in r.url):
        line.locator(".lsf-filterLine__remove button").click()
    line.wait_for(state="detached")
    wait_rows(page, 4)
    assert view(api, pid, first)["data"]["filters"]["items"] == []
    page.get_by_role("button", name="Filters", exact=True).click()  # closes the popup

    # order by ID, then descending
    page.get_by_role("button", name="Order by").click()
    page.locator(".lsf-menu-dm__item", has_text=re.compile(r"^ID$")).click()
    page.wait_for_function("document.querySelector('button[aria-label=\"Sort descending\"]')"
                           " && !document.querySelector('button[aria-label=\"Sort descending\"]')"
                           ".disabled")
    ids = sorted(t["id"] for t in tasks(api, pid))
    assert row_ids(page) == ids
    with page.expect_response(lambda r: "interaction=ordering" in r.url):
        page.click("button[aria-label='Sort descending']")
    page.wait_for_function(
        "label => document.querySelector('.lsf-table-row input').getAttribute('aria-label')"
        " === label", arg=f"Select Task {ids[-1]}")
    assert row_ids(page) == ids[::-1]
    assert view(api, pid, first)["data"]["ordering"] == ["-tasks:id"]

    # select "beta bad" and delete it from the Actions menu
    beta = next(t["id"] for t in tasks(api, pid) if t["data"]["text"] == "beta bad")
    page.locator(".lsf-table-row", has_text="beta bad").locator("input[type=checkbox]").click()
    # the Actions button says how many tasks are selected
    page.locator("button", has_text=re.compile(r"^\s*1 Task\s*$")).click()
    page.locator(".lsf-menu-dm__item", has_text="Delete Tasks").click()
    dialog = page.locator(".lsf-modal-ls_visible")
    assert dialog.locator(".lsf-modal-ls__title").inner_text() == "Delete selected tasks?"
    with page.expect_response(lambda r: "id=delete_tasks" in r.url) as deleted:
        dialog.get_by_role("button", name="Delete Tasks").click()
    assert deleted.value.status == 200
    wait_rows(page, 3)
    assert not any("beta bad" in text for text in row_texts(page))
    assert beta not in row_ids(page)
    page.get_by_text("Tasks: 3 / 3").wait_for()
    left = tasks(api, pid)
    assert len(left) == 3 and beta not in [t["id"] for t in left]
    assert api.get(f"/api/projects/{pid}").json()["task_number"] == 3
    app.seen("data manager")


# 2. labeling ----------------------------------------------------------------------------

def test_label_submit_next_and_previous_task(app):
    api, page = app.api, app.page
    pid = make_project(api, TEXTS[:2])
    first, second = sorted(t["id"] for t in tasks(api, pid))
    open_data(app, pid, 2)
    page.get_by_role("button", name="Label All Tasks").click()
    page.wait_for_selector(".lsf-choices")
    wait_task(page, first)
    assert "alpha good" in page.locator(".lsf-main-content").inner_text()
    page.locator(".lsf-choice__item", has_text="Positive").click()
    assert choice(page, "Positive").is_checked()

    with page.expect_response(lambda r: r.request.method == "POST"
                              and f"/api/tasks/{first}/annotations" in r.url) as posted:
        page.get_by_test_id("bottombar-submit-button").click()
    assert posted.value.status == 201
    wait_task(page, second)  # the next task
    assert "beta bad" in page.locator(".lsf-main-content").inner_text()
    assert not choice(page, "Positive").is_checked()

    [annotation] = api.get(f"/api/tasks/{first}/annotations").json()
    assert [{k: r[k] for k in ("from_name", "to_name", "type", "value")}
            for r in annotation["result"]] == [
        {"from_name": "sentiment", "to_name": "text", "type": "choices",
         "value": {"choices": ["Positive"]}}]
    assert annotation["was_cancelled"] is False and annotation["completed_by"] == 1
    assert api.get(f"/api/tasks/{first}").json()["is_labeled"] is True

    # "<" shows the previous task with its annotation, ready to update
    page.get_by_test_id("prev-task").click()
    wait_task(page, first)
    page.get_by_role("button", name="Update").wait_for()
    assert choice(page, "Positive").is_checked()
    assert not choice(page, "Negative").is_checked()
    app.seen("labeling")

    # a task opened from the data manager shows the annotations it has, and no other (the
    # old UI showed a phantom "1/2"): the submitted one; for the task without any, the one
    # being made
    for task, text in ((first, "alpha good"), (second, "beta bad")):
        app.goto(f"/projects/{pid}/data?task={task}")
        page.wait_for_selector(f".lsf-main-content >> text={text}")
        page.locator(".lsf-annotation-button").first.wait_for()
        assert page.locator(".lsf-annotation-button").count() == 1, task
    assert len(api.get(f"/api/tasks/{second}/annotations").json()) == 0


# 3. drafts ------------------------------------------------------------------------------

def test_draft_is_restored_after_a_reload(app):
    api, page = app.api, app.page
    pid = make_project(api, TEXTS[2:3])
    [task] = [t["id"] for t in tasks(api, pid)]
    open_data(app, pid, 1)
    page.get_by_role("button", name="Label All Tasks").click()
    page.wait_for_selector(".lsf-choices")
    wait_task(page, task)
    # the editor saves a draft a few seconds after a change
    with page.expect_response(lambda r: r.request.method == "POST"
                              and f"/api/tasks/{task}/drafts" in r.url, timeout=20000) as saved:
        page.locator(".lsf-choice__item", has_text="Negative").click()
    assert saved.value.status == 201
    [draft] = api.get(f"/api/tasks/{task}/drafts").json()
    assert draft["result"][0]["value"] == {"choices": ["Negative"]}
    assert api.get(f"/api/tasks/{task}/annotations").json() == []

    page.reload()
    page.wait_for_selector(".lsf-choices")
    wait_task(page, task)
    page.wait_for_function("() => document.querySelector('.lsf-choice__item input:checked')")
    assert choice(page, "Negative").is_checked()
    assert not choice(page, "Positive").is_checked()
    assert api.get(f"/api/tasks/{task}/annotations").json() == []  # still only a draft
    app.seen("labeling (draft after reload)")


# 4. project settings -------------------------------------------------------------------------

SETTINGS_TABS = {
    # the tab's name in the menu: its path, and what its page shows
    "General": ("", "General Settings"),
    "Labeling Interface": ("labeling", "Labeling Interface"),
    "Annotation": ("annotation", "Annotation Settings"),
    "Model": ("ml", "Connect Model"),
    "Predictions": ("predictions", "No predictions uploaded yet"),
    "Cloud Storage": ("storage", "Add Source Storage"),
    "Webhooks": ("webhooks", "Webhooks"),
    "Danger Zone": ("danger-zone", "Delete Project"),
}


def test_every_project_settings_tab_opens(app):
    api, page = app.api, app.page
    pid = make_project(api, TEXTS[:1], title="Settings walk")
    app.goto(f"/projects/{pid}/settings")
    menu = page.locator(".lsf-sidebar-menu__navigation a")
    menu.first.wait_for()
    assert menu.all_inner_texts() == list(SETTINGS_TABS)
    # Labeling Interface lists the templates, Webhooks the webhooks (branch h-proj): until
    # they are there, those two are left for the end, to skip (fail in CI)
    missing = missing_endpoints(api, "/api/templates", f"/api/webhooks?project={pid}")
    names = [n for n in SETTINGS_TABS
             if not missing or n not in ("Labeling Interface", "Webhooks")]
    content = page.locator(".lsf-sidebar-menu__content")
    for name in names:
        path, shows = SETTINGS_TABS[name]
        problems = len(app.problems)
        menu.filter(has_text=re.compile(f"^{name}$")).click()
        page.wait_for_url(re.compile(rf"/projects/{pid}/settings/{path}$"))
        content.get_by_text(shows, exact=True).locator("visible=true").first.wait_for()
        page.wait_for_load_state("networkidle")
        assert len(app.problems) == problems, f"{name}: {app.problems[problems:]}"
        assert "_active" in menu.filter(has_text=re.compile(f"^{name}$")).get_attribute("class")
        app.seen(f"settings/{path or 'general'}")
    assert api.get(f"/api/projects/{pid}").json()["title"] == "Settings walk"
    require(missing)


# 5. export -------------------------------------------------------------------------------

def test_export_json_has_the_task_and_its_annotation(app, tmp_path):
    api, page = app.api, app.page
    pid = make_project(api, TEXTS[3:], title="Export walk")
    [task] = [t["id"] for t in tasks(api, pid)]
    result = [{"from_name": "sentiment", "to_name": "text", "type": "choices",
               "value": {"choices": ["Positive"]}}]
    assert api.post(f"/api/tasks/{task}/annotations", json={"result": result}).status_code == 201
    require(missing_endpoints(api, f"/api/projects/{pid}/export/files"))  # the dialog's list
    open_data(app, pid, 1)
    page.get_by_role("button", name="Export").click()
    dialog = page.locator(".lsf-modal-ls_visible")
    assert dialog.locator(".lsf-modal-ls__title").inner_text() == "Export data"
    formats = dialog.locator(".lsf-formats__item")
    json_format, json_min = formats.nth(0), formats.nth(1)
    assert json_format.locator(".lsf-formats__name").inner_text().strip() == "JSON"
    assert json_min.locator(".lsf-formats__name").inner_text().strip() == "JSON-MIN"
    # JSON is chosen at first (the chosen format takes no click): JSON-MIN, then JSON again
    json_min.click()
    page.wait_for_function("e => e.className.includes('_selected')", arg=json_min.element_handle())
    assert "_selected" not in json_format.get_attribute("class")
    json_format.click()
    page.wait_for_function("e => e.className.includes('_selected')",
                           arg=json_format.element_handle())
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Export data").click()
    path = tmp_path / "export.json"
    download.value.save_as(path)
    assert download.value.suggested_filename.endswith(".json")
    exported = json.loads(path.read_text())
    assert [t["id"] for t in exported] == [task]
    assert exported[0]["data"] == {"text": "delta fine"}
    [annotation] = exported[0]["annotations"]
    assert [{k: r[k] for k in ("from_name", "to_name", "type", "value")}
            for r in annotation["result"]] == result
    app.seen("export")


# 6. LabelDesk's own pages from the app's menu --------------------------------------------------

def test_desktop_pages_from_the_menu(app):
    page = app.page
    for link, path, heading in [("#labeldesk-settings", "/settings", "#data-heading"),
                                ("#labeldesk-backups", "/backups", "#backups-heading")]:
        app.goto("/projects")
        page.click(".lsf-menu-header__trigger")
        page.click(link)
        page.wait_for_url(f"{app.live.ui_url}/desktop#{path}")
        page.locator(heading).wait_for()
        box = page.locator(heading).bounding_box()
        viewport = page.viewport_size
        assert 0 <= box["y"] < viewport["height"], f"{heading} is not in view on {path}"
        page.locator("#data-dir").wait_for()
        assert page.locator("#data-dir").inner_text() == str(app.live.settings.data_dir)
        app.seen(f"/desktop#{path}")


# 7. create from a template, import a CSV and images ----------------------------------------


# the labeling controls at a small and a large window size ------------------------------------

def in_view(page, locator, name):
    """The control is on screen, whole, without scrolling sideways."""
    locator.wait_for()
    box = locator.bounding_box()
    size = page.viewport_size
    assert box and box["width"] > 0, f"{name} has no box"
    assert 0 <= box["x"] and box["x"] + box["width"] <= size["width"], f"{name}: {box} {size}"
    assert 0 <= box["y"] and box["y"] + box["height"] <= size["height"], f"{name}: {box} {size}"


@pytest.mark.parametrize("width, height", [(800, 600), (2560, 1440)])
def test_labeling_controls_fit_the_window(browser, live, width, height):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height})
    app = App(live, context, ALLOWED).sign_in("/projects")
    try:
        api, page = app.api, app.page
        pid = make_project(api, TEXTS[:2], title=f"Window {width}x{height}")
        first, second = sorted(t["id"] for t in tasks(api, pid))
        open_data(app, pid, 2)
        page.get_by_role("button", name="Label All Tasks").click()
        wait_task(page, first)
        controls = {"Submit": page.get_by_test_id("bottombar-submit-button"),
                    "Skip": page.get_by_test_id("bottombar-skip-button"),
                    "previous task": page.get_by_test_id("prev-task"),
                    "next task": page.get_by_test_id("next-task")}
        for name, control in controls.items():
            in_view(page, control, name)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width

        page.locator(".lsf-choice__item", has_text="Positive").click()
        controls["Submit"].click()
        wait_task(page, second)
        controls["previous task"].click()
        wait_task(page, first)
        in_view(page, page.get_by_role("button", name="Update"), "Update")
        for name in ("previous task", "next task"):
            in_view(page, controls[name], name)
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width

        # back to the second task and skip it: no task is left (next_task's 404, as LS)
        controls["next task"].click()
        wait_task(page, second)
        with page.expect_response(lambda r: "id=next_task" in r.url) as last:
            controls["Skip"].click()
        assert last.value.status == 404
        page.get_by_text("No More Tasks Left in Queue").wait_for()
        in_view(page, page.get_by_text("Go to Previous Task"), "Go to Previous Task")
        [skipped] = api.get(f"/api/tasks/{second}/annotations").json()
        assert skipped["was_cancelled"] is True
        app.seen(f"labeling at {width}x{height}")
        app.assert_clean()
        print(f"\n{width}x{height}: {len(app.answers)} answers checked, "
              f"expected 4xx: {app.expected}")
    finally:
        context.close()



def create_project(app, title, files, group, template, csv=False):
    """Create > name, Data Import (files), Labeling Setup (a template) > Save; the project's id.
    The wizard makes a draft project at once, uploads the files without committing them
    (import?commit_to_project=false), and on Save writes the config and reimports them."""
    page = app.page
    app.goto("/projects")
    # the wizard's draft project comes first: a name typed before it exists is Label
    # Studio's own "Can't find key `pk` in data [/projects/:pk]"
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/api/projects")) as draft:
        page.get_by_text("Create", exact=True).first.click()
    assert draft.value.status == 201
    wizard = page.locator(".lsf-create-project")
    wizard.wait_for()
    page.fill("#project_name", title)
    wizard.get_by_text("Data Import", exact=True).click()
    with page.expect_response(lambda r: "commit_to_project=false" in r.url) as uploaded:
        wizard.locator("input[type=file]").set_input_files([str(f) for f in files])
    assert uploaded.value.status == 201, uploaded.value.text()
    for f in files:
        wizard.get_by_text(f.name).first.wait_for()  # listed as uploaded
    if csv:
        wizard.get_by_text("List of tasks", exact=True).click()  # "Treat CSV/TSV as"
        assert wizard.locator("input[name=csv][value=tasks]").is_checked()
    wizard.get_by_text("Labeling Setup", exact=True).click()
    page.locator(".lsf-templates-list__group", has_text=group).click()
    page.locator(".lsf-templates-list__template h3").get_by_text(template, exact=True).click()
    page.get_by_text("Labeling Interface", exact=True).wait_for()  # the template's set-up
    with page.expect_response(lambda r: r.url.endswith("/reimport")
                              and r.request.method == "POST") as reimported:
        page.get_by_role("button", name="Save").click()
    assert reimported.value.status in (200, 201), reimported.value.text()
    page.wait_for_url(re.compile(r"/projects/\d+/data"))
    pid = int(re.search(r"/projects/(\d+)/data", page.url)[1])
    app.seen(f"create project ({template})")
    return pid


def test_create_from_a_template_with_a_csv(app, tmp_path):
    api, page = app.api, app.page
    require(missing_endpoints(api, "/api/templates"))
    csv = tmp_path / "reviews.csv"
    csv.write_text("text,stars\ngreat product,5\nterrible,1\n")
    pid = create_project(app, "Wizard CSV", [csv], "Natural Language Processing",
                         "Text Classification", csv=True)
    wait_rows(page, 2)
    texts = row_texts(page)
    assert "great product" in texts[0] and "terrible" in texts[1], texts
    project = api.get(f"/api/projects/{pid}").json()
    assert project["title"] == "Wizard CSV" and project["task_number"] == 2
    assert '<Choices name="sentiment" toName="text"' in project["label_config"]
    assert [t["data"] for t in tasks(api, pid)] == [
        {"text": "great product", "stars": 5}, {"text": "terrible", "stars": 1}]


def test_create_from_a_template_with_images(app, tmp_path):
    api, page = app.api, app.page
    require(missing_endpoints(api, "/api/templates"))
    images = [tmp_path / "red.png", tmp_path / "blue.png"]
    images[0].write_bytes(png((255, 0, 0)))
    images[1].write_bytes(png((0, 0, 255)))
    pid = create_project(app, "Wizard images", images, "Computer Vision",
                         "Image Classification")
    wait_rows(page, 2)
    project = api.get(f"/api/projects/{pid}").json()
    assert project["title"] == "Wizard images" and project["task_number"] == 2
    assert '<Image name="image" value="$image"' in project["label_config"]
    urls = [t["data"]["image"] for t in tasks(api, pid)]
    assert [u.rsplit("-", 1)[-1] for u in urls] == ["red.png", "blue.png"]
    assert all(u.startswith(f"/data/upload/{pid}/") for u in urls), urls
    assert [api.get(u).content for u in urls] == [f.read_bytes() for f in images]
    # the data manager shows them (served from this machine)
    page.wait_for_function("""() => {
        const images = [...document.querySelectorAll('.lsf-table-row img')];
        return images.length === 2 && images.every(i => i.complete && i.naturalWidth === 8);
    }""")
