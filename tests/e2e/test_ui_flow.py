"""The UI end to end, as a person uses it, in headless Chromium (tests/helpers/uihelp.py).

Create projects from templates, import a CSV and images, use the data manager, label a text
task (a choice and a NER span dragged with the mouse) and an image task (a box), submit, move to
the next task, export JSON and COCO, and check it all through the API. Every request the page
makes must stay on 127.0.0.1.
"""

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from paths import ROOT
from uihelp import browser, drag_box, drag_text, ui  # noqa: F401 - fixtures

pytestmark = pytest.mark.timeout(180)

SAMPLE_IMAGE = ROOT / "desktop" / "ui" / "samples" / "street.jpg"

TEXT_CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="PER"/><Label value="ORG"/>
  </Labels>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single-radio">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""

CSV = ("text,source\n"
       "John works at Acme Corp in Berlin.,news\n"
       "Mary founded Globex last year.,blog\n"
       "The weather was fine.,news\n")


def png(width, height, rgb):
    """A small solid PNG, no imaging library needed."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def create_project(page, template, title, config=None):
    page.click("a:has-text('New project')")
    page.click(f"[data-template='{template}']")
    page.wait_for_selector(".config-status.good")
    if config:
        page.fill(".editor-pane textarea", config)
        page.wait_for_selector(".config-status.good")
    page.wait_for_selector(".preview .lsf-root")  # the live preview rendered the config
    page.fill("#project-title", title)
    page.click("#create-project")
    page.wait_for_selector("#dropzone")
    return int(page.url.split("/projects/")[1].split("/")[0])


def import_files(page, files):
    page.set_input_files("#file-input", files)
    page.click("#start-import")
    page.wait_for_selector("#import-summary")
    return page.inner_text("#import-summary")


def export(ui, project_id, fmt):
    page = ui.page
    ui.go(f"/projects/{project_id}/export")
    page.click(f"[data-format='{fmt}']")
    with page.expect_download() as download:
        page.click("#export-button")
    return Path(download.value.path()).read_bytes()


def test_label_text_and_images_then_export(ui, tmp_path):
    page = ui.sign_in().page

    # -- a text project: template, then the config edited, with the live preview ---------------
    text_id = create_project(page, "ner", "Reviews", TEXT_CONFIG)
    csv = tmp_path / "reviews.csv"
    csv.write_text(CSV)
    summary = import_files(page, [str(csv)])
    assert "Import complete" in summary and "3\ntasks created" in summary

    # -- the data manager: rows with the data's columns, filters, search -----------------------
    page.click("a:has-text('Open data manager')")
    page.wait_for_selector("tr[data-task]")
    assert page.locator("tr[data-task]").count() == 3
    assert "source" in page.inner_text("table.grid thead")
    page.fill("#dm-search", "globex")
    page.wait_for_function("document.querySelectorAll('tr[data-task]').length === 1")
    page.fill("#dm-search", "blog")  # by default the search box looks in every data column
    page.wait_for_function("document.querySelectorAll('tr[data-task]').length === 1")
    assert "Mary founded Globex" in page.inner_text("tr[data-task]")
    page.select_option("#dm-search-column", "text")  # one column, as an option
    page.wait_for_selector("text=No tasks match")
    page.select_option("#dm-search-column", "")
    page.wait_for_function("document.querySelectorAll('tr[data-task]').length === 1")
    page.fill("#dm-search", "")
    page.wait_for_function("document.querySelectorAll('tr[data-task]').length === 3")

    # -- labeling: a choice and a NER span, submitted with Ctrl+Enter; the next task follows ----
    page.click("#label-all")
    page.wait_for_selector(".label-host .lsf-root")
    page.locator(".lsf-choice", has_text="Positive").first.click()
    page.locator(".lsf-label", has_text="PER").first.click()
    drag_text(page, ".label-host", "John")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".label-host >> text=Mary founded Globex")
    page.click("button:has-text('Next task')")
    page.wait_for_selector(".label-host >> text=Mary founded Globex")

    tasks = ui.api.get("/api/tasks", params={"project": text_id, "fields": "all"}).json()["tasks"]
    first = next(t for t in tasks if t["data"]["text"].startswith("John"))
    [annotation] = first["annotations"]
    by_type = {r["type"]: r for r in annotation["result"]}
    assert by_type["choices"]["value"]["choices"] == ["Positive"]
    assert by_type["labels"]["value"] == {"start": 0, "end": 4, "text": "John", "labels": ["PER"]}
    assert annotation["lead_time"] > 0

    # the data manager shows it labeled
    ui.go(f"/projects/{text_id}/data")
    page.click("[data-status='labeled']")
    page.wait_for_function("document.querySelectorAll('tr[data-task]').length === 1")

    exported = json.loads(export(ui, text_id, "JSON"))
    assert [t["id"] for t in exported] == [first["id"]]
    assert exported[0]["annotations"][0]["result"] == annotation["result"]  # stored unchanged

    # -- an image project: two images imported, a box drawn and submitted -------------------------
    ui.go("/projects")
    image_id = create_project(page, "object-detection", "Street scenes")
    red = tmp_path / "red.png"
    red.write_bytes(png(64, 48, (220, 40, 40)))
    summary = import_files(page, [str(SAMPLE_IMAGE), str(red)])
    assert "2\ntasks created" in summary
    page.click("a:has-text('Start labeling')")
    page.wait_for_selector(".label-host canvas")
    page.wait_for_function("[...document.querySelectorAll('.label-host img')]"
                           ".some(i => i.complete && i.naturalWidth > 0)")
    page.locator(".lsf-label", has_text="Car").first.click()
    drag_box(page, ".label-host canvas", (0.12, 0.68), (0.36, 0.88))
    shown = page.inner_text("#task-info")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_function(f"document.querySelector('#task-info').textContent !== {shown!r}")

    [task] = [t for t in ui.api.get("/api/tasks", params={"project": image_id, "fields": "all"})
              .json()["tasks"] if t["annotations"]]
    [region] = task["annotations"][0]["result"]
    assert region["type"] == "rectanglelabels"
    assert region["value"]["rectanglelabels"] == ["Car"]
    assert (region["original_width"], region["original_height"]) == (640, 420)
    assert 5 < region["value"]["width"] < 40 and 5 < region["value"]["height"] < 40

    coco = zipfile.ZipFile(io.BytesIO(export(ui, image_id, "COCO")))
    result = json.loads(coco.read("result.json"))
    assert [c["name"] for c in result["categories"]] == ["Car", "Person", "Traffic light"]
    [box] = result["annotations"]
    assert box["category_id"] == 0
    x, y, w, h = box["bbox"]
    assert abs(x - region["value"]["x"] * 6.4) < 1 and abs(w - region["value"]["width"] * 6.4) < 1

    # the project list shows both, with their progress
    ui.go("/projects")
    page.wait_for_selector(f"[data-project='{image_id}']")
    assert "1 of 2 tasks labeled" in page.inner_text(f"[data-project='{image_id}']")
    assert not ui.errors, ui.errors
