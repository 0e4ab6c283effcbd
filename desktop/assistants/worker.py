"""The assistants' model server: `python -m desktop.assistants.worker`, one process that
LabelDesk starts on first use. To Label Studio's world each assistant is an ordinary ML backend
at `http://127.0.0.1:<port>/<name>/`: `GET /health`, `POST /setup`, `POST /predict` (with the
interactive annotating context), `POST /webhook`, `GET /versions`.

LabelDesk's own calls: `GET /assistants` (what is installed), `POST /fits {label_config}`
(which tags each assistant would fill), `GET /<name>/stats?project=<id>`, `POST
/duplicates/signatures {tasks, fit}` and `POST /duplicates/group {signatures}`. A webhook
that teaches a model (teach mode) is answered with the new ranking of the project's tasks,
least sure first.

Standard library only (plus what an assistant imports itself); model threads pinned to one
(OMP, MKL, OpenBLAS: more threads only fight over two cores). Binds 127.0.0.1 on a free port,
prints `LISTENING <port>` and ends with the process that started it. It answers LabelDesk
only: Basic auth with the secret in LABELDESK_ASSISTANTS_SECRET, a Host of 127.0.0.1 or
localhost, no Origin header (a web page's request, DNS rebinding included, is refused).
"""

import os

for _name in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
              "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_name] = "1"  # before any model library is imported

import argparse  # noqa: E402
import base64  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import urllib.request  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

from desktop.assistants import REGISTRY, Missing, describe, module  # noqa: E402
from desktop.assistants.labels import auto_map, map_results  # noqa: E402
from desktop.assistants.media import LOOPBACK, Media  # noqa: E402

log = logging.getLogger("labeldesk.assistants")
MAX_BODY = 512 * 1024 * 1024

try:
    import orjson

    def dumps(value):
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    loads = orjson.loads
except ImportError:  # pragma: no cover - orjson is one of LabelDesk's own dependencies
    def dumps(value):
        return json.dumps(value).encode()
    loads = json.loads


