"""Label Studio 1.23.2's own web app as LabelDesk's UI (docs/adr/0009-web-app.md), in Debian's
Chromium: every screen is checked for console errors, answers the app didn't expect (4xx/5xx)
and requests that leave the machine; the walk fails on any of them."""

import re

import pytest
from conftest import LiveServer

from uihelp import browser  # noqa: F401 - fixture
from webapphelp import TEXT_CONFIG, App


@pytest.fixture
def app(browser, tmp_path):  # noqa: F811 - fixture
    live = LiveServer(tmp_path / "data")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield App(live, context)
    context.close()
    live.close()


def test_projects_page_says_labeldesk_and_never_leaves_the_machine(app):
    project = app.api.project(title="Reviews", label_config=TEXT_CONFIG)
    app.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "fine"}])
    page = app.sign_in("/projects").page
    page.wait_for_selector(".lsf-projects-page__link >> text=Reviews")
    assert page.title() == "Projects | LabelDesk"  # page_title: not "Label Studio"
    header = page.locator(".lsf-menu-header__trigger")
    assert "LabelDesk" in header.evaluate("e => getComputedStyle(e, '::before').content")
    assert not header.locator("svg").first.is_visible()  # Label Studio's logo
    page.click(".lsf-menu-header__trigger")
    page.wait_for_selector("#labeldesk-settings")
    links = page.eval_on_selector_all(
        ".lsf-main-menu a", "as => as.filter(a => a.offsetParent).map(a => a.href)")
    assert f"{app.live.ui_url}/desktop#/settings" in links
    assert f"{app.live.ui_url}/docs/api" in links
    assert all(link.startswith(app.live.ui_url) for link in links), links
    assert page.evaluate("window.APP_SETTINGS.collect_analytics") is False
    assert page.evaluate("window.APP_SETTINGS.sentry_dsn") is None
    assert page.evaluate("typeof window.LabelDeskSanitize") == "function"
    app.assert_clean()


def test_the_page_runs_no_inline_script_and_its_settings_are_data(app):
    app.sign_in("/projects")
    page = app.page
    assert page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true;";
        document.head.append(script);
        return window.__inlineRan === true;
    }""") is False
    assert page.evaluate("document.getElementById('app-settings').type") == "application/json"
    # a name with markup stays data: it can't close the data block
    app.live.app.users.update(1, {"first_name": "</script><script>top.__pwned=1</script>"})
    app.goto("/projects")
    assert page.evaluate("window.APP_SETTINGS.user.firstName").startswith("</script>")
    assert page.evaluate("window.__pwned") is None


def test_the_app_scripts_are_classic_and_run_after_the_boot_module(app):
    """The app's scripts load as Label Studio's page loads them, as classic scripts (V8's code
    cache keeps what their first run compiled; as modules it did not), deferred after the boot
    module, which sets APP_SETTINGS and the sanitizer before the app runs."""
    app.sign_in("/projects")
    scripts = app.page.evaluate("""() => [...document.scripts].filter(s => s.src)
        .map(s => [new URL(s.src).pathname, s.type, s.defer])""")
    assert scripts[:4] == [["/static/js/webapp-boot.js", "module", False],
                           ["/react-app/runtime.js", "", True],
                           ["/react-app/vendor.js", "", True],
                           ["/react-app/main.js", "", True]]
    assert app.page.evaluate("typeof window.LabelDeskSanitize") == "function"
    app.page.wait_for_selector(".lsf-menu-header__trigger")  # the app ran
    app.assert_clean()


def test_the_label_stream_opens_by_its_url(app):
    """"Label All Tasks" leads to /projects/<id>/data?tab=<tab>&labeling=1; opened (or
    reloaded) by that URL, the app asks for the next task with a selection of nothing, which
    is the whole project (as in Label Studio), not "no tasks"."""
    project = app.api.project(title="Reviews", label_config=TEXT_CONFIG)
    app.api.post(f"/api/projects/{project['id']}/import",
                 json=[{"text": "first review"}, {"text": "second review"}])
    view = app.api.post("/api/dm/views", json={"project": project["id"]}).json()
    app.sign_in(f"/projects/{project['id']}/data?tab={view['id']}&labeling=1")
    app.page.wait_for_selector(".lsf-editor .lsf-richtext__line >> text=first review")
    app.page.reload()
    app.page.wait_for_selector(".lsf-editor .lsf-richtext__line >> text=first review")
    app.assert_clean()


def test_organization_page_and_invite_members(app):
    """The Organization page lists the members (it crashed on a 404 before); the Home page's
    "Invite Members" shows LS's invite link (which LabelDesk's sign-up doesn't accept)."""
    project = app.api.project(title="Reviews", label_config=TEXT_CONFIG)
    app.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "fine"}])
    page = app.sign_in("/organization").page
    page.click("text=default_user@localhost")
    page.wait_for_selector("text=Created Projects")  # the member's panel
    page.wait_for_selector("a >> text=Reviews")
    app.goto("/")
    with page.expect_response("**/api/invite/reset-token") as reset:
        page.click("text=Invite Members")  # the dialog asks for a new link, as in LS
    token = reset.value.json()["token"]
    assert app.api.get("/api/invite").json()["token"] == token
    page.wait_for_function(
        "token => [...document.querySelectorAll('input')].some(i => i.value.endsWith(token))",
        arg=token)
    app.assert_clean()


