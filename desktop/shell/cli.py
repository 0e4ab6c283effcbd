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
from desktop.core.errors import CannotOpen, LabelDeskError
from desktop.core.settings import Settings
from desktop.db import CorruptFile, StoreLocked
from desktop.shell.instance import announce, publish, remove_instance
from desktop.shell.opening import error_text, open_app, plural


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
    if getattr(args, "trash_days", None) is not None:
        settings.trash_days = args.trash_days
        given.add("trash_days")
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


def open_data(args, beside_running=False):
    """The data folder of a command other than start and serve, opened (opening.open_app)
    with the local user left as it is: --username names a user to look up there, and a token
    in the environment is `start`'s."""
    settings = settings_from(args)
    settings.username = settings.user_token = ""
    return open_app(settings, beside_running=beside_running)


def cmd_serve(args):
    """Serve the API headless, for scripts and CI."""
    from desktop.shell.app import Reopenable
    from desktop.shell.server import Server
    settings = settings_from(args)
    app = open_app(settings, "serve")
    # The Settings page (in a browser) may switch the data folder: the server stays.
    holder = Reopenable(app)
    server = Server(holder, port=settings.port, max_body_bytes=settings.max_body_bytes)
    publish(holder, server.url, print_token=args.print_token)
    if server.fell_back:
        print(f"Port {settings.port} is in use; using port {server.port} instead.", flush=True)
    print(f"LabelDesk {__version__} is serving {server.url}", flush=True)
    # the UI's own host (desktop/core/uihost.py): a browser signed in there shares its cookie with
    # no other local server; scripts keep using the address above
    print(f"Open it in a browser: http://{app.sessions.host}:{server.port}/", flush=True)
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
    code = window.run(settings_from(args), print_token=args.print_token)
    # The window is closed and the data with it (everything is on disk): leave now. Qt
    # WebEngine's teardown at interpreter exit can hang a loaded machine for good (seen about
    # once in five full test runs), and there is nothing left for it to do.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def cmd_user(args):
    """Print the local user's info and token, as `label-studio user` does (--token: the token
    alone)."""
    app = open_data(args, beside_running=True)  # LabelDesk running: read beside it
    try:
        info = app.users.cli_info(args.username)
    finally:
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
    core = open_data(args, beside_running=True)  # LabelDesk running: exports only read
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


def move(source, target):
    """Rename when possible, else copy across file systems (shutil.move does both)."""
    import shutil
    shutil.move(str(source), str(target))


def cmd_import(args):
    """Restore a whole-project .zip (from `labeldesk export`) as a new project."""
    from desktop.data_import import archive
    source = Path(args.file).expanduser()
    if not source.is_file():
        sys.exit(f"No file {source}.")
    try:
        core = open_data(args)
    except StoreLocked:
        sys.exit("LabelDesk is running and holds its data, so the project can't be added from "
                 "here. Import the file in the app (Projects > Import project file), or send "
                 "it to the running server: POST /api/projects/archive with the .zip as the "
                 "body or as a multipart 'file' (see docs/export.md).")
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
    """(the data folder opened here, None), or (None, the running LabelDesk that holds it:
    handovers.RunningApp, which runs the job); a clear refusal when what holds it serves
    nothing."""
    try:
        return open_data(args), None
    except StoreLocked as e:
        locked = e
    from desktop.shell.handovers import RunningApp
    beside = open_data(args, beside_running=True)  # its API token, as `labeldesk user --token`
    try:
        info = beside.users.cli_info(None)
    finally:
        beside.close()
    running = RunningApp.find(settings_from(args), info.get("token", ""))
    if running is None:
        sys.exit(f"labeldesk {verb}: LabelDesk is running with this data folder ({locked}), "
                 "and it can't be reached.\n"
                 f"Close LabelDesk, then run `labeldesk {verb}` again.")
    return None, running


def _with_scheme(url):
    """The CLI takes a server's address without http:// (as the client does); the app's API
    wants it whole."""
    url = url.strip()
    return url if "://" in url else "http://" + url


def _handover_token(args):
    import os
    token = args.token or os.environ.get("LABEL_STUDIO_API_KEY", "")
    if not token:
        sys.exit("A Label Studio token is needed: --token T (or LABEL_STUDIO_API_KEY). Find it in "
                 "Label Studio under Account & Settings.")
    return token