class Failure(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Slot:
    """One assistant in this process: its module, its model (loaded once), its projects."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()  # loading; predict/update hold the model's own locks
        self.model = None
        self.projects = {}  # project id (str) -> {"fit", "hostname", "token", ...}

    def module(self):
        try:
            return module(self.name)
        except Missing as e:
            raise Failure(400, f"{describe(self.name)['title']} is not installed: {e.needs}")

    def loaded(self):
        found = self.module()
        with self.lock:
            if self.model is None:
                try:
                    self.model = found.load()
                except Missing as e:
                    raise Failure(400, f"not installed: {e.needs}")
                except Exception as e:  # a model that can't load says why, once asked
                    log.exception("loading %s", self.name)
                    raise Failure(500, f"{self.name} could not load its model: "
                                       f"{type(e).__name__}: {e}")
        return found, self.model

    def fit(self, project_key, label_config=None, extra=None):
        """The project's fit: from its setup, else from the label config a request carried."""
        state = self.projects.get(project_key)
        if state is not None and (label_config is None or state["config"] == label_config):
            return state["fit"]
        if label_config is None:
            raise Failure(400, f"project {project_key} is not set up: call /setup first")
        found = self.module()
        fit = found.fits(label_config)
        if fit is None:
            raise Failure(400, f"{getattr(found, 'TITLE', self.name)} has nothing to do in this "
                               "project: its labeling config has none of the tags it fills")
        extra = extra or {}
        fit = dict(fit, project=project_key)
        labels = fit.get("labels") or []
        model_labels = fit.get("model_labels") or labels
        # the module's own map (entities: spaCy's PERSON -> the NER template's PER) under the
        # user's: names equal but for case first, then the module's, then the user's
        given = {**(fit.get("label_map") or {}), **(extra.get("label_map") or {})}
        fit["label_map"] = auto_map(model_labels, labels, given)
        state = dict(state or {}, fit=fit, config=label_config)
        self.projects[project_key] = state
        return fit


class Worker:
    def __init__(self, upload_root=None, cache_dir=None):
        self.slots = {name: Slot(name) for name in REGISTRY}
        self.media = Media(upload_root, cache_dir or tempfile.mkdtemp(prefix="labeldesk-media-"))
        self.indexing = {}  # (name, project) -> threading.Event set once indexed

    def slot(self, name):
        if name not in self.slots:
            raise Failure(404, f"no assistant named {name!r}")
        return self.slots[name]

    # -- LabelDesk's own ------------------------------------------------------------------

    def assistants(self):
        return [describe(name) for name in REGISTRY]

    def fits(self, body):
        config = body.get("label_config") if isinstance(body, dict) else None
        if not isinstance(config, str):
            raise Failure(400, "label_config must be a string")
        out = {}
        for name in REGISTRY:
            try:
                out[name] = module(name).fits(config)
            except Missing:
                out[name] = None
            except Exception as e:  # an assistant's bug must not hide the others
                log.exception("fits of %s", name)
                out[name] = {"error": f"{type(e).__name__}: {e}"}
        return out

    # -- the ML backend protocol ----------------------------------------------------------

    def setup(self, name, body):
        slot = self.slot(name)
        key = project_key(body.get("project"))
        extra = body.get("extra_params") if isinstance(body.get("extra_params"), dict) else {}
        before = slot.projects.pop(key, None)  # a new setup: the config or label map may differ
        fit = slot.fit(key, body.get("schema"), extra)
        if before is not None and before["fit"] != fit:
            self.indexing.pop((name, key), None)  # other labels: a new model, indexed again
        state = slot.projects[key]
        state.update(hostname=body.get("hostname"), token=body.get("access_token"))
        found, model = slot.loaded()
        if callable(getattr(found, "index", None)):
            self._index_soon(slot, key, found, model)
        return {"model_version": version_of(found)}

    def predict(self, name, body):
        slot = self.slot(name)
        tasks = body.get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
            raise Failure(400, "tasks must be a list of task objects")
        key = project_key(body.get("project"))
        fit = slot.fit(key, body.get("label_config"))
        found, model = slot.loaded()
        self._wait_indexed(name, key)
        state = slot.projects.get(key) or {}
        for task in tasks:
            self.media.resolve(task, state.get("hostname"), state.get("token"))
        params = body.get("params") if isinstance(body.get("params"), dict) else {}
        context = params.get("context") or None
        predictions = found.predict(model, tasks, fit, context)
        version = version_of(found)
        for prediction in predictions:
            prediction.setdefault("model_version", version)
        if not getattr(found, "MAPS_LABELS", False):  # else predict() followed the map itself
            predictions = map_results(predictions, fit.get("label_map"))
        return {"results": predictions, "model_version": version}

    def webhook(self, name, body):
        slot = self.slot(name)
        action = body.get("action")
        found = slot.module()
        if action not in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED") or \
                not callable(getattr(found, "update", None)):
            return {}
        project = body.get("project") if isinstance(body.get("project"), dict) else {}
        key = project_key(project.get("id"))
        if key not in slot.projects:
            if not project.get("label_config"):
                return {}
            slot.fit(key, project.get("label_config"))
        fit = slot.projects[key]["fit"]
        found, model = slot.loaded()
        self._wait_indexed(name, key)
        task = body.get("task") if isinstance(body.get("task"), dict) else {}
        found.update(model, task, body.get("annotation"), fit)
        answer = {}
        if callable(getattr(found, "rank", None)):
            answer["ranking"] = found.rank(model, fit)
        if callable(getattr(found, "stats", None)):
            answer["stats"] = found.stats(model, fit)
        return answer

    def stats(self, name, query):
        slot = self.slot(name)
        key = project_key((query.get("project") or [""])[0])
        found = slot.module()
        if key not in slot.projects or not callable(getattr(found, "stats", None)):
            return {}
        found, model = slot.loaded()
        return found.stats(model, slot.projects[key]["fit"])

    def signatures(self, body):
        """Near-duplicate signatures of tasks (desktop/assistants/duplicates.py)."""
        slot = self.slot("duplicates")
        found, model = slot.loaded()
        tasks = body.get("tasks") if isinstance(body, dict) else None
        fit = body.get("fit") if isinstance(body, dict) else None
        if not isinstance(tasks, list) or not isinstance(fit, dict):
            raise Failure(400, "tasks and fit are required")
        for task in tasks:
            self.media.resolve(task, body.get("hostname"), body.get("token"))
        return {"signatures": found.signatures(model, tasks, fit)}

    def group(self, body):
        """Near-duplicate groups of [[task id, signature]]: {task id: the first of its group}."""
        found = self.slot("duplicates").module()
        pairs = body.get("signatures") if isinstance(body, dict) else None
        if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], int) for p in pairs):
            raise Failure(400, "signatures must be a list of [task id, signature]")
        return {"groups": {str(k): v for k, v in found.group(pairs).items()}}

    # -- indexing a project's tasks (teach mode) ------------------------------------------

    def _index_soon(self, slot, key, found, model):
        done = self.indexing.get((slot.name, key))
        if done is not None:
            return
        done = self.indexing[(slot.name, key)] = threading.Event()
        state = slot.projects[key]

        def run():
            try:
                tasks = fetch_json(state.get("hostname"), f"/api/projects/{key}/export"
                                   "?exportType=JSON&download_all_tasks=true",
                                   state.get("token"))
                found.index(model, tasks if isinstance(tasks, list) else [], state["fit"])
            except Exception:  # the model still learns from what comes next
                log.exception("indexing project %s for %s", key, slot.name)
            finally:
                done.set()

        threading.Thread(target=run, name=f"index-{slot.name}-{key}", daemon=True).start()

    def _wait_indexed(self, name, key, timeout=120):
        done = self.indexing.get((name, key))
        if done is not None:
            done.wait(timeout)


