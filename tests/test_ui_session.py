"""The UI's sign-in: the window's one-time secret, the browser's token form, the HttpOnly
SameSite=Strict session cookie and the CSRF header it requires; the UI's settings endpoints;
the label-config templates."""

import orjson
import pytest
import requests

from desktop import labelconfig
from desktop.api.ui import template_list
from uihelp import browser  # noqa: F401 - fixture


def cookie_header(response):
    return response.headers.get("Set-Cookie", "")


def session_for(live):
    """A requests session signed in the way the window is."""
    secret = live.app.sessions.one_time_secret()
    client = requests.Session()
    response = client.post(f"{live.url}/api/ui/session", json={"secret": secret})
    assert response.status_code == 201, response.text
    client.headers["X-CSRFToken"] = response.json()["csrf_token"]
    return client, response


def test_root_is_the_sign_in_page_without_a_session(live):
    response = requests.get(live.url + "/")
    assert response.status_code == 200
    assert "Sign in" in response.text and "API token" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_one_time_secret_gives_a_strict_httponly_cookie_once(live):
    client, response = session_for(live)
    header = cookie_header(response)
    assert f"labeldesk_session_{live.port}=" in header
    assert "HttpOnly" in header and "samesite=strict" in header.lower()
    assert client.get(live.url + "/").text.count("/static/js/main.js") == 1  # the app shell
    assert client.get(live.url + "/api/projects").status_code == 200
    again = requests.post(f"{live.url}/api/ui/session",
                          json={"secret": response.request.body and orjson.loads(
                              response.request.body)["secret"]})
    assert again.status_code == 401
    assert requests.post(f"{live.url}/api/ui/session", json={"secret": "nope"}).status_code == 401


def test_cookie_alone_cannot_change_anything(live):
    client, _ = session_for(live)
    csrf = client.headers.pop("X-CSRFToken")
    refused = client.post(f"{live.url}/api/projects", json={"title": "Forged"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    allowed = client.post(f"{live.url}/api/projects", json={"title": "Mine"},
                          headers={"X-CSRFToken": csrf})
    assert allowed.status_code == 201
    assert client.get(f"{live.url}/api/ui/session").json()["csrf_token"] == csrf


def test_cross_site_page_is_refused_even_with_the_cookie(live):
    client, _ = session_for(live)
    response = client.post(f"{live.url}/api/projects", json={"title": "x"},
                           headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_browser_signs_in_with_the_token(live):
    client = requests.Session()
    bad = client.post(f"{live.url}/user/login", data={"token": "wrong"}, allow_redirects=False)
    assert bad.status_code == 303 and bad.headers["Location"] == "/?error=token"
    good = client.post(f"{live.url}/user/login", data={"token": live.token},
                       allow_redirects=False)
    assert good.status_code == 303 and "HttpOnly" in cookie_header(good)
    assert "/static/js/main.js" in client.get(live.url + "/").text
    page = client.get(f"{live.url}/user/logout", allow_redirects=False)
    assert page.status_code == 200 and 'action="/user/logout"' in page.text
    assert "/static/js/main.js" in client.get(live.url + "/").text  # a GET signed no one out
    out = client.post(f"{live.url}/user/logout", allow_redirects=False,
                      headers={"Origin": live.url})
    assert out.status_code == 303
    assert "Sign in" in client.get(live.url + "/").text


def test_resetting_the_token_keeps_this_browser_and_signs_out_the_others(make_live):
    live = make_live()
    mine, _ = session_for(live)
    other, _ = session_for(live)
    response = mine.post(f"{live.url}/api/ui/reset-token")
    assert response.status_code == 200, response.text
    mine.headers["X-CSRFToken"] = response.json()["csrf_token"]
    assert mine.post(f"{live.url}/api/projects", json={"title": "Still in"}).status_code == 201
    assert other.get(f"{live.url}/api/projects").status_code == 401


def test_settings_toggle_auth_and_persist(make_live):
    server = make_live()
    client, _ = session_for(server)
    settings = client.get(f"{server.url}/api/ui/settings").json()
    assert settings["auth"] is True and settings["api_url"] == server.url
    assert client.patch(f"{server.url}/api/ui/settings", json={"auth": "no"}).status_code == 400
    assert client.patch(f"{server.url}/api/ui/settings", json={"auth": False}).json()["auth"] \
        is False
    assert requests.get(f"{server.url}/api/projects").status_code == 200  # scripts need no token
    assert orjson.loads(server.settings.settings_file.read_bytes())["auth"] is False
    client.patch(f"{server.url}/api/ui/settings", json={"auth": True})
    assert requests.get(f"{server.url}/api/projects").status_code == 401


def test_static_files_and_the_editor_are_served_locally(live):
    for path, kind in (("/static/js/main.js", "javascript"), ("/static/css/app.css", "css"),
                       ("/static/editor/main.js", "javascript"),
                       ("/static/editor/main.css", "css"),
                       ("/static/fonts/Figtree-Regular.ttf", "")):
        response = requests.get(live.url + path)
        if "editor" in path or "fonts" in path:
            from uihelp import require_tools
            require_tools()
        assert response.status_code == 200, path
        assert kind in response.headers["Content-Type"], (path, response.headers["Content-Type"])
    assert requests.get(live.url + "/static/vendor/editor.version").status_code == 404
    assert requests.get(live.url + "/static/../desktop/app.py").status_code in (403, 404)


@pytest.mark.parametrize("template", template_list()["templates"], ids=lambda t: t["id"])
def test_templates_are_valid_label_configs(template):
    assert labelconfig.validate(template["config"]) == []


def test_the_login_page_in_a_browser(browser, live):  # noqa: F811 - fixture
    page = browser.new_page()
    try:
        page.goto(live.url + "/")
        page.fill("#token", "not the token")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error:not([hidden])")
        page.fill("#token", live.token)
        page.click("button[type=submit]")
        page.wait_for_selector("#nav a")
        assert page.title().endswith("LabelDesk")
        cookies = page.context.cookies()
        [session] = [c for c in cookies if c["name"].startswith("labeldesk_session_")]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # not readable by scripts
    finally:
        page.context.close()
