"""The UI's own routes: Label Studio's web app or the sign-in page at `/`, LabelDesk's own pages
at /desktop, static files (ours, the web app's, its fonts, DOMPurify), the session exchange and
the settings the UI changes."""

import functools
import mimetypes

import bottle
import orjson
from bottle import HTTPResponse, request

from desktop import __version__
from desktop.api.misc import version_info
from desktop.api.web import TOKEN_ONLY, header, json_response, read_object
from desktop.core.errors import AuthFailed, PermissionDenied
from desktop.core.sessions import WINDOW_SECRET_HEADER
from desktop.ui import vendored, webapp

UI_DIR = vendored.UI_DIR
# /static/<prefix>/... -> a folder; everything else under /static/ is desktop/ui/ itself.
STATIC_ROOTS = {"fonts": webapp.FONTS_DIR, "dompurify": vendored.PURIFY_DIR,
                "images": webapp.STATIC_DIR / "images"}
NO_STORE = "no-store"
BUILD_COOKIE = "labeldesk_app_build"  # the web app build this browser last ran (app_page)
# The only places a script may come from (page_csp): folders of files on disk, where no route
# reflects input or redirects (CSP ignores the path of a redirect's target). Not 'self': that
# would also allow uploads (/data/upload/…) and every API route as a script.
SCRIPT_PATHS = ("/static/js/", "/static/dompurify/", "/react-app/")
# Our own pages run no inline script and load nothing from outside the machine.
PAGE_CSP = ("default-src 'self'; script-src {scripts} 'unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
            "worker-src {scripts} {worker} blob:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")


def page_csp():
    """The Content-Security-Policy of every HTML page we serve: scripts only from SCRIPT_PATHS.
    A path needs a host in CSP; the Host header is one of our loopback names (the guard
    refused any other), so it names this server as the browser sees it."""
    host = request.environ.get("HTTP_HOST") or ""
    scripts = " ".join(f"http://{host}{path}" for path in SCRIPT_PATHS)
    return PAGE_CSP.format(scripts=scripts, worker=f"http://{host}/sw.js")


def page_headers(response):
    response.set_header("Cache-Control", NO_STORE)
    response.set_header("Content-Security-Policy", page_csp())
    response.set_header("X-Frame-Options", "DENY")
    return response

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/wasm", ".wasm")


def page(name):
    return page_headers(bottle.static_file(name, root=str(UI_DIR), mimetype="text/html",
                                           charset="utf-8"))


def static(path):
    head, _, rest = path.partition("/")
    if head == "samples" and rest.replace(".", "").replace("-", "").replace("_", "").isalnum() \
            and (webapp.STATIC_DIR / "samples" / rest).is_file():
        head = "webapp-samples"  # Label Studio's sample media, beside LabelDesk's own
        root, name = webapp.STATIC_DIR / "samples", rest
    elif head in STATIC_ROOTS:
        root, name = STATIC_ROOTS[head], rest
    else:
        root, name = UI_DIR, path
        if head == "vendor" or name.endswith(".html"):
            return HTTPResponse(status=404)
    response = bottle.static_file(name, root=str(root))
    if response.status_code == 200 and head in STATIC_ROOTS:
        response.set_header("Cache-Control", "public, max-age=86400")  # pinned build
    elif response.status_code == 200:
        response.set_header("Cache-Control", "no-cache")  # our files: revalidate each load
    return response


APP_PATHS = [rule for root in webapp.APP_ROOTS for rule in (root, root + "/<rest:path>")]
# What the page's JSON may not contain as is: it sits in an HTML <script> data block.
HTML_UNSAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
               0x2028: "\\u2028", 0x2029: "\\u2029"}


@functools.cache
def feature_flags():
    return orjson.loads(webapp.FLAGS_FILE.read_bytes())


def app_settings(core, user_id, csrf_token):
    """window.APP_SETTINGS as Label Studio 1.23.2 Community's base.html writes it, for this
    user, with no Sentry and no analytics, plus LabelDesk's own `labeldesk` part."""
    user = core.users.as_json(user_id)
    return {
        "user": {"id": user["id"], "username": user["username"],
                 "firstName": user["first_name"], "lastName": user["last_name"],
                 "initials": user["initials"], "email": user["email"],
                 "customHotkeys": user["custom_hotkeys"] or {},
                 "allow_newsletters": False},  # no newsletter to ask about
        "debug": False, "polling": True, "hostname": "",
        "version": version_info(),
        "sentry_dsn": None, "sentry_rate": "", "sentry_environment": "",
        "editor_keymap": {},
        "feature_flags": feature_flags(), "feature_flags_default_value": True,
        "version_edition": "Community", "server_id": None, "collect_analytics": False,
        "local_files_document_root": str(core.settings.local_files_root),
        "local_files_serving_enabled": True,
        "data_manager": {"max_users_to_display": 10},
        "page_title": "LabelDesk",
        "flags": {"allow_organization_webhooks": False, "storage_persistence": True},
        "labeldesk": {"version": __version__, "csrf_token": csrf_token},
    }


