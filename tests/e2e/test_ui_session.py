"""The UI's sign-in: the window's one-time secret, the browser's token form, the HttpOnly
SameSite=Strict session cookie on the UI's own host and the CSRF header it requires; what a
cookie session is never given; the UI's settings endpoints; the UI's files, served from disk."""

import http.client

import orjson
import pytest
import requests

from uihelp import browser  # noqa: F401 - fixture


def cookie_header(response):
    return response.headers.get("Set-Cookie", "")


def session_for(live):
    """A requests session signed in the way the window is (on the UI's own host)."""
    secret = live.app.sessions.one_time_secret()
    client = requests.Session()
    response = client.post(f"{live.ui_url}/api/ui/session", json={"secret": secret})
    assert response.status_code == 201, response.text
    client.headers["X-CSRFToken"] = response.json()["csrf_token"]
    return client, response


def test_root_is_the_sign_in_page_without_a_session(live):
    for url in (live.url, live.ui_url):
        response = requests.get(url + "/")
        assert response.status_code == 200
        assert "Sign in" in response.text and "API token" in response.text
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_one_time_secret_gives_a_strict_httponly_host_only_cookie_once(live):
    client, response = session_for(live)
    header = cookie_header(response)
    assert f"labeldesk_session_{live.port}=" in header
    assert "HttpOnly" in header and "samesite=strict" in header.lower()
    assert "domain" not in header.lower()  # host-only: sent back to the UI's host alone
    assert client.get(live.ui_url + "/").text.count("/react-app/main.js") == 1  # the app shell
    assert client.get(live.ui_url + "/api/projects").status_code == 200
    again = requests.post(f"{live.ui_url}/api/ui/session",
                          json={"secret": response.request.body and orjson.loads(
                              response.request.body)["secret"]})
    assert again.status_code == 401
    assert requests.post(f"{live.ui_url}/api/ui/session",
                         json={"secret": "nope"}).status_code == 401


def test_no_session_is_made_or_accepted_off_the_ui_host(live):
    """127.0.0.1 is every local server's host as far as cookies go: no session lives there."""
    refused = requests.post(f"{live.url}/api/ui/session",
                            json={"secret": live.app.sessions.one_time_secret()})
    assert refused.status_code == 403 and "Set-Cookie" not in refused.headers
    assert live.app.sessions.host not in refused.text
    client, _ = session_for(live)
    value = client.cookies[f"labeldesk_session_{live.port}"]
    cookie = {"Cookie": f"labeldesk_session_{live.port}={value}"}
    assert requests.get(f"{live.url}/api/projects", headers=cookie).status_code == 401
    assert "Sign in" in requests.get(f"{live.url}/", headers=cookie).text


def test_the_windows_first_load_brings_its_secret_in_a_header(live):
    """Qt's window loads the app with its one-time secret in a header (no sign-in page, no
    secret in any address): the app at once with the session's cookie and CSRF token; once;
    on the UI's own host only."""
    secret = live.app.sessions.one_time_secret()
    sent = {"X-LabelDesk-Window-Secret": secret}
    off_host = requests.get(f"{live.url}/", headers=sent)  # 127.0.0.1: not used up
    assert "Sign in" in off_host.text and "labeldesk_session" not in cookie_header(off_host)
    client = requests.Session()
    page = client.get(f"{live.ui_url}/", headers=sent)
    assert page.status_code == 200 and page.text.count("/react-app/main.js") == 1
    header = cookie_header(page)
    assert f"labeldesk_session_{live.port}=" in header
    assert "HttpOnly" in header and "samesite=strict" in header.lower()
    assert "domain" not in header.lower()
    session = client.get(f"{live.ui_url}/api/ui/session").json()
    assert session["signed_in"] is True and session["csrf_token"] in page.text
    assert client.get(f"{live.ui_url}/api/projects").status_code == 200
    for used_or_wrong in (secret, "nope", ""):
        again = requests.get(f"{live.ui_url}/",
                             headers={"X-LabelDesk-Window-Secret": used_or_wrong})
        assert again.status_code == 200 and "Sign in" in again.text
        assert "labeldesk_session" not in cookie_header(again)


@pytest.mark.parametrize("path", ["/", "/projects"])
def test_a_garbled_window_secret_is_the_sign_in_page_not_a_500(live, path):
    """Bytes that aren't UTF-8 in the window's secret header: the sign-in page, on either
    host (found by a red-team review: it was a 500)."""
    for host in (f"{live.app.sessions.host}:{live.port}", f"127.0.0.1:{live.port}"):
        conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        conn.putheader("X-LabelDesk-Window-Secret", b"\xff\xfe")
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        conn.close()
        assert response.status == 200 and b"Sign in" in body, (host, response.status)


