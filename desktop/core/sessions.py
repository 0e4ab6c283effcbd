"""Browser sessions for the UI: a one-time secret exchanged for an HttpOnly cookie.

The desktop window is opened with a one-time secret: Qt's window sends it in a header of its
first page load (WINDOW_SECRET_HEADER), which gets the app with the session cookie at once;
elsewhere it is in the URL fragment (so it never reaches a log), and the sign-in page trades
it at POST /api/ui/session for the cookie. A browser pointed at `labeldesk serve` signs in
with the API token instead (/user/login). Either way the cookie is HttpOnly and
SameSite=Strict, and every unsafe request it authenticates must also carry the session's CSRF
token in the X-CSRFToken header, which only the UI's own pages can read.

Sessions live on the UI's own host only (desktop/core/uihost.py: a name no other page knows): the
cookie is set there without a Domain, so the browser sends it to no other host, and a cookie
arriving on any other Host is ignored. A cookie-only session never gets the API token itself
(web.ApiPlugin: routes marked `credentials`).

A session is a signed value, not a table row: it survives restarts, and resetting the user's API
token (which is part of the signature) signs every browser out.
"""

import hashlib
import hmac
import secrets
import threading
import time

from desktop.core import uihost
from desktop.core.errors import AuthFailed, LabelDeskError, PermissionDenied

SECRET_TTL = 120  # seconds a one-time secret stays valid (the window's first page load)
SESSION_TTL = 30 * 24 * 3600
CSRF_HEADER = "X-CSRFToken"
WINDOW_SECRET_HEADER = "X-LabelDesk-Window-Secret"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def cookie_name(port):
    # Cookies are shared by every port of a host: one name per port keeps two LabelDesks apart.
    return f"labeldesk_session_{port}"


class Sessions:
    def __init__(self, core):
        self.core = core
        self._secrets = {}
        self._lock = threading.Lock()

    @property
    def host(self):
        """The UI's host name; made (once per install) the first time a server needs it."""
        settings = self.core.settings
        if not settings.ui_host:
            with self._lock:  # one name, even when the first requests come at once
                settings.ui_host = settings.ui_host or uihost.ui_host()
        return settings.ui_host

    def on_ui_host(self, request):
        """Whether the request came to the UI's own host (and this server's port)."""
        port = request.environ.get("SERVER_PORT", "")
        sent = (request.environ.get("HTTP_HOST") or "").lower()
        return sent == f"{self.host}:{port}" or (port == "80" and sent == self.host)

    def ui_url(self, request):
        return f"http://{self.host}:{request.environ.get('SERVER_PORT', '')}"

    # -- one-time secrets (the desktop window) -----------------------------------------------

    def one_time_secret(self, user_id=1):
        secret = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._secrets = {k: v for k, v in self._secrets.items() if v[1] > now}
            self._secrets[secret] = (user_id, now + SECRET_TTL)
        return secret

    def exchange(self, secret):
        """A new session's cookie value for a valid one-time secret, which is used up."""
        with self._lock:
            entry = self._secrets.pop(secret, None) if isinstance(secret, str) else None
        if entry is None or entry[1] < time.monotonic():
            raise AuthFailed("This sign-in link has expired. Sign in with your API token.")
        return self.issue(entry[0])

    def login(self, token):
        """A new session's cookie value for the user's API token (the browser's sign-in)."""
        token = (token or "").strip()
        if not token:
            raise AuthFailed("Enter your API token.")
        user_id = self.core.users.by_token(token)
        if user_id is None:
            raise AuthFailed("That token is not valid.")
        return self.issue(user_id)

    # -- signed session values --------------------------------------------------------------

    def _sign(self, message, user_id):
        user = self.core.users.get(user_id)
        key = (self.core.users.secret_key() + user["token"]).encode()
        return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()

    def issue(self, user_id):
        expires = int(time.time()) + SESSION_TTL
        message = f"{user_id}.{expires}.{secrets.token_hex(8)}"
        return f"{message}.{self._sign(message, user_id)}"

    def verify(self, value):
        """The user id of a valid, unexpired session value, else None."""
        try:
            user_id, expires, nonce, signature = (value or "").split(".")
            user_id, expires = int(user_id), int(expires)
        except ValueError:
            return None
        if expires < time.time():
            return None
        try:
            expected = self._sign(f"{user_id}.{expires}.{nonce}", user_id)
        except LabelDeskError:
            return None
        return user_id if hmac.compare_digest(expected.encode(), signature.encode(
            "utf-8", "surrogatepass")) else None

    def csrf(self, value):
        key = self.core.users.secret_key().encode()
        return hmac.new(key, b"csrf." + value.encode(), hashlib.sha256).hexdigest()[:40]

    # -- requests ---------------------------------------------------------------------------

    def cookie(self, request):
        """The session cookie's value; None off the UI's host (an older LabelDesk's cookie on
        127.0.0.1 signs no one in)."""
        if not self.on_ui_host(request):
            return None
        return request.get_cookie(cookie_name(request.environ.get("SERVER_PORT", "")))

    def user(self, request):
        """The user id of a request's valid session cookie, else None.

        A cookie-authenticated unsafe request without the session's CSRF token is refused:
        browsers attach cookies on their own, so the cookie alone proves nothing."""
        value = self.cookie(request)
        if not value:
            return None
        user_id = self.verify(value)
        if user_id is None:
            return None
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), self.csrf(value).encode()):
                raise PermissionDenied("CSRF token missing or incorrect.")
        return user_id

    def set_cookie(self, response, request, value):
        """Host-only (no Domain): the browser sends it back to the UI's host alone."""
        if not self.on_ui_host(request):
            raise PermissionDenied("A session is made only on the UI's own address.")
        response.set_cookie(cookie_name(request.environ.get("SERVER_PORT", "")), value,
                            path="/", httponly=True, samesite="Strict", max_age=SESSION_TTL)

    def clear_cookie(self, response, request):
        response.delete_cookie(cookie_name(request.environ.get("SERVER_PORT", "")), path="/",
                               httponly=True, samesite="Strict")
