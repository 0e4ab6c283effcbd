"""A command that changes data while another LabelDesk holds the folder asks that one to do it,
over its API: the URL from instance.json (desktop/shell/instance.py), the token read beside it
(what `labeldesk user --token` reads). Loopback only, no proxy."""

import urllib.error
import urllib.request

import orjson

from desktop.core.errors import LabelDeskError, NotFound
from desktop.shell.instance import running_instance


class Unreachable(LabelDeskError):
    """The LabelDesk that holds the folder can't be asked (not found, not answering)."""


class RunningApi:
    """The API of the LabelDesk serving `settings.data_dir`, with its user's token."""

    def __init__(self, settings, token):
        info = running_instance(settings, wait=2.0)
        if info is None or not str(info.get("url", "")).startswith("http://127.0.0.1:"):
            raise Unreachable("Another LabelDesk holds this data folder, but it could not be "
                              "found (no instance.json of a live process): close it and try "
                              "again.")
        self.url, self.token = info["url"], token
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method, path, timeout=600):
        """The answer's JSON (None for none); its error as a LabelDeskError with its detail."""
        request = urllib.request.Request(self.url + path, method=method, headers={
            "Accept": "application/json", "Authorization": f"Token {self.token}"})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            raise answer_error(e.code, e.read()) from None
        except OSError as e:
            raise Unreachable(f"LabelDesk at {self.url} did not answer: "
                              f"{getattr(e, 'reason', None) or e}") from None
        return orjson.loads(body) if body else None


def answer_error(status, body):
    try:
        detail = orjson.loads(body).get("detail") or ""
    except (orjson.JSONDecodeError, AttributeError):
        detail = body[:200].decode("utf-8", "replace")
    error = NotFound(detail=detail) if status == 404 else LabelDeskError(str(detail))
    error.status = status
    return error