def project_key(value):
    """Label Studio's project uid "<id>.<created_at>" (or an id) as the project's id text."""
    text = str(value if value is not None else "")
    key = text.split(".", 1)[0]
    if not key.isdigit():
        raise Failure(400, f"not a project: {text[:40]!r}")
    return key


def version_of(found):
    return f"{found.NAME}-{found.VERSION}"


def fetch_json(hostname, path, token):
    """GET a LabelDesk URL on loopback (what a model server's get_data does)."""
    if not hostname:
        raise ValueError("no hostname")
    url = hostname.rstrip("/") + path
    if urlsplit(url).hostname not in LOOPBACK:
        raise ValueError(f"{url} is not on this machine")
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"}
                                     if token else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=300) as response:
        return loads(response.read())


class Handler(BaseHTTPRequestHandler):
    server_version = "LabelDeskAssistants"
    protocol_version = "HTTP/1.1"
    worker = None  # set by serve()
    secret = None  # Basic auth's password (LABELDESK_ASSISTANTS_SECRET); None: none asked

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise Failure(413, "request too large")
        raw = self.rfile.read(length) if length else b""
        try:
            return loads(raw) if raw.strip() else {}
        except ValueError:
            raise Failure(400, "the body is not JSON")

    def _refused(self):
        """Why a request isn't LabelDesk's: a web page (an Origin header, a foreign Host: DNS
        rebinding) or a program without the secret LabelDesk started this worker with."""
        port = self.server.server_address[1]
        if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return 403, "Forbidden host"
        if self.headers.get("Origin") is not None:
            return 403, "Requests from web pages are refused"
        if self.secret is None:
            return None
        expected = "Basic " + base64.b64encode(f"labeldesk:{self.secret}".encode()).decode()
        if not hmac.compare_digest(self.headers.get("Authorization") or "", expected):
            return 401, "Authentication required"
        return None

    def _handle(self, method):
        parts = urlsplit(self.path)
        path = [p for p in parts.path.split("/") if p]
        worker = self.worker
        refused = self._refused()
        if refused is not None:
            self.close_connection = True
            return self._send(refused[0], {"status": "ERROR", "error": refused[1]})
        try:
            body = self._body() if method == "POST" else {}
            if not path or path == ["health"]:
                answer = {"status": "UP", "model_class": "LabelDesk assistants"}
            elif path == ["assistants"]:
                answer = worker.assistants()
            elif path == ["fits"] and method == "POST":
                answer = worker.fits(body)
            elif path == ["duplicates", "signatures"] and method == "POST":
                answer = worker.signatures(body)
            elif path == ["duplicates", "group"] and method == "POST":
                answer = worker.group(body)
            elif len(path) == 2:
                name, call = path
                slot = worker.slot(name)
                if call == "health":
                    answer = {"status": "UP", "model_class": describe(slot.name)["title"]}
                elif call == "versions":
                    answer = {"versions": [f"{name}-{describe(name)['version']}"]}
                elif call == "stats":
                    answer = worker.stats(name, parse_qs(parts.query))
                elif method != "POST" or not isinstance(body, dict):
                    raise Failure(405 if method != "POST" else 400, "POST a JSON object")
                elif call == "setup":
                    answer = worker.setup(name, body)
                elif call == "predict":
                    answer = worker.predict(name, body)
                elif call == "webhook":
                    answer = worker.webhook(name, body)
                else:
                    raise Failure(404, f"no such call: {call}")
            else:
                raise Failure(404, "not found")
            self._send(200 if method == "GET" or path[-1] != "webhook" else 201, answer)
        except Failure as e:
            self._send(e.status, {"status": "ERROR", "error": str(e)})
        except Exception as e:  # an assistant's bug: a clear 500, the worker goes on
            log.error("%s %s failed:\n%s", method, parts.path, traceback.format_exc())
            self._send(500, {"status": "ERROR", "error": f"{type(e).__name__}: {e}"})

    def _send(self, status, answer):
        raw = dumps(answer)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def watch_parent(parent):
    """End this worker when the process that started it is gone (no orphan model servers)."""
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


def serve(port=0, upload_root=None, cache_dir=None, parent=None):
    handler = type("WorkerHandler", (Handler,), {
        "worker": Worker(upload_root, cache_dir),
        "secret": os.environ.pop("LABELDESK_ASSISTANTS_SECRET", None) or None})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    if parent:
        threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()
    print(f"LISTENING {server.server_address[1]}", flush=True)
    server.serve_forever()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m desktop.assistants.worker")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--uploads", help="the data folder's uploads (media/upload)")
    parser.add_argument("--cache", help="where fetched files are kept")
    parser.add_argument("--parent", type=int, help="end when this process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="assistants: %(levelname)s %(message)s")
    serve(args.port, args.uploads, args.cache, args.parent)


if __name__ == "__main__":
    main()
