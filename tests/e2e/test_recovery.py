"""The recovery window: LabelDesk double-clicked on data it can't open shows what is wrong and
offers repair and backups (desktop/shell/recovery.py), instead of not opening at all.

The core functions run on real files damaged as a disk would damage them; then the real window
(pywebview on Qt WebEngine, under Xvfb) is started as a user starts it, shows the recovery page,
gets a real click on Repair and on Open LabelDesk, and the main window serves the kept data.
"""

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import requests

import x11
from desktop.core.settings import Settings
from desktop.db import CorruptFile
from desktop.shell import recovery
from desktop.shell.app import LabelDesk
from desktop.shell.bridge import exposed
from storehelp import damage_record
from windowhelp import display, wait_for  # noqa: F401 - the Xvfb fixture


def make_data(data, titles=("Pro1", "Pro2", "Pro3"), backup_after=None):
    """One project per title, each its own journal record; a manual backup after the first
    `backup_after` of them (and one at the end) when asked."""
    app = LabelDesk(Settings(data_dir=data))
    try:
        for number, title in enumerate(titles, 1):
            app.projects.create({"title": title}, 1)
            if backup_after in (number, "each"):
                app.backups.make("manual")
    finally:
        app.close()


def titles_in(data):
    app = LabelDesk(Settings(data_dir=data))
    try:
        return {app.projects.as_json(i)["title"] for i in app.projects.list_ids()}
    finally:
        app.close()


def store_files(data):
    db = data / "db"
    return {p.name: p.read_bytes() for p in db.iterdir() if p.suffix == ".ldb"}


def refusal(data):
    with pytest.raises(CorruptFile) as caught:
        LabelDesk(Settings(data_dir=data))
    return caught.value


def test_repair_through_recovery_keeps_every_good_record(tmp_path):
    data = tmp_path / "data"
    make_data(data)
    number, offset = damage_record(data, b'"title":"Pro2"')
    originals = store_files(data)
    settings = Settings(data_dir=data)
    problem = recovery.describe(settings, refusal(data))
    assert problem["path"] == str(data / "db" / "journal.ldb")
    assert problem["file"] == "journal.ldb" and problem["data_dir"] == str(data)
    assert "checksum" in problem["reason"]
    assert "labeldesk repair" not in problem["reason"]  # the window offers it as a button
    assert store_files(data) == originals  # the refusal changed nothing

    answer = recovery.repair(settings)
    assert answer["ok"] and answer["changed"], answer
    report = "\n".join(answer["lines"])
    assert f"record {number}, bytes {offset}-" in report and "Skipped 1 record" in report
    assert titles_in(data) == {"Pro1", "Pro3"}  # Pro2's creation was the damaged record
    aside = [p for p in (data / "db").iterdir() if p.name.startswith("damaged-")]
    assert len(aside) == 1 and str(aside[0]) in report
    assert {p.name: p.read_bytes() for p in aside[0].iterdir()} == originals

    again = recovery.repair(settings)
    assert again["ok"] and not again["changed"] and "nothing to repair" in again["lines"][0]


def test_repair_waits_for_the_lock_of_a_running_labeldesk(tmp_path):
    data = tmp_path / "data"
    make_data(data)
    app = LabelDesk(Settings(data_dir=data))
    try:
        answer = recovery.repair(Settings(data_dir=data))
    finally:
        app.close()
    assert not answer["ok"] and "Another LabelDesk" in answer["message"], answer
    assert not [p for p in (data / "db").iterdir() if p.name.startswith("damaged-")]


def test_unrepairable_store_points_to_backups_which_restore_it(tmp_path):
    data = tmp_path / "data"
    make_data(data, backup_after="each")
    settings = Settings(data_dir=data)
    snapshot = data / "db" / "snapshot.ldb"
    # a byte more than its header says (its body may be empty: nothing compacted yet): repair
    # can't rebuild without it
    snapshot.write_bytes(snapshot.read_bytes() + b"{")
    refusal(data)
    originals = store_files(data)

    answer = recovery.repair(settings)
    assert not answer["ok"] and answer["cannot_repair"], answer
    assert "damaged beyond reading" in answer["message"] and "backup" in answer["message"]
    assert store_files(data) == originals  # nothing changed

    found = recovery.backups(settings)
    assert [b["projects"] for b in found] == [3, 2, 1]  # newest first, with their counts
    assert all(b["kind"] == "manual" and b["tasks"] == 0 and not b["damaged"] for b in found)
    assert all(time.strptime(b["when"], "%Y-%m-%d %H:%M:%S") for b in found)

    # only a listed backup's name is taken, never a path, and a refusal changes nothing
    for given in (str(data / "backups" / found[1]["name"]), f"../backups/{found[1]['name']}", "",
                  None, 7):
        refused = recovery.restore(settings, given)
        assert not refused["ok"] and "no such backup" in refused["message"], (given, refused)
    assert store_files(data) == originals

    done = recovery.restore(settings, found[1]["name"])
    assert done["ok"], done
    text = "\n".join(done["lines"])
    assert f"Restored {found[1]['name']}: 2 projects, 0 tasks." in text
    assert "could not be read; they were copied as they were to" in text
    kept = data / "backups" / text.split("copied as they were to ")[1].split(".\n")[0]
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == originals
    assert titles_in(data) == {"Pro1", "Pro2"}


