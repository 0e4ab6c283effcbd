"""`labeldesk ...`: each command a short function over the same core the API uses."""

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from desktop import __version__
from desktop.db import CorruptFile, Store, StoreLocked
from desktop.core.settings import Settings


def settings_from(args):
    """Settings from the data dir's settings.json, then the command line on top."""
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir).expanduser().resolve()
        settings.data_dir_source = "--data-dir"
    given = set()
    if getattr(args, "port", None) is not None:
        settings.port = args.port
        given.add("port")
    if getattr(args, "no_auth", False):
        settings.auth = False
        given.add("auth")
    settings.load_file(overrides=given)
    settings.username = getattr(args, "username", None) or ""
    settings.user_token = user_token(args)
    return settings


# The local user's token can come in three ways. The command line is visible to every user of
# the machine (ps, /proc/<pid>/cmdline); a file or the environment (/proc/<pid>/environ is
# readable by the same user only) is not. LABEL_STUDIO_USER_TOKEN is what `label-studio start`
# reads (its get_env("USER_TOKEN")), so scripts written for it keep working.
TOKEN_ENV = ("LABELDESK_USER_TOKEN", "LABEL_STUDIO_USER_TOKEN")


def user_token(args):
    """--user-token (warned about), else --user-token-file, else the environment; else ""."""
    given = getattr(args, "user_token", None)
    if given:
        print("Warning: --user-token is visible to other users of this machine (in the process "
              "list). Use LABELDESK_USER_TOKEN=<token> or --user-token-file FILE instead.",
              file=sys.stderr, flush=True)
        return given
    path = getattr(args, "user_token_file", None)
    if path:
        try:
            token = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            sys.exit(f"--user-token-file {path} can't be read: {getattr(e, 'strerror', e)}")
        if not token or any(c.isspace() for c in token):
            sys.exit(f"--user-token-file {path} must hold the token alone, on one line.")
        return token
    for name in TOKEN_ENV:
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    return ""


def damaged_message(error):
    """What LabelDesk says when a store file is damaged (a CorruptFile) and it won't open."""
    from desktop.db.journal import NewerFormat
    if isinstance(error, NewerFormat):
        return f"LabelDesk can't open its data: {error.path} was {error.reason}"
    return (f"LabelDesk can't open its data: {error.path} is damaged ({error.reason}).\n"
            "The file was left as it is; nothing was replaced. Run `labeldesk repair` to "
            "keep every readable record, or restore a backup.")


def open_app(settings, verb=None, recover=False):
    """The data folder opened; `verb` ("start", "serve"): another LabelDesk holding it is found
    and asked to show its window, or the user is told where it runs (see report_running).
    `recover`: a damaged store raises CorruptFile (the window then offers repair and backups,
    desktop/shell/recovery.py) instead of ending the process with damaged_message."""
    from desktop.shell.app import LabelDesk
    try:
        return LabelDesk(settings)
    except CorruptFile as e:
        if recover:
            raise
        sys.exit(damaged_message(e))
    except StoreLocked as e:
        if verb:
            report_running(settings, e, verb)
        sys.exit(f"LabelDesk is already running: {e}.")
    except OSError as e:  # e.g. a read-only data folder without data (app.py opens others)
        sys.exit(f"LabelDesk can't open its data folder: {e.strerror or e}.")


# -- one LabelDesk per data folder ------------------------------------------------------------
# The store's lock (an OS lock on <data>/db/LOCK, freed by the OS when its process ends, even by
# a crash) keeps a second process out. Beside it, the running app writes <data>/instance.json
# (0600): its pid and URL, and for a window a random nonce that lets a second launch ask it to
# raise its window (POST FOCUS_PATH with the nonce in NONCE_HEADER). Never the API token.

INSTANCE_FILE = "instance.json"
FOCUS_PATH = "/_labeldesk/instance/focus"
NONCE_HEADER = "X-LabelDesk-Instance"


def instance_path(settings):
    return Path(settings.data_dir) / INSTANCE_FILE


