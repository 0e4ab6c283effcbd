"""`labeldesk push` / `pull` while LabelDesk runs: the job is started in the running app.

The running LabelDesk holds the store (StoreLocked), so the command can't open it. Instead it
finds that LabelDesk from <data dir>/instance.json (desktop/shell/instance.py), takes the API
token from the data folder read beside it (as `labeldesk user --token` does), starts the job
with POST /api/ui/handovers on loopback and follows it: the same progress bars and messages on
stderr, the same summary and JSON mapping on stdout, the same exit status as with the app
closed. Ctrl-C cancels the job (resumable: run the command again).
"""

import signal
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import orjson

from desktop.pushpull.progress import Progress

POLL_SECONDS = 0.25
CANCEL_WAIT = 60  # seconds for a cancelled job to reach the end of its batch


class Unreachable(Exception):
    """The running LabelDesk did not answer (it was closed meanwhile)."""


def print_summary(verb, summary):
    """What push and pull print at the end: the summary on stderr, the id mapping (JSON) on
    stdout; returns the exit status (0)."""
    created = ", ".join(f"{n} {k}" for k, n in summary["created"].items())
    updated = summary["updated"]["annotations"]
    print(f"LabelDesk project {summary['local_project']} <-> Label Studio project "
          f"{summary['remote_project']} ({summary['url']}): created {created}"
          + (f", updated {updated} annotations" if updated else "") + ".", file=sys.stderr)
    if summary.get("unreachable_media"):
        print(f"{len(summary['unreachable_media'])} media file(s) could not be fetched; their "
              "tasks keep the original URLs.", file=sys.stderr)
    print(f"Mapping of ids: {summary['mapping_file']}", file=sys.stderr)
    mapping = {k: summary[k] for k in ("url", "local_project", "remote_project", "tasks",
                                       "annotations", "predictions", "files")}
    sys.stdout.write(orjson.dumps(mapping, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()
    return 0


class RunningApp:
    """The API of the LabelDesk that holds the data folder, on loopback, with its token."""

    def __init__(self, url, token):
        self.url, self.token = url.rstrip("/"), token

    @classmethod
    def find(cls, settings, api_token, wait=5.0):
        """The running LabelDesk of `settings.data_dir`, else None (a process holds the store
        that serves nothing: `labeldesk import`, a push with the app closed, ...)."""
        from desktop.shell.instance import running_instance
        info = running_instance(settings, wait=wait)
        if info is None:
            return None
        url = urlsplit(info.get("url") or "")
        if url.hostname != "127.0.0.1" or not url.port:
            return None
        return cls(f"http://127.0.0.1:{url.port}", api_token)

    def call(self, method, path, body=None):
        """(status, JSON answer); Unreachable when the app does not answer."""
        data = None if body is None else orjson.dumps(body)
        request = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, orjson.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                return e.code, orjson.loads(e.read() or b"null")
            except orjson.JSONDecodeError:
                return e.code, None
        except (OSError, orjson.JSONDecodeError) as e:
            raise Unreachable(str(getattr(e, "reason", e))) from None


def detail(answer, status):
    """The message of an error answer (Label Studio's envelope)."""
    if isinstance(answer, dict):
        errors = answer.get("validation_errors")
        if isinstance(errors, dict):
            return " ".join(str(m) for ms in errors.values()
                            for m in (ms if isinstance(ms, list) else [ms]))
        if answer.get("detail"):
            return str(answer["detail"])
    return f"LabelDesk answered {status}"


def run(app, verb, fields, quiet=False):
    """Start the hand-over in the running app and follow it to its end; the exit status."""
    where = f"the running LabelDesk ({app.url})"
    try:
        status, job = app.call("POST", "/api/ui/handovers", {"direction": verb, **fields})
    except Unreachable as e:
        print(f"labeldesk {verb}: {where} did not answer: {e}", file=sys.stderr)
        return 1
    if status != 201:
        print(f"labeldesk {verb}: {detail(job, status)}", file=sys.stderr)
        return 1
    if not quiet:
        print(f"The {verb} runs in {where}; Ctrl-C cancels it.", file=sys.stderr, flush=True)
    follower = Follower(app, verb, job["id"], quiet)
    previous = signal.getsignal(signal.SIGINT)
    try:
        return follower.follow()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # cancel once; the job saves its mapping
        return follower.cancel()
    finally:
        signal.signal(signal.SIGINT, previous)


class Follower:
    """Follows a job: draws its progress, prints its messages, and its end."""

    def __init__(self, app, verb, job_id, quiet):
        self.app, self.verb, self.path = app, verb, f"/api/ui/handovers/{job_id}"
        self.quiet = quiet
        self.bar, self.seen = None, 0

    def follow(self):
        while True:
            job = self.poll()
            if job is None:
                return 1
            if job["status"] != "running":
                return self.end(job)
            time.sleep(POLL_SECONDS)

    def poll(self):
        try:
            status, job = self.app.call("GET", self.path)
        except Unreachable:
            print(f"\nlabeldesk {self.verb}: LabelDesk stopped during the {self.verb}. Run the "
                  "same command again to resume; nothing will be sent twice.", file=sys.stderr)
            return None
        if status != 200:
            print(f"\nlabeldesk {self.verb}: {detail(job, status)}", file=sys.stderr)
            return None
        self.show(job)
        return job

    def show(self, job):
        new = job["message_count"] - self.seen
        if new > 0 and not self.quiet:
            for text in job["messages"][-new:]:
                sys.stderr.write(text + "\n")
            sys.stderr.flush()
        self.seen = job["message_count"]
        stage, done, total = job["stage"], job["done"], job["total"]
        if stage is None:
            return
        if self.bar is None or (self.bar.label, self.bar.total) != (stage, total) \
                or done < self.bar.done:
            self.bar = Progress(stage, total, sys.stderr, enabled=not self.quiet)
        if done > self.bar.done:
            self.bar.update(done - self.bar.done)

    def end(self, job):
        if job["status"] == "done":
            return print_summary(self.verb, job["summary"])
        if job["status"] == "cancelled":
            print(f"labeldesk {self.verb}: cancelled in the app. Run the same command again to "
                  "resume.", file=sys.stderr)
            return 3
        print(f"labeldesk {self.verb}: {job['error']}", file=sys.stderr)
        return 1

    def cancel(self):
        """Ctrl-C: cancel the job, wait for it to stop at its batch's end, say how to resume."""
        print(f"\nlabeldesk {self.verb}: cancelling ...", file=sys.stderr, flush=True)
        try:
            self.app.call("POST", self.path + "/cancel")
        except Unreachable:
            pass
        deadline = time.monotonic() + CANCEL_WAIT
        while time.monotonic() < deadline:
            job = self.poll()
            if job is None or job["status"] != "running":
                break
            time.sleep(POLL_SECONDS)
        if job is not None and job["status"] == "done":  # it ended before the cancel reached it
            return self.end(job)
        print(f"labeldesk {self.verb}: interrupted. Run the same command again to resume; "
              "nothing will be sent twice.", file=sys.stderr)
        return 130
