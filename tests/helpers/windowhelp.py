"""Shared by several tests (moved out of the test modules that first had them)."""

import os
import shutil
import subprocess
import time

import pytest

from uihelp import IN_CI
from x11 import GRAB  # noqa: F401 - shared with the window tests


def require(tool):
    if shutil.which(tool):
        return
    message = f"{tool} is missing (scripts/setup.d/10-desktop-deps.sh installs it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def display():
    require("Xvfb")
    for module in ("webview", "PySide6.QtWebEngineWidgets"):
        try:
            __import__(module)
        except ImportError:
            if IN_CI:
                pytest.fail(f"{module} is not installed (the `window` extra)")
            pytest.skip(f"{module} is not installed")
    # Two test workers starting Xvfb at once can both be told the same free display; the one
    # that loses the race ends at once (and the display it named is the other's, gone when
    # that test ends): start again until ours is alive and holds its display's socket.
    for _ in range(5):
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                                 "1440x900x24", "-nolisten", "tcp"], pass_fds=(write,),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        time.sleep(0.5)
        if number and xvfb.poll() is None and os.path.exists(f"/tmp/.X11-unix/X{number}"):
            break
        xvfb.kill()
        xvfb.wait(timeout=10)
    else:
        raise AssertionError("Xvfb did not start")
    yield f":{number}"
    xvfb.terminate()
    xvfb.wait(timeout=10)


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