def _run_handover(verb, run):
    from desktop.pushpull import Interrupted
    from desktop.pushpull.lsclient import LSError
    from desktop.shell.handovers import print_summary
    try:
        summary = run()
    except Interrupted as e:
        print(f"labeldesk {verb}: {e}. Run the same command again to resume.", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"\nlabeldesk {verb}: interrupted. Run the same command again to resume; nothing "
              "will be sent twice.", file=sys.stderr)
        return 130
    except (LabelDeskError, LSError) as e:  # PushPullError among them
        print(f"labeldesk {verb}: {error_text(e)}", file=sys.stderr)
        return 1
    return print_summary(verb, summary)


def cmd_push(args):
    """Hand a project over to a Label Studio server: config, media, tasks, annotations, predictions.

    Prints the mapping of ids (JSON) on stdout. Safe to run again: it resumes where it stopped and
    sends only what is new or changed. While LabelDesk runs, the push runs in it."""
    from desktop import pushpull
    token = _handover_token(args)
    app, running = _open_for_handover(args, "push")
    if running is not None:
        from desktop.shell import handovers
        return handovers.run(running, "push", {
            "url": _with_scheme(args.to), "token": token, "project": args.project,
            "remote_project": args.project_id, "batch_size": args.batch_size},
            quiet=args.quiet)
    try:
        return _run_handover("push", lambda: pushpull.push(
            app, args.project, args.to, token, remote_project=args.project_id,
            batch_size=args.batch_size, progress=not args.quiet))
    finally:
        app.close()


def cmd_pull(args):
    """Bring a Label Studio project into LabelDesk: config, tasks, annotations, predictions, media.

    Prints the mapping of ids (JSON) on stdout. Safe to run again: it resumes where it stopped and
    brings only what is new or changed. While LabelDesk runs, the pull runs in it."""
    from desktop import pushpull
    token = _handover_token(args)
    app, running = _open_for_handover(args, "pull")
    if running is not None:
        from desktop.shell import handovers
        return handovers.run(running, "pull", {
            "url": _with_scheme(args.url), "token": token, "remote_project": args.remote_project,
            "into": args.into, "batch_size": args.batch_size}, quiet=args.quiet)
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


def cmd_trash(args):
    """List the trash: deleted projects, tasks and annotations, kept 30 days (the setting).
    `restore ID` gives one back with its ids; `empty [ID]` removes one, or all, for good.

    Works with LabelDesk closed, and through the running LabelDesk that holds the data."""
    if args.action == "restore" and args.id is None:
        sys.exit("labeldesk trash restore: which item? (`labeldesk trash` lists them)")
    settings = settings_from(args)
    if not any((settings.store_dir / n).exists() for n in ("snapshot.ldb", "journal.ldb")):
        sys.exit(f"labeldesk trash: there is no LabelDesk data in {settings.data_dir}.")
    try:
        core = open_data(args)
    except StoreLocked:
        core = None
    try:
        if core is not None:
            trash = core.trash
            calls = {"list": trash.listing, "restore": lambda: trash.restore(args.id),
                     "empty": lambda: trash.purge(None if args.id is None else [args.id])}
        else:
            api = _running_app(args)
            one = "" if args.id is None else f"/{args.id}"
            calls = {"list": lambda: api("GET", "/api/ui/trash"),
                     "restore": lambda: api("POST", f"/api/ui/trash{one}/restore"),
                     "empty": lambda: api("DELETE", f"/api/ui/trash{one}")}
        answer = calls[args.action]()
    except LabelDeskError as e:
        sys.exit(f"labeldesk trash {args.action}: {error_text(e)}")
    finally:
        if core is not None:
            core.close()
    if args.action == "list":
        print_trash(answer, running=core is None)
    elif args.action == "restore":
        item = answer["restored"]
        print(f"Restored {item['kind']} {item['name']!r} ({contents(item['counts'])}), with "
              "the ids it had.")
    else:
        print(f"Removed {plural(answer['removed'], 'item')} from the trash for good: "
              f"{human_size(answer['size'])}, {plural(answer['files'], 'file')}.")
    return 0


def _running_app(args):
    """call(method, path) -> the answer of the running LabelDesk that holds the data folder
    (handovers.RunningApp: instance.json, the token read beside it); its errors as
    LabelDeskErrors."""
    from desktop.shell.handovers import RunningApp, Unreachable, detail
    beside = open_data(args, beside_running=True)  # its API token, as `labeldesk user --token`
    try:
        token = beside.users.cli_info(None).get("token", "")
    finally:
        beside.close()
    running = RunningApp.find(settings_from(args), token)
    if running is None:
        raise LabelDeskError("LabelDesk is running with this data folder, and it can't be "
                             "reached: close it and try again.")

    def call(method, path):
        try:
            status, answer = running.call(method, path)
        except Unreachable as e:
            raise LabelDeskError(f"the running LabelDesk ({running.url}) did not answer: {e}")
        if status >= 400:
            raise LabelDeskError(detail(answer, status))
        return answer
    return call