def read_instance(settings):
    import orjson
    try:
        info = orjson.loads(instance_path(settings).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("pid"), int) else None


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
    """Another LabelDesk holds this data folder: bring its window forward (`start`, exit 0), or
    say where it runs (exit 1)."""
    folder = settings.data_dir
    info = running_instance(settings)
    if info is None:
        sys.exit(f"LabelDesk is already running: {error}.")
    where = f"pid {info['pid']}, API at {info['url']}"
    if verb == "start" and info.get("window") and ask_to_focus(info):
        print(f"LabelDesk is already open with the data folder {folder} ({where}); "
              "its window was brought to the front.", flush=True)
        sys.exit(0)
    kind = "window" if info.get("window") else "server (headless)"
    sys.exit(f"LabelDesk is already running with the data folder {folder}: a {kind}, {where}.\n"
             "Use that one (the API token: `labeldesk user --token`), or close it first; one data "
             "folder "
             "is opened by one LabelDesk at a time.")


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


def cmd_serve(args):
    """Serve the API headless, for scripts and CI."""
    from desktop.shell.server import Server
    from desktop.shell.app import Reopenable
    settings = settings_from(args)
    app = open_app(settings, "serve")
    # The Settings page (in a browser) may switch the data folder: the server stays.
    holder = Reopenable(app)
    server = Server(holder, port=settings.port, max_body_bytes=settings.max_body_bytes)
    write_instance(settings, server.url)
    if server.fell_back:
        print(f"Port {settings.port} is in use; using port {server.port} instead.", flush=True)
    print(f"LabelDesk {__version__} is serving {server.url}", flush=True)
    # the UI's own host (desktop/core/uihost.py): a browser signed in there shares its cookie with
    # no other local server; scripts keep using the address above
    print(f"Open it in a browser: http://{app.sessions.host}:{server.port}/", flush=True)

    def reopened(old, new):
        remove_instance(old.settings)
        write_instance(new.settings, server.url)
        announce(new, args.print_token)
    holder.on_reopen.append(reopened)
    announce(app, args.print_token)

    stopping = threading.Event()

    def stop(*_):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        remove_instance(holder.app.settings)
        holder.close()
    print("LabelDesk stopped.", flush=True)


def cmd_start(args):
    """Open the desktop window (falls back to serving headless where no window can open)."""
    try:
        from desktop.shell import window
    except ImportError:
        window = None
    if window is None:
        print("The desktop window is not available in this build; serving headless instead.",
              flush=True)
        return cmd_serve(args)
    return window.run(settings_from(args), print_token=args.print_token)


def cmd_user(args):
    """Print the local user's info and token, as `label-studio user` does (--token: the token
    alone)."""
    from desktop.shell.app import LabelDesk
    from desktop.core.users import Users
    settings = settings_from(args)
    # --username names the user to look up here: it must not rename the local user
    settings.username = settings.user_token = ""
    try:
        app = LabelDesk(settings)
    except StoreLocked:
        # LabelDesk is running and holds the store: read it without taking it.
        info = Users(Store(settings.store_dir, readonly=True)).cli_info(args.username)
    except CorruptFile:
        open_app(settings)  # reports the damage and exits
    else:
        info = app.users.cli_info(args.username)
        app.close()
    if args.token:
        if info.get("status") != "ok":
            sys.exit(info.get("message", "no such user"))
        print(info["token"])
        return 0
    if info.get("status") == "ok":
        print("=> User info:")
    print(info)
    return 0 if info.get("status") == "ok" else 1


class Progress:
    """A small progress bar on stderr (no tqdm): `progress(done, total)`; `finish()` ends it."""

    WIDTH = 30

    def __init__(self, label, stream=None, interval=0.1):
        self.label = label
        self.stream = stream or sys.stderr
        self.interval = interval
        self.last = 0.0
        self.shown = False
        self.started = time.monotonic()

    def __call__(self, done, total):
        now = time.monotonic()
        if done < total and now - self.last < self.interval:
            return
        self.last = now
        share = done / total if total else 1.0
        filled = int(self.WIDTH * share)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%} {done:,}/{total:,} tasks "
                          f"{now - self.started:5.1f}s")
        self.stream.flush()
        self.shown = True

    def finish(self):
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def open_readonly_core(settings):
    """The store of a running LabelDesk, read-only and unlocked: enough to export from."""
    from types import SimpleNamespace

    from desktop.core.annotations import Annotations
    from desktop.data_export.exports import Exports
    from desktop.core.projects import Projects
    from desktop.core.records import Records
    from desktop.core.tasks import Tasks
    from desktop.data_import.uploads import Uploads
    from desktop.core.users import Users
    store = Store(settings.store_dir, readonly=True)
    records = Records(store)
    users = Users(store)
    projects = Projects(records, users)
    tasks = Tasks(records, projects, users)
    core = SimpleNamespace(settings=settings, store=store, records=records, users=users,
                           projects=projects, tasks=tasks,
                           annotations=Annotations(records, tasks, users),
                           uploads=Uploads(records, settings.media_dir), close=store.close)
    core.exports = Exports(core, live=False)
    return core