def test_restore_backs_the_current_state_up_first(tmp_path):
    data = tmp_path / "data"
    make_data(data, backup_after=1)
    settings = Settings(data_dir=data)
    only = recovery.backups(settings)
    assert len(only) == 1
    done = recovery.restore(settings, only[0]["name"])
    assert done["ok"] and "The current state was backed up first: " in done["lines"][0]
    kinds = [b["kind"] for b in recovery.backups(settings)]
    assert sorted(kinds) == ["before-restore", "manual"]
    assert titles_in(data) == {"Pro1"}


def test_recovery_functions_by_exact_name_and_only_for_the_page(tmp_path):
    data = tmp_path / "data"
    make_data(data)
    damage_record(data, b'"title":"Pro3"')
    settings = Settings(data_dir=data)
    error = refusal(data)
    opened, closed = [], []

    def open_labeldesk():
        opened.append(LabelDesk(settings))

    helper = recovery.Recovery(settings, error, open_labeldesk, lambda: closed.append(1))
    shows_page = [True]
    functions = {f.__name__: f for f in exposed(helper, lambda: shows_page[0])}
    assert sorted(functions) == sorted(recovery.Recovery.PUBLIC)
    assert functions["problem"]()["file"] == "journal.ldb"

    still = functions["open_labeldesk"]()  # before a repair: said, and the window stays
    assert not still["ok"] and "still can't open its data" in still["message"], still
    assert not opened and not closed

    shows_page[0] = False  # the window shows anything else: every function is refused
    with pytest.raises(PermissionError):
        functions["repair"]()
    shows_page[0] = True
    assert functions["repair"]()["ok"]
    assert functions["open_labeldesk"]() == {"ok": True}
    try:
        wait_for(lambda: closed, 5, "the recovery window to be closed")
        assert {opened[0].projects.as_json(i)["title"] for i in opened[0].projects.list_ids()} \
            == {"Pro1", "Pro2"}
    finally:
        for app in opened:
            app.close()


def test_the_page_is_one_static_page_that_shows_text_as_text():
    html = recovery.page()
    assert "<style>" in html and "<script>" in html
    assert "{{" not in html and "/static/" not in html
    assert "http" not in html.replace("http-equiv", "")  # loads nothing from anywhere
    assert f'content="{recovery.CSP}"' in html and "default-src 'none'" in recovery.CSP
    script = (recovery.PAGE.parent / "js" / "recovery.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink


# -- the real window ---------------------------------------------------------------------------

# A screenshot of the whole screen: where the accent-coloured (primary) button is, how much of
# the problem's red box and red text, and how many colours (text drawn, not a blank page).
SHOT = r"""
import json, sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv)
image = app.primaryScreen().grabWindow(0).toImage()
image.save(sys.argv[1])
accent, colours, red, box_pixels = [], set(), 0, 0
for y in range(0, image.height(), 2):
    for x in range(0, image.width(), 2):
        rgb = image.pixel(x, y) & 0xFFFFFF
        colours.add(rgb)
        if rgb == 0x4C5FA9:  # --accent
            accent.append((x, y))
        elif rgb == 0xCC5E46:  # --danger
            red += 1
        elif rgb == 0xFBEEE9:  # --danger-soft
            box_pixels += 1
box = None
if accent:
    xs, ys = [p[0] for p in accent], [p[1] for p in accent]
    box = [min(xs), min(ys), max(xs), max(ys)]
print(json.dumps({"width": image.width(), "height": image.height(), "colours": len(colours),
                  "red": red, "red_box": box_pixels, "accent": box, "accent_pixels": len(accent)}))
"""
RECOVERY_TITLE = "LabelDesk: recovery"
# A data folder whose name is markup: were it put into the page as HTML, it would quit.
HOSTILE_NAME = '<img src=x onerror="setTimeout(function(){pywebview.api.quit()},500)">'


class Started:
    """`labeldesk start` as a subprocess, its output read as it comes."""

    def __init__(self, data, env):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "desktop", "start", "--print-token", "--data-dir", str(data),
             "--port", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self):
        return "".join(self.lines)

    def line(self, start):
        return next((line for line in self.lines if line.startswith(start)), None)

    def wait(self, timeout=30):
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # what it was doing: py-spy isn't here, so SIGQUIT-free: the output so far
            raise AssertionError(f"labeldesk start still runs after {timeout} s:\n"
                                 + self.output[-4000:]) from None
        self.reader.join(5)
        return code

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def screenshot(env, path):
    out = subprocess.run([sys.executable, "-c", SHOT, str(path)], env=env, capture_output=True,
                         text=True, timeout=30)
    return json.loads(out.stdout)