def contents(counts):
    words = {"projects": "project", "tasks": "task", "annotations": "annotation",
             "predictions": "prediction", "drafts": "draft", "files": "file"}
    return ", ".join(plural(counts[k], word) for k, word in words.items() if counts.get(k)) \
        or "nothing"


def print_trash(listing, running=False):
    where = " (through the running LabelDesk)" if running else ""
    if not listing["items"]:
        print(f"The trash is empty{where}; deleted items are kept {listing['days']} days.")
        return
    print(f"The trash{where}: {plural(listing['count'], 'item')}, "
          f"{human_size(listing['size'])}; items are kept {listing['days']} days. "
          "`labeldesk trash restore ID` gives one back, `labeldesk trash empty [ID]` removes "
          "one (or all) for good.")
    rows = [("ID", "DELETED", "EXPIRES", "KIND", "NAME", "SIZE", "CONTENTS")]
    for item in listing["items"]:
        rows.append((str(item["id"]), item["deleted_at"][:19].replace("T", " "),
                     item["expires_at"][:10], item["kind"],
                     item["name"] + (f" (project {item['project_title']!r})"
                                     if item["kind"] != "project" and item["project_title"]
                                     else ""),
                     human_size(item["size"]), contents(item["counts"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def cmd_assistants(args):
    """Install the heavy assistants (named entities, click-to-mask) offline, from a pack file
    made by `make assistant-pack`: `labeldesk assistants install PACK`."""
    from desktop.assistants import pack
    if not os.path.isfile(args.pack):
        sys.exit(f"labeldesk assistants install: {args.pack}: no such file")
    print(f"Installing the assistants in {os.path.basename(args.pack)} into "
          f"{sys.prefix} (offline: pip takes the pack's wheels only)…", flush=True)
    try:
        answer = pack.install(args.pack, progress=lambda stage: print(f"  {stage}…",
                                                                       flush=True))
    except (pack.PackError, OSError) as e:
        sys.exit(f"labeldesk assistants install: {e}")
    print(f"Installed {', '.join(answer['installed'])} ({answer['files']} wheels). A running "
          "LabelDesk uses them once its assistants start again: restart LabelDesk, or install "
          "from its Assistants page instead.")
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


def human_size(size):
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000


def days(text):
    """--trash-days: a whole number of days, 0 to trash.MAX_DAYS."""
    from desktop.core.trash import MAX_DAYS
    if not text.isdigit() or int(text) > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"a whole number of days from 0 to {MAX_DAYS}")
    return int(text)


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
        command.add_argument("--trash-days", type=days, metavar="N",
                             help="keep deleted projects, tasks and annotations in the trash N "
                             "days (default: the Settings page's, 30; 0: deletes are final)")
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

    command = commands.add_parser("trash", help=cmd_trash.__doc__.splitlines()[0],
                                  description=" ".join(cmd_trash.__doc__.split()))
    common(command)
    command.add_argument("action", nargs="?", default="list",
                         choices=("list", "restore", "empty"),
                         help="list (default), restore ID, or empty [ID]")
    command.add_argument("id", nargs="?", type=int, metavar="ID",
                         help="the item's id (the first column of the list)")
    command.set_defaults(func=cmd_trash)

    command = commands.add_parser("assistants", help=cmd_assistants.__doc__.splitlines()[0],
                                  description=" ".join(cmd_assistants.__doc__.split()))
    command.add_argument("action", choices=("install",), help="install a pack")
    command.add_argument("pack", metavar="PACK", help="a pack file (make assistant-pack)")
    command.set_defaults(func=cmd_assistants)

    command = commands.add_parser("repair", help=cmd_repair.__doc__.splitlines()[0],
                                  description=" ".join(cmd_repair.__doc__.split()),
                                  epilog=REPAIR_EXIT)
    common(command)
    command.set_defaults(func=cmd_repair)
    return parser


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["_assistants-worker"]:  # a packaged build's assistants worker
        from desktop.assistants import worker
        return worker.main(args[1:])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["start", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.func(args) or 0
    except CannotOpen as e:  # the data folder (or its settings.json): said, and nothing else
        if e.exit_code == 0:
            print(e.detail, flush=True)
            return 0
        sys.exit(e.detail)


if __name__ == "__main__":
    sys.exit(main())
