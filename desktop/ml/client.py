"""The HTTP client for Label Studio's model-server protocol (/health, /setup, /predict, /webhook,
/train, /versions), on the standard library only.

Every call returns an `MLResult`; nothing here raises for a dead, slow or confused server. Time-outs
are Label Studio's (ML_TIMEOUT_HEALTH=1 s, ML_TIMEOUT_SETUP=3 s, ML_TIMEOUT_PREDICT=100 s, ...,
the same environment variables); a refused or reset connection is retried twice, as Label Studio's
requests adapter does.
"""

import base64
import http.client
import os
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

import orjson

from desktop import LABEL_STUDIO_COMPAT


def _env_seconds(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return float(default)


CONNECTION_TIMEOUT = _env_seconds("ML_CONNECTION_TIMEOUT", 1)
TIMEOUT_HEALTH = _env_seconds("ML_TIMEOUT_HEALTH", 1)
TIMEOUT_SETUP = _env_seconds("ML_TIMEOUT_SETUP", 3)
TIMEOUT_PREDICT = _env_seconds("ML_TIMEOUT_PREDICT", 100)
TIMEOUT_TRAIN = _env_seconds("ML_TIMEOUT_TRAIN", 30)
MAX_RETRIES = 2
MAX_ANSWER_BYTES = 256 * 1024 * 1024
USER_AGENT = f"heartex/{LABEL_STUDIO_COMPAT}"


def check_url(url):
    """The problem with a model-server URL, or None. Any http(s) URL is the user's call."""
    if not isinstance(url, str) or not url.strip():
        return "This field may not be blank."
    try:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "Enter a valid URL."
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "Enter a valid URL."
    return None


class MLResult:
    """One exchange with a model server: what was sent, what came back, or what went wrong."""

    def __init__(self, url, request, response=None, status=200, error=None):
        self.url = url
        self.request = request
        self.response = {} if response is None else response
        self.status = status  # 0: no HTTP answer at all (refused, time-out, ...)
        self.error = error

    @property
    def is_error(self):
        return self.error is not None

    @property
    def unreachable(self):
        return self.error is not None and self.status == 0


class MLApi:
    def __init__(self, url, timeout=None, basic_auth=None):
        self.url = url.strip()
        self.timeout = float(timeout) if timeout else TIMEOUT_PREDICT
        self.basic_auth = basic_auth if basic_auth and all(basic_auth) else None

    def url_for(self, suffix):
        base = self.url if self.url.endswith("/") else self.url + "/"
        return urljoin(base, suffix)

    # -- the protocol ---------------------------------------------------------------------

    def health(self):
        return self.call("health", method="GET", timeout=TIMEOUT_HEALTH)

    def setup(self, project_uid, schema, hostname, access_token, extra_params=None):
        return self.call("setup", {"project": project_uid, "schema": schema,
                                   "hostname": hostname, "access_token": access_token,
                                   "extra_params": extra_params}, timeout=TIMEOUT_SETUP)

    def predict(self, tasks, project_uid, label_config, context=None, login=None, password=None,
                timeout=None):
        request = {"tasks": tasks, "project": project_uid, "label_config": label_config,
                   "params": {"login": login, "password": password, "context": context}}
        return self.call("predict", request, timeout=timeout or self.timeout)

    def webhook(self, payload, timeout=None):
        return self.call("webhook", payload, timeout=timeout or TIMEOUT_TRAIN)

    def train(self, annotations, project_uid, label_config, login=None, password=None):
        """The pre-webhook training call, for servers older than Label Studio 1.4.1."""
        return self.call("train", {"annotations": annotations, "project": project_uid,
                                   "label_config": label_config,
                                   "params": {"login": login, "password": password}},
                         timeout=TIMEOUT_TRAIN)

    def versions(self, project_uid):
        return self.call("versions", method="GET", timeout=TIMEOUT_SETUP,
                         query=f"project={project_uid}")

    # -- HTTP ------------------------------------------------------------------------------

    def call(self, suffix, request=None, method="POST", timeout=None, query=None):
        url = self.url_for(suffix)
        body = orjson.dumps(request if request is not None else {}) if method == "POST" else None
        target = url + ("?" + query if query else "")
        answer, error = None, None
        for attempt in range(MAX_RETRIES + 1):
            try:
                answer = self._exchange(method, target, body, timeout or self.timeout)
                break
            except (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError,
                    http.client.RemoteDisconnected) as e:
                why = getattr(e, "strerror", None) or f"the connection was closed ({e})"
                error = f"Can't connect to {url}: {why}"
                if attempt < MAX_RETRIES:
                    time.sleep(0.1 * (attempt + 1))
            except _ConnectTimeout:
                error = f"Can't connect to {url}: no answer within {CONNECTION_TIMEOUT:g} s"
                break
            except (socket.timeout, TimeoutError):
                error = f"{url} did not answer within {timeout or self.timeout:g} s"
                break
            except ssl.SSLError as e:
                error = f"TLS error with {url}: {e}"
                break
            except (OSError, http.client.HTTPException, ValueError) as e:
                error = f"Can't connect to {url}: {e}"
                break
        if answer is None:
            return MLResult(url, request, {"error": error}, status=0, error=error)
        status, reason, raw = answer
        text = raw.decode("utf-8", "replace")
        if status >= 400:
            kind = "Client" if status < 500 else "Server"
            error = f"{status} {kind} Error: {reason} for url: {url}"
            if text.strip():
                error += " " + text.strip()[:2000]
            return MLResult(url, request, {"error": error}, status=status, error=error)
        try:
            data = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError as e:
            error = f"The ML backend at {url} answered with something that is not JSON: {e}"
            return MLResult(url, request, {"error": error, "response": text[:2000]},
                            status=status, error=error)
        return MLResult(url, request, data, status=status)

    def _exchange(self, method, url, body, timeout):
        parts = urlsplit(url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else \
            http.client.HTTPConnection
        conn = kind(parts.hostname, parts.port, timeout=min(CONNECTION_TIMEOUT, timeout))
        try:
            try:
                conn.connect()
            except (socket.timeout, TimeoutError):
                raise _ConnectTimeout() from None
            conn.sock.settimeout(timeout)
            path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
            headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            if self.basic_auth:
                token = base64.b64encode(":".join(self.basic_auth).encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read(MAX_ANSWER_BYTES + 1)
            if len(raw) > MAX_ANSWER_BYTES:
                raise ValueError(f"the answer is larger than {MAX_ANSWER_BYTES} bytes")
            return response.status, response.reason, raw
        finally:
            conn.close()


class _ConnectTimeout(Exception):
    pass