def app_page(core, user_id, value=None):
    """The web app's page; `value` is the session cookie the response sets (else the
    request's)."""
    value = value or core.sessions.cookie(request)
    csrf_token = core.sessions.csrf(value) if value else ""
    data = orjson.dumps(app_settings(core, user_id, csrf_token)).decode().translate(HTML_UNSAFE)
    html = (UI_DIR / "app.html").read_text(encoding="utf-8").replace(
        "{{APP_SETTINGS}}", data).replace("{{PRELOADS}}", webapp.preloads(request.path))
    response = page_headers(HTTPResponse(html, status=200,
                                         headers={"Content-Type": "text/html; charset=utf-8"}))
    if request.get_cookie(BUILD_COOKIE) != webapp.BUILD:
        # The app's files are cached a day under names they keep across builds (/react-app/):
        # a browser that last ran another build (or none) drops its cached copies first, so an
        # old main.js never meets new chunks after an upgrade (a loopback revalidation on
        # every load instead cost ~0.2 s of each page open).
        response.set_header("Clear-Site-Data", '"cache"')
        response.set_cookie(BUILD_COOKIE, webapp.BUILD, path="/", httponly=True,
                            samesite="strict", max_age=10 * 365 * 86400)
    return response


def redirect(location, status=303):
    response = HTTPResponse(status=status)
    response.set_header("Location", location)
    response.set_header("Cache-Control", NO_STORE)
    return response


