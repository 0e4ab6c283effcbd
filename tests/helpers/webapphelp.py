"""Label Studio 1.23.2's web app (docs/adr/0009-web-app.md) in Debian's Chromium: a signed-in page
on a real LabelDesk that records what went wrong on it. A console error, an answer >= 400 the test
did not allow, a page error or a request that leaves the machine is a problem; assert_clean()
fails on any. Tests import it with `from webapphelp import App`."""

import re
from urllib.parse import urlsplit

TEXT_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
               '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')


class Allowed:
    """An answer >= 400 the app expects: its method, a pattern of its path and query, its status,
    and why it is fine (what Label Studio answers there too)."""

    def __init__(self, method, path, status, reason):
        self.method, self.path, self.status, self.reason = method, re.compile(path), status, reason

    def matches(self, method, path, status):
        """`method` None: any (the console's "Failed to load resource" doesn't say which)."""
        return method in (None, self.method) and status == self.status and self.path.search(path)


class App:
    """A signed-in page of the web app on a fresh LabelDesk, with what went wrong on it.
    `allowed`: the answers >= 400 the app expects (Allowed); each one seen is in `expected`."""

    def __init__(self, live, context, allowed=()):
        self.live, self.api, self.context = live, live.api, context
        self.allowed = list(allowed)
        self.problems, self.answers, self.expected, self.screens = [], [], [], []
        context.route("**/*", self._route)
        self.page = context.new_page()
        self.page.set_default_timeout(20000)
        self.page.on("pageerror", self._page_error)
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _route(self, route):
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob") or \
                f"{parts.scheme}://{parts.netloc}" == self.live.ui_url:
            return route.continue_()
        self.problems.append(f"left the machine: {route.request.url}")
        return route.abort()

    def _page_error(self, error):
        where = "\n    ".join((error.stack or "").splitlines()[1:4])
        self.problems.append(f"page error: {error} (at {self.page.url})\n    {where}")

    def _console(self, message):
        if message.type != "error":
            return
        # Chromium logs each answer >= 400 too: not a problem for an answer that is allowed
        failed = re.match(r"Failed to load resource: .* status of (\d+)", message.text)
        if failed and self._allowed(None, message.location.get("url", ""), int(failed[1])):
            return
        self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def _allowed(self, method, url, status):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if any(allowed.matches(method, path, status) for allowed in self.allowed):
            return path
        return None

    def _response(self, response):
        method, status = response.request.method, response.status
        self.answers.append((method, response.url, status))
        if status < 400:
            return
        path = self._allowed(method, response.url, status)
        if path:
            self.expected.append((method, path, status))
        else:
            self.problems.append(f"{status} {method} {response.url}")

    def sign_in(self, path="/projects"):
        secret = self.live.app.sessions.one_time_secret()
        self.page.goto(f"{self.live.ui_url}/#secret={secret}")
        self.page.wait_for_selector(".lsf-menu-header")
        if path != "/":
            self.goto(path)
        return self

    def goto(self, path):
        self.page.goto(self.live.ui_url + path)
        self.page.wait_for_selector(".lsf-menu-header")
        self.seen(path)

    def seen(self, screen):
        """Note a screen the walk visited (for its report)."""
        self.screens.append(screen)

    def assert_clean(self):
        assert not self.problems, "\n".join(self.problems)
