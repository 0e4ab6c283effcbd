"""What the desktop window's page may ask of Python (pywebview's JS API): native file dialogs,
and the transfers behind them, run as background jobs the page polls for progress.

Files chosen in a native dialog are read here and sent to our own server over loopback, the same
import route the browser uses, so there is one import path; exports come back the same way and
are written where the user chose. Nothing here touches the store directly.

The page is not trusted with the file system: a path it hands back is used only if the user
picked it (or a folder holding it) in one of this window's dialogs, and errors name files but
never quote them. pywebview itself never sees the Bridge: it gets `Facade()`, an object with no
attributes at all, plus `exposed()` functions registered by exact name (see Facade).
"""

import http.client
import itertools
import mimetypes
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import orjson

IMPORT_EXTENSIONS = {".bmp", ".csv", ".flac", ".gif", ".htm", ".html", ".jpg", ".jpeg", ".json",
                     ".jsonl", ".m4a", ".mp3", ".ogg", ".png", ".svg", ".tsv", ".txt", ".wav",
                     ".xml", ".mp4", ".webm", ".webp", ".pdf"}
# Label Studio takes at most 100 files per request; we also keep each request well under the
# server's body limit so a big folder goes in several requests.
BATCH_FILES = 100
BATCH_BYTES = 100 * 1024 * 1024
FOLDER_LIMIT = 100_000
# What an error sent back to the page may say about a failure: a short reason, never the
# file's contents (the server's import errors quote the offending item after " :: ").
REASON_CHARS = 200


class Refused(PermissionError):
    """A path the user did not pick in this window, or a call from a page that is not ours."""


def short_reason(text):
    """The first line of a server's message, without the quoted item, and short."""
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    line = line.split(" :: ", 1)[0].rstrip()
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 1] + "…"


def answer_reason(answer, status):
    """A short reason out of a Label Studio error envelope (or whatever the server said)."""
    if isinstance(answer, dict):
        errors = answer.get("validation_errors")
        if isinstance(errors, dict):
            for value in errors.values():
                first = value[0] if isinstance(value, list) and value else value
                if first:
                    return short_reason(first)
        if answer.get("detail"):
            return short_reason(answer["detail"])
    return f"The server answered {status}."


class Job:
    """A background transfer the page polls: state running/done/error/cancelled."""

    def __init__(self, kind):
        self.id = uuid.uuid4().hex
        self.kind = kind
        self.state = "running"
        self.stage = ""
        self.done = 0
        self.total = 0
        self.result = None
        self.error = None

    def as_json(self):
        return {"id": self.id, "kind": self.kind, "state": self.state, "stage": self.stage,
                "done": self.done, "total": self.total, "result": self.result,
                "error": self.error}


class Multipart:
    """A multipart/form-data body read from the files in chunks, counting bytes as it goes."""

    def __init__(self, paths, on_bytes):
        self.boundary = f"labeldesk-{uuid.uuid4().hex}"
        self.on_bytes = on_bytes
        self.parts = []
        for index, path in enumerate(paths):
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            name = path.name.replace('"', "_").replace("\r", "_").replace("\n", "_")
            head = (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file{index}\"; "
                    f"filename=\"{name}\"\r\nContent-Type: {kind}\r\n\r\n").encode()
            self.parts.append((head, path))
        self.tail = f"--{self.boundary}--\r\n".encode()
        self.length = sum(len(h) + p.stat().st_size + 2 for h, p in self.parts) + len(self.tail)
        self._chunks = self._generate()
        self._buffer = b""

    @property
    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"

    def _generate(self):
        for head, path in self.parts:
            yield head
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(256 * 1024), b""):
                    yield block
            yield b"\r\n"
        yield self.tail

    def read(self, size=-1):
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        self.on_bytes(len(data))
        return data


class LocalClient:
    """HTTP to our own server on loopback, as the local user; `token()` gives the current token
    (the user may reset it while the window is open)."""

    def __init__(self, url, token):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.token = token

    def _connection(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=600)

    def _headers(self, extra=None):
        return {"Authorization": f"Token {self.token()}", "Accept": "application/json",
                **(extra or {})}

    def import_files(self, project_id, paths, on_bytes):
        return self.post_files(f"/api/projects/{int(project_id)}/import", paths, on_bytes)

    def post_files(self, path, paths, on_bytes):
        body = Multipart(paths, on_bytes)
        connection = self._connection()
        try:
            connection.request("POST", path, body=body,
                               headers=self._headers({"Content-Type": body.content_type,
                                                      "Content-Length": str(body.length)}))
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:  # not our envelope: say so, without echoing the body
            parsed = {"detail": f"The server answered {response.status}."}
        return response.status, parsed

    def open_download(self, path):
        connection = self._connection()
        connection.request("GET", path, headers=self._headers({"Accept": "*/*"}))
        return connection, connection.getresponse()