def centre(box):
    return (box[0] + box[2]) // 2, (box[1] + box[3]) // 2


def test_damaged_data_shows_the_recovery_window_and_repair_opens_labeldesk(display, tmp_path):  # noqa: F811,E501
    started_at = time.monotonic()
    data = tmp_path / HOSTILE_NAME
    make_data(data)
    damage_record(data, b'"title":"Pro2"')
    originals = store_files(data)
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)

    def recovery_shown(started):
        def look():
            assert started.process.poll() is None, "labeldesk start ended:\n" + started.output
            if RECOVERY_TITLE not in x11.window_titles(display):
                return None
            shot = screenshot(env, tmp_path / "recovery.png")
            # the problem in red, the Repair button, text drawn
            drawn = shot["red_box"] > 2000 and shot["red"] > 60 and shot["accent_pixels"] > 100 \
                and shot["colours"] > 100
            return shot if drawn else None
        return wait_for(look, 60, "the recovery window to show the problem")

    # 1. closing the recovery window (Quit): the app ends as before, nothing was changed
    started = Started(data, env)
    try:
        shot = recovery_shown(started)
        first_seconds = time.monotonic() - started_at
        assert (shot["width"], shot["height"]) == (1440, 900)
        assert "LabelDesk" not in x11.window_titles(display)  # no main window
        time.sleep(1.5)  # the markup in the folder's name had its chance to run: it is text
        assert started.process.poll() is None, started.output
        assert x11.close_window(display, RECOVERY_TITLE) == 1
        code = started.wait()
    finally:
        started.kill()
    assert code == 1, started.output
    assert "LabelDesk can't open its data" in started.output
    assert "labeldesk repair" in started.output and "Traceback" not in started.output
    assert store_files(data) == originals
    assert not (data / "instance.json").exists()

    # 2. Repair, then Open LabelDesk, by real clicks: the main window serves the kept data
    started = Started(data, env)
    try:
        shot = recovery_shown(started)
        repair_button = shot["accent"]
        x11.click(display, *centre(repair_button))
        wait_for(lambda: "recovery: Repaired the store" in started.output, 30, "the repair")

        def open_button():
            shot = screenshot(env, tmp_path / "repaired.png")
            # the report replaced the problem; the one primary button is now Open LabelDesk
            moved = shot["accent"] and shot["accent"][1] > repair_button[3]
            return shot["accent"] if moved and shot["red_box"] == 0 else None
        x11.click(display, *centre(wait_for(open_button, 30, "the Open LabelDesk button")))
        wait_for(lambda: started.line("API token: "), 60, "LabelDesk to open")
        url = started.output.split("its API is at ", 1)[1].split()[0]
        token = started.line("API token: ").split()[2]
        titles = wait_for(lambda: (lambda t: t if "LabelDesk" in t and RECOVERY_TITLE not in t
                                   else None)(x11.window_titles(display)), 30,
                          "the main window instead of the recovery window")
        assert RECOVERY_TITLE not in titles
        instance = json.loads((data / "instance.json").read_text())
        assert instance["url"] == url and instance["window"] is True
        answer = requests.get(f"{url}/api/projects", headers={"Authorization": f"Token {token}"},
                              timeout=10)
        assert answer.status_code == 200, answer.text
        assert {p["title"] for p in answer.json()["results"]} == {"Pro1", "Pro3"}
        opened_seconds = time.monotonic() - started_at

        assert x11.close_window(display, "LabelDesk") == 1
        code = started.wait()
    finally:
        started.kill()
    assert code == 0, started.output
    assert "LabelDesk stopped." in started.output
    assert titles_in(data) == {"Pro1", "Pro3"}
    assert [p for p in (data / "db").iterdir() if p.name.startswith("damaged-")]
    print(f"recovery window: shown after {first_seconds:.1f} s; repaired and opened after "
          f"{opened_seconds:.1f} s; whole test {time.monotonic() - started_at:.1f} s")
