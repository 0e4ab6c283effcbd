"""One LabelDesk per data folder, and how a second launch finds it and brings its window forward.

The store's lock (an OS lock on <data>/db/LOCK, freed by the OS when its process ends, even by
a crash) keeps a second process out. Beside it, the running app writes <data>/instance.json
(0600): its pid and URL, and for a window a random nonce that lets a second launch ask it to
raise its window (POST FOCUS_PATH with the nonce in NONCE_HEADER, answered by
with_focus_endpoint). Never the API token.

A second `labeldesk start` on the same folder: the store refuses it (StoreLocked), it reads
instance.json of the live process that holds the lock (running_instance) and asks that window
to come forward (ask_to_focus); report_running says what happened. The running side: publish
writes instance.json once the server listens and moves it when the Settings page switches the
data folder; remove_instance forgets it at shutdown.
"""

import os
import sys
import time
from pathlib import Path

from desktop import __version__
from desktop.core.errors import CannotOpen

INSTANCE_FILE = "instance.json"
FOCUS_PATH = "/_labeldesk/instance/focus"
NONCE_HEADER = "X-LabelDesk-Instance"


# -- the running side --------------------------------------------------------------------------

def instance_path(settings):
    return Path(settings.data_dir) / INSTANCE_FILE


def write_instance(settings, url, nonce=None):
    """Record this process as the one serving the data folder (call once it holds the store),
    so that a second launch can find it. A previous instance.json, left by a process that
    died, is replaced (the store reports the unclean end itself)."""
    import orjson
    info = {"pid": os.getpid(), "url": url, "window": nonce is not None, "version": __version__,
            "started": int(time.time())}
    if nonce:
        info["nonce"] = nonce
    path = instance_path(settings)
    tmp = path.with_name(f".{INSTANCE_FILE}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(info, option=orjson.OPT_INDENT_2))
        os.replace(tmp, path)
    except OSError as e:  # e.g. a full disk: serving matters more than being findable
        print(f"Could not write {path} ({e.strerror}); a second launch won't find this one.",
              file=sys.stderr, flush=True)
        try:
            tmp.unlink()
        except OSError:
            pass


def remove_instance(settings):
    """At a clean shutdown: forget instance.json, if it is still this process's."""
    info = read_instance(settings)
    if info and info["pid"] == os.getpid():
        try:
            instance_path(settings).unlink()
        except OSError:
            pass


def publish(holder, url, nonce=None, print_token=False):
    """instance.json for the data folder `holder` (an app.Reopenable) serves at `url`, kept in
    step when the Settings page switches the folder (the new one is announced too). `nonce`:
    a window, which with_focus_endpoint lets a second launch bring forward."""
    write_instance(holder.app.settings, url, nonce)

    def reopened(old, new):
        remove_instance(old.settings)
        write_instance(new.settings, url, nonce)
        announce(new, print_token)
    holder.on_reopen.append(reopened)


def announce(app, print_token=False):
    """The data folder, and where the API token is. The token itself only when asked for
    (--print-token): printed, it would stay in terminal scrollback and in logs."""
    import shlex
    settings = app.settings
    print(f"Data folder: {settings.data_dir}", flush=True)
    if not settings.auth:
        print("Authentication is off: any local program can use the API.", flush=True)
    elif print_token:
        print(f"API token: {app.users.get(1)['token']}  "
              "(send it as 'Authorization: Token <token>')", flush=True)
    else:
        print("The API token is not printed; get it with `labeldesk user --token --data-dir "
              f"{shlex.quote(str(settings.data_dir))}` (or start with --print-token).",
              flush=True)


def with_focus_endpoint(wsgi, nonce, focus):
    """The app's WSGI callable plus POST FOCUS_PATH, by which a second `labeldesk start` on
    the same data folder asks this window to come forward (`focus()`). Only a caller that read
    the nonce from instance.json (0600, the user's own data folder) may."""
    import hmac
    header = "HTTP_" + NONCE_HEADER.upper().replace("-", "_")

    def app(environ, start_response):
        if environ.get("PATH_INFO") != FOCUS_PATH:
            return wsgi(environ, start_response)
        sent = environ.get(header, "")
        if environ.get("REQUEST_METHOD") != "POST" or not hmac.compare_digest(
                sent.encode(), nonce.encode()):
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [b'{"detail": "Not allowed."}']
        focus()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"focused": true}']
    return app


# -- the second launch -------------------------------------------------------------------------

def read_instance(settings):
    import orjson
    try:
        info = orjson.loads(instance_path(settings).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None


def pid_alive(pid):
    if os.name == "nt":  # pragma: no cover - os.kill(pid, 0) would end the process there
        import ctypes
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_owner(settings):
    """The pid the store's LOCK file names (its holder writes it there), else None."""
    try:
        text = (Path(settings.store_dir) / "LOCK").read_text()
    except OSError:
        return None
    from desktop.db.lockfile import owner_of
    parts = owner_of(text).split()
    return int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else None


def held_elsewhere(settings):
    """Whether another live process names itself in the store's LOCK file: a LabelDesk has the
    data open, or is opening it. A hint for the window, which then opens no window of its own
    before the store (whose lock decides) says so: a pid reused since a crash only costs that."""
    owner = lock_owner(settings)
    return owner is not None and owner != os.getpid() and pid_alive(owner)


def running_instance(settings, wait=10.0):
    """instance.json of the live LabelDesk that holds the store. It is written just after the
    store is opened, so a LabelDesk that is still starting gets `wait` seconds to write it."""
    deadline = time.monotonic() + wait
    while True:
        info = read_instance(settings)
        if info and info["pid"] != os.getpid() and info["pid"] == lock_owner(settings) \
                and pid_alive(info["pid"]):
            return info
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def ask_to_focus(info):
    """Ask a running LabelDesk's window to come to the front; True when it answered yes."""
    import http.client
    from urllib.parse import urlsplit
    url = urlsplit(info.get("url") or "")
    if url.hostname != "127.0.0.1" or not url.port or not info.get("nonce"):
        return False
    connection = http.client.HTTPConnection("127.0.0.1", url.port, timeout=5)
    try:
        connection.request("POST", FOCUS_PATH, body=b"", headers={NONCE_HEADER: info["nonce"]})
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def report_running(settings, error, verb):
    """Another LabelDesk holds this data folder (`error`: the StoreLocked): bring its window
    forward (`start`: CannotOpen with exit_code 0), or say where it runs (CannotOpen)."""
    folder = settings.data_dir
    info = running_instance(settings)
    if info is None:
        raise CannotOpen(f"LabelDesk is already running: {error}.")
    where = f"pid {info['pid']}, API at {info['url']}"
    if verb == "start" and info.get("window") and ask_to_focus(info):
        raise CannotOpen(f"LabelDesk is already open with the data folder {folder} ({where}); "
                         "its window was brought to the front.", exit_code=0)
    kind = "window" if info.get("window") else "server (headless)"
    raise CannotOpen(
        f"LabelDesk is already running with the data folder {folder}: a {kind}, {where}.\n"
        "Use that one (the API token: `labeldesk user --token`), or close it first; one data "
        "folder is opened by one LabelDesk at a time.")
