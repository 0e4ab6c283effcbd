"""A task's files as local paths, in the worker: `task["local_files"] = {data key: path}`.

What a task's data names is read the way LabelDesk serves it, never from anywhere else:
`/data/upload/<project>/<file>` straight from the data folder's uploads (a path checked to stay
inside it), other LabelDesk URLs (`/data/local-files/?d=…`, …) from LabelDesk itself on
loopback with the project's token (LabelDesk applies its own rules to them), `data:` URIs
decoded. A URL of another host is not fetched: the assistants work offline.
"""

import base64
import hashlib
import os
import urllib.request
from urllib.parse import unquote, urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_BYTES = 512 * 1024 * 1024


class Media:
    def __init__(self, upload_root, cache_dir):
        self.upload_root = os.path.realpath(upload_root) if upload_root else None
        self.cache_dir = cache_dir
        os.makedirs(cache_dir, exist_ok=True)

    def resolve(self, task, hostname=None, token=None):
        """Add `local_files` (and `file_errors`, what could not be read) to a task dict."""
        files, errors = {}, {}
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        for key, value in data.items():
            if not isinstance(value, str) or not self.names_file(value, hostname):
                continue
            try:
                files[key] = self.path_of(value, hostname, token)
            except (OSError, ValueError) as e:
                errors[key] = str(e)
        task["local_files"] = files
        if errors:
            task["file_errors"] = errors
        return task

    @staticmethod
    def names_file(value, hostname):
        """A value that names a file: LabelDesk's own URLs, data: URIs, and any http(s) URL
        (to say it is not fetched)."""
        return value.startswith(("/data/", "data:", "/tasks/", "http://", "https://"))

    def path_of(self, value, hostname, token):
        if value.startswith("data:"):
            return self._data_uri(value)
        parts = urlsplit(value)
        own = (hostname or "").rstrip("/")
        if parts.scheme and not (own and value.startswith(own + "/")):
            raise ValueError(f"{parts.hostname} is not fetched: LabelDesk's assistants work "
                             "offline, on the files LabelDesk serves")
        if parts.path.startswith("/data/upload/") and self.upload_root:
            project, _, name = unquote(parts.path[len("/data/upload/"):]).partition("/")
            path = os.path.realpath(os.path.join(self.upload_root, project, name))
            if os.path.dirname(os.path.dirname(path)) != self.upload_root or \
                    not os.path.isfile(path):
                raise ValueError(f"no such upload: {value}")
            return path
        if not hostname:
            raise ValueError(f"{value} can't be read: the project was not set up")
        return self._fetch(own, (parts.path or "/") + (f"?{parts.query}" if parts.query
                                                      else ""), token)

    def _cached(self, key, suffix=""):
        return os.path.join(self.cache_dir, hashlib.sha256(key.encode()).hexdigest() + suffix)

    def _data_uri(self, value):
        header, _, payload = value.partition(",")
        path = self._cached(value[:4096] + str(len(value)))
        if not os.path.exists(path):
            raw = base64.b64decode(payload) if header.endswith(";base64") else \
                unquote(payload).encode()
            with open(path + ".part", "wb") as f:
                f.write(raw)
            os.replace(path + ".part", path)
        return path

    def _fetch(self, own, path_and_query, token):
        """A file from LabelDesk itself (`own`, the hostname its /setup named: loopback only);
        the project's token goes nowhere else."""
        host = urlsplit(own).hostname
        if host not in LOOPBACK:
            raise ValueError(f"{host} is not fetched: LabelDesk's assistants work offline")
        url = own + path_and_query
        path = self._cached(url)
        if os.path.exists(path):
            return path
        request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"}
                                         if token else {})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response, open(path + ".part", "wb") as f:
            copied = 0
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                copied += len(chunk)
                if copied > MAX_BYTES:
                    raise ValueError(f"{url} is larger than {MAX_BYTES} bytes")
                f.write(chunk)
        os.replace(path + ".part", path)
        return path
