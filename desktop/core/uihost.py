"""The UI's own address: http://labeldesk-<random>.localhost:<port>, a host only this install knows.

Browsers scope cookies by host, not by port: a session cookie set on 127.0.0.1 went to every
server on 127.0.0.1 the browser visited, which could replay it (issue 17). The UI is served on a
name no page elsewhere can guess, so its cookie goes to that name only. Browsers resolve every
`*.localhost` name to loopback themselves (RFC 6761: Chromium, so Qt WebEngine and Edge's
WebView2, and Firefox); the system resolver may not, so scripts keep using 127.0.0.1.

The name is made once and kept in the user config folder (0600), so browser sessions and
bookmarks outlive a restart and a change of data folder. It is never sent to a request that did
not already use it or prove the token (docs/adr/0007-ui-host.md).
"""

import logging
import re
import secrets
import socket

log = logging.getLogger("labeldesk")

RANDOM_BYTES = 12  # 96 bits: no page or process elsewhere can guess the name
NAME = re.compile(r"labeldesk-[0-9a-f]{24}\.localhost")
FILE_NAME = "ui-host"
LOOPBACK = "127.0.0.1"
# pywebview back ends built on Chromium's network stack: they resolve *.localhost on their own.
CHROMIUM_GUIS = ("qt", "edgechromium", "cef")


def make_name():
    return f"labeldesk-{secrets.token_hex(RANDOM_BYTES)}.localhost"


def ui_host():
    """This install's UI host name: read from the user config folder, made there the first
    time. When it can't be kept (a read-only home), a name for this run only."""
    from desktop.core.files import atomic_write
    from desktop.core.settings import user_config_dir
    path = user_config_dir() / FILE_NAME
    try:
        saved = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        saved = ""
    if NAME.fullmatch(saved):
        return saved
    name = make_name()
    try:
        atomic_write(path, name.encode() + b"\n", private=True)
    except OSError as e:
        log.warning("could not keep the UI's host name in %s (%s): browsers sign in again "
                    "after a restart", path, e.strerror or e)
    return name


def resolves_to_loopback(name):
    """Whether the system resolver gives only loopback addresses for `name`."""
    try:
        found = socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(found) and all(info[4][0] in ("127.0.0.1", "::1") for info in found)


def window_host(gui, name):
    """The host the window can show the UI on: the named host where its web engine resolves
    `*.localhost` (Chromium-based ones always; WebKit asks the system), else 127.0.0.1 (the
    limit docs/security.md names)."""
    if gui in CHROMIUM_GUIS or resolves_to_loopback(name):
        return name
    log.warning("this window's web engine can't open %s: the UI is shown on %s, where other "
                "local servers can see its session cookie", name, LOOPBACK)
    return LOOPBACK
