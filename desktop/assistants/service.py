"""The app's side of the assistants: the worker process, each assistant's link to a project,
and what GET/POST /api/assistants asks.

An assistant turned on for a project is an ordinary ML backend of that project (the web app's
Model tab shows it; "Retrieve predictions", auto-annotation, the SDK and push/pull use it as
any other), marked `assistant: <name>` in the store so that its URL follows the worker's port.
Near-duplicates are a data-manager column instead: turning them on scans the project.

The worker is started on first use and again on the next use after it died; a model call never
waits under the store lock (desktop/ml does the calls). Nothing here imports a model library.
"""

import itertools
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from desktop.assistants import REGISTRY
from desktop.assistants.labels import check_label_map
from desktop.core import clock
from desktop.core.errors import LabelDeskError, NotFound, ValidationError
from desktop.ml.client import MLApi

log = logging.getLogger("labeldesk.assistants")

START_TIMEOUT = float(os.environ.get("LABELDESK_ASSISTANTS_START", 60))
THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "MKL_NUM_THREADS",
                                  "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                                  "VECLIB_MAXIMUM_THREADS")}
SCAN_BATCH = 200
WAIT = float(os.environ.get("ML_ACTION_WAIT", 30))  # a job's answer waits this long for it


class WorkerDown(LabelDeskError):
    status = 503


def message(error):
    """A domain error as one line of text."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict):
        return " ".join(str(m) for messages in errors.values()
                        for m in (messages if isinstance(messages, list) else [messages]))
    return error.detail or str(error)


class WorkerProcess:
    """`python -m desktop.assistants.worker` (in a packaged build: `labeldesk
    _assistants-worker`), started when first needed and again after it died."""

    def __init__(self, upload_root):
        self.upload_root = upload_root
        self.cache_dir = None  # files fetched for the models, made with the first start
        self.proc = None
        self.url = None
        self.starts = 0  # how many times it was started: a restart forgets its state
        self.lock = threading.Lock()
        self.error = None
        # the worker answers only LabelDesk: Basic auth with a secret made for this run (passed
        # in its environment, never on its command line); other local programs and web pages
        # get a 401
        self.credentials = ("labeldesk", secrets.token_urlsafe(24))

    def command(self):
        if getattr(sys, "frozen", False):
            return [sys.executable, "_assistants-worker"]
        return [sys.executable, "-m", "desktop.assistants.worker"]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ensure(self):
        """The worker's URL, starting it when it isn't running; WorkerDown if it can't be."""
        with self.lock:
            if self.alive():
                return self.url
            if self.proc is not None:
                log.warning("the assistants' worker ended (exit status %s): starting it again",
                            self.proc.returncode)
            if self.cache_dir is None:
                self.cache_dir = tempfile.mkdtemp(prefix="labeldesk-assistants-")
            args = self.command() + ["--cache", self.cache_dir, "--parent", str(os.getpid())]
            if self.upload_root:
                args += ["--uploads", self.upload_root]
            env = {**os.environ, **THREADS, "PYTHONHASHSEED": "0",
                   "LABELDESK_ASSISTANTS_SECRET": self.credentials[1]}
            if not getattr(sys, "frozen", False):  # this tree's desktop package, as the app's
                root = os.path.dirname(os.path.dirname(os.path.dirname(
                    os.path.abspath(__file__))))
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
            # (a packaged build imports from its own archive: its folder on PYTHONPATH would
            # make numpy/ and PIL/, which hold only their binaries there, empty packages)
            try:
                proc = subprocess.Popen(args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                        env=env, text=True)
            except OSError as e:
                self.error = f"the assistants' worker could not start: {e}"
                raise WorkerDown(self.error)
            port = self._read_port(proc)
            if port is None:
                proc.kill()
                proc.wait()
                self.error = "the assistants' worker did not start (see the log)"
                raise WorkerDown(self.error)
            self.proc, self.url, self.error = proc, f"http://127.0.0.1:{port}", None
            self.starts += 1
            threading.Thread(target=self._drain, args=(proc,), daemon=True).start()
            return self.url

    @staticmethod
    def _read_port(proc):
        found = []

        def read():
            line = proc.stdout.readline()
            if line.startswith("LISTENING "):
                found.append(int(line.split()[1]))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        return found[0] if found else None

    @staticmethod
    def _drain(proc):
        for _ in proc.stdout:
            pass

    def stop(self):
        with self.lock:
            if self.alive():
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            self.proc = None
            if self.cache_dir is not None:
                shutil.rmtree(self.cache_dir, ignore_errors=True)
                self.cache_dir = None


