"""Labeling an image in Label Studio's web app as a person does, in headless Chromium: images
imported from files, a box drawn with the mouse on the first, submitted; the task has the region
where it was drawn, the data manager shows it labeled, and the COCO export has the same box.
Nothing the page asks for leaves the machine, and nothing goes wrong on it (webapphelp.App).

The rest of the old UI's flow is proved in the web app too: creating a project from a template,
importing a CSV and images, the data manager, a choice submitted, the next task, the JSON export
(tests/e2e/test_webapp_walk.py); a NER span dragged across the text with the mouse
(tests/e2e/test_task_html_box.py, test_legitimate_task_styling_is_kept)."""

import io
import json
import zipfile

import pytest
from conftest import LiveServer

from datahelp import wait_for
from paths import ROOT
from uihelp import browser, drag_box  # noqa: F401 - fixture
from webapphelp import App

pytestmark = pytest.mark.timeout(180)

SAMPLE_IMAGE = ROOT / "desktop" / "ui" / "samples" / "street.jpg"  # 640 x 420
CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car"/><Label value="Person"/><Label value="Traffic light"/>
  </RectangleLabels>
</View>"""


@pytest.fixture
def app(browser, tmp_path):  # noqa: F811 - fixture
    live = LiveServer(tmp_path / "data")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    app = App(live, context).sign_in("/projects")
    yield app
    context.close()
    live.close()


def test_draw_a_box_on_an_image_then_export_coco(app):
    api, page = app.api, app.page
    project = api.project(title="Street scenes", label_config=CONFIG)
    pid = project["id"]
    with open(SAMPLE_IMAGE, "rb") as one, open(SAMPLE_IMAGE, "rb") as two:
        answer = api.post(f"/api/projects/{pid}/import",
                          files={"file0": ("street.jpg", one), "file1": ("again.jpg", two)})
    assert answer.status_code == 201 and answer.json()["task_count"] == 2, answer.text
    first = min(t["id"] for t in api.get("/api/tasks", params={"project": pid}).json()["tasks"])

    app.goto(f"/projects/{pid}/data?task={first}")
    page.wait_for_function("[...document.querySelectorAll('.lsf-main-content img')]"
                           ".some(i => i.complete && i.naturalWidth === 640)")
    page.locator(".lsf-label", has_text="Car").first.click()
    drag_box(page, ".lsf-main-content canvas", (0.12, 0.68), (0.36, 0.88))
    page.get_by_role("button", name="Submit").click()

    [task] = wait_for(lambda: [t for t in api.get(
        "/api/tasks", params={"project": pid, "fields": "all"}).json()["tasks"]
        if t["annotations"]])
    assert task["id"] == first
    [region] = task["annotations"][0]["result"]
    assert region["type"] == "rectanglelabels"
    assert region["value"]["rectanglelabels"] == ["Car"]
    assert (region["original_width"], region["original_height"]) == (640, 420)
    assert 5 < region["value"]["width"] < 40 and 5 < region["value"]["height"] < 40
    assert 5 < region["value"]["x"] < 30 and 55 < region["value"]["y"] < 85

    # the data manager shows one of the two labeled
    app.goto(f"/projects/{pid}/data")
    page.wait_for_function("document.querySelectorAll('.lsf-table-row').length === 2")
    assert api.get(f"/api/projects/{pid}").json()["num_tasks_with_annotations"] == 1

    coco = zipfile.ZipFile(io.BytesIO(api.get(
        f"/api/projects/{pid}/export", params={"exportType": "COCO"}).content))
    result = json.loads(coco.read("result.json"))
    assert [c["name"] for c in result["categories"]] == ["Car", "Person", "Traffic light"]
    [box] = result["annotations"]
    assert box["category_id"] == 0
    x, y, w, h = box["bbox"]
    assert abs(x - region["value"]["x"] * 6.4) < 1 and abs(w - region["value"]["width"] * 6.4) < 1
    assert abs(y - region["value"]["y"] * 4.2) < 1 and abs(h - region["value"]["height"] * 4.2) < 1
    app.assert_clean()
