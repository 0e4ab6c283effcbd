"""Choosing the data folder from the UI: POST /api/ui/data-dir checks the folder, remembers it
in the user config (<config dir>/labeldesk/config.json) that default_data_dir() follows, and,
where the app is served reopenably (the window, `labeldesk serve`), opens it in place."""

import sys
import time

import orjson
import pytest
import requests

from desktop.core import settings as settings_module
from desktop.core.settings import Settings
from desktop.db import Store, StoreLocked
from desktop.shell.app import LabelDesk
from uihelp import browser  # noqa: F401 - fixture


@pytest.fixture
def user_env(tmp_path, monkeypatch):
    """The platform's own config and data locations, under tmp_path (environment only)."""
    monkeypatch.delenv("LABELDESK_DATA_DIR", raising=False)
    monkeypatch.delenv("LABELDESK_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "appdata"))
    return tmp_path


def expected_config_file(tmp_path):
    if sys.platform.startswith("linux"):
        return tmp_path / "xdg-config" / "labeldesk" / "config.json"
    return settings_module.user_config_file()


def browser_session(live):
    """A requests session signed in as the window is (cookie + CSRF header)."""
    client = requests.Session()
    response = client.post(f"{live.ui_url}/api/ui/session",
                           json={"secret": live.app.sessions.one_time_secret()})
    assert response.status_code == 201, response.text
    client.headers["X-CSRFToken"] = response.json()["csrf_token"]
    return client


def test_choice_is_written_and_a_new_labeldesk_uses_it(user_env, make_live):
    tmp_path = user_env
    if sys.platform.startswith("linux"):
        assert Settings().data_dir == tmp_path / "xdg-data" / "labeldesk"
    assert Settings().data_dir_source == "default"
    live = make_live("current")
    chosen = tmp_path / "elsewhere" / "LabelDesk data"
    response = live.api.post("/api/ui/data-dir", json={"path": str(chosen)})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["data_dir"] == str(chosen) and answer["existing"] is False
    assert answer["reopened"] is False  # not served reopenably: used from the next start
    assert answer["config_file"] == str(expected_config_file(tmp_path))
    assert orjson.loads(expected_config_file(tmp_path).read_bytes()) == {"data_dir": str(chosen)}
    assert not chosen.exists()  # nothing is created before LabelDesk opens it

    settings = Settings()
    assert settings.data_dir == chosen and settings.data_dir_source == "config"
    app = LabelDesk(settings)
    try:
        assert (chosen / "db" / "LOCK").exists()
        assert app.users.get(1)["token"]
    finally:
        app.close()
    # LABELDESK_DATA_DIR still wins over the remembered choice
    user_env_dir = tmp_path / "from-env"
    import os
    os.environ["LABELDESK_DATA_DIR"] = str(user_env_dir)
    try:
        assert Settings().data_dir == user_env_dir
        assert Settings().data_dir_source == "LABELDESK_DATA_DIR"
    finally:
        del os.environ["LABELDESK_DATA_DIR"]


def test_unreadable_config_falls_back_to_the_default(user_env):
    config = expected_config_file(user_env)
    config.parent.mkdir(parents=True)
    for text in (b"{not json", b"[1]", b'{"data_dir": 3}', b'{"data_dir": "relative/x"}'):
        config.write_bytes(text)
        assert Settings().data_dir == settings_module.platform_data_dir()


def test_reopen_in_place_over_http(user_env, make_live):
    tmp_path = user_env
    live = make_live("first", reopenable=True)
    first_app = live.app
    live.api.project(title="In the first folder")
    old_token = live.token
    signed_in = browser_session(live)
    second = tmp_path / "second"

    answer = signed_in.post(f"{live.ui_url}/api/ui/data-dir", json={"path": str(second)}).json()
    assert answer["reopened"] is True and answer["data_dir"] == str(second)
    assert answer["url"].startswith("/desktop#secret=")
    assert live.app is not first_app and live.app.settings.data_dir == second
    assert (second / "db" / "LOCK").exists()
    assert settings_module.read_user_config() == {"data_dir": str(second)}

    # the browser signs in to the new folder with the secret it was given
    fresh = requests.Session()
    secret = answer["url"].split("secret=")[1]
    assert fresh.post(f"{live.ui_url}/api/ui/session", json={"secret": secret}).status_code == 201
    assert fresh.get(f"{live.ui_url}/api/projects").json()["results"] == []
    # the first folder's token and session mean nothing to the second folder's LabelDesk
    assert requests.get(f"{live.url}/api/projects",
                        headers={"Authorization": f"Token {old_token}"}).status_code == 401
    assert signed_in.get(f"{live.ui_url}/api/projects").status_code == 401

    # the first folder was closed (its lock freed) once its last request was done
    deadline = time.time() + 10
    while True:
        try:
            Store(tmp_path / "first" / "db").close()
            break
        except StoreLocked:
            assert time.time() < deadline, "the first folder was never closed"
            time.sleep(0.05)

    # and back: the first folder's project is there again
    token = live.app.users.get(1)["token"]
    back = requests.post(f"{live.url}/api/ui/data-dir", json={"path": str(tmp_path / "first")},
                         headers={"Authorization": f"Token {token}"}).json()
    assert back["reopened"] is True and back["existing"] is True
    assert back["url"] is None  # a script gets no sign-in link
    titles = [p["title"] for p in live.api.get("/api/projects").json()["results"]]
    assert titles == ["In the first folder"]


@pytest.mark.parametrize("path, message", [
    ("", "Choose a folder."),
    ("relative/folder", "Must be an absolute path."),
    ("{current}", "already uses this folder"),
    ("{current}/db/inner", "belongs to the current data folder"),
    ("{current}/media", "belongs to the current data folder"),
    ("{other}/db", "belongs to the LabelDesk data folder"),
    ("{other}/db/x/y", "belongs to the LabelDesk data folder"),
    ("{file}", "is not a folder"),
    ("{file}/below", "is not a folder"),
])
def test_unusable_folders_are_refused(user_env, make_live, path, message):
    tmp_path = user_env
    live = make_live("current", reopenable=True)
    other = tmp_path / "other"
    LabelDesk(Settings(data_dir=other)).close()
    (tmp_path / "a-file").write_text("x")
    path = path.format(current=live.app.settings.data_dir, other=other,
                       file=tmp_path / "a-file")
    response = live.api.post("/api/ui/data-dir", json={"path": path})
    assert response.status_code == 400, response.text
    assert message in str(response.json()["validation_errors"]["path"])
    assert settings_module.read_user_config() == {}


def test_a_folder_another_labeldesk_has_open_is_refused(user_env, make_live):
    live = make_live("current", reopenable=True)
    busy = make_live("busy")
    response = live.api.post("/api/ui/data-dir", json={"path": str(busy.settings.data_dir)})
    assert response.status_code == 400
    assert "Another LabelDesk" in str(response.json()["validation_errors"]["path"])
    assert settings_module.read_user_config() == {}  # nothing remembered
    assert live.api.get("/api/projects").status_code == 200  # still serving its own folder


def test_a_folder_whose_settings_cant_be_read_is_refused_with_the_reason(user_env, make_live):
    """A malformed settings.json in the chosen folder is answered (400, the file and why), not
    left unanswered; the current folder keeps being served."""
    live = make_live("current", reopenable=True)
    other = user_env / "other"
    LabelDesk(Settings(data_dir=other)).close()
    (other / "settings.json").write_text('{"port": 8080,')
    response = live.api.post("/api/ui/data-dir", json={"path": str(other)})
    assert response.status_code == 400, response.text
    reason = str(response.json()["validation_errors"]["path"])
    assert "settings.json can't be read" in reason and str(other) in reason, reason
    assert settings_module.read_user_config() == {}  # nothing remembered
    assert live.api.get("/api/projects").status_code == 200  # still serving its own folder


def test_settings_say_where_the_folder_comes_from(make_live):
    live = make_live("current", reopenable=True)
    body = live.api.get("/api/ui/settings").json()
    assert body["can_reopen"] is True and body["data_dir_source"] in (
        "default", "config", "LABELDESK_DATA_DIR")


def test_change_the_data_folder_in_the_browser(browser, user_env):  # noqa: F811
    """Settings -> Change… -> a path typed in (no native dialog in a browser) -> reopened."""
    from conftest import LiveServer

    from uihelp import UI
    live = LiveServer(user_env / "first", reopenable=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    ui = UI(live, context)
    try:
        live.api.project(title="In the first folder")
        page = ui.sign_in().page
        page.wait_for_selector("text=In the first folder")
        ui.go("/settings")
        page.wait_for_selector("#data-dir")
        page.click("#change-data-dir")
        second = user_env / "second folder"
        page.fill(".modal input", str(second))
        page.click(".modal .btn-primary")
        page.wait_for_selector(".modal >> text=Reopen LabelDesk on this folder?")
        page.click(".modal .btn-primary:has-text('Reopen')")
        page.wait_for_selector("text=No projects yet")  # the new, empty folder
        assert live.app.settings.data_dir == second
        assert settings_module.read_user_config() == {"data_dir": str(second)}
        ui.go("/settings")
        page.wait_for_selector("#data-dir")
        assert page.inner_text("#data-dir") == str(second)
        assert not ui.errors, ui.errors
    finally:
        context.close()
        live.close()
    ui.assert_offline()