class ScanJob:
    """A scan for near-duplicates in the background, shaped as an ML prediction job."""

    def __init__(self, job_id, project_id, total):
        self.id, self.project_id, self.total = job_id, project_id, total
        self.status, self.processed, self.found, self.error = "queued", 0, 0, None
        self.created_at, self.finished_at = clock.iso(), None
        self.done = threading.Event()
        self.seconds = None

    def as_json(self):
        return {"id": self.id, "kind": "duplicates", "project": self.project_id,
                "status": self.status, "total": self.total, "processed": self.processed,
                "found": self.found, "error": self.error, "seconds": self.seconds,
                "created_at": self.created_at, "finished_at": self.finished_at,
                "url": f"/api/assistants/jobs/{self.id}"}


class InstallJob:
    """An assistant pack being installed (pip, offline) in the background."""

    def __init__(self, job_id, name, manifest):
        self.id, self.name, self.manifest = job_id, name, manifest
        self.status, self.stage, self.error, self.installed = "queued", "checked", None, []
        self.created_at, self.finished_at, self.seconds = clock.iso(), None, None
        self.done = threading.Event()

    def as_json(self):
        return {"id": self.id, "kind": "install", "pack": self.name, "status": self.status,
                "stage": self.stage, "extras": self.manifest.get("extras") or [],
                "files": len(self.manifest["files"]), "installed": self.installed,
                "total": len(self.manifest["files"]),
                "processed": len(self.manifest["files"]) if self.status == "completed" else 0,
                "error": self.error, "seconds": self.seconds, "created_at": self.created_at,
                "finished_at": self.finished_at, "url": f"/api/assistants/jobs/{self.id}"}


