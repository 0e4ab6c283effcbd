"""Current user, users, legacy token and personal access tokens (ref. §1).

Routes marked `credentials` hand out a lasting token: only to a request that sends a token
itself, never to the UI's cookie alone (web.ApiPlugin.authenticate)."""

from bottle import request

from desktop.api.web import created, current_user, path_id, query, read_object
from desktop.core.errors import Bare, NotFound
from desktop.core.paging import parse_bool


def page_link(number):
    """This request's URL on another page (LS's `next` and `previous`)."""
    params = dict(request.query.decode())
    params.update(page=str(number))
    return request.url.split("?")[0] + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def install(app, core):
    users = core.users

    @app.get("/api/current-user/whoami")
    @app.get("/api/current-user")
    def whoami():
        return users.as_json(current_user(), whoami=True)

    @app.patch("/api/current-user")
    def update_current_user():
        return users.update(current_user(), read_object())

    @app.get("/api/current-user/token", credentials=True)
    def legacy_token():
        return {"token": users.get(current_user())["token"]}

    @app.post("/api/current-user/reset-token", credentials=True)
    def reset_token():
        return {"token": users.reset_token(current_user())}

    @app.route("/api/current-user/hotkeys", method=["GET", "PATCH"])
    def hotkeys():
        return users.hotkeys(current_user(),
                             read_object() if request.method == "PATCH" else None)

    @app.get("/api/users")
    def list_users():
        return users.list()

    @app.post("/api/users")
    def create_user():
        user_id = users.create(read_object())
        return created(users.as_json(user_id))

    @app.get("/api/users/<user_id>")
    def get_user(user_id):
        return users.as_json(path_id(user_id, "User"))

    @app.patch("/api/users/<user_id>")
    def update_user(user_id):
        return users.update(path_id(user_id, "User"), read_object())

    @app.delete("/api/users/<user_id>")
    def delete_user(user_id):
        users.delete(path_id(user_id, "User"))

    @app.get("/api/organizations")
    def organizations():
        owner = users.get(1)
        return [{"id": 1, "title": "Label Studio", "contact_info": None,
                 "created_at": owner["date_joined"]}]

    @app.get("/api/organizations/<org_id>")
    def organization(org_id):
        return core.organization.as_json(path_id(org_id, "Organization"))

    @app.get("/api/organizations/<org_id>/memberships")
    def memberships(org_id):
        contributed = parse_bool("contributed_to_projects", query("contributed_to_projects"),
                                 False)
        count, page, more, results = core.organization.members(
            path_id(org_id, "Organization"), query("page"), query("page_size"), contributed)
        return {"count": count, "next": page_link(page + 1) if more else None,
                "previous": page_link(page - 1) if page > 1 else None, "results": results}

    @app.get("/api/organizations/<org_id>/memberships/<user_id>")
    def membership(org_id, user_id):
        contributed = parse_bool("contributed_to_projects", query("contributed_to_projects"),
                                 False)
        return core.organization.member(path_id(org_id, "Organization"),
                                        path_id(user_id, "OrganizationMember"), contributed)

    @app.get("/api/invite")
    def invite():
        return core.organization.invite()

    @app.post("/api/invite/reset-token")
    def reset_invite():
        return created(core.organization.reset_invite())

    @app.post("/api/token", credentials=True)
    def create_pat():
        return created({"token": users.create_pat(current_user())})

    @app.get("/api/token")
    def list_pats():
        return users.list_pats(current_user())

    @app.post("/api/token/refresh", auth=False)
    def refresh():
        return {"access": users.refresh(read_object().get("refresh"))}

    @app.post("/api/token/blacklist")
    def blacklist():
        try:
            users.blacklist(read_object().get("refresh"))
        except NotFound as e:  # Label Studio answers this one without its envelope
            raise Bare({"detail": e.detail}, status=404) from None

    @app.post("/api/token/rotate", credentials=True)
    def rotate():
        return {"refresh": users.rotate(read_object().get("refresh"))}

    @app.route("/api/jwt/settings", method=["GET", "POST"])
    def jwt_settings():
        return {"api_tokens_enabled": True, "legacy_api_tokens_enabled": True}