def test_a_browser_drops_its_cached_app_files_when_the_build_changes(app):
    """The app's files are cached a day under names they keep across builds and patch levels
    (/react-app/main.js): the first page of a build a browser hasn't run clears its cache
    (Clear-Site-Data), later pages don't."""
    from urllib.parse import urlsplit

    import requests

    from desktop.ui import webapp
    page = app.sign_in("/projects").page
    page.wait_for_selector(".lsf-menu-header")

    # the headers as the server sends them (Chromium consumes Clear-Site-Data): the browser's
    # cookies, to the UI's host name, over loopback
    def fetch(path):
        return requests.get(f"{app.live.url}{path}", timeout=10, cookies={
            c["name"]: c["value"] for c in page.context.cookies()}, headers={
            "Host": urlsplit(app.live.ui_url).netloc})
    assert "Clear-Site-Data" not in fetch("/projects").headers  # it runs this build already
    cookie = {c["name"]: c for c in page.context.cookies()}["labeldesk_app_build"]
    assert cookie["value"] == webapp.BUILD and cookie["httpOnly"]
    page.context.add_cookies([{**cookie, "value": "1.23.1-older-patched-5"}])
    upgraded = fetch("/projects")
    assert upgraded.status_code == 200 and upgraded.headers["Clear-Site-Data"] == '"cache"'
    assert upgraded.cookies["labeldesk_app_build"] == webapp.BUILD
    assert fetch("/react-app/main.js").headers["Cache-Control"] == "public, max-age=86400"
    page.goto(f"{app.live.ui_url}/projects")
    page.wait_for_selector(".lsf-projects-page__link, .lsf-menu-header")
    app.assert_clean()


def test_links_to_label_studios_sites_are_explained_not_followed(app):
    """"Learn more" and the app's other links to Label Studio's sites (js/webapp-links.js):
    a click shows what the link is, with its address and a button to open it in the system's
    browser, and goes nowhere by itself; the API reference opens this machine's API docs."""
    project = app.api.project(title="Reviews", label_config=TEXT_CONFIG)
    app.api.post(f"/api/projects/{project['id']}/import", json=[{"text": "first review"}])
    view = app.api.post("/api/dm/views", json={"project": project["id"]}).json()
    page = app.sign_in(f"/projects/{project['id']}/data?tab={view['id']}&labeling=1").page
    page.wait_for_selector(".lsf-editor .lsf-richtext__line >> text=first review")
    learn = page.locator("a", has_text="Learn more").first  # under the empty regions list
    href = learn.get_attribute("href")
    assert re.match(r"https://(docs\.humansignal\.com|labelstud\.io)/", href), href
    learn.click()
    notice = page.locator("#labeldesk-online")
    notice.wait_for()
    assert "on the internet" in notice.inner_text()
    assert notice.locator("code").inner_text() == href
    opener = notice.get_by_role("link", name="Open in browser")
    assert opener.get_attribute("href") == href and opener.get_attribute("target") == "_blank"
    notice.get_by_role("button", name="Close").click()
    notice.wait_for(state="detached")
    assert len(app.context.pages) == 1 and "labeling=1" in page.url
    # the app's window.open() to Label Studio's sites (an upgrade prompt's button) too
    page.evaluate("window.open('https://humansignal.com/pricing/', '_blank')")
    notice.wait_for()
    page.keyboard.press("Escape")
    notice.wait_for(state="detached")
    assert len(app.context.pages) == 1
    # the API reference: this machine's API docs
    page.evaluate("""() => { const a = document.createElement('a');
        a.href = 'https://api.labelstud.io/api-reference/introduction/getting-started';
        a.textContent = 'API reference'; a.target = '_blank'; document.body.append(a); }""")
    with page.expect_navigation():
        page.get_by_role("link", name="API reference").click()
    assert page.url == f"{app.live.ui_url}/docs/api"
    app.assert_clean()


def test_an_import_under_way_shows_how_far_it_has_got(app, tmp_path):
    """Label Studio's Import dialog shows little while the server makes the tasks; LabelDesk's
    bar says what the server is doing (js/webapp-import.js, GET /api/ui/imports/progress) and
    goes once the import is answered."""
    project = app.api.project(title="Reviews", label_config=TEXT_CONFIG)
    tasks = tmp_path / "reviews.json"
    tasks.write_text("[" + ",".join(f'{{"text": "review {i}"}}' for i in range(50)) + "]")
    page = app.sign_in(f"/projects/{project['id']}/data").page
    page.get_by_role("button", name="Import", exact=True).first.click()
    page.wait_for_selector("#file-input", state="attached")
    bar = page.locator(".labeldesk-import-progress")
    with page.expect_response(lambda r: "commit_to_project=false" in r.url) as uploaded:
        with app.live.app.store.storage.lock:  # the server's import waits for the store
            page.locator("#file-input").set_input_files(str(tasks))
            bar.wait_for(timeout=15000)
            page.wait_for_function(
                "() => document.querySelector('.labeldesk-import-progress')"
                "?.textContent === 'Importing: reading the file'", timeout=15000)
            assert bar.get_attribute("role") == "status"
            assert bar.locator("progress").is_visible()
            box = bar.bounding_box()
            assert box["y"] == 0 and box["width"] == 1440  # over the dialog, at the top
    assert uploaded.value.status == 201, uploaded.value.text()
    bar.wait_for(state="detached", timeout=15000)  # the import answered: the bar went
    page.locator('button[aria-label="Finish import"]').click()
    page.get_by_text("review 1", exact=True).first.wait_for(timeout=30000)  # the data manager
    assert page.locator(".labeldesk-import-progress").count() == 0
    app.assert_clean()
