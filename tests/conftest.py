"""Fixtures: the real LabelDesk server on an ephemeral loopback port, and HTTP clients for it."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests

from datahelp import LABEL_CONFIG
from desktop.core.settings import Settings
from desktop.shell.app import LabelDesk, Reopenable
from desktop.shell.server import Server

# The user config (the data folder chosen on the Settings page) of the tests' own: no test
# reads or writes the real one. Tests of the config itself point this elsewhere or unset it.
os.environ["LABELDESK_CONFIG_DIR"] = tempfile.mkdtemp(prefix="labeldesk-test-config-")

# The UI is served on a name under .localhost (desktop/core/uihost.py). Browsers resolve those to
# loopback themselves (RFC 6761); Python asks the system, which on Debian doesn't. The tests'
# own HTTP clients resolve them as a browser does.
_system_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.lower().endswith(".localhost"):
        host = "127.0.0.1"
    return _system_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo


class Api:
    """requests against one LabelDesk, with its token; paths are relative to the server."""

    def __init__(self, url, token=None):
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Token {token}"

    def __getattr__(self, method):
        if method not in ("get", "post", "patch", "put", "delete", "head", "options", "request"):
            raise AttributeError(method)

        def call(path, *args, **kwargs):
            if method == "request":
                return self.session.request(path, self.url + args[0], *args[1:], **kwargs)
            return getattr(self.session, method)(self.url + path, *args, **kwargs)
        return call

    def project(self, **fields):
        fields.setdefault("title", "Test project")
        fields.setdefault("label_config", LABEL_CONFIG)
        response = self.post("/api/projects", json=fields)
        assert response.status_code == 201, response.text
        return response.json()


class LiveServer:
    """LabelDesk in this process, serving on 127.0.0.1:<free port> from a temp data dir."""

    def __init__(self, data_dir, reopenable=False, **settings):
        self.settings = Settings(data_dir=data_dir, **settings)
        self._app = LabelDesk(self.settings)
        # reopenable: served as the window serves it, so "Change…" of the data folder reopens
        self.holder = Reopenable(self._app) if reopenable else None
        self.server = Server(self.holder or self._app.wsgi, port=0).start()
        self.url = self.server.url
        self.port = self.server.port
        # where the UI (and its session cookie) lives; scripts use `url`
        self.ui_url = f"http://{self.app.sessions.host}:{self.port}"
        self.token = self.app.users.get(1)["token"]
        self.api = Api(self.url, self.token)
        self.anonymous = Api(self.url)

    @property
    def app(self):
        """The LabelDesk serving now (another one after a reopen)."""
        return self.holder.app if self.holder else self._app

    def close(self):
        self.server.stop()
        self.app.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("shared-data"))
    yield server
    server.close()


@pytest.fixture
def api(live):
    return live.api


@pytest.fixture
def make_live(tmp_path):
    """Start servers with particular settings; each gets its own data dir."""
    started = []

    def make(name="data", **settings):
        server = LiveServer(tmp_path / name, **settings)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


class ServeProcess:
    """`labeldesk serve` as a child process (for CLI, crash and kill -9 tests). It is started
    with --print-token (serve doesn't print the token unless asked) and read until it said
    where its token is; print_token=False leaves the flag out (then `token` stays None)."""

    def __init__(self, data_dir, *args, env=None, print_token=True):
        cmd = [sys.executable, "-m", "desktop", "serve", "--data-dir", str(data_dir), *args]
        if "--port" not in args:
            cmd += ["--port", "0"]
        if print_token and "--print-token" not in args:
            cmd.append("--print-token")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env={**os.environ, **(env or {})})
        self.lines = []
        deadline = time.time() + 30
        self.url = self.token = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            match = re.search(r"serving (http://[0-9.]+:[0-9]+)", line)  # a log line may follow
            if match:
                self.url = match.group(1)
            match = re.search(r"API token: (\S+)", line)
            if match:
                self.token = match.group(1)
            if self.url and (self.token or "API token" in line or "Authentication is off" in line):
                break
        if not self.url:
            self.proc.kill()
            raise RuntimeError("labeldesk serve did not start:\n" + "".join(self.lines)
                               + (self.proc.stdout.read() or ""))
        self.api = Api(self.url, self.token)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.stdout.read()


@pytest.fixture
def serve_process():
    started = []

    def start(data_dir, *args, **kwargs):
        process = ServeProcess(data_dir, *args, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.kill()


# -- the conformance suite's counts (tests/conformance), at the end of any run that ran it -------
# Read from the test report's user_properties, so that they reach the controller under xdist.

_conformance = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _conformance.extend(value for name, value in report.user_properties
                            if name == "conformance")


def pytest_terminal_summary(terminalreporter):
    for counts in _conformance:
        terminalreporter.write_sep("-", "conformance with Label Studio 1.23.2 (tests/conformance)")
        terminalreporter.write_line(
            f"{counts['requests']} requests: {counts['identical']} identical, "
            f"{counts['value']} same shape other values, {counts['shape']} other shape, "
            f"{counts['status']} other status; differences listed: {counts['deliberate']} "
            f"deliberate, {counts['open']} open, {counts['unlisted']} not listed")
        terminalreporter.write_line(f"every answer of both servers: {counts['report']}")