def find_project(core, given):
    """A project by id, or by its exact title; exits with a message otherwise."""
    ids = core.projects.ids()
    if str(given).isdigit() and int(given) in ids:
        return int(given)
    named = [i for i in ids if core.projects.get(i).get("title") == given]
    if len(named) == 1:
        return named[0]
    known = ", ".join(f"{i} ({core.projects.get(i).get('title')!r})" for i in ids) or "none"
    sys.exit(f"No project {given!r} here{' (several have that title)' if named else ''}. "
             f"Projects: {known}.")


def cmd_export(args):
    """Export a project: the whole project as one portable .zip, or one Label Studio format."""
    from desktop.core.errors import LabelDeskError
    settings = settings_from(args)
    settings.username = settings.user_token = ""
    try:
        from desktop.shell.app import LabelDesk
        core = LabelDesk(settings)
    except StoreLocked:
        # LabelDesk is running: read its store without taking it (exports only read).
        core = open_readonly_core(settings)
    except CorruptFile:
        open_app(settings)  # reports the damage and exits
    try:
        project_id = find_project(core, args.project)
        target = Path(args.to).expanduser()
        progress = Progress(f"Exporting project {project_id}") if not args.quiet else None
        try:
            if (args.format or "PROJECT").upper() == "PROJECT":
                from desktop.data_import import archive
                counts = archive.export_to_file(core, project_id, target, progress)
                what = (f"{counts['tasks']:,} tasks, {counts['annotations']:,} annotations, "
                        f"{counts['predictions']:,} predictions, {counts['media']:,} media "
                        "files")
            else:
                path, name, _ = core.exports.direct(
                    project_id, args.format.upper(), download_all_tasks=not args.annotated_only,
                    download_resources=args.download_resources, progress=progress,
                    escape_formulas=not args.no_formula_escape)
                if target.is_dir():
                    target = target / name
                move(path, target)
                from desktop.data_import.archive import current_umask
                os.chmod(target, 0o666 & ~current_umask())  # the temp file was 0600
                what = f"{args.format.upper()} export"
        except LabelDeskError as e:
            sys.exit(f"Export failed: {error_text(e)}")
        finally:
            if progress:
                progress.finish()
        print(f"Wrote {target} ({what}).")
    finally:
        core.close()
    return 0


def error_text(error):
    """A LabelDeskError as one line: its field messages, else its detail."""
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict):
        return " ".join(m for ms in errors.values() for m in (ms if isinstance(ms, list)
                                                             else [ms]))
    return str(error)


def move(source, target):
    """Rename when possible, else copy across file systems (shutil.move does both)."""
    import shutil
    shutil.move(str(source), str(target))


def cmd_import(args):
    """Restore a whole-project .zip (from `labeldesk export`) as a new project."""
    from desktop.data_import import archive
    from desktop.core.errors import LabelDeskError
    settings = settings_from(args)
    settings.username = settings.user_token = ""
    source = Path(args.file).expanduser()
    if not source.is_file():
        sys.exit(f"No file {source}.")
    try:
        from desktop.shell.app import LabelDesk
        core = LabelDesk(settings)
    except StoreLocked:
        sys.exit("LabelDesk is running and holds its data, so the project can't be added from "
                 "here. Import the file in the app (Projects > Import project file), or send "
                 "it to the running server: POST /api/projects/archive with the .zip as the "
                 "body or as a multipart 'file' (see docs/export.md).")
    except CorruptFile:
        open_app(settings)
    try:
        user_id = 1
        try:
            answer = archive.import_archive(core, source, user_id, title=args.title)
        except LabelDeskError as e:
            sys.exit(f"Import failed: {error_text(e)}")
        counts = answer["counts"]
        print(f"Imported {source.name} as project {answer['project']}: {counts['tasks']:,} "
              f"tasks, {counts['annotations']:,} annotations, {counts['predictions']:,} "
              f"predictions, {counts['media']:,} media files.")
    finally:
        core.close()
    return 0


