"""One LabelDesk per data folder: a second launch finds the running one instead of opening the
same store twice, and a crashed one (kill -9) never blocks the next start.

`labeldesk serve` on a folder in use says where the running LabelDesk serves and exits non-zero;
`labeldesk start` asks the running window to come to the front (over loopback, with a nonce from
<data>/instance.json, which is 0600 and holds no token) and exits 0.
"""

import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time

import orjson
import pytest
import requests

import x11
import x11focus
from desktop.shell.instance import FOCUS_PATH, NONCE_HEADER
from windowhelp import display, wait_for  # noqa: F401 - the Xvfb fixture

LABELDESK = [sys.executable, "-m", "desktop"]


def instance(data):
    path = data / "instance.json"
    return orjson.loads(path.read_bytes()), stat.S_IMODE(path.stat().st_mode)


def labeldesk(*args, env=None, timeout=60):
    return subprocess.run([*LABELDESK, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_second_serve_says_where_the_first_runs(serve_process, tmp_path):
    data = tmp_path / "data"
    first = serve_process(data)
    info, mode = instance(data)
    assert mode == 0o600
    assert info["pid"] == first.proc.pid and info["url"] == first.url and not info["window"]
    assert first.token not in (data / "instance.json").read_text()

    second = labeldesk("serve", "--data-dir", str(data), "--port", "0")
    assert second.returncode != 0
    assert first.url in second.stderr and f"pid {first.proc.pid}" in second.stderr
    assert "serving" not in second.stdout
    # a window launch on a headless instance can't bring anything forward: it says where it runs
    second = labeldesk("start", "--data-dir", str(data), "--port", "0", env={"DISPLAY": ":999"})
    assert second.returncode != 0 and first.url in second.stderr
    assert first.api.get("/api/health").status_code == 200  # the first one is untouched

    first.stop()
    assert not (data / "instance.json").exists()  # a clean stop cleans up


def test_a_killed_instance_does_not_block_the_next_start(serve_process, tmp_path):
    data = tmp_path / "data"
    first = serve_process(data)
    project = first.api.project(title="Before the crash")
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait()
    assert instance(data)[0]["pid"] == first.proc.pid  # left behind, as after a crash

    second = serve_process(data)
    output = "".join(second.lines)
    assert f"(pid {first.proc.pid}) ended without closing the store" in output
    info, mode = instance(data)
    assert info["pid"] == second.proc.pid and mode == 0o600
    assert second.api.get(f"/api/projects/{project['id']}").json()["title"] == "Before the crash"
    second.stop()


class Window:
    """`labeldesk start` under Xvfb, until it prints where its API is."""

    def __init__(self, data, display_name):
        self.env = {**os.environ, "DISPLAY": display_name, "QT_QPA_PLATFORM": "xcb"}
        self.env.pop("WAYLAND_DISPLAY", None)
        # its own process group: a crash below takes the web engine's helpers down with it
        self.proc = subprocess.Popen([*LABELDESK, "start", "--data-dir", str(data), "--port", "0"],
                                     env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines = []
        self.url = None
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in self.proc.stdout] + [lines.put("")],
                         daemon=True).start()
        deadline = time.monotonic() + 60
        while not self.url:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise AssertionError("labeldesk start said nothing for 60 s:\n"
                                     + "".join(self.lines)) from None
            assert line, "labeldesk start ended early:\n" + "".join(self.lines)
            self.lines.append(line)
            if "its API is at " in line:
                self.url = line.rsplit(" ", 1)[1].strip()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


@pytest.mark.slow
def test_second_start_brings_the_window_forward(display, tmp_path):  # noqa: F811
    data = tmp_path / "data"
    first = Window(data, display)
    try:
        assert wait_for(lambda: "LabelDesk" in x11.window_titles(display), 30, "the window")
        info, mode = instance(data)
        assert mode == 0o600 and info["window"] and info["pid"] == first.proc.pid
        assert len(info["nonce"]) >= 32

        # only the holder of the nonce may ask
        for headers in ({}, {NONCE_HEADER: "guess"}):
            response = requests.post(first.url + FOCUS_PATH, headers=headers, timeout=5)
            assert response.status_code == 403

        # with no window manager nothing gives the new window the focus: the second launch will
        assert not x11focus.focused_title_is(display, "LabelDesk")
        started = time.monotonic()
        second = subprocess.run([*LABELDESK, "start", "--data-dir", str(data), "--port", "0"],
                                env=first.env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "brought to the front" in second.stdout and first.url in second.stdout
        assert time.monotonic() - started < 10
        assert wait_for(lambda: x11focus.focused_title_is(display, "LabelDesk"), 10,
                        "the running window to take the focus")
        assert x11.window_titles(display).count("LabelDesk") == 1  # no second window
        assert first.proc.poll() is None

        # a crash of the window process: the next start opens normally
        first.kill()
        wait_for(lambda: "LabelDesk" not in x11.window_titles(display), 20, "the window to go")
        third = Window(data, display)
        try:
            assert any(f"pid {first.proc.pid}) ended without closing the store" in line
                       for line in third.lines), "".join(third.lines)
            assert wait_for(lambda: "LabelDesk" in x11.window_titles(display), 30,
                            "the new window")
            assert instance(data)[0]["pid"] == third.proc.pid
        finally:
            assert x11.close_window(display, "LabelDesk") == 1
            assert third.proc.wait(timeout=30) == 0
        assert not (data / "instance.json").exists()
    finally:
        first.kill()