class Assistants:
    def __init__(self, core):
        self.core = core
        self.r = core.records
        self.ml = core.ml
        self.worker = WorkerProcess(
            str(core.settings.media_dir / "upload") if hasattr(core.settings, "media_dir")
            else None)
        self._info = (None, None)  # (worker start number, GET /assistants)
        self._fits = {}  # label config -> {name: fit}
        self.rankings = {}  # project id -> [[task id, margin, guess, score]] least sure first
        self.stats = {}  # project id -> teach mode's stats, from its last answer
        self.scans = {}
        self._scan_ids = itertools.count(1)
        self._installing = threading.Lock()  # one assistant pack at a time
        self.ml.local_server = self._server_of
        self.ml.events.on_answer.append(self._answered)
        with self.r.lock:
            for doc in self.r.ml_backends.docs().values():
                if doc.get("assistant") == "teach":
                    self._rank_with_teach(doc["project"])

    # -- the worker -----------------------------------------------------------------------

    def api(self):
        return MLApi(self.worker.ensure(), timeout=120, basic_auth=self.worker.credentials)

    def _server_of(self, doc):
        """Where the backend of an assistant is now, and its credentials (desktop/ml asks
        before each call)."""
        try:
            return f"{self.worker.ensure()}/{doc['assistant']}", self.worker.credentials
        except WorkerDown as e:
            log.warning("%s", e)
            return None

    def _call(self, suffix, body=None, method="POST", timeout=120):
        result = self.api().call(suffix, body, method=method, timeout=timeout)
        if result.is_error:
            raise WorkerDown(f"The assistants' worker failed: {result.error}")
        return result.response

    def info(self):
        """The worker's word on each assistant (installed, what it needs), once per start."""
        self.worker.ensure()
        starts, answer = self._info
        if starts != self.worker.starts:
            answer = self._call("assistants", method="GET")
            self._info = (self.worker.starts, answer)
        return {a["name"]: a for a in answer}

    def fits(self, config):
        if config not in self._fits:
            if len(self._fits) > 64:
                self._fits.clear()
            self._fits[config] = self._call("fits", {"label_config": config})
        return self._fits[config]

    # -- the list and the switches --------------------------------------------------------

    def _backends(self, project_id):
        """{assistant name: (backend id, doc)} of a project."""
        with self.r.lock:
            return {doc["assistant"]: (i, dict(doc))
                    for i, doc in self.r.ml_backends.docs().items()
                    if doc.get("project") == project_id and doc.get("assistant")}

    def list(self, project_id):
        """GET /api/assistants?project=: every assistant, whether it fits this project's config
        (and with which tags), whether it is on, what it needs."""
        with self.r.lock:
            project = dict(self.core.projects.get(project_id))
        info, fits = self.info(), self.fits(project["label_config"])
        backends = self._backends(project_id)
        from desktop.assistants.pack import frozen
        packs = frozen() is None  # this LabelDesk can install an assistant pack
        out = []
        for name in REGISTRY:
            item = dict(info[name])
            item["pack"] = packs and not item.get("light") and not item.get("installed")
            fit = fits.get(name)
            item["fits"] = fit if isinstance(fit, dict) and "error" not in fit else None
            backend = backends.get(name)
            item["enabled"] = backend is not None if name != "duplicates" \
                else bool(project.get("near_duplicates"))
            item["ml_backend"] = backend[0] if backend else None
            item["label_map"] = ((backend[1].get("extra_params") or {}).get("label_map")
                                 if backend else None)
            if name == "teach" and backend:
                item["stats"] = self.teach_stats(project_id)
            if name == "duplicates":
                item["scan"] = project.get("near_duplicates")
            out.append(item)
        return out

    def teach_stats(self, project_id):
        stats = self.stats.get(project_id)
        if stats is None:
            try:
                stats = self._call(f"teach/stats?project={project_id}", method="GET") or None
            except WorkerDown:
                stats = None
        return stats

    def _checked(self, name, project_id):
        if name not in REGISTRY:
            raise NotFound(detail=f"No assistant named {name!r}: there are "
                                  f"{', '.join(REGISTRY)}")
        with self.r.lock:
            project = dict(self.core.projects.get(project_id))
        info = self.info()[name]
        if not info["installed"]:
            raise ValidationError(f"{info['title']} is not installed: {info['needs']}")
        fit = self.fits(project["label_config"]).get(name)
        if not isinstance(fit, dict) or "error" in fit:
            raise ValidationError(f"{info['title']} has nothing to do in this project: its "
                                  "labeling config has none of the tags it fills.")
        return info, fit, project

    def enable(self, name, project_id, label_map=None):
        """Turn an assistant on for a project: its ML backend (or the near-duplicates scan)."""
        info, fit, project = self._checked(name, project_id)
        problem = check_label_map(label_map, fit.get("labels") or [])
        if problem:
            raise ValidationError({"label_map": [problem]})
        if name == "duplicates":
            return {"enabled": True, "job": self._waited(self.scan(project_id))}
        existing = self._backends(project_id).get(name)
        if existing is not None:
            self.ml.delete(existing[0])
        url = f"{self.worker.ensure()}/{name}"
        backend_id = self.ml.create({
            "project": project_id, "url": url, "title": info["title"],
            "description": f"LabelDesk's built-in assistant ({name}-{info['version']})",
            "is_interactive": bool(info.get("interactive")),
            "extra_params": {"label_map": label_map} if label_map else None},
            marks={"assistant": name, "learning": name == "teach"})
        with self.r.transaction():
            changes = {"evaluate_predictions_automatically": True}
            if not project.get("model_version"):
                changes["model_version"] = info["title"]
            self.r.projects.update(changes, doc_ids=[project_id])
        if name == "teach":
            self._rank_with_teach(project_id)
        return {"enabled": True, "ml_backend": backend_id}

    def disable(self, name, project_id):
        if name not in REGISTRY:
            raise NotFound(detail=f"No assistant named {name!r}")
        self.core.projects.get(project_id)
        if name == "duplicates":
            self.core.tasks.mark_near_duplicates(project_id, {}, None)
            return {"enabled": False}
        existing = self._backends(project_id).get(name)
        if existing is not None:
            self.ml.delete(existing[0])
        if name == "teach":
            self.core.tasks.rankers.pop(project_id, None)
            self.rankings.pop(project_id, None)
        return {"enabled": False}

    def predict_all(self, name, project_id):
        """Every task of the project through the assistant: a job with progress."""
        self._checked(name, project_id)
        if name == "duplicates":
            return self._waited(self.scan(project_id))
        backend = self._backends(project_id).get(name)
        if backend is None:
            raise ValidationError(f"Turn {name} on for this project first.")
        job = self._waited(self.ml.predict_all(backend[0]))
        job["url"] = f"/api/ml/jobs/{job['id']}"
        return job

    @staticmethod
    def _waited(job):
        """A job's state once done, or after WAIT seconds (a big one goes on in the
        background: its `url` tells how far it is), as "Retrieve Predictions" answers."""
        job.done.wait(WAIT)
        return job.as_json()

    # -- teach mode: the next task is the one the model is least sure of -------------------

    def _rank_with_teach(self, project_id):
        self.core.tasks.rankers[project_id] = lambda fresh: self._least_sure(project_id, fresh)

    def _least_sure(self, project_id, fresh):
        """The first task of teach mode's last ranking still to label (None: the label
        stream falls back to Label Studio's rule, the lowest prediction score)."""
        for task_id, *_ in self.rankings.get(project_id) or ():
            if fresh(task_id):
                return task_id
        return None

    def _answered(self, backend_id, payload, result):
        if result.is_error or not isinstance(result.response, dict):
            return
        ranking = result.response.get("ranking")
        project_id = payload["project"]["id"]
        if isinstance(ranking, list):
            self.rankings[project_id] = ranking
        if isinstance(result.response.get("stats"), dict):
            self.stats[project_id] = result.response["stats"]

    # -- near-duplicates ------------------------------------------------------------------

    def scan(self, project_id):
        """Scan the project for near-duplicates in the background: a ScanJob."""
        _, fit, _ = self._checked("duplicates", project_id)
        with self.r.lock:
            ids = list(self.core.tasks.ids(project_id))
        job = ScanJob(next(self._scan_ids), project_id, len(ids))
        self.scans[job.id] = job
        threading.Thread(target=self._scan, args=(job, ids, fit), daemon=True,
                         name=f"labeldesk-duplicates-{job.id}").start()
        return job

    def install_pack(self, source, name):
        """Check an uploaded assistant pack (a seekable file) now — a bad one is a 400 — and
        install it with pip, offline, in the background: an InstallJob. The worker is then
        stopped, and started again (with the new packages) on the next use."""
        from desktop.assistants import pack
        reason = pack.frozen()
        if reason:
            raise ValidationError({"file": [reason]})
        if not self._installing.acquire(blocking=False):  # released when the job ends
            raise ValidationError({"file": ["An assistant pack is being installed already."]})
        tmp = os.path.join(str(getattr(self.core.settings, "data_dir", "")), "tmp")
        try:
            folder = tempfile.mkdtemp(prefix="labeldesk-pack-",
                                      dir=tmp if os.path.isdir(tmp) else None)
            try:
                manifest = pack.unpack(source, folder)
            except (pack.PackError, OSError) as e:
                shutil.rmtree(folder, ignore_errors=True)
                raise ValidationError({"file": [str(e)]})
        except BaseException:
            self._installing.release()
            raise
        job = InstallJob(next(self._scan_ids), os.path.basename(name or "pack.zip")[:200],
                         manifest)
        self.scans[job.id] = job

        def run():
            started = time.perf_counter()
            job.status, job.stage = "running", "installing"
            status, error, installed = "failed", None, []
            try:
                installed = pack.install_unpacked(folder, manifest)["installed"]
                self.worker.stop()  # its next start imports what was just installed
                self._info, self._fits = (None, None), {}
                status = "completed"
            except pack.PackError as e:
                error = str(e)
            except Exception as e:  # a bug: the install fails, labeling goes on
                log.exception("installing the assistant pack %s", job.name)
                error = f"{type(e).__name__}: {e}"
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                self._installing.release()  # before the job says it ended: the next may come
                job.seconds = round(time.perf_counter() - started, 3)
                job.finished_at = clock.iso()
                job.installed, job.error = installed, error
                job.stage = "done" if status == "completed" else "installing"
                job.status = status
                job.done.set()

        threading.Thread(target=run, daemon=True, name=f"labeldesk-pack-{job.id}").start()
        return job

    def job(self, job_id):
        job = self.scans.get(job_id)
        if job is None:
            raise NotFound("Job")
        return job

    def _scan(self, job, ids, fit):
        started = time.perf_counter()
        job.status = "running"
        try:
            hostname = getattr(self.core, "base_url", None)
            token = self._token(job.project_id)
            signatures = []
            for start in range(0, len(ids), SCAN_BATCH):
                batch = ids[start:start + SCAN_BATCH]
                with self.r.lock:
                    tasks = [{"id": i, "data": self.r.tasks.doc(i)["data"]} for i in batch
                             if self.r.tasks.doc(i) is not None]
                answer = self._call("duplicates/signatures", {
                    "tasks": tasks, "fit": fit, "hostname": hostname, "token": token})
                signatures.extend(zip([t["id"] for t in tasks], answer["signatures"]))
                job.processed += len(batch)
            groups = self._call("duplicates/group", {"signatures": signatures})["groups"]
            originals = {int(k): v for k, v in groups.items()}
            self.core.tasks.mark_near_duplicates(job.project_id, originals, clock.iso())
            job.found, job.status = len(originals), "completed"
        except LabelDeskError as e:
            job.status, job.error = "failed", message(e)
        except Exception as e:  # a bug: the scan fails, labeling goes on
            log.exception("near-duplicates scan of project %s", job.project_id)
            job.status, job.error = "failed", f"{type(e).__name__}: {e}"
        finally:
            job.seconds = round(time.perf_counter() - started, 3)
            job.finished_at = clock.iso()
            job.done.set()

    def _token(self, project_id):
        with self.r.lock:
            creator = self.core.projects.get(project_id).get("created_by")
            try:
                return self.core.users.get(creator)["token"] if creator else None
            except LabelDeskError:
                return None

    # -- the app's life -------------------------------------------------------------------

    def delete_project(self, project_id):
        """Called inside the project's delete transaction."""
        self.core.tasks.rankers.pop(project_id, None)
        self.rankings.pop(project_id, None)
        self.stats.pop(project_id, None)

    def close(self):
        self.worker.stop()