def _open_for_handover(args, verb):
    """The data folder opened here; a clear refusal when a running LabelDesk holds it."""
    from desktop.shell.app import LabelDesk
    settings = settings_from(args)
    settings.username = settings.user_token = ""
    try:
        return LabelDesk(settings)
    except StoreLocked as e:
        sys.exit(f"labeldesk {verb}: LabelDesk is running with this data folder ({e}).\n"
                 f"Close LabelDesk, then run `labeldesk {verb}` again.")
    except CorruptFile:
        open_app(settings)  # reports the damage and exits


def _handover_token(args):
    import os
    token = args.token or os.environ.get("LABEL_STUDIO_API_KEY", "")
    if not token:
        sys.exit("A Label Studio token is needed: --token T (or LABEL_STUDIO_API_KEY). Find it in "
                 "Label Studio under Account & Settings.")
    return token


def _run_handover(verb, run):
    import orjson

    from desktop.pushpull.lsclient import LSError
    from desktop.pushpull import Interrupted, PushPullError
    try:
        summary = run()
    except Interrupted as e:
        print(f"labeldesk {verb}: {e}. Run the same command again to resume.", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"\nlabeldesk {verb}: interrupted. Run the same command again to resume; nothing "
              "will be sent twice.", file=sys.stderr)
        return 130
    except (PushPullError, LSError) as e:
        print(f"labeldesk {verb}: {e}", file=sys.stderr)
        return 1
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
    return 0


def cmd_push(args):
    """Hand a project over to a Label Studio server: config, media, tasks, annotations, predictions.

    Prints the mapping of ids (JSON) on stdout. Safe to run again: it resumes where it stopped and
    sends only what is new or changed."""
    from desktop import pushpull
    token = _handover_token(args)
    app = _open_for_handover(args, "push")
    try:
        return _run_handover("push", lambda: pushpull.push(
            app, args.project, args.to, token, remote_project=args.project_id,
            batch_size=args.batch_size, progress=not args.quiet))
    finally:
        app.close()


def cmd_pull(args):
    """Bring a Label Studio project into LabelDesk: config, tasks, annotations, predictions, media.

    Prints the mapping of ids (JSON) on stdout. Safe to run again: it resumes where it stopped and
    brings only what is new or changed."""
    from desktop import pushpull
    token = _handover_token(args)
    app = _open_for_handover(args, "pull")
    try:
        return _run_handover("pull", lambda: pushpull.pull(
            app, args.url, args.remote_project, token, into=args.into,
            batch_size=args.batch_size, progress=not args.quiet))
    finally:
        app.close()


def cmd_backup(args):
    """Back up the whole data store now (into <data dir>/backups/)."""
    from desktop.core import backups
    settings = settings_from(args)
    if not any((settings.store_dir / name).exists() for name in ("snapshot.ldb", "journal.ldb")):
        sys.exit(f"labeldesk backup: there is no LabelDesk data in {settings.data_dir}.")
    try:
        info, running = backups.backup_now(settings)
    except CorruptFile as e:
        sys.exit(f"labeldesk backup: the data can't be read: {e.path} is damaged ({e.reason}).")
    except OSError as e:
        sys.exit(f"labeldesk backup failed: {e.strerror or e}. Nothing was written.")
    counts = f"{plural(info['projects'], 'project')}, {plural(info['tasks'], 'task')}"
    note = " (LabelDesk is running: its data as saved on disk)" if running else ""
    print(f"Backed up{note}: {backups.backups_dir(settings) / info['name']} "
          f"({human_size(info['size'])}; {counts}).")
    return 0


