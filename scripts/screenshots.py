"""Refresh docs/screenshots/*.png: the main screens of the UI on demo data (`make screenshots`).

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
NER = (ROOT / "desktop" / "ui" / "templates" / "ner.xml").read_text()
BOXES = (ROOT / "desktop" / "ui" / "templates" / "object-detection.xml").read_text()
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
    api.post("/api/predictions", json={"task": ids[20], "score": 0.87, "model_version": "v1",
                                       "result": [{"from_name": "label", "to_name": "text",
                                                   "type": "labels", "value": {
                                                       "start": 0, "end": 5,
                                                       "labels": ["PER"]}}]})
    images = api.post("/api/projects", json={"title": "Street scenes", "label_config": BOXES,
                                             "description": "Cars, people and traffic "
                                             "lights."}).json()
    with open(SAMPLE, "rb") as f:
        api.post(f"/api/projects/{images['id']}/import", files={"file": ("street.jpg", f)})
    api.post("/api/projects", json={"title": "Support tickets", "label_config": (
        ROOT / "desktop" / "ui" / "templates" / "text-classification.xml").read_text()})
    return text["id"], images["id"]


def main():
    import requests
    from playwright.sync_api import sync_playwright
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        app = LabelDesk(Settings(data_dir=Path(data)))
        server = Server(app.wsgi, port=0).start()
        api = requests.Session()
        api.headers["Authorization"] = f"Token {app.users.get(1)['token']}"

        class Prefixed:
            def __getattr__(self, name):
                return lambda path, **kw: getattr(api, name)(server.url + path, **kw)
        text_id, image_id = demo(Prefixed())
        secret = app.sessions.one_time_secret()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{server.url}/#secret={secret}")
            page.wait_for_selector(".project-card")

            def shot(name, path, ready, settle=0.6):
                page.goto(f"{server.url}/#{path}")
                page.wait_for_selector(ready)
                time.sleep(settle)
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"docs/screenshots/{name}.png")

            shot("projects", "/projects", ".project-card")
            shot("new-project", "/projects/new", ".preview .lsf-root", 1.5)
            shot("data-manager", f"/projects/{text_id}/data", "tr[data-task]")
            shot("labeling-text", f"/projects/{text_id}/label", ".label-host .lsf-root", 1.5)
            shot("labeling-image", f"/projects/{image_id}/label", ".label-host canvas", 2)
            shot("import", f"/projects/{image_id}/import", "#dropzone")
            shot("export", f"/projects/{image_id}/export", ".format")
            shot("settings", "/settings", "#api-token")
            browser.close()
        server.stop()
        app.close()


if __name__ == "__main__":
    main()
