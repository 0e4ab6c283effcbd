"""Authentication, the current user, tokens and users (reference §1), over HTTP."""

import base64
import time
import uuid

import orjson
import pytest
import requests

from desktop.core import jwt

NO_CREDENTIALS = "Authentication credentials were not provided."
WHOAMI_KEYS = {"id", "first_name", "last_name", "username", "email", "last_activity",
               "custom_hotkeys", "avatar", "initials", "phone", "active_organization",
               "active_organization_meta", "allow_newsletters", "date_joined", "permissions"}


def get(live, path, **headers):
    return requests.get(live.url + path, headers=headers, timeout=10)


def payload_of(token):
    part = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def assert_envelope(response, status, detail=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == status
    assert body["version"] == "1.23.2"
    assert body["exc_info"] is None
    uuid.UUID(body["id"])
    if detail is not None:
        assert body["detail"] == detail
    return body


def assert_401(response, detail=NO_CREDENTIALS):
    assert_envelope(response, 401, detail)
    assert response.headers["WWW-Authenticate"] == "Token"


# -- header schemes --------------------------------------------------------------------------

def test_no_header_is_401_with_www_authenticate(live):
    assert_401(get(live, "/api/projects"))
    assert_401(get(live, "/api/current-user/whoami"))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token", "Bearer", "Weird thing",
                                    "Bearer not-a-jwt"])
def test_unknown_or_empty_schemes_are_not_credentials(live, header):
    assert_401(get(live, "/api/projects", Authorization=header))


def test_bad_legacy_token(live):
    assert_401(get(live, "/api/projects", Authorization="Token nope"), "Invalid token.")
    assert_401(get(live, "/api/projects", **{"X-Api-Key": "nope"}), "Invalid token.")


def test_legacy_token_and_x_api_key(live):
    assert get(live, "/api/projects", Authorization=f"Token {live.token}").status_code == 200
    assert get(live, "/api/projects", Authorization=f"token   {live.token} ").status_code == 200
    assert get(live, "/api/projects", **{"X-Api-Key": live.token}).status_code == 200
    # X-Api-Key supersedes Authorization, as Label Studio's middleware does
    assert get(live, "/api/projects", Authorization="Token wrong",
               **{"X-Api-Key": live.token}).status_code == 200
    assert_401(get(live, "/api/projects", Authorization=f"Token {live.token}",
                   **{"X-Api-Key": "wrong"}), "Invalid token.")


def test_bearer_legacy_key_is_not_credentials(live):
    assert_401(get(live, "/api/projects", Authorization=f"Bearer {live.token}"))


# -- personal access tokens ------------------------------------------------------------------

@pytest.fixture
def fresh(make_live):
    """A server of its own: PATs are one per user, and these tests revoke and reset them."""
    return make_live(fsync=False)