def cmd_backups(args):
    """List the backups of the data store, newest first."""
    from desktop.core import backups
    from desktop.db.backups import list_backups
    settings = settings_from(args)
    folder = backups.backups_dir(settings)
    found = list_backups(str(folder))
    keep = backups.keep_setting(settings)
    if not found:
        print(f"No backups in {folder} yet (make one: `labeldesk backup`).")
        return 0
    print(f"Backups in {folder} (the newest {keep} are kept; restore one with "
          "`labeldesk restore NAME`):")
    rows = [("NAME", "TIME", "SIZE", "PROJECTS", "TASKS")]
    for info in found:
        b = backups.as_json(info)
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["time"]))
        rows.append((b["name"], when, human_size(b["size"]),
                     "damaged" if b["damaged"] else f"{b['projects']:,}" if b["projects"]
                     is not None else "?",
                     "" if b["damaged"] else f"{b['tasks']:,}" if b["tasks"] is not None
                     else "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  " + "  ".join(v.ljust(w) if i < 3 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(row, widths))).rstrip())
    return 0


def cmd_restore(args):
    """Replace the data store with a backup (LabelDesk must be closed; the current state is
    backed up first)."""
    from desktop.core import backups
    from desktop.core.errors import LabelDeskError
    settings = settings_from(args)
    try:
        done = backups.restore_closed(settings, args.backup)
    except StoreLocked:
        sys.exit("labeldesk restore: LabelDesk is running with this data folder. Close it and "
                 "run `labeldesk restore` again, or restore from the app: Settings > Backups.")
    except LabelDeskError as e:
        sys.exit(f"labeldesk restore: {error_text(e)}")
    except OSError as e:
        sys.exit(f"labeldesk restore failed: {e.strerror or e}. The data was left as it was.")
    restored, before = done["restored"], done["previous_state"]
    if before:
        print(f"Backed up the current state first: {before['name']} "
              f"({plural(before['projects'], 'project')}, {plural(before['tasks'], 'task')}).")
    if done["damaged"]:
        print(f"The current data could not be read; its files were copied as they were to "
              f"{done['damaged']}.")
    print(f"Restored {restored['name']}"
          + (f" (taken {restored['created_at']})" if restored["created_at"] else "")
          + f": {plural(restored['projects'], 'project')}, {plural(restored['tasks'], 'task')}. "
          "LabelDesk opens it at its next start.")
    return 0


REPAIR_EXIT = ("Exit status: 0 repaired, or nothing to repair (nothing changed); 1 LabelDesk "
               "is running with this data folder (close it first) or a file could not be "
               "written; 2 the store can't be repaired from its own files (snapshot.ldb is "
               "unreadable, or the journal belongs to another snapshot): nothing changed, "
               "restore a backup (`labeldesk restore`).")


