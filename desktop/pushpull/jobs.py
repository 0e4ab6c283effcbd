"""Push and pull as background jobs of the running app, while labeling goes on.

The Team server page, POST /api/ui/handovers and `labeldesk push/pull` run beside a running
LabelDesk (desktop/shell/cli.py) start them here. A job runs a Pusher or Puller in a daemon
thread on the running core: it writes through the domain's locked methods and reads under the
store's lock (desktop/pushpull/handover.py), so requests go on meanwhile. A job records its
stage, done/total and messages (the hooks of Progress and Handover.say), and ends done, error
or cancelled. Cancel stops it at the next batch with the mapping file saved: running the same
hand-over again resumes it, sending nothing twice. One job at a time per (direction, server,
project): a second one is a 409.

The Label Studio token given for a job is kept in memory only: never written to a file, never
in an answer, a message or the log. It is remembered, for the same server only, while the app
runs, so "Push again" need not ask for it (a token the server refused is forgotten).
"""

import itertools
import logging
import threading
import time
import traceback
import urllib.parse
from pathlib import Path

import orjson

from desktop.core import clock
from desktop.core.errors import Conflict, LabelDeskError, NotFound, ValidationError
from desktop.pushpull.handover import BATCH_SIZE, NO_STOP, Cancelled
from desktop.pushpull.lsclient import LSError, server_url
from desktop.pushpull.puller import Puller
from desktop.pushpull.pusher import Pusher

log = logging.getLogger("labeldesk.pushpull")

DIRECTIONS = ("push", "pull")
KEEP = 50  # finished jobs listed (the mapping files keep every hand-over anyway)
MESSAGES = 200
MAPPED = ("tasks", "annotations", "predictions", "files")  # the summary's big id maps


class Job:
    """One push or pull in the background: what it does, how far it is, how it ended."""

    def __init__(self, job_id, direction, url, project, remote_project):
        self.id, self.direction, self.url = job_id, direction, url
        self.project, self.remote_project = project, remote_project
        self.status = "running"
        self.stage, self.done, self.total = None, 0, 0
        self.messages, self.message_count = [], 0
        self.summary = self.error = None
        self.created_at, self.finished_at = clock.iso(), None
        self.cancel = threading.Event()
        self.finished = threading.Event()
        self.handover = None
        self._secret = None  # the token, only to keep it out of what the job says

    @property
    def key(self):
        return (self.direction, self.url,
                self.project if self.direction == "push" else self.remote_project)

    def progress(self, stage, done, total):
        self.stage, self.done, self.total = stage, done, total

    def message(self, text):
        self.messages.append(self.scrub(text))
        self.message_count += 1
        del self.messages[:-MESSAGES]

    def scrub(self, text):
        return text.replace(self._secret, "[token]") if self._secret else text

    def as_json(self, full=False):
        """The job; `full`: with the whole summary (its id mapping) and every message kept."""
        handover, known = self.handover, self.handover.map.doc.get("target")
        if self.direction == "push":
            local = self.project
            remote = getattr(handover, "remote_id", None) or self.remote_project or known
        else:
            local = getattr(handover, "local_id", None) or handover.into or known
            remote = self.remote_project
        data = {"id": self.id, "direction": self.direction, "url": self.url,
                "project": local, "remote_project": remote, "status": self.status,
                "cancel_requested": self.cancel.is_set() and self.status == "running",
                "stage": self.stage, "done": self.done, "total": self.total,
                "messages": self.messages if full else self.messages[-20:],
                "message_count": self.message_count, "error": self.error,
                "created_at": self.created_at, "finished_at": self.finished_at,
                "summary": None}
        if self.summary is not None:
            data["summary"] = self.summary if full else {
                k: v for k, v in self.summary.items() if k not in MAPPED}
        return data