def test_pat_flow(fresh):
    api, anonymous = fresh.api, fresh.anonymous
    response = api.post("/api/token")
    assert response.status_code == 201, response.text
    pat = response.json()["token"]
    assert set(response.json()) == {"token"}
    header = orjson.loads(base64.urlsafe_b64decode(pat.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = payload_of(pat)
    assert claims["token_type"] == "refresh"
    assert claims["user_id"] == "1"
    assert set(claims) == {"token_type", "exp", "iat", "jti", "user_id"}
    assert claims["exp"] - claims["iat"] > 100 * 365 * 24 * 3600

    again = api.post("/api/token/")
    assert_envelope(again, 409, "You already have a valid token. Please revoke it before "
                                "creating a new one.")

    listed = api.get("/api/token/")
    assert listed.status_code == 200
    assert listed.json() == [{"token": pat.rsplit(".", 1)[0]}]

    refreshed = anonymous.post("/api/token/refresh", json={"refresh": pat})
    assert refreshed.status_code == 200, refreshed.text
    access = refreshed.json()["access"]
    assert set(refreshed.json()) == {"access"}
    access_claims = payload_of(access)
    assert access_claims["token_type"] == "access"
    assert access_claims["exp"] - access_claims["iat"] == 300
    assert anonymous.post("/api/token/refresh/", json={"refresh": pat}).status_code == 200

    whoami = get(fresh, "/api/current-user/whoami", Authorization=f"Bearer {access}")
    assert whoami.status_code == 200 and whoami.json()["id"] == 1
    assert get(fresh, "/api/projects", Authorization=f"bearer {access}").status_code == 200

    # a PAT is a refresh token, not an access token, and not a legacy token
    assert_401(get(fresh, "/api/projects", Authorization=f"Bearer {pat}"))
    assert_401(get(fresh, "/api/projects", Authorization=f"Token {pat}"), "Invalid token.")
    assert_401(get(fresh, "/api/projects", **{"X-Api-Key": pat}), "Invalid token.")


def test_refresh_errors(fresh):
    anonymous = fresh.anonymous
    missing = anonymous.post("/api/token/refresh", json={})
    body = assert_envelope(missing, 400, "Validation error")
    assert body["validation_errors"] == {"refresh": ["This field is required."]}
    assert_envelope(anonymous.post("/api/token/refresh", json={"refresh": "a.b.c"}), 401,
                    "Token is invalid")
    assert_envelope(anonymous.post("/api/token/refresh", json={"refresh": 12}), 401)
    # a token signed with another key
    forged = jwt.encode({"token_type": "refresh", "exp": int(time.time()) + 999,
                         "iat": int(time.time()), "jti": "x", "user_id": "1"}, "not the key")
    assert_envelope(anonymous.post("/api/token/refresh", json={"refresh": forged}), 401)


def test_expired_or_forged_access_token(fresh):
    key = fresh.app.users.secret_key()
    now = int(time.time())
    expired = jwt.encode({"token_type": "access", "exp": now - 10, "iat": now - 310,
                          "jti": uuid.uuid4().hex, "user_id": "1"}, key)
    response = get(fresh, "/api/projects", Authorization=f"Bearer {expired}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    forged = jwt.encode({"token_type": "access", "exp": now + 300, "iat": now,
                         "jti": uuid.uuid4().hex, "user_id": "1"}, "guessed key")
    assert_401(get(fresh, "/api/projects", Authorization=f"Bearer {forged}"))
    unknown_user = jwt.encode({"token_type": "access", "exp": now + 300, "iat": now,
                               "jti": uuid.uuid4().hex, "user_id": "999"}, key)
    assert_401(get(fresh, "/api/projects", Authorization=f"Bearer {unknown_user}"))
    valid = jwt.encode({"token_type": "access", "exp": now + 300, "iat": now,
                        "jti": uuid.uuid4().hex, "user_id": "1"}, key)
    assert get(fresh, "/api/projects", Authorization=f"Bearer {valid}").status_code == 200


def test_blacklist(fresh):
    api = fresh.api
    pat = api.post("/api/token").json()["token"]
    first = api.post("/api/token/blacklist", json={"refresh": pat})
    assert first.status_code == 204 and first.content == b""
    second = api.post("/api/token/blacklist/", json={"refresh": pat})
    assert second.status_code == 404
    assert second.json() == {"detail": "Token is invalid or already blacklisted."}
    refused = fresh.anonymous.post("/api/token/refresh", json={"refresh": pat})
    assert_envelope(refused, 401, "Token is blacklisted")
    assert api.get("/api/token").json() == []
    # now a new one may be created; blacklisting by header.payload works too
    pat2 = api.post("/api/token").json()["token"]
    assert api.post("/api/token/blacklist",
                    json={"refresh": pat2.rsplit(".", 1)[0]}).status_code == 204
    missing = api.post("/api/token/blacklist", json={})
    assert missing.status_code == 400


def test_rotate(fresh):
    api, anonymous = fresh.api, fresh.anonymous
    pat = api.post("/api/token").json()["token"]
    rotated = api.post("/api/token/rotate", json={"refresh": pat})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["refresh"]
    assert set(rotated.json()) == {"refresh"} and new != pat
    assert_envelope(anonymous.post("/api/token/refresh", json={"refresh": pat}), 401,
                    "Token is blacklisted")
    assert anonymous.post("/api/token/refresh", json={"refresh": new}).status_code == 200
    assert api.get("/api/token").json() == [{"token": new.rsplit(".", 1)[0]}]
    assert_envelope(api.post("/api/token/rotate/", json={"refresh": pat}), 401,
                    "Token is blacklisted")


def test_jwt_settings(live):
    response = live.api.get("/api/jwt/settings")
    assert response.json() == {"api_tokens_enabled": True, "legacy_api_tokens_enabled": True}


def test_pats_survive_a_restart(make_live):
    server = make_live("d")
    pat = server.api.post("/api/token").json()["token"]
    server.close()
    server = make_live("d")
    response = server.anonymous.post("/api/token/refresh", json={"refresh": pat})
    assert response.status_code == 200
    assert server.api.post("/api/token").status_code == 409  # still the valid one


# -- current user ----------------------------------------------------------------------------

def test_whoami_shape(live):
    response = live.api.get("/api/current-user/whoami")
    assert response.status_code == 200
    me = response.json()
    assert set(me) == WHOAMI_KEYS
    assert me["id"] == 1
    assert me["avatar"] is None
    assert me["active_organization"] == 1
    assert me["active_organization_meta"] == {"title": "Label Studio", "email": me["email"]}
    assert me["initials"] == me["email"][:2]
    assert isinstance(me["permissions"], list) and "projects.view" in me["permissions"]
    assert len(me["permissions"]) == 44 and me["permissions"][4] == "organizations.invite"  # LS
    assert me["date_joined"].endswith("Z") and me["last_activity"].endswith("Z")
    assert live.api.get("/api/current-user/whoami/").json()["id"] == 1


def test_current_user_token(live):
    response = live.api.get("/api/current-user/token")
    assert response.status_code == 200
    assert response.json() == {"token": live.token}


def test_reset_token_invalidates_the_old_one(fresh):
    old = fresh.token
    response = fresh.api.post("/api/current-user/reset-token/")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old and len(new) == 40
    int(new, 16)
    assert_401(get(fresh, "/api/projects", Authorization=f"Token {old}"), "Invalid token.")
    assert get(fresh, "/api/projects", Authorization=f"Token {new}").status_code == 200
    assert get(fresh, "/api/current-user/token",
               Authorization=f"Token {new}").json() == {"token": new}


def test_hotkeys(fresh):
    assert fresh.api.get("/api/current-user/hotkeys").json() == {"custom_hotkeys": {}}
    mine = {"annotation:save": {"key": "ctrl+s"}, "tools:zoom": {"key": "z", "active": False}}
    response = fresh.api.patch("/api/current-user/hotkeys/", json={"custom_hotkeys": mine})
    assert response.json() == {"custom_hotkeys": mine}
    assert fresh.api.get("/api/current-user/hotkeys").json() == {"custom_hotkeys": mine}
    # LS's HotkeysSerializer, answered bare: {"error": ..., "details": {...}}
    for body, problem in [
            ({"custom_hotkeys": [1]}, 'Expected a dictionary of items but got type "list".'),
            ({}, "This field is required."),
            ({"custom_hotkeys": {"save": {"key": "x"}}},
             "Action key 'save' must be in 'section:action' format"),
            ({"custom_hotkeys": {"a:b": "ctrl+s"}}, "Hotkey data for 'a:b' must be a dictionary"),
            ({"custom_hotkeys": {"a:b": {"key": "alt+F4"}}},
             "Key combination 'alt+F4' is not allowed for security reasons")]:
        bad = fresh.api.patch("/api/current-user/hotkeys", json=body)
        assert bad.status_code == 400
        assert bad.json() == {"error": "Invalid hotkeys configuration",
                              "details": {"custom_hotkeys": [problem]}}
    assert fresh.api.get("/api/current-user/hotkeys").json() == {"custom_hotkeys": mine}


# -- users -----------------------------------------------------------------------------------

def test_users_list_create_get_patch(fresh):
    api = fresh.api
    listed = api.get("/api/users")
    assert listed.status_code == 200
    assert [u["id"] for u in listed.json()] == [1]
    assert set(listed.json()[0]) == WHOAMI_KEYS - {"permissions"}

    created = api.post("/api/users/", json={"email": "ann@example.com", "first_name": "Ann",
                                            "last_name": "Lee", "username": "ann"})
    assert created.status_code == 201, created.text
    user = created.json()
    assert set(user) == WHOAMI_KEYS - {"permissions"}
    assert user["email"] == "ann@example.com" and user["initials"] == "AL"
    assert user["active_organization"] is None

    assert api.get(f"/api/users/{user['id']}").json() == user
    assert api.get(f"/api/users/{user['id']}/").json() == user
    patched = api.patch(f"/api/users/{user['id']}", json={"first_name": "Anna", "phone": "1"})
    assert patched.status_code == 200
    assert patched.json()["first_name"] == "Anna" and patched.json()["phone"] == "1"
    assert api.get(f"/api/users/{user['id']}").json()["first_name"] == "Anna"
    assert [u["id"] for u in api.get("/api/users").json()] == [1, user["id"]]

    duplicate = api.post("/api/users", json={"email": "ann@example.com"})
    assert assert_envelope(duplicate, 400)["validation_errors"]["email"]
    invalid = api.post("/api/users", json={"email": "not an email"})
    assert assert_envelope(invalid, 400)["validation_errors"]["email"]
    wrong_type = api.patch(f"/api/users/{user['id']}", json={"first_name": 5})
    assert assert_envelope(wrong_type, 400)["validation_errors"]["first_name"]
    assert_envelope(api.get("/api/users/999"), 404, "No User matches the given query.")
    assert_envelope(api.get("/api/users/abc"), 404)

    assert api.delete(f"/api/users/{user['id']}").status_code == 204
    assert api.get(f"/api/users/{user['id']}").status_code == 404
    assert api.delete("/api/users/1").status_code == 400  # the local user stays


@pytest.mark.parametrize("field, value, message", [
    ("username", "", "This field may not be blank."),
    ("username", "  ", "This field may not be blank."),
    ("username", None, "This field may not be null."),
    # LS 1.23.2 answers 405 "Cannot update read-only field: email" to any email change;
    # LabelDesk lets the email change, but never to a blank one
    ("email", "", "This field may not be blank."), ("email", " ", "This field may not be blank."),
    ("email", None, "This field may not be null.")])
def test_blank_username_or_email_is_400(fresh, field, value, message):
    # Label Studio 1.23.2: PATCH /api/users/{id} {"username": ""} -> 400, the user unchanged
    api = fresh.api
    before = api.get("/api/users/1").json()
    for path in ("/api/users/1", "/api/current-user"):
        response = api.patch(path, json={field: value})
        assert assert_envelope(response, 400, "Validation error")["validation_errors"] == {
            field: [message]}
    assert api.get("/api/users/1").json() == before


def test_organizations(live):
    response = live.api.get("/api/organizations")
    assert response.status_code == 200
    assert response.json()[0]["id"] == 1 and response.json()[0]["title"] == "Label Studio"


# -- without auth, and the public routes -----------------------------------------------------

def test_no_auth_mode_lets_calls_through(make_live):
    server = make_live(auth=False, fsync=False)
    response = server.anonymous.get("/api/projects")
    assert response.status_code == 200
    created = server.anonymous.post("/api/projects", json={"title": "open door"})
    assert created.status_code == 201
    assert created.json()["created_by"]["id"] == 1
    assert server.anonymous.get("/api/current-user/whoami").json()["id"] == 1
    # a wrong token is not an error when nobody checks tokens
    assert get(server, "/api/projects", Authorization="Token wrong").status_code == 200


@pytest.mark.parametrize("path", ["/api/version", "/api/version/", "/version", "/version/",
                                  "/api/health", "/api/health/", "/health", "/health/"])
def test_public_routes(live, path):
    response = live.anonymous.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    if "health" in path:
        assert body == {"status": "UP"}
    else:
        assert body["release"] == "1.23.2"
        assert body["edition"] == "Community"
        assert "label-studio-os-package" in body and "label-studio-os-backend" in body


def test_validate_needs_no_auth(live):
    response = live.anonymous.post("/api/projects/validate/",
                                   json={"label_config": "<View></View>"})
    assert response.status_code == 204
    # the per-project validation does
    assert_401(live.anonymous.post("/api/projects/1/validate", json={"label_config": "x"}))
