"""A short walk through Label Studio's web app in the real window (pywebview on Qt WebEngine,
under Xvfb), with real mouse clicks: the project list, a project's data manager, "Label All
Tasks", a choice, Submit, the next task; then the History panel of an annotation edited three
times, an older version picked (issue 20); and teach mode (issue 24) turned on from the page, its
guess pre-selected in the label stream, submitted with a real click, found in the export. The
browser walk (tests/e2e/test_webapp_walk.py) covers
the rest; this proves the same app works in the window people use."""

import json
import os
import subprocess
import sys

from desktop.core.settings import Settings
from desktop.shell.app import LabelDesk
from paths import HELPERS
from windowhelp import display  # noqa: F401 - the Xvfb fixture

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
          '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')


def drive(display, tmp_path, data, mode):
    """The window driver (tests/helpers/window_walk_driver.py) in `mode` on `data`: what it saw,
    once it ended without a failure."""
    results = tmp_path / "results.json"
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    out = subprocess.run([sys.executable, str(HELPERS / "window_walk_driver.py"), str(data),
                          str(results), display, mode], env=env,
                         capture_output=True, text=True, timeout=240)
    output = out.stdout + out.stderr
    found = json.loads(results.read_text())
    assert "failure" not in found, found.get("failure", "") + output[-3000:]
    assert out.returncode == 0, output[-3000:]
    return found


def choice(value):
    return [{"id": "c", "from_name": "sentiment", "to_name": "text", "type": "choices",
             "value": {"choices": [value]}}]


def test_label_and_submit_in_the_real_window(display, tmp_path):  # noqa: F811 - fixture
    data = tmp_path / "data"
    app = LabelDesk(Settings(data_dir=data))
    project_id = app.projects.create({"title": "Reviews", "label_config": CONFIG}, 1)
    first_id = app.tasks.create(project_id, {"text": "the first review"})
    app.tasks.create(project_id, {"text": "the second review"})
    history_task = app.tasks.create(project_id, {"text": "a review labeled three times"})
    value = ("Positive", "Negative", "Positive")
    annotation = app.annotations.create(history_task, {"result": choice(value[0])}, 1)
    for v in value[1:]:
        app.annotations.update(annotation, {"result": choice(v)}, 1)
    app.close()
    found = drive(display, tmp_path, data, "walk")
    print("window walk:", found["steps"])
    assert [s["step"] for s in found["steps"]] == [
        "projects", "data manager", "label stream", "choice", "submitted, next task",
        "history panel"]
    assert "the first review" in found["first_task"]
    assert "the second review" in found["second_task"]
    assert found["shot"]["header_icon"] > 20 and found["shot"]["colours"] > 40, found["shot"]
    assert found["history_items"] >= 3, found  # created, updated, updated
    assert found["history_shot"]["colours"] > 40, found["history_shot"]

    app = LabelDesk(Settings(data_dir=data))  # what the clicks made, on disk
    try:
        annotations = app.annotations.list(first_id)
    finally:
        app.close()
    assert [a["result"][0]["value"] for a in annotations] == [{"choices": ["Positive"]}]


TEACH_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="label" toName="text">'
                '<Choice value="Pos"/><Choice value="Neg"/></Choices></View>')


def test_teach_mode_in_the_real_window(display, tmp_path):  # noqa: F811 - fixture
    """Issue 24 in the window people use: teach mode turned on from the page, "Label All
    Tasks" opens the task it is least sure of with its guess already chosen, a real click on
    Submit saves it, and the export holds it."""
    data = tmp_path / "data"
    app = LabelDesk(Settings(data_dir=data))
    project_id = app.projects.create({"title": "Teach", "label_config": TEACH_CONFIG,
                                      "sampling": "Uncertainty sampling"}, 1)
    ids = [app.tasks.create(project_id, {"text": f"good great fine {i}" if i % 2 else
                                         f"bad awful poor {i}"}) for i in range(30)]
    for task_id in ids[:8]:  # what it learns from when it is turned on
        label = "Pos" if "good" in app.tasks.get(task_id)["data"]["text"] else "Neg"
        app.annotations.create(task_id, {"result": [{
            "id": "c", "from_name": "label", "to_name": "text", "type": "choices",
            "value": {"choices": [label]}}]}, 1)
    app.close()
    found = drive(display, tmp_path, data, "teach")
    print("window, teach mode:", found["steps"])
    text, guess = found["task_text"], found["guess"]
    assert guess.startswith("Pos" if "good" in text else "Neg"), (text, guess)
    line = text.strip().splitlines()[0].strip()  # the task's text, above its choices
    submitted = [t for t in found["exported"] if t["data"]["text"] == line]
    assert len(submitted) == 1 and len(submitted[0]["annotations"]) == 1, submitted
    assert submitted[0]["annotations"][0]["result"][0]["value"]["choices"] == [guess[:3]]
    assert found["shot"]["header_icon"] > 20, found["shot"]
