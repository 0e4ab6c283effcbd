"""The Team server page in the browser (tests/helpers/uihelp.py: headless Chromium) against a real
Label Studio 1.23.2 (tests/helpers/lshelp.py): reached from the web app's menu, a push from its
form, "Push again" without the token (the app kept it), a pull, a bad address said in the form;
the token is not left on the page."""

import pytest
from conftest import LiveServer

from datahelp import choice, import_ids
from lshelp import TOKEN, LabelStudioServer
from uihelp import UI, browser  # noqa: F401 - fixture

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("label_studio"),
              pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"))
    yield server
    server.stop()


def test_push_push_again_and_pull_from_the_team_page(browser, label_studio, tmp_path):  # noqa: F811
    ls = label_studio
    live = LiveServer(tmp_path / "data", fsync=False)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    ui = UI(live, context)
    try:
        api = live.api
        project = api.project(title="Team reviews")["id"]
        import_ids(api, project, [{"data": {"text": f"review {n}"},
                                   "annotations": [{"result": choice("Pos")}] if n % 2 else []}
                                  for n in range(60)])
        page = ui.sign_in().page

        # the web app's menu leads there
        ui.open_app("/projects")
        page.click(".lsf-menu-header__trigger")
        page.click("#labeldesk-team")
        page.wait_for_url(f"{live.ui_url}/desktop#/team")
        page.wait_for_selector("#push-heading")
        page.wait_for_selector("#no-jobs")
        assert page.locator("#no-previous").is_visible()
        assert page.locator("#nav a.active").inner_text() == "Team server"

        # a bad address is said in the form, and nothing starts
        page.fill("#pull-url", "ftp://example.invalid")
        page.fill("#pull-token", "x")
        page.fill("#pull-remote", "3")
        page.click("#pull-start")
        page.wait_for_selector("#pull-start >> xpath=../.. >> .form-error:visible")
        assert "http:// or https://" in page.inner_text(".form-error:visible")

        # push from the form
        page.select_option("#push-project", str(project))
        page.fill("#push-url", ls.url)
        page.fill("#push-token", TOKEN)
        page.click("#push-start")
        done = page.wait_for_selector(".handover-job[data-status=done]", timeout=60000)
        assert "Created 60 tasks, 30 annotations" in done.inner_text()
        assert page.input_value("#push-token") == ""  # sent: not kept on the page
        remote = api.get("/api/ui/handovers").json()["jobs"][0]["remote_project"]
        assert ls.get(f"/api/projects/{remote}/")["task_number"] == 60

        # "Push again": the app kept the token for this server, so none is asked for
        page.wait_for_selector(".handover-previous[data-direction=push] .again")
        page.click(".handover-previous[data-direction=push] .again")
        page.wait_for_function(
            "document.querySelectorAll('.handover-job[data-status=done]').length === 2",
            timeout=60000)
        assert "Created 0 tasks" in page.locator(".handover-job").first.inner_text()

        # pull it back into a new project
        page.fill("#pull-url", ls.url)
        page.fill("#pull-token", TOKEN)
        page.fill("#pull-remote", str(remote))
        page.click("#pull-start")
        page.wait_for_function(
            "document.querySelectorAll('.handover-job[data-status=done]').length === 3",
            timeout=60000)
        pulled = page.locator(".handover-job").first
        assert "Created 60 tasks, 30 annotations" in pulled.inner_text()
        assert pulled.locator("a:has-text('Open project')").count() == 1
        page.wait_for_selector(".handover-previous[data-direction=pull]")

        assert TOKEN not in page.content()
        assert not ui.errors, ui.errors
    finally:
        context.close()
        live.close()
    ui.assert_offline()