def install(app, core):
    sessions, settings = core.sessions, core.settings

    def signed_in():
        try:
            return sessions.user(request)
        except Exception:  # noqa: BLE001 - a bad cookie on a page load is "not signed in"
            return None

    def app_or_login():
        """Label Studio's web app, or the sign-in page. Off the UI's own host (127.0.0.1) the
        page never names that host: a server on another port could ask for it, then send the
        browser there with its cookie. Signing in with the token is what leads there (login)."""
        user_id = signed_in() if settings.auth else request.environ.get("labeldesk.user", 1)
        if user_id is not None:
            return app_page(core, user_id)
        value = window_session()
        if value is None:
            return page("login.html")
        response = app_page(core, sessions.verify(value), value)
        sessions.set_cookie(response, request, value)
        return response

    def window_session():
        """The Qt window's first page load brings its one-time secret in a header
        (WINDOW_SECRET_HEADER; pages of other sites can't send one here: CORS): a session
        for it, used up, and the app at once, without the sign-in page's round trip. None
        without one, or for one that is not valid (the sign-in page then)."""
        # Qt keeps the header on the history entry (a reload sends the used secret again:
        # the cookie then signs in) and would send it on through a redirect: no app path
        # redirects
        secret = header("HTTP_" + WINDOW_SECRET_HEADER.upper().replace("-", "_"))
        if not secret or not sessions.on_ui_host(request):
            return None
        try:
            return sessions.exchange(secret)
        except AuthFailed:
            return None

    app.get("/", auth=False, callback=app_or_login)
    for path in APP_PATHS:
        app.get(path, auth=False, callback=lambda **_: app_or_login())

    @app.get("/desktop", auth=False)
    def desktop_shell():
        """LabelDesk's own pages (data folder, backups, project files, live export)."""
        if not settings.auth or signed_in() is not None:
            return page("index.html")
        return page("login.html")

    @app.get("/react-app/<path:path>", auth=False)
    def webapp_file(path):
        response = bottle.static_file(path, root=str(webapp.APP_DIR))
        if response.status_code == 200:
            response.set_header("Cache-Control", "public, max-age=86400")  # see app_page
        return response

    @app.get("/heidi-tips", auth=False)
    def heidi_tips():
        """The app's live tips, which Label Studio fetches from GitHub (and answers 404 for
        when offline): LabelDesk fetches nothing, so there are no live tips."""
        return {}

    @app.get("/sw.js", auth=False)
    def service_worker():
        return bottle.static_file("js/sw.js", root=str(UI_DIR), mimetype="text/javascript")

    @app.get("/user/login", auth=False)
    def login_page():
        return redirect("/")

    @app.post("/user/login", auth=False)
    def login():
        """The token -> a session on the UI's host: set here, or, when signing in at
        127.0.0.1, on the UI's host by a one-time secret (the token proved the user)."""
        try:
            value = sessions.login(request.forms.getunicode("token"))
        except AuthFailed:
            return redirect("/?error=token")
        if not sessions.on_ui_host(request):
            # Refresh, not a 303: the page's `form-action 'self'` also covers a form's redirects
            secret = sessions.one_time_secret(sessions.verify(value))
            response = page("opening.html")
            response.set_header("Refresh", f"0; url={sessions.ui_url(request)}/#secret={secret}")
            return response
        response = redirect("/")
        sessions.set_cookie(response, request, value)
        return response

    @app.get("/user/logout", auth=False)
    def logout_page():
        """Label Studio's UI signs out with a GET link; here a GET only shows a button that
        POSTs, so an <img src="…/user/logout"> on another site signs no one out."""
        return page("logout.html")

    @app.get("/logout", auth=False)
    def app_logout():
        """The web app's "Log Out" link: the page with the Sign out button."""
        return redirect("/user/logout")

    @app.post("/user/logout", auth=False)
    def logout():
        response = redirect("/")
        sessions.clear_cookie(response, request)
        return response

    @app.get("/static/<path:path>", auth=False)
    def static_file(path):
        return static(path)

    @app.get("/favicon.ico", auth=False)
    def favicon():
        return static("img/icon.svg")

    @app.post("/api/ui/session", auth=False)
    def exchange():
        """The window's one-time secret -> a session cookie, plus the CSRF token for it."""
        value = sessions.exchange(read_object().get("secret"))
        response = json_response({"csrf_token": sessions.csrf(value)}, status=201)
        sessions.set_cookie(response, request, value)
        return response

    @app.get("/api/ui/session")
    def session():
        value = sessions.cookie(request)
        user_id = sessions.verify(value) if value else None
        return {"csrf_token": sessions.csrf(value) if user_id else "",
                "signed_in": user_id is not None, "auth": settings.auth,
                "user": core.users.as_json(request.environ["labeldesk.user"]),
                "version": __version__, "webapp_version": webapp.VERSION,
                "warnings": core.warnings}

    @app.post("/api/ui/reset-token", credentials=True)
    def reset_token():
        """A new API token; this browser stays signed in (the others are signed out)."""
        user_id = request.environ["labeldesk.user"]
        token = core.users.reset_token(user_id)
        body = {"token": token, "csrf_token": ""}
        if sessions.cookie(request):
            value = sessions.issue(user_id)
            body["csrf_token"] = sessions.csrf(value)
            response = json_response(body)
            sessions.set_cookie(response, request, value)
            return response
        return body

    @app.get("/api/ui/settings")
    def get_settings():
        return settings_json(core, request)

    @app.patch("/api/ui/settings")
    def update_settings():
        body = read_object()
        from desktop.core.trash import check_days
        days = check_days(body["trash_days"]) if "trash_days" in body else None
        if "auth" in body:
            if not isinstance(body["auth"], bool):
                from desktop.core.errors import ValidationError
                raise ValidationError({"auth": ["Must be a valid boolean."]})
            if body["auth"] is False and request.environ.get("labeldesk.via") == "session":
                raise PermissionDenied(TOKEN_ONLY)  # as lasting as the token itself
            settings.auth = body["auth"]
            settings.save_file()
        if days is not None:
            settings.trash_days = days
            settings.save_file()
            core.trash.expire()  # fewer days: what is older goes now
        return settings_json(core, request)

    @app.post("/api/ui/data-dir")
    def change_data_dir():
        """Make another folder the data folder: checked, remembered in the user config, and
        (where LabelDesk can) opened right away in place of this one."""
        from desktop.core import settings as settings_module
        from desktop.core.errors import CannotOpen, ValidationError
        from desktop.db import CorruptFile, StoreLocked
        path = settings_module.check_data_dir(read_object().get("path"), settings.data_dir)
        existing = settings_module.is_data_dir(path)

        def remember():
            try:
                return settings_module.save_user_config(data_dir=str(path))
            except OSError as e:
                raise ValidationError({"path": [
                    f"Can't save the choice in {settings_module.user_config_file()}: "
                    f"{e.strerror or e}"]}) from None

        answer = {"data_dir": str(path), "existing": existing,
                  "config_file": str(settings_module.user_config_file()),
                  "overridden_by": None, "reopened": False, "url": None}
        source = settings.data_dir_source
        if source in ("--data-dir", "LABELDESK_DATA_DIR"):
            answer["overridden_by"] = source  # the next start still follows it
        if core.reopen is None:
            remember()
            return answer
        try:
            new = core.reopen(path, commit=remember)
        except StoreLocked:
            raise ValidationError({"path": [
                "Another LabelDesk has this folder open. Close it first."]}) from None
        except CannotOpen as e:  # e.g. its settings.json can't be read
            raise ValidationError({"path": [e.detail]}) from None
        except CorruptFile as e:
            raise ValidationError({"path": [
                f"The data in this folder can't be read: {e.path} is damaged ({e.reason})."]}
            ) from None
        except OSError as e:
            raise ValidationError({"path": [f"Can't open the folder: {e.strerror or e}"]}) \
                from None
        answer["reopened"] = True
        if sessions.cookie(request) or not settings.auth:  # the UI: a way in to the new data
            answer["url"] = f"/desktop#secret={new.sessions.one_time_secret()}"
        return answer


def settings_json(core, request):
    """`api_url` is for scripts: 127.0.0.1, which every resolver knows (not the UI's host)."""
    settings = core.settings
    port = request.environ.get("SERVER_PORT") or settings.port
    return {"auth": settings.auth, "api_url": f"http://127.0.0.1:{port}",
            "data_dir": str(settings.data_dir),
            "local_files_root": str(settings.local_files_root),
            "settings_file": str(settings.settings_file),
            "data_dir_source": settings.data_dir_source,
            "can_reopen": core.reopen is not None, "trash_days": core.trash.days()}

