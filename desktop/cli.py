"""`labeldesk ...`: each command a short function over the same core the API uses."""

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .db import CorruptFile, Store, StoreLocked
from .settings import Settings


def settings_from(args):
    """Settings from the data dir's settings.json, then the command line on top."""
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir).expanduser().resolve()
    given = set()
    if getattr(args, "port", None) is not None:
        settings.port = args.port
        given.add("port")
    if getattr(args, "no_auth", False):
        settings.auth = False
        given.add("auth")
    settings.load_file(overrides=given)
    settings.username = getattr(args, "username", None) or ""
    settings.user_token = getattr(args, "user_token", None) or ""
    return settings


def open_app(settings):
    from .app import LabelDesk
    try:
        return LabelDesk(settings)
    except CorruptFile as e:
        sys.exit(f"LabelDesk can't open its data: {e.path} is damaged ({e.reason}).\n"
                 "The file was left as it is; nothing was replaced. Restore it from a backup, "
                 "or move the data folder aside to start fresh.")
    except StoreLocked as e:
        sys.exit(f"LabelDesk is already running: {e}.")


def cmd_serve(args):
    """Serve the API headless, for scripts and CI."""
    from .server import Server
    settings = settings_from(args)
    app = open_app(settings)
    server = Server(app.wsgi, port=settings.port, max_body_bytes=settings.max_body_bytes)
    if server.fell_back:
        print(f"Port {settings.port} is in use; using port {server.port} instead.", flush=True)
    print(f"LabelDesk {__version__} is serving {server.url}", flush=True)
    print(f"Data folder: {settings.data_dir}", flush=True)
    if settings.auth:
        print(f"API token: {app.users.get(1)['token']}  "
              "(send it as 'Authorization: Token <token>')", flush=True)
    else:
        print("Authentication is off: any local program can use the API.", flush=True)

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
        app.close()
    print("LabelDesk stopped.", flush=True)


def cmd_start(args):
    """Open the desktop window (falls back to serving headless where no window can open)."""
    try:
        from . import window
    except ImportError:
        window = None
    if window is None:
        print("The desktop window is not available in this build; serving headless instead.",
              flush=True)
        return cmd_serve(args)
    return window.run(settings_from(args))


def cmd_user(args):
    """Print the local user's info and token, as `label-studio user` does."""
    from .app import LabelDesk
    from .users import Users
    settings = settings_from(args)
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
    if info.get("status") == "ok":
        print("=> User info:")
    print(info)
    return 0 if info.get("status") == "ok" else 1


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
        command.add_argument("--user-token", help="legacy API token of the local user")
        command.set_defaults(func=func)

    command = commands.add_parser("user", help=cmd_user.__doc__)
    common(command)
    command.add_argument("--username", help="the user's email (default: the local user)")
    command.set_defaults(func=cmd_user)
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
