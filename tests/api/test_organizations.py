"""The organization (its settings, members and invite link), as Label Studio 1.23.2 answers
them: the web app's Organization page and the Home page's "Invite Members" ask for these."""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

# The key sets observed on Label Studio 1.23.2
ORGANIZATION_KEYS = {"id", "title", "token", "created_at", "updated_at", "contact_info",
                     "created_by", "users"}
MEMBER_KEYS = {"id", "organization", "user", "created_projects", "contributed_to_projects"}
USER_KEYS = {"id", "first_name", "last_name", "username", "email", "last_activity",
             "custom_hotkeys", "avatar", "initials", "phone", "active_organization",
             "active_organization_meta", "allow_newsletters", "date_joined",
             "created_projects", "contributed_to_projects"}
MEMBERSHIP_KEYS = {"user", "organization", "contributed_projects_count", "annotations_count",
                   "created_at", "created_projects", "contributed_to_projects"}


def assert_envelope(response, status, detail=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status and body["version"] == "1.23.2"
    assert body["exc_info"] is None
    uuid.UUID(body["id"])
    if detail is not None:
        assert body["detail"] == detail, body
    return body


@pytest.fixture
def fresh(make_live):
    return make_live()


def members(api, **params):
    response = api.get("/api/organizations/1/memberships", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# -- the organization ------------------------------------------------------------------------

def test_organization(fresh):
    body = fresh.api.get("/api/organizations/1").json()
    assert set(body) == ORGANIZATION_KEYS
    assert body["id"] == 1 and body["title"] == "Label Studio"
    assert body["created_by"] == 1 and body["users"] == [1] and body["contact_info"] is None
    assert body["token"] == fresh.api.get("/api/invite").json()["token"]
    assert fresh.api.get("/api/organizations/1/").json() == body
    listed = fresh.api.get("/api/organizations").json()
    assert listed == [{"id": 1, "title": "Label Studio", "contact_info": None,
                       "created_at": body["created_at"]}]


@pytest.mark.parametrize("path", [
    "/api/organizations/2", "/api/organizations/0", "/api/organizations/abc",
    "/api/organizations/2/memberships", "/api/organizations/x/memberships",
    "/api/organizations/2/memberships/1", "/api/organizations/1/memberships/99",
    "/api/organizations/1/memberships/abc",
])
def test_unknown_organization_or_member_is_404(live, path):
    # LS answers these 404s with its HTML page; LabelDesk with its envelope
    # (docs/compatibility.md, "404 for unknown routes and ids")
    assert_envelope(live.api.get(path), 404)


def test_unknown_organization_detail(live):
    assert_envelope(live.api.get("/api/organizations/2"), 404,
                    "No Organization matches the given query.")


def test_needs_credentials(live):
    for path in ("/api/organizations/1", "/api/organizations/1/memberships", "/api/invite"):
        assert_envelope(live.anonymous.get(path), 401)
    assert_envelope(live.anonymous.post("/api/invite/reset-token"), 401)


# -- members ---------------------------------------------------------------------------------

def test_members_as_the_organization_page_asks(fresh):
    api = fresh.api
    body = members(api, contributed_to_projects=1, page=1, page_size=30)
    assert body["count"] == 1 and body["next"] is None and body["previous"] is None
    [member] = body["results"]
    assert set(member) == MEMBER_KEYS and set(member["user"]) == USER_KEYS
    assert member["id"] == 1 and member["organization"] == 1
    assert member["created_projects"] == [] and member["contributed_to_projects"] == []
    whoami = api.get("/api/current-user").json()
    assert {k: v for k, v in member["user"].items() if k in whoami} == {
        k: v for k, v in whoami.items() if k != "permissions"}

    plain = members(api)["results"][0]
    assert plain["created_projects"] is None and plain["contributed_to_projects"] is None
    assert plain["user"]["created_projects"] is None
    assert members(api, contributed_to_projects="false")["results"][0] == plain


def test_created_and_contributed_projects(fresh):
    api = fresh.api
    first = api.project(title="First")
    second = api.project(title="Second")
    other = api.post("/api/users", json={"email": "ann@example.com", "username": "ann"}).json()
    api.post(f"/api/projects/{second['id']}/import", json=[{"text": "a"}, {"text": "b"}])
    tasks = api.get("/api/tasks", params={"project": second["id"]}).json()["tasks"]
    for task in tasks:
        for user in (1, other["id"]):
            response = api.post(f"/api/tasks/{task['id']}/annotations",
                                json={"result": [], "completed_by": user})
            assert response.status_code == 201, response.text

    body = members(api, contributed_to_projects=1)
    assert body["count"] == 2
    # ordered by username: the local user's is blank
    owner, ann = body["results"]
    assert owner["user"]["id"] == 1 and ann["user"]["id"] == other["id"]
    projects = [{"id": first["id"], "title": "First"}, {"id": second["id"], "title": "Second"}]
    assert owner["created_projects"] == projects == owner["user"]["created_projects"]
    assert owner["contributed_to_projects"] == projects[1:]
    assert ann["created_projects"] == [] and ann["contributed_to_projects"] == projects[1:]
    assert ann["user"]["active_organization"] is None

    one = api.get(f"/api/organizations/1/memberships/{other['id']}").json()
    assert set(one) == MEMBERSHIP_KEYS
    assert one["user"] == other["id"] and one["organization"] == 1
    assert one["annotations_count"] == 2 and one["contributed_projects_count"] == 1
    assert one["created_projects"] is None and one["contributed_to_projects"] is None
    detailed = api.get("/api/organizations/1/memberships/1?contributed_to_projects=1").json()
    assert detailed["created_projects"] == projects
    assert detailed["contributed_to_projects"] == projects[1:]


def test_pagination(fresh):
    api = fresh.api
    for name in ("bea", "cal", "dee"):
        api.post("/api/users", json={"email": f"{name}@example.com", "username": name})
    first = members(api, page_size=2)
    assert first["count"] == 4 and first["previous"] is None
    assert [m["user"]["username"] for m in first["results"]] == ["", "bea"]
    link = urlsplit(first["next"])
    assert link.path == "/api/organizations/1/memberships"
    assert parse_qs(link.query) == {"page_size": ["2"], "page": ["2"]}
    second = members(api, page=2, page_size=2)
    assert [m["user"]["username"] for m in second["results"]] == ["cal", "dee"]
    assert second["next"] is None
    assert parse_qs(urlsplit(second["previous"]).query)["page"] == ["1"]
    assert members(api, page="last", page_size=2)["results"] == second["results"]
    assert len(members(api, page_size=-1)["results"]) == 4
    # a page size that isn't a positive number is the default (20)
    for size in ("abc", "0", "-5", ""):
        assert len(members(api, page_size=size)["results"]) == 4


@pytest.mark.parametrize("page", ["abc", "0", "-1", "2", "1.5"])
def test_bad_page_is_404(live, page):
    response = live.api.get("/api/organizations/1/memberships", params={"page": page})
    assert_envelope(response, 404, "Invalid page.")


def test_bad_contributed_to_projects_is_400(live):
    response = live.api.get("/api/organizations/1/memberships?contributed_to_projects=maybe")
    body = assert_envelope(response, 400, "Validation error")
    assert body["validation_errors"] == {"contributed_to_projects": (
        'Incorrect bool value "maybe". It should be one of [1, 0, true, false, yes, no]')}


# -- the invite link -------------------------------------------------------------------------

def test_invite_and_reset(fresh):
    api = fresh.api
    invite = api.get("/api/invite")
    assert invite.status_code == 200
    body = invite.json()
    assert set(body) == {"invite_url", "token"} and len(body["token"]) == 40
    assert body["invite_url"] == f"/user/signup/?token={body['token']}"
    assert api.get("/api/invite").json() == body  # the same until reset

    reset = api.post("/api/invite/reset-token")
    assert reset.status_code == 201
    new = reset.json()
    assert new["token"] != body["token"] and new["invite_url"].endswith(new["token"])
    assert api.get("/api/invite").json() == new
    assert api.get("/api/organizations/1").json()["token"] == new["token"]
    assert_envelope(api.get("/api/invite/reset-token"), 405)


def test_invite_token_survives_a_restart(make_live):
    server = make_live("d")
    token = server.api.post("/api/invite/reset-token").json()["token"]
    server.close()
    server = make_live("d")
    assert server.api.get("/api/invite").json()["token"] == token


def test_the_invite_link_signs_no_one_up(live):
    """LabelDesk has one local user and no sign-up page: the link leads to no page
    (docs/compatibility.md)."""
    url = live.api.get("/api/invite").json()["invite_url"]
    response = live.anonymous.get(url, allow_redirects=False)
    assert response.status_code == 404