def test_cookie_alone_cannot_change_anything(live):
    client, _ = session_for(live)
    csrf = client.headers.pop("X-CSRFToken")
    refused = client.post(f"{live.ui_url}/api/projects", json={"title": "Forged"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    allowed = client.post(f"{live.ui_url}/api/projects", json={"title": "Mine"},
                          headers={"X-CSRFToken": csrf})
    assert allowed.status_code == 201
    assert client.get(f"{live.ui_url}/api/ui/session").json()["csrf_token"] == csrf


def test_cross_site_page_is_refused_even_with_the_cookie(live):
    client, _ = session_for(live)
    response = client.post(f"{live.ui_url}/api/projects", json={"title": "x"},
                           headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_browser_signs_in_with_the_token(live):
    client = requests.Session()
    bad = client.post(f"{live.ui_url}/user/login", data={"token": "wrong"},
                      allow_redirects=False)
    assert bad.status_code == 303 and bad.headers["Location"] == "/?error=token"
    good = client.post(f"{live.ui_url}/user/login", data={"token": live.token},
                       allow_redirects=False)
    assert good.status_code == 303 and "HttpOnly" in cookie_header(good)
    assert "/react-app/main.js" in client.get(live.ui_url + "/").text
    page = client.get(f"{live.ui_url}/user/logout", allow_redirects=False)
    assert page.status_code == 200 and 'action="/user/logout"' in page.text
    assert "/react-app/main.js" in client.get(live.ui_url + "/").text  # a GET signed no one out
    out = client.post(f"{live.ui_url}/user/logout", allow_redirects=False,
                      headers={"Origin": live.ui_url})
    assert out.status_code == 303
    assert "Sign in" in client.get(live.ui_url + "/").text


def test_signing_in_at_127_0_0_1_leads_to_the_ui_host(live):
    """The token proves the user, so only then is the UI's host named: by a one-time secret
    for that host, never a cookie on 127.0.0.1."""
    client = requests.Session()
    bad = client.post(f"{live.url}/user/login", data={"token": "wrong"}, allow_redirects=False)
    assert bad.headers["Location"] == "/?error=token"
    assert live.app.sessions.host not in bad.text + str(bad.headers)
    good = client.post(f"{live.url}/user/login", data={"token": live.token},
                       allow_redirects=False)
    assert good.status_code == 200 and "Set-Cookie" not in good.headers
    refresh = good.headers["Refresh"]
    assert refresh.startswith(f"0; url={live.ui_url}/#secret=")
    secret = refresh.split("#secret=")[1]
    assert client.post(f"{live.ui_url}/api/ui/session",
                       json={"secret": secret}).status_code == 201
    assert "/react-app/main.js" in client.get(live.ui_url + "/").text


def test_a_cookie_session_never_gets_a_lasting_credential(make_live):
    """The API token, a new one, a personal access token, the token check switched off: only
    for a request that sends the token (the window's page gets it through its bridge)."""
    live = make_live()
    client, _ = session_for(live)
    ui = live.ui_url
    for method, path, body in (("GET", "/api/current-user/token", None),
                               ("POST", "/api/current-user/reset-token", None),
                               ("POST", "/api/ui/reset-token", None),
                               ("POST", "/api/token", None),
                               ("POST", "/api/token/rotate", {"refresh": "x"}),
                               ("PATCH", "/api/ui/settings", {"auth": False})):
        refused = client.request(method, ui + path, json=body)
        assert refused.status_code == 403, (path, refused.text)
        assert "given only to a request that sends it" in refused.json()["detail"]
        assert live.token not in refused.text
    assert live.app.users.get(1)["token"] == live.token and live.app.settings.auth is True
    assert live.api.get("/api/token").json() == []  # no personal access token was made
    # what a cookie session may still do: read and label, switch the check back on
    assert client.get(ui + "/api/current-user/whoami").status_code == 200
    assert client.patch(ui + "/api/ui/settings", json={"auth": True}).status_code == 200
    # the same requests with the token are answered, even beside the cookie
    token = {"Authorization": f"Token {live.token}"}
    assert client.get(ui + "/api/current-user/token", headers=token).json() == \
        {"token": live.token}
    assert client.post(ui + "/api/token", headers=token).status_code == 201


def test_resetting_the_token_keeps_this_browser_and_signs_out_the_others(make_live):
    live = make_live()
    mine, _ = session_for(live)
    other, _ = session_for(live)
    response = mine.post(f"{live.ui_url}/api/ui/reset-token",
                         headers={"Authorization": f"Token {live.token}"})
    assert response.status_code == 200, response.text
    assert response.json()["token"] == live.app.users.get(1)["token"] != live.token
    mine.headers["X-CSRFToken"] = response.json()["csrf_token"]
    assert mine.post(f"{live.ui_url}/api/projects", json={"title": "Still in"}).status_code \
        == 201
    assert other.get(f"{live.ui_url}/api/projects").status_code == 401


def test_settings_toggle_auth_and_persist(make_live):
    server = make_live()
    client, _ = session_for(server)
    settings = client.get(f"{server.ui_url}/api/ui/settings").json()
    assert settings["auth"] is True and settings["api_url"] == server.url  # scripts: 127.0.0.1
    assert client.patch(f"{server.ui_url}/api/ui/settings",
                        json={"auth": "no"}).status_code == 400
    token = {"Authorization": f"Token {server.token}"}
    assert client.patch(f"{server.ui_url}/api/ui/settings", json={"auth": False},
                        headers=token).json()["auth"] is False
    assert requests.get(f"{server.url}/api/projects").status_code == 200  # scripts need no token
    assert orjson.loads(server.settings.settings_file.read_bytes())["auth"] is False
    client.patch(f"{server.ui_url}/api/ui/settings", json={"auth": True})
    assert requests.get(f"{server.url}/api/projects").status_code == 401


def test_static_files_and_the_web_app_are_served_locally(live):
    from uihelp import require_tools
    require_tools()
    for path, kind in (("/react-app/main.js", "javascript"), ("/react-app/main.css", "css"),
                       ("/static/css/app.css", "css"), ("/static/js/main.js", "javascript"),
                       ("/static/dompurify/purify.es.mjs", "javascript"),
                       ("/static/fonts/Figtree-Regular.ttf", ""),
                       ("/static/fonts/Figtree-SemiBold.ttf", "")):
        response = requests.get(live.url + path)
        assert response.status_code == 200, path
        assert kind in response.headers["Content-Type"], (path, response.headers["Content-Type"])
    # the old UI's editor (1.13.1) and screens are gone (ADR 0009)
    for gone in ("/static/editor/main.js", "/static/js/editor.js", "/static/js/views/label.js",
                 "/api/ui/templates"):
        assert requests.get(live.url + gone, headers={
            "Authorization": f"Token {live.token}"}).status_code == 404, gone
    assert requests.get(live.url + "/static/vendor/webapp/webapp.version").status_code == 404
    assert requests.get(live.url + "/static/../desktop/shell/app.py").status_code in (403, 404)


def test_the_login_page_in_a_browser(browser, live):  # noqa: F811 - fixture
    """Signing in at 127.0.0.1 (the address scripts use) ends on the UI's own host, with its
    cookie there and nowhere else."""
    page = browser.new_page()
    try:
        page.goto(live.url + "/")
        page.fill("#token", "not the token")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error:not([hidden])")
        page.fill("#token", live.token)
        page.click("button[type=submit]")
        page.wait_for_url(live.ui_url + "/**")
        page.wait_for_selector(".lsf-menu-header")  # Label Studio's web app, signed in
        assert page.title().endswith("LabelDesk")
        assert page.url.startswith(live.ui_url + "/")
        cookies = page.context.cookies()
        [session] = [c for c in cookies if c["name"].startswith("labeldesk_session_")]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert session["domain"] == live.app.sessions.host  # host-only, not 127.0.0.1
        assert page.evaluate("document.cookie") == ""  # not readable by scripts
    finally:
        page.context.close()


def test_the_settings_page_in_a_browser_asks_for_the_token(browser, make_live):  # noqa: F811
    """A browser session is never shown the token: the Settings page says where to find it and
    asks for it before creating a personal access token or switching the token check off."""
    live = make_live()
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live.ui_url}/desktop#secret={live.app.sessions.one_time_secret()}")
        page.wait_for_selector("#nav a")
        page.goto(f"{live.ui_url}/desktop#/settings")
        page.wait_for_selector("#api-token-hidden")
        assert live.token not in page.content()
        assert page.query_selector("#api-token") is None
        page.click("#create-pat")
        page.fill(".modal input[type=password]", "not the token")
        page.click(".modal .btn-primary")
        page.wait_for_selector(".toast >> text=Invalid token")  # said, not signed out
        page.click("#create-pat")
        page.fill(".modal input[type=password]", live.token)
        page.click(".modal .btn-primary")
        pat = page.wait_for_selector("#pat-value").input_value()
        assert live.anonymous.post("/api/token/refresh", json={"refresh": pat}).status_code \
            == 200
        page.click(".modal .btn-primary:has-text('Done')")
        page.click("label.switch")
        page.click(".modal .btn-primary:has-text('Turn off')")
        page.fill(".modal input[type=password]", live.token)
        page.click(".modal .btn-primary")
        page.wait_for_selector("text=Scripts can use the API without a token")
        assert live.app.settings.auth is False
    finally:
        context.close()