def attachment_name(response, fallback):
    disposition = response.getheader("Content-Disposition") or ""
    match = re.search(r"filename\*=UTF-8''([^;]+)", disposition) or \
        re.search(r'filename="?([^";]+)"?', disposition)
    name = unquote(match.group(1)) if match else (response.getheader("filename") or fallback)
    return Path(name).name or fallback


def batches(paths):
    """Files in requests of at most BATCH_FILES files and about BATCH_BYTES bytes."""
    batch, size = [], 0
    for path in paths:
        length = path.stat().st_size
        if batch and (len(batch) >= BATCH_FILES or size + length > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += length
    if batch:
        yield batch


def describe(paths):
    return [{"path": str(p), "name": p.name, "size": p.stat().st_size} for p in paths]


def folder_files(folder):
    """The importable files of a folder and its subfolders, in name order; hidden ones skipped."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.suffix.lower() in IMPORT_EXTENSIONS:
                found.append(path)
                if len(found) >= FOLDER_LIMIT:
                    return found
    return found


class Grants:
    """The paths the user picked in this window's dialogs, the only ones the page may name.

    A picked file grants itself; a picked folder grants everything under it; a save dialog's
    answer grants writing that one file. Paths are compared absolute and normalized (".."
    resolved by name), so a picked folder can't be left by a crafted path."""

    def __init__(self):
        self._files, self._folders = set(), set()
        self._lock = threading.Lock()

    @staticmethod
    def _normal(path):
        if not isinstance(path, str) or not path or "\0" in path:
            return None
        if not os.path.isabs(path):
            return None
        return Path(os.path.normpath(path))

    def add_file(self, path):
        with self._lock:
            self._files.add(self._normal(str(path)))

    def add_folder(self, path):
        with self._lock:
            self._folders.add(self._normal(str(path)))

    def file(self, path):
        """The picked file `path` names, or Refused (nothing is read or even looked at)."""
        normal = self._normal(path)
        with self._lock:
            ok = normal is not None and (normal in self._files or any(
                normal.is_relative_to(folder) and normal != folder for folder in self._folders))
        if not ok:
            raise Refused(f"{_name(path)}: not a file you chose in this window; refused.")
        return normal

    def folder(self, path):
        """A picked folder, a folder inside one, or the folder of a picked file; else Refused."""
        normal = self._normal(path)
        with self._lock:
            ok = normal is not None and (
                any(normal.is_relative_to(folder) for folder in self._folders)
                or any(normal == f.parent for f in self._files))
        if not ok:
            raise Refused(f"{_name(path)}: not a folder you chose in this window; refused.")
        return normal


def _name(path):
    """A path's last part, for messages (never its contents)."""
    if not isinstance(path, str):
        return "(not a path)"
    name = Path(path).name or path
    return name if len(name) <= 80 else name[:79] + "…"


class Bridge:
    """What the window's page may ask of Python. The page reaches it only through `exposed()`
    (pywebview never holds the Bridge); each call runs on a thread of its own."""

    PUBLIC = ("desktop", "choose_import_files", "choose_import_folder", "choose_folder",
              "choose_project_file", "open_project_file", "reveal", "job",
              "import_paths", "save_export", "api_token", "choose_assistant_pack",
              "install_assistant_pack")

    def __init__(self, client, data_dir):
        self._client = client
        self._data_dir = Path(data_dir)
        self._window = None
        self._jobs = {}
        self._lock = threading.Lock()
        self._last_dir = str(Path.home())
        self._grants = Grants()

    def _attach(self, window):
        self._window = window

    def _dialog(self, kind, **options):
        import webview
        kinds = {"open": webview.FileDialog.OPEN, "folder": webview.FileDialog.FOLDER,
                 "save": webview.FileDialog.SAVE}
        chosen = self._window.create_file_dialog(kinds[kind], directory=self._last_dir,
                                                 **options)
        return self._chosen(kind, chosen)

    def _chosen(self, kind, chosen):
        """A dialog's answer as absolute paths, each granted to the page from now on."""
        if not chosen:
            return []
        paths = [Path(os.path.abspath(p)) for p in ([chosen] if isinstance(chosen, str)
                                                    else chosen)]
        for path in paths:
            (self._grants.add_folder if kind == "folder" else self._grants.add_file)(path)
        self._last_dir = str(paths[0] if kind == "folder" else paths[0].parent)
        return paths

    # -- dialogs -------------------------------------------------------------------------------

    def desktop(self):
        return {"desktop": True, "platform": sys.platform}

    def api_token(self):
        """The API token, for the Settings page: the server gives it to no cookie session (a
        cookie that leaked must not become the token), so the window's page gets it here."""
        return {"token": self._client.token()}

    def choose_import_files(self):
        types = ("Data and media files (" + ";".join(f"*{e}" for e in sorted(IMPORT_EXTENSIONS))
                 + ")", "All files (*.*)")
        paths = self._dialog("open", allow_multiple=True, file_types=types)
        return describe([p for p in paths if p.is_file()])

    def choose_import_folder(self):
        paths = self._dialog("folder")
        if not paths:
            return None
        return {"folder": str(paths[0]), "files": describe(folder_files(paths[0]))}

    def choose_folder(self, title=None):
        """A folder chosen in the native dialog (the data folder, a live export folder)."""
        paths = self._dialog("folder")
        return str(paths[0]) if paths else None

    def choose_project_file(self):
        """A project .zip chosen in the native dialog, to open as a new project."""
        paths = self._dialog("open", file_types=("LabelDesk projects (*.zip)", "All files (*.*)"))
        paths = [p for p in paths if p.is_file()]
        return describe(paths)[0] if paths else None

    def open_project_file(self, path):
        """Upload a project .zip (one the user chose) to POST /api/projects/archive; the job's
        result is its answer."""
        return self._upload("open-project", path, "/api/projects/archive")

    def _upload(self, kind, path, url):
        """A job that uploads the file the user chose (`path`, granted by a dialog) to `url`;
        its result is the server's answer, its progress the bytes sent."""
        source = self._grants.file(path)

        def work(job):
            job.total = source.stat().st_size
            job.stage = "uploading"

            def on_bytes(n):
                job.done += n
            status, answer = self._client.post_files(url, [source], on_bytes)
            if status >= 400:
                raise RuntimeError(f"{source.name}: {answer_reason(answer, status)}")
            job.result = answer

        return self._start(kind, work)

    def choose_assistant_pack(self):
        """An assistant pack (make assistant-pack) chosen in the native dialog."""
        paths = self._dialog("open", file_types=("Assistant packs (*.zip)", "All files (*.*)"))
        paths = [p for p in paths if p.is_file()]
        return describe(paths)[0] if paths else None

    def install_assistant_pack(self, path):
        """Upload an assistant pack (one the user chose) to POST /api/assistants/install; the
        job's result is the server's install job (the page polls its `url`). The server checks
        and installs it; nothing of it runs here."""
        return self._upload("install-pack", path, "/api/assistants/install")

    def reveal(self, path=None):
        """Show a folder in the system's file manager: the data folder by default, else one the
        user chose (or that holds a file they chose). Never a file: opening one would run it."""
        target = self._data_dir if path is None else self._grants.folder(path)
        if not target.is_dir():
            raise Refused(f"{_name(str(target))}: not a folder; refused.")
        opener = {"darwin": ["open"], "win32": ["explorer"]}.get(sys.platform, ["xdg-open"])
        try:
            subprocess.Popen([*opener, str(target)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        except OSError:
            return False
        return True

    # -- jobs ---------------------------------------------------------------------------------

    def job(self, job_id):
        job = self._jobs.get(job_id) if isinstance(job_id, str) else None
        return job.as_json() if job else {"id": str(job_id)[:64], "state": "error",
                                           "error": "No such job."}

    def _start(self, kind, work):
        job = Job(kind)
        with self._lock:
            self._jobs[job.id] = job

        def run():
            try:
                work(job)
                if job.state == "running":
                    job.state = "done"
            except Exception as e:  # noqa: BLE001 - reported to the page, not raised
                job.error, job.state = short_reason(str(e)) or type(e).__name__, "error"

        threading.Thread(target=run, name=f"labeldesk-{kind}", daemon=True).start()
        return job.id

    def import_paths(self, project_id, paths):
        """Upload files the user chose to a project in batches; the job's result sums the
        import answers. Every path is checked before any file is touched."""
        if not isinstance(paths, list):
            raise Refused("Expected a list of chosen files; refused.")
        files = [self._grants.file(p) for p in paths]

        def work(job):
            job.total = sum(p.stat().st_size for p in files)
            job.stage = "uploading"
            summary = {"task_count": 0, "annotation_count": 0, "prediction_count": 0,
                       "file_upload_ids": [], "found_formats": {}, "files": len(files),
                       "duration": 0.0, "errors": []}
            started = time.monotonic()
            counter = itertools.count()
            for batch in batches(files):
                next(counter)

                def on_bytes(n):
                    job.done += n
                status, answer = self._client.import_files(project_id, batch, on_bytes)
                if status >= 400:
                    summary["errors"].append({"files": [p.name for p in batch],
                                              "status": status,
                                              "answer": {"detail": answer_reason(answer,
                                                                                 status)}})
                    continue
                for key in ("task_count", "annotation_count", "prediction_count"):
                    summary[key] += answer.get(key) or 0
                summary["file_upload_ids"] += answer.get("file_upload_ids") or []
                formats = answer.get("found_formats")
                if isinstance(formats, dict):
                    for ext, count in formats.items():
                        summary["found_formats"][ext] = summary["found_formats"].get(ext, 0) \
                            + count
            summary["duration"] = round(time.monotonic() - started, 3)
            summary["requests"] = next(counter)
            job.result = summary

        return self._start("import", work)

    def save_export(self, url, fallback_name):
        """Download an export from our server and write it where the user chooses in the save
        dialog (and nowhere else: the page names no path)."""
        if not isinstance(url, str) or not url.startswith("/api/") or any(
                c in url for c in "\r\n\0 "):
            raise Refused("Only LabelDesk's own exports can be saved.")
        fallback_name = Path(str(fallback_name or "export")).name or "export"

        def work(job):
            job.stage = "preparing"
            connection, response = self._client.open_download(url)
            try:
                if response.status >= 400:
                    body = response.read()
                    try:
                        answer = orjson.loads(body)
                    except orjson.JSONDecodeError:
                        answer = None
                    raise RuntimeError(f"The export failed: "
                                       f"{answer_reason(answer, response.status)}")
                name = attachment_name(response, fallback_name)
                job.stage = "choosing"
                chosen = self._dialog("save", save_filename=name)
                if not chosen:
                    job.state = "cancelled"
                    return
                target = chosen[0]
                job.total = int(response.getheader("Content-Length") or 0)
                job.stage = "saving"
                partial = target.with_name(f".{target.name}.part")
                with open(partial, "wb") as out:
                    for block in iter(lambda: response.read(256 * 1024), b""):
                        out.write(block)
                        job.done += len(block)
                os.replace(partial, target)
                job.result = {"path": str(target), "name": target.name, "size": job.done}
            finally:
                connection.close()

        return self._start("export", work)


class Facade:
    """The js_api pywebview is given: an object with no attributes at all.

    pywebview (6.2) resolves a call's name first in the functions registered with
    window.expose (an exact dict lookup), and only then with getattr along its dotted parts
    from the js_api object, underscores included: handed the Bridge, a page could call
    `_window.gui.os.system`, or walk `choose_folder.__func__.__globals__`. So the public
    methods go in by exact name (`exposed()`), and this object answers no attribute, not even
    `__class__`: every other name, dotted or not, resolves to nothing and is refused."""

    __slots__ = ()

    def __getattribute__(self, name):
        raise AttributeError(name)

    def __dir__(self):
        return []


def exposed(target, allowed):
    """The public methods (`PUBLIC`) of `target` (the Bridge, the recovery window's Recovery)
    as plain functions to register with window.expose.

    Each reaches `target` through its closure (no attribute leads to it) and first asks
    `allowed()` whether the window shows our own page; if not, the call is refused."""
    def make(name):
        method = getattr(target, name)

        def call(*args):
            if not allowed():
                raise Refused("Only LabelDesk's own page may use the desktop functions.")
            return method(*args)
        call.__name__ = call.__qualname__ = name
        return call
    return [make(name) for name in type(target).PUBLIC]
