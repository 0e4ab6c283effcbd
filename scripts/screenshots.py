"""Refresh docs/screenshots/*.png: the main screens of the UI (Label Studio's web app) on demo data,
at 1440x900 and the labeling screen at 800x600 too (`make screenshots`; `python
scripts/screenshots.py NAME ...`: those only, e.g. labeling-history).

Runs LabelDesk in this process on a temporary data folder and drives Debian's Chromium with
Playwright, as the UI tests do.
"""

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from desktop.core.settings import Settings  # noqa: E402
from desktop.shell.app import LabelDesk  # noqa: E402
from desktop.shell.server import Server  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SAMPLE = ROOT / "desktop" / "ui" / "samples" / "street.jpg"
TEMPLATES = ROOT / "desktop" / "ui" / "vendor" / "webapp" / "annotation_templates"


def template(path):
    """The label config of one of Label Studio's templates (taken by set-up with the web app)."""
    import yaml
    return yaml.safe_load((TEMPLATES / path / "config.yml").read_text())["config"]


NER = template("natural-language-processing/named-entity-recognition")
BOXES = template("computer-vision/object-detection-with-bounding-boxes")
SENTENCES = [
    "Angela Merkel met Emmanuel Macron in Paris to discuss the EU budget.",
    "Apple opened a new office in Berlin on Monday.",
    "Tim Cook said the team would hire 200 engineers by spring.",
    "The Mozilla Foundation released a report on open source funding.",
    "Ada Lovelace wrote the first published algorithm.",
    "Siemens and Bosch announced a joint venture in Munich.",
]


def demo(api):
    """Projects with tasks, annotations and a prediction."""
    text = api.post("/api/projects", json={"title": "News entities", "label_config": NER,
                                           "description": "People, organisations and places "
                                           "in news sentences."}).json()
    api.post(f"/api/projects/{text['id']}/import",
             json=[{"text": s} for s in SENTENCES * 8])
    ids = [t["id"] for t in api.get("/api/tasks", params={"project": text["id"],
                                                          "page_size": 100}).json()["tasks"]]
    for task_id in ids[:19]:
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": [
            {"from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": 0, "end": 5, "text": "first", "labels": ["PER"]}}]})
    # the first task's annotation, edited: its versions for the History panel
    first = api.get(f"/api/tasks/{ids[0]}/annotations").json()[0]["id"]
    for end, label in ((13, "PER"), (13, "ORG"), (31, "PER")):
        api.patch(f"/api/annotations/{first}", json={"result": [
            {"from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": 0, "end": end, "labels": [label]}}]})
    api.post("/api/predictions", json={"task": ids[20], "score": 0.87, "model_version": "v1",
                                       "result": [{"from_name": "label", "to_name": "text",
                                                   "type": "labels", "value": {
                                                       "start": 0, "end": 5,
                                                       "labels": ["PER"]}}]})
    images = api.post("/api/projects", json={"title": "Street scenes", "label_config": BOXES,
                                             "description": "Airplanes and cars "
                                             "from above."}).json()
    with open(SAMPLE, "rb") as f:
        api.post(f"/api/projects/{images['id']}/import", files={"file": ("street.jpg", f)})
    api.post("/api/projects", json={"title": "Support tickets", "label_config": template(
        "natural-language-processing/text-classification")})
    return text["id"], images["id"]


def main(only=()):
    import requests
    from playwright.sync_api import sync_playwright
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        app = LabelDesk(Settings(data_dir=Path(data)))
        server = Server(app.wsgi, port=0).start()
        ui_url = f"http://{app.sessions.host}:{server.port}"  # the UI's own host
        api = requests.Session()
        api.headers["Authorization"] = f"Token {app.users.get(1)['token']}"

        class Prefixed:
            def __getattr__(self, name):
                return lambda path, **kw: getattr(api, name)(server.url + path, **kw)
        text_id, image_id = demo(Prefixed())

        def first_task(project_id):
            return api.get(f"{server.url}/api/tasks", params={"project": project_id}).json()[
                "tasks"][0]["id"]
        text_task, image_task = first_task(text_id), first_task(image_id)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=CHROMIUM_ARGS)
            for width, height, suffix in ((1440, 900, ""), (800, 600, "-800x600")):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{ui_url}/#secret={app.sessions.one_time_secret()}")
                page.wait_for_selector(".lsf-menu-header")

                def shot(name, path, ready, settle=0.8, page=page, suffix=suffix, then=None):
                    if only and name not in only:
                        return
                    page.goto(ui_url + path)
                    page.wait_for_selector(ready)
                    if then:
                        then(page)
                    time.sleep(settle)
                    page.screenshot(path=str(OUT / f"{name}{suffix}.png"))
                    print(f"docs/screenshots/{name}{suffix}.png")

                def history(page):
                    """The History panel, an older version picked: its restore button shows."""
                    page.locator(".lsf-panel-tabs__tab:visible", has_text="History").first.click()
                    page.wait_for_selector(".lsf-history-item >> nth=3")
                    page.locator(".lsf-history-item").nth(2).click()
                    page.wait_for_selector("#labeldesk-history-restore")

                if not suffix:
                    shot("projects", "/projects", ".lsf-projects-page__link")
                    shot("data-manager", f"/projects/{text_id}/data", ".lsf-table-row")
                    shot("labeling-text", f"/projects/{text_id}/data?task={text_task}",
                         ".lsf-main-content", 1.5)
                    shot("labeling-history", f"/projects/{text_id}/data?task={text_task}",
                         ".lsf-main-content", 1.5, then=history)
                    shot("settings", f"/projects/{image_id}/settings/labeling",
                         ".lsf-sidebar-menu__content", 1.5)
                    shot("desktop-settings", "/desktop#/settings", "#data-dir")
                shot("labeling-image", f"/projects/{image_id}/data?task={image_task}",
                     ".lsf-main-content canvas", 2)
                page.close()
            browser.close()
        server.stop()
        app.close()


if __name__ == "__main__":
    main(set(sys.argv[1:]))