class Handovers:
    """The push and pull jobs of one running LabelDesk (in memory: they end with the app) and
    the hand-overs its data folder remembers (the mapping files in <data dir>/pushpull/)."""

    def __init__(self, core):
        self.core = core
        self.jobs = {}
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self._tokens = {}  # server URL -> its token: memory only

    # -- reading -------------------------------------------------------------------------

    def get(self, job_id):
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound("Hand-over")
        return job

    def listing(self):
        """The jobs of this run, newest first, and every hand-over the data folder has a
        mapping file for (direction, server, local and remote project), for "push again"."""
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: -j.id)
        jobs = [j.as_json() for j in jobs]
        return {"jobs": jobs, "previous": self.previous()}

    def previous(self):
        folder = Path(self.core.settings.data_dir) / "pushpull"
        found = []
        for path in folder.glob("*.json"):
            try:
                doc = orjson.loads(path.read_bytes())
                when = path.stat().st_mtime
            except (OSError, orjson.JSONDecodeError):
                continue  # damaged: rebuilt by the next run of that hand-over
            if not isinstance(doc, dict) or doc.get("kind") not in DIRECTIONS \
                    or not isinstance(doc.get("url"), str):
                continue
            push = doc["kind"] == "push"
            local = doc.get("project") if push else doc.get("target")
            remote = doc.get("target") if push else doc.get("project")
            project = self.core.records.projects.doc(local) if isinstance(local, int) else None
            found.append({
                "direction": doc["kind"], "url": doc["url"], "project": local,
                "project_title": project.get("title") if project else None,
                "remote_project": remote, "tasks": len(doc.get("tasks") or {}),
                "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
                "token_kept": doc["url"] in self._tokens})
        return sorted(found, key=lambda h: h["updated_at"], reverse=True)

    # -- starting, cancelling ------------------------------------------------------------

    def start(self, fields, user_id=1):
        """Start a push or pull from the fields of POST /api/ui/handovers; the new Job.
        Bad fields are a ValidationError, the same hand-over already running a Conflict."""
        direction, url, token = self._where(fields)
        batch_size = optional_id(fields, "batch_size", upper=10000) or BATCH_SIZE
        if direction == "push":
            project = self._project(required_id(fields, "project"), "project")
            remote = optional_id(fields, "remote_project") or optional_id(fields, "project_id")
            into = None
        else:
            project = None
            remote = required_id(fields, "remote_project", alias="project_id")
            into = self._project(optional_id(fields, "into"), "into")
        key = (direction, url, project if direction == "push" else remote)
        with self.lock:
            running = next((j for j in self.jobs.values()
                            if j.status == "running" and j.key == key), None)
            if running is not None:
                what = (f"A push of project {project}" if direction == "push"
                        else f"A pull of project {remote}")
                raise Conflict(f"{what} {'to' if direction == 'push' else 'from'} {url} is "
                               f"running already (job {running.id}): wait for it to end, or "
                               "cancel it.")
            job = Job(next(self.ids), direction, url, project, remote)
            job._secret = token
            hooks = dict(progress=False, stop_after=NO_STOP, batch_size=batch_size,
                         on_progress=job.progress, on_message=job.message, cancel=job.cancel)
            if direction == "push":
                job.handover = Pusher(self.core, project, url, token, remote_project=remote,
                                      **hooks)
            else:
                job.handover = Puller(self.core, url, remote, token, into=into,
                                      user_id=user_id, **hooks)
            self.jobs[job.id] = job
            self._tokens[url] = token
            finished = [i for i, j in self.jobs.items() if j.finished.is_set()]
            for old in finished[:max(0, len(finished) - KEEP)]:
                del self.jobs[old]
        threading.Thread(target=self._run, args=(job,), name=f"labeldesk-{direction}-{job.id}",
                         daemon=True).start()
        return job

    def cancel(self, job_id):
        """Ask a job to stop at its next batch (it ends "cancelled", resumable)."""
        job = self.get(job_id)
        job.cancel.set()
        return job

    def close(self, timeout=10.0):
        """The app is closing (or switching its data folder): cancel the running jobs and give
        them `timeout` seconds to stop at a batch's end (their mapping saved)."""
        with self.lock:
            running = [j for j in self.jobs.values() if not j.finished.is_set()]
        for job in running:
            job.cancel.set()
        deadline = time.monotonic() + timeout
        for job in running:
            job.finished.wait(max(0.0, deadline - time.monotonic()))

    # -- the job's thread ----------------------------------------------------------------

    def _run(self, job):
        try:
            summary = job.handover.run_and_close()
            # as the CLI prints it: the id maps' keys as strings (JSON's)
            job.summary = orjson.loads(orjson.dumps(summary, option=orjson.OPT_NON_STR_KEYS))
            job.status = "done"
        except Cancelled:
            job.status = "cancelled"
            job.message("Cancelled. Run it again to resume: nothing is sent twice.")
        except (LabelDeskError, LSError) as e:
            job.status, job.error = "error", job.scrub(str(e))
            if isinstance(e, LSError) and e.status == 401:
                with self.lock:
                    if self._tokens.get(job.url) == job._secret:
                        del self._tokens[job.url]
        except Exception as e:  # a bug: the job fails, the app goes on
            log.error("hand-over job %s failed:\n%s", job.id, job.scrub(traceback.format_exc()))
            job.status, job.error = "error", job.scrub(f"{type(e).__name__}: {e}")
        finally:
            job.finished_at = clock.iso()
            job._secret = None
            job.finished.set()

    # -- the fields ------------------------------------------------------------------------

    def _where(self, fields):
        direction = fields.get("direction")
        if direction not in DIRECTIONS:
            raise invalid("direction", 'Give "push" or "pull".')
        raw = fields.get("url")
        if not isinstance(raw, str) or not raw.strip():
            raise invalid("url", "The Label Studio server's address is needed, e.g. "
                                 "https://labelstudio.example.org.")
        url = checked_url(raw)
        token = fields.get("token")
        if token is None or token == "":
            token = self._tokens.get(url)
            if token is None:
                raise invalid("token", "A Label Studio token is needed: find it in Label "
                                       "Studio under Account & Settings.")
        elif not isinstance(token, str) or not token.strip() or len(token) > 4096 \
                or any(c.isspace() or not c.isprintable() for c in token.strip()):
            raise invalid("token", "The token must be text on one line, without spaces.")
        return direction, url, token.strip()

    def _project(self, project_id, field):
        if project_id is not None and self.core.records.projects.doc(project_id) is None:
            raise invalid(field, f"There is no LabelDesk project {project_id}.")
        return project_id


def invalid(field, message):
    return ValidationError({field: [message]}, detail=message)


def checked_url(raw):
    """A Label Studio server's address, normalized as the client does; only http(s), with a
    host and without credentials in it (they would be written into the mapping files)."""
    if any(c.isspace() or not c.isprintable() for c in raw.strip()):
        raise invalid("url", "The address can't hold spaces or line breaks.")
    parts = urllib.parse.urlsplit(raw.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise invalid("url", "The address must start with http:// or https://, e.g. "
                             "https://labelstudio.example.org.")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise invalid("url", f"Not a valid address: {raw.strip()!r}.") from None
    if "@" in parts.netloc:
        raise invalid("url", "Leave user names and passwords out of the address; give the "
                             "token instead.")
    try:
        return server_url(raw)
    except LSError as e:
        raise invalid("url", str(e)) from None


def required_id(fields, name, alias=None):
    value = optional_id(fields, name)
    if value is None and alias:
        value = optional_id(fields, alias)
    if value is None:
        raise invalid(name, f"{name}: a project id (a whole number) is needed.")
    return value


def optional_id(fields, name, upper=2 ** 53):
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= upper:
        raise invalid(name, f"{name}: a whole number from 1 to {upper} is needed.")
    return value

