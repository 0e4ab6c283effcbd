"""A small Label Studio REST client on the standard library (http.client), for push and pull.

Only what the hand-over needs: JSON calls, multipart uploads, file downloads. One keep-alive
connection, reopened when the server drops it; idempotent calls (GET) and connection failures
are retried a few times. The token is the user's legacy API token (`Authorization: Token ...`)
or a personal access token (a JWT refresh token, exchanged for short-lived access tokens).
"""

import base64
import http.client
import json
import mimetypes
import socket
import time
import urllib.parse
import uuid

import orjson

RETRIES = 4


class LSError(Exception):
    """An error answer from Label Studio (status, its detail), or a failure to reach it."""

    def __init__(self, message, status=None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body


def _jwt_payload(token):
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def server_url(url):
    """A server's address as the client uses it (and the mapping files name it): http:// when
    no scheme is given, no trailing slash; LSError when it is not an http(s) address."""
    url = url.strip()
    if "://" not in url:
        url = "http://" + url
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LSError(f"Not a Label Studio address: {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class LabelStudio:
    def __init__(self, url, token, timeout=300):
        self.url = server_url(url)
        parts = urllib.parse.urlsplit(self.url)
        self.scheme, self.netloc, self.prefix = parts.scheme, parts.netloc, parts.path
        self.timeout = timeout
        self.token = token
        self._refresh = token if (_jwt_payload(token) or {}).get("token_type") == "refresh" \
            else None
        self._access, self._access_exp = None, 0
        self._conn = None

    # -- transport ------------------------------------------------------------------------

    def _connection(self):
        if self._conn is None:
            cls = (http.client.HTTPSConnection if self.scheme == "https"
                   else http.client.HTTPConnection)
            self._conn = cls(self.netloc, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _auth_header(self):
        if not self._refresh:
            return f"Token {self.token}"
        if time.time() > self._access_exp - 30:
            answer = self._send("POST", "/api/token/refresh/",
                                orjson.dumps({"refresh": self._refresh}),
                                {"Content-Type": "application/json"}, auth=False)
            self._access = answer["access"]
            self._access_exp = (_jwt_payload(self._access) or {}).get("exp", time.time() + 240)
        return f"Bearer {self._access}"

    def _send(self, method, path, body=None, headers=None, auth=True, raw=False, params=None):
        target = self.prefix + path
        if params:
            target += "?" + urllib.parse.urlencode(params, doseq=True)
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = self._auth_header()
        headers.setdefault("Accept", "application/json")
        idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        for attempt in range(RETRIES + 1):
            try:
                conn = self._connection()
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException, socket.timeout, OSError) as e:
                self.close()
                # A POST that reached the server may have been applied: the caller decides
                # (push and pull rebuild their mapping from the server), except on a refused or
                # reset connection before anything was sent, which is safe to retry.
                sent = not isinstance(e, (ConnectionRefusedError, http.client.RemoteDisconnected,
                                          BrokenPipeError, ConnectionResetError))
                if attempt == RETRIES or (sent and not idempotent):
                    raise LSError(f"Label Studio at {self.url} can't be reached: {e}") from None
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            status = response.status
            if status >= 500 and idempotent and attempt < RETRIES:
                time.sleep(0.5 * (attempt + 1))
                continue
            if status >= 400:
                raise LSError(self._describe(method, path, status, data), status, data)
            if raw:
                return data
            if not data:
                return None
            try:
                return orjson.loads(data)
            except orjson.JSONDecodeError:
                raise LSError(f"{method} {path}: Label Studio answered {status} with something "
                              "that is not JSON (is this a Label Studio address?)",
                              status, data) from None
        raise AssertionError("unreachable")

    def _describe(self, method, path, status, data):
        detail = data[:300].decode("utf-8", "replace")
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            detail = body.get("detail") or detail
            if body.get("validation_errors"):
                detail = f"{detail}: {body['validation_errors']}"
        if status == 401:
            return (f"Label Studio at {self.url} refused the token ({detail}). Use the token "
                    "from Account & Settings; a legacy token needs legacy tokens enabled.")
        if status == 404 and path.startswith("/api/projects/"):
            return f"{method} {path}: not found on {self.url} ({detail})"
        return f"{method} {path}: Label Studio answered {status}: {detail}"

    # -- calls ----------------------------------------------------------------------------

    def get(self, path, **params):
        return self._send("GET", path, params=params)

    def post(self, path, payload=None, params=None):
        return self._send("POST", path, orjson.dumps(payload),
                          {"Content-Type": "application/json"}, params=params)

    def patch(self, path, payload):
        return self._send("PATCH", path, orjson.dumps(payload),
                          {"Content-Type": "application/json"})

    def delete(self, path):
        return self._send("DELETE", path)

    def upload(self, path, files, params=None, method="POST"):
        """POST (or PATCH) multipart/form-data: files = [(field, filename, bytes)]."""
        boundary = uuid.uuid4().hex
        chunks = []
        for field, filename, data in files:
            kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            quoted = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                          f'filename="{quoted}"\r\nContent-Type: {kind}\r\n\r\n'.encode())
            chunks.append(data)
            chunks.append(b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        return self._send(method, path, b"".join(chunks),
                          {"Content-Type": f"multipart/form-data; boundary={boundary}"},
                          params=params)

    def download(self, url_path):
        """The bytes behind a server path such as /data/upload/3/ab12cd34-x.png."""
        return self._send("GET", url_path, raw=True, headers={"Accept": "*/*"})

    def version(self):
        return self.get("/api/version/")
