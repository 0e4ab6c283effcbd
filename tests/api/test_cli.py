"""`labeldesk` on the command line: version, serve (port fallback, user, token, SIGTERM, data dir,
damaged store) and `labeldesk user`."""

import ast
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from desktop import __version__
from paths import ROOT


def labeldesk(*args, env=None, timeout=30):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def user_info(output):
    """The dict `labeldesk user` prints (a Python repr, as `label-studio user`)."""
    line = [line for line in output.splitlines() if line.startswith("{")][-1]
    return ast.literal_eval(line)


def test_version():
    result = labeldesk("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"labeldesk {__version__}"


def test_entry_point_version():
    script = os.path.join(os.path.dirname(sys.executable), "labeldesk")
    if not os.path.exists(script):
        pytest.skip("the labeldesk script is not installed in this environment")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == f"labeldesk {__version__}"


def test_taken_port_falls_back_to_a_free_one(serve_process, tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    try:
        process = serve_process(tmp_path / "data", "--port", str(taken))
        output = "".join(process.lines)
        assert f"Port {taken} is in use; using port" in output
        port = int(process.url.rsplit(":", 1)[1])
        assert port != taken
        assert process.api.get("/api/version").status_code == 200
    finally:
        blocker.close()


def test_username_and_user_token(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data, "--username", "a@b.c",
                            env={"LABELDESK_USER_TOKEN": "abc123token"})
    assert process.token == "abc123token"
    response = requests.get(process.url + "/api/current-user/whoami",
                            headers={"Authorization": "Token abc123token"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["email"] == "a@b.c"
    assert response.json()["initials"] == "a@"

    # `labeldesk user` while the server holds the store: read-only look
    running = labeldesk("user", "--data-dir", str(data), "--username", "a@b.c")
    assert running.returncode == 0, running.stdout + running.stderr
    assert "=> User info:" in running.stdout
    assert "'token': 'abc123token'" in running.stdout
    info = user_info(running.stdout)
    assert info["email"] == "a@b.c" and info["status"] == "ok" and info["id"] == 1

    unknown = labeldesk("user", "--data-dir", str(data), "--username", "nobody@x.y")
    assert "=> User info:" not in unknown.stdout
    assert user_info(unknown.stdout) == {"status": "error",
                                         "message": "user nobody@x.y doesn't exist"}
    assert unknown.returncode != 0

    output = process.stop()
    assert process.proc.returncode == 0, output

    # and when it's stopped
    stopped = labeldesk("user", "--data-dir", str(data), "--username", "a@b.c")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "=> User info:" in stopped.stdout
    assert re.search(r"'token': 'abc123token'", stopped.stdout)
    unknown = labeldesk("user", "--data-dir", str(data), "--username", "nobody@x.y")
    assert user_info(unknown.stdout) == {"status": "error",
                                         "message": "user nobody@x.y doesn't exist"}
    # looking up a user changes nobody
    again = labeldesk("user", "--data-dir", str(data), "--username", "a@b.c")
    assert user_info(again.stdout)["email"] == "a@b.c"
    assert "'token': 'abc123token'" in again.stdout


def test_user_defaults_to_the_local_user(tmp_path):
    data = tmp_path / "data"
    result = labeldesk("user", "--data-dir", str(data))
    assert result.returncode == 0, result.stdout + result.stderr
    info = user_info(result.stdout)
    assert info["email"] == "default_user@localhost"
    assert re.fullmatch(r"[0-9a-f]{40}", info["token"])
    assert set(info) >= {"id", "first_name", "last_name", "username", "email",
                         "last_activity", "custom_hotkeys", "avatar", "initials", "phone",
                         "active_organization", "active_organization_meta",
                         "allow_newsletters", "date_joined", "token", "status"}
    # the same token on the next look
    assert user_info(labeldesk("user", "--data-dir", str(data)).stdout)["token"] == info["token"]


def test_sigterm_stops_cleanly_and_data_persists(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data)
    project = process.api.project(title="Survives SIGTERM")
    process.api.patch(f"/api/projects/{project['id']}", json={"description": "patched"})
    # an idle keep-alive connection must not hold the shutdown up
    assert process.api.get("/api/version").status_code == 200
    started = time.time()
    process.proc.send_signal(signal.SIGTERM)
    assert process.proc.wait(timeout=15) == 0
    assert time.time() - started < 10
    output = process.proc.stdout.read()
    assert "LabelDesk stopped." in output
    assert "Traceback" not in output

    again = serve_process(data)
    assert again.token == process.token
    body = again.api.get(f"/api/projects/{project['id']}").json()
    assert body["title"] == "Survives SIGTERM" and body["description"] == "patched"


def test_second_server_on_the_same_data_is_refused(serve_process, tmp_path):
    data = tmp_path / "data"
    serve_process(data)
    result = labeldesk("serve", "--data-dir", str(data), "--port", "0", timeout=30)
    assert result.returncode != 0
    assert "already running" in result.stderr + result.stdout


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("user",), ("backups",)])
def test_unreadable_settings_file_is_said_not_a_traceback(tmp_path, command):
    """settings.json that isn't JSON: every command ends with the file and why (exit 1)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text('{"port": ')
    result = labeldesk(*command, "--data-dir", str(data))
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{data / 'settings.json'} can't be read" in result.stderr
    assert "Traceback" not in result.stderr


def test_data_dir_from_environment(tmp_path):
    data = tmp_path / "from-env"
    proc = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT, env={**os.environ, "LABELDESK_DATA_DIR": str(data)})
    try:
        lines = []
        url = None
        deadline = time.time() + 30
        while time.time() < deadline and not any("API token" in seen for seen in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"serving (http://\S+)", line)
            url = url or (match and match.group(1))
        output = "".join(lines)
        assert url, output
        assert f"Data folder: {data}" in output
        assert (data / "db" / "journal.ldb").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    result = labeldesk("user", env={"LABELDESK_DATA_DIR": str(data)})
    assert result.returncode == 0
    token = labeldesk("user", "--token", env={"LABELDESK_DATA_DIR": str(data)}).stdout.strip()
    assert user_info(result.stdout)["token"] == token and token not in output


def test_serve_prints_where_the_token_is_not_the_token(serve_process, tmp_path):
    data = tmp_path / "data"
    process = serve_process(data, print_token=False)
    # while it runs (it holds the store), `user --token` reads the token: that alone, one line
    result = labeldesk("user", "--token", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and len(token) >= 20 and " " not in token
    assert process.api.get("/api/projects").status_code == 401
    response = requests.get(process.url + "/api/current-user/whoami",
                            headers={"Authorization": f"Token {token}"}, timeout=10)
    assert response.status_code == 200
    output = "".join(process.lines) + process.stop()
    assert token not in output
    assert f"labeldesk user --token --data-dir {data}" in output
    assert user_info(labeldesk("user", "--data-dir", str(data)).stdout)["token"] == token

    # asked for: printed
    again = serve_process(data, "--print-token", print_token=False)
    assert again.token == token
    assert "API token: " + token in "".join(again.lines)
    again.stop()
    missing = labeldesk("user", "--token", "--username", "nobody@x.y", "--data-dir", str(data))
    assert missing.returncode == 1 and "doesn't exist" in missing.stderr and not missing.stdout


def test_start_and_serve_share_the_announcement(tmp_path, capsys):
    """`labeldesk start` (desktop/shell/window.py) prints through instance.announce, as serve
    does."""
    import inspect

    from desktop.core.settings import Settings
    from desktop.shell import window
    from desktop.shell.app import LabelDesk
    from desktop.shell.instance import announce
    assert "API token:" not in inspect.getsource(window)  # no printing of its own
    app = LabelDesk(Settings(data_dir=tmp_path / "data"))
    try:
        token = app.users.get(1)["token"]
        announce(app)
        quiet = capsys.readouterr().out
        announce(app, print_token=True)
        loud = capsys.readouterr().out
    finally:
        app.close()
    assert token not in quiet and "labeldesk user --token" in quiet
    assert f"API token: {token}" in loud


@pytest.mark.parametrize("damage", ["snapshot", "journal"])
def test_corrupt_store_refuses_to_start(serve_process, tmp_path, damage):
    data = tmp_path / "data"
    process = serve_process(data)
    for i in range(5):
        process.api.project(title=f"Project {i}")
    process.stop()
    store = data / "db"
    if damage == "snapshot":
        from desktop.db import Store
        opened = Store(store)
        opened.compact()
        opened.close()
        target = store / "snapshot.ldb"
        original = target.read_bytes()
        target.write_bytes(original[:-20])
    else:
        target = store / "journal.ldb"
        lines = target.read_bytes().split(b"\n")
        lines[2] = lines[2][:20] + b"X" + lines[2][21:]
        target.write_bytes(b"\n".join(lines))
    damaged = target.read_bytes()
    result = labeldesk("serve", "--data-dir", str(data), "--port", "0")
    assert result.returncode != 0
    message = result.stderr + result.stdout
    assert str(target) in message, message
    assert "Traceback" not in message
    assert target.read_bytes() == damaged
    # `labeldesk user` refuses the same way, and leaves the file alone
    looked = labeldesk("user", "--data-dir", str(data))
    assert looked.returncode != 0
    assert str(target) in looked.stderr + looked.stdout
    assert target.read_bytes() == damaged