def cmd_repair(args):
    """Make a data store that refuses to open readable again, keeping every good record
    (LabelDesk must be closed; the damaged files are moved aside, never deleted)."""
    from desktop.core import repair
    settings = settings_from(args)
    folder = settings.store_dir
    if not any((folder / name).exists() for name in ("snapshot.ldb", "journal.ldb")):
        print(f"There is no LabelDesk data in {settings.data_dir}: nothing to repair.")
        return 0
    try:
        report = repair.repair_locked(folder, fsync=settings.fsync)
    except StoreLocked as e:
        print(f"labeldesk repair: LabelDesk is running with this data folder ({e}). Close it, "
              "then run `labeldesk repair` again.", file=sys.stderr)
        return 1
    except repair.CannotRepair as e:
        print(f"labeldesk repair: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"labeldesk repair failed: {e}. The original files are as they were, or kept in "
              f"{folder}/damaged-*.", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


def plural(number, noun):
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def human_size(size):
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000


def build_parser():
    parser = argparse.ArgumentParser(
        prog="labeldesk", description="Label Studio as a desktop app: label offline, "
        "script it over the localhost API, export to files.")
    parser.add_argument("--version", action="version", version=f"labeldesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(command):
        command.add_argument("--data-dir", help="data folder (default: $LABELDESK_DATA_DIR or "
                             "the platform's user data folder)")

    for name, func in (("start", cmd_start), ("serve", cmd_serve)):
        command = commands.add_parser(name, help=func.__doc__.splitlines()[0])
        common(command)
        command.add_argument("--port", "-p", type=int, help="port on 127.0.0.1 (default 8080; "
                             "a free one if taken)")
        command.add_argument("--no-auth", action="store_true",
                             help="let local programs call the API without a token")
        command.add_argument("--username", help="email of the local user")
        command.add_argument("--user-token", help="legacy API token of the local user (visible "
                             "to other users in the process list: prefer the next two)")
        command.add_argument("--user-token-file", metavar="FILE",
                             help="read the local user's token from FILE (default: "
                             "$LABELDESK_USER_TOKEN, else $LABEL_STUDIO_USER_TOKEN)")
        command.add_argument("--print-token", action="store_true",
                             help="print the API token at start (by default it is not, to keep "
                             "it out of logs and scrollback: `labeldesk user --token` prints it)")
        command.set_defaults(func=func)

    command = commands.add_parser("export", help=cmd_export.__doc__.splitlines()[0])
    common(command)
    command.add_argument("project", help="project id (or exact title)")
    command.add_argument("--to", required=True, help="file to write (a folder: LS's file name)")
    command.add_argument("--format", default="PROJECT",
                         help="PROJECT (default: the whole project, re-importable with "
                         "`labeldesk import`) or a Label Studio export format: JSON, JSON_MIN, "
                         "CSV, TSV, COCO, YOLO, VOC, CONLL2003, ASR_MANIFEST, BRUSH_TO_PNG, ...")
    command.add_argument("--annotated-only", action="store_true",
                         help="formats: only tasks with annotations (LS's default in its UI)")
    command.add_argument("--download-resources", action="store_true",
                         help="formats: put the media files into the archive")
    command.add_argument("--no-formula-escape", action="store_true",
                         help="CSV/TSV: write cells starting with = + - @ as they are, exactly "
                         "like Label Studio (by default they get a leading ' so a spreadsheet "
                         "doesn't run them as formulas)")
    command.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    command.set_defaults(func=cmd_export)

    command = commands.add_parser("import", help=cmd_import.__doc__.splitlines()[0])
    common(command)
    command.add_argument("file", help="a .zip written by `labeldesk export`")
    command.add_argument("--title", help="title of the new project (default: the saved one)")
    command.set_defaults(func=cmd_import)

    command = commands.add_parser("user", help=cmd_user.__doc__)
    common(command)
    command.add_argument("--username", help="the user's email (default: the local user)")
    command.add_argument("--token", action="store_true",
                         help="print the user's API token alone (for scripts)")
    command.set_defaults(func=cmd_user)

    command = commands.add_parser("push", help=cmd_push.__doc__.splitlines()[0])
    common(command)
    command.add_argument("project", type=int, metavar="PROJECT", help="LabelDesk project id")
    command.add_argument("--to", required=True, metavar="URL",
                         help="the Label Studio server, e.g. https://labelstudio.example.org")
    command.add_argument("--token", help="your Label Studio API token "
                         "(default: $LABEL_STUDIO_API_KEY)")
    command.add_argument("--project-id", type=int, metavar="ID", help="push into this existing "
                         "Label Studio project (e.g. after the mapping file was lost)")
    command.add_argument("--batch-size", type=int, default=250, help="tasks per request")
    command.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    command.set_defaults(func=cmd_push)

    command = commands.add_parser("pull", help=cmd_pull.__doc__.splitlines()[0])
    common(command)
    command.add_argument("url", metavar="URL", help="the Label Studio server")
    command.add_argument("remote_project", type=int, metavar="PROJECT_ID",
                         help="Label Studio project id")
    command.add_argument("--token", help="your Label Studio API token "
                         "(default: $LABEL_STUDIO_API_KEY)")
    command.add_argument("--into", type=int, metavar="ID", help="pull into this LabelDesk "
                         "project (default: the one of a previous pull, else a new one)")
    command.add_argument("--batch-size", type=int, default=250, help="tasks per batch")
    command.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    command.set_defaults(func=cmd_pull)

    for name, func in (("backup", cmd_backup), ("backups", cmd_backups)):
        command = commands.add_parser(name, help=func.__doc__.splitlines()[0])
        common(command)
        command.set_defaults(func=func)
    command = commands.add_parser("restore", help=cmd_restore.__doc__.splitlines()[0])
    common(command)
    command.add_argument("backup", metavar="NAME|PATH",
                         help="a backup's name (see `labeldesk backups`) or a backup file")
    command.set_defaults(func=cmd_restore)

    command = commands.add_parser("repair", help=cmd_repair.__doc__.splitlines()[0],
                                  description=" ".join(cmd_repair.__doc__.split()),
                                  epilog=REPAIR_EXIT)
    common(command)
    command.set_defaults(func=cmd_repair)
    return parser


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["start", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
