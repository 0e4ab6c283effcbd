"""A real Label Studio 1.23.2 on loopback, for the tests that compare with it or talk to it.

scripts/setup.d/40-label-studio.sh installs it in .venv-ls and migrates a template data folder;
LabelStudioServer copies that folder into a temp dir (start in seconds instead of a minute of
migrations), starts `label-studio start` on a free 127.0.0.1 port with a fixed legacy token and
every outbound call switched off, and stops it afterwards. Nothing is installed here and nothing
is skipped: a missing .venv-ls is a failure that says to run `make setup`.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from paths import ROOT

TOKEN = "labeldesk-test-token-0123456789abcdef"
EMAIL = "lead@labeldesk.test"
PASSWORD = "labeldesk-pass-1"


def ls_venv():
    """The repository's .venv-ls; from a git worktree (no venvs of its own) the one next to the
    venv running the tests."""
    here = ROOT / ".venv-ls"
    if here.exists():
        return here
    beside = Path(sys.prefix).parent / ".venv-ls"
    return beside if beside.exists() else here


LS_VENV = ls_venv()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabelStudioServer:
    """`label-studio start` on a copy of the migrated template in base_dir; `env` adds to (or
    overrides) its environment, e.g. LOCAL_FILES_SERVING_ENABLED; `email` is its first user's."""

    def __init__(self, base_dir, env=None, email=EMAIL):
        exe = LS_VENV / "bin" / "label-studio"
        if not exe.exists():
            pytest.fail(f"{exe} is missing: run `make setup` (scripts/setup.d/40-label-studio.sh)")
        self.data = base_dir / "ls-data"
        template = LS_VENV / "labeldesk-template"
        if (template / "label_studio.sqlite3").exists():
            shutil.copytree(template, self.data)
        else:
            self.data.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = TOKEN
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("LABEL_STUDIO_", "HEARTEX_", "DJANGO_", "PYTHON",
                                            "LOCAL_FILES_"))
                       and k not in ("HOST", "PORT", "USERNAME", "PASSWORD", "DEBUG",
                                     "DATABASE_NAME", "LABELDESK_PUSHPULL_STOP_AFTER")}
        environment.update(LABEL_STUDIO_BASE_DATA_DIR=str(self.data), SENTRY_DSN="",
                           FRONTEND_SENTRY_DSN="", LATEST_VERSION_CHECK="false",
                           COLLECT_ANALYTICS="false", FEATURE_FLAGS_OFFLINE="true",
                           LOG_LEVEL="WARNING",
                           # secrets in the environment, not in the process list (label-studio's
                           # get_env reads LABEL_STUDIO_<NAME>)
                           LABEL_STUDIO_USER_TOKEN=TOKEN, LABEL_STUDIO_PASSWORD=PASSWORD)
        environment.update(env or {})
        self.log_path = base_dir / "label-studio.log"
        self.log = open(self.log_path, "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1",
             "--port", str(self.port), "--username", email, "--enable-legacy-api-token"],
            cwd=self.data, env=environment, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Token {TOKEN}"
        deadline = started + 240
        while True:
            if self.proc.poll() is not None:
                self.log.flush()
                raise RuntimeError("label-studio exited:\n" + self.log_path.read_text()[-3000:])
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    # ours, not another test's Label Studio that took the same free port first
                    # (then ours exits, unable to bind): still running a moment later
                    time.sleep(1)
                    if self.proc.poll() is None:
                        break
                    continue
            except (requests.ConnectionError, requests.Timeout):  # starting, or a busy machine
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("label-studio did not answer /health within 240 s")
            time.sleep(0.3)
        self.start_seconds = time.monotonic() - started
        print(f"\nLabel Studio started in {self.start_seconds:.1f} s", file=sys.stderr)

    def get(self, path, **params):
        response = self.api.get(self.url + path, params=params, timeout=120)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.json()

    def tasks(self, project):
        """Every task of a project with annotations and predictions (the DM list)."""
        return self.get("/api/tasks/", project=project, fields="all", page_size=5000)["tasks"]

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
