"""The desktop window: pywebview (Qt WebEngine; GTK where Qt is missing) showing the UI that the
in-process server serves. One process: closing the window stops the server and closes the store.

The window opens the UI with a one-time secret, which the server trades for a session cookie
(desktop/core/sessions.py), so no token is ever shown or typed: Qt's window sends it in a header
of its first page load (QtLoader), other back ends in the URL fragment (the sign-in page trades
it). Its size and position are kept in <data dir>/window.json.

The window shows our own pages and nothing else: the page holds the desktop functions (file
dialogs, imports of local files), so a task's HTML must not be able to take the window to
another site (NavigationLock), and the functions answer only our own page (bridge.Facade).

The window shows at once, with a static loading page, while the data opens (~2 s at 1M
tasks); then the UI. Data that can't be opened (a damaged store) shows a small recovery window
instead (open_recovery; what it does is desktop/shell/recovery.py's).
"""

import importlib.util
import logging
import os
import signal
import sys
import threading
import time
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import webview  # noqa: E402 - absent without the `window` extra: `labeldesk start` then serves

from desktop import __version__
from desktop.core.errors import CannotOpen
from desktop.core.sessions import WINDOW_SECRET_HEADER
from desktop.db import CorruptFile
from desktop.shell import instance
from desktop.shell.bridge import Bridge, Facade, LocalClient, exposed
from desktop.shell.opening import damaged_message, open_app
from desktop.ui import vendored, webapp

log = logging.getLogger("labeldesk.window")

DEFAULT_SIZE = (1280, 820)
MIN_SIZE = (960, 620)
TITLE = "LabelDesk"
RECOVERY_TITLE = "LabelDesk: recovery"
RECOVERY_SIZE = (760, 620)
# What the main window shows while the data opens: no script, nothing loaded ('unsafe-eval' is
# how pywebview runs its own bridge script in any page it shows).
LOADING_PAGE = vendored.UI_DIR / "loading.html"
LOADING_CSP = ("default-src 'none'; script-src 'unsafe-eval'; style-src 'unsafe-inline'; "
               "base-uri 'none'; form-action 'none'")


def choose_gui():
    """pywebview's backend: the platform's own off Linux; on Linux Qt WebEngine, else GTK."""
    if not sys.platform.startswith("linux"):
        return None
    if importlib.util.find_spec("qtpy") and any(
            _has_module(f"{qt}.QtWebEngineWidgets") for qt in ("PySide6", "PyQt6", "PyQt5")):
        return "qt"
    return "gtk"


def _has_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # its package is missing
        return False


def prepare_environment(gui):
    if gui != "qt":
        return
    os.environ.setdefault("QT_API", "pyside6" if importlib.util.find_spec("PySide6") else "")
    if not os.environ["QT_API"]:
        del os.environ["QT_API"]
    # Chromium's sandbox refuses to run as root (CI, containers); only then is it turned off.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"


class WindowState:
    """The window's size and position, remembered between runs."""

    def __init__(self, data_dir):
        self.path = Path(data_dir) / "window.json"
        self.width, self.height = DEFAULT_SIZE
        self.x = self.y = None
        self.maximized = False

    def load(self):
        try:
            saved = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return self
        try:
            self.width = max(MIN_SIZE[0], int(saved.get("width", self.width)))
            self.height = max(MIN_SIZE[1], int(saved.get("height", self.height)))
            x, y = saved.get("x"), saved.get("y")
            if isinstance(x, int) and isinstance(y, int):
                self.x, self.y = x, y
            self.maximized = bool(saved.get("maximized"))
        except (TypeError, ValueError):
            pass
        return self

    def _visible(self, x, y, screens):
        """Whether the title bar would be on a screen (monitors change between runs)."""
        if not screens:
            return True
        for screen in screens:
            sx, sy = getattr(screen, "x", 0) or 0, getattr(screen, "y", 0) or 0
            if sx - self.width + 100 <= x <= sx + screen.width - 100 and sy <= y <= \
                    sy + screen.height - 50:
                return True
        return False

    def keep_on_screen(self, window, screens):
        """Monitors change between runs: a window restored off every screen comes back."""
        if self.x is not None and not self._visible(self.x, self.y, screens):
            window.move(80, 60)

    def track(self, window):
        events = window.events
        events.resized += lambda width, height: self._size(window, width, height)
        events.moved += lambda x, y: self._move(window, x, y)
        events.maximized += lambda: setattr(self, "maximized", True)
        events.restored += lambda: setattr(self, "maximized", False)

    def _size(self, window, width, height):
        if not self.maximized and width >= MIN_SIZE[0] // 2:
            self.width, self.height = int(width), int(height)

    def _move(self, window, x, y):
        if not self.maximized:
            self.x, self.y = int(x), int(y)

    def save(self):
        data = {"width": self.width, "height": self.height, "x": self.x, "y": self.y,
                "maximized": self.maximized}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            os.replace(tmp, self.path)
        except OSError as e:
            log.warning("could not remember the window's size: %s", e)


# The main frame may show only our pages (webapp.is_app_page: the app's, sign-in and out, the API
# docs) on the UI's host; every other address, even on our server (an uploaded .html file), is
# refused there.
# A link opens in the system browser only if the user really clicked (or pressed Enter) this
# long before: page script also navigates as "link clicked", but can't fake input events.
USER_INPUT_SECONDS = 1.0


def is_ours(url, origin):
    """Whether `url` is one of our pages on our server (`origin`: the UI's address,
    http://<ui host>:<port>)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return f"{parts.scheme}://{parts.netloc}" == origin and webapp.is_app_page(parts.path)


def navigation_verdict(url, origin, clicked):
    """What the main frame does with a navigation to `url`: "load" our own pages; open an
    http(s) link the user clicked in the system "browser"; "refuse" everything else (another
    site, file:, data:, javascript:, a meta refresh or script going anywhere else)."""
    if is_ours(url, origin):
        return "load"
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return "refuse"
    if clicked and parts.scheme in ("http", "https") and parts.hostname:
        return "browser"
    return "refuse"


def open_in_browser(url):
    """The system's browser, off the GUI thread (a $BROWSER command is waited for)."""
    threading.Thread(target=webbrowser.open, args=(url, 2), name="labeldesk-browser",
                     daemon=True).start()


class NavigationLock:
    """Keeps the window's main frame on our own pages (see navigation_verdict) and knows what
    it shows, so the desktop functions can refuse any other page (bridge.exposed)."""

    def __init__(self, origin, open_external=open_in_browser):
        self.origin = origin
        self.open_external = open_external
        self.url = None  # the main frame's address, as Qt last reported it
        self.last_input = float("-inf")  # time.monotonic() of the user's last click or Enter

    def shows_ours(self):
        return is_ours(self.url, self.origin)

    def user_acted(self):
        return time.monotonic() - self.last_input <= USER_INPUT_SECONDS

    def decide(self, url, link_clicked, popup=False):
        """True to let the main frame load `url`; False after refusing or handing it over."""
        verdict = navigation_verdict(url, self.origin, link_clicked and self.user_acted())
        if verdict == "load" and not popup:
            return True
        if verdict == "browser" or (verdict == "load" and popup and self.user_acted()):
            log.info("opening %s in the system browser", url[:200])
            self.open_external(url)
        else:
            log.warning("refused to show %s in the window", url[:200])
        return False


class OnePage:
    """The recovery window's NavigationLock, and the main window's while it shows the loading
    page: its page is put in once (pywebview's html=, a data: URL to Qt) and the frame then
    goes nowhere else, nor opens anything outside."""

    def __init__(self):
        self.url = None
        self.last_input = float("-inf")
        self.loaded = False

    def shows_ours(self):
        return self.loaded and (self.url or "").startswith("data:text/html")

    def decide(self, url, link_clicked, popup=False):
        if not self.loaded and not popup and url.startswith("data:text/html"):
            self.loaded = True
            return True
        log.warning("refused to show %s in the recovery window", url[:200])
        return False


# Each window's lock, which the Qt hooks consult, by the window's js_api (a Facade of its own,
# given to that window only). Not one lock for whichever window came last: the recovery window
# is made as soon as the main window is shown, and on a busy machine the main window's loading
# page asked for its navigation only after that; the recovery window's lock then took the
# loading page as its one page and refused its own (the recovery window stayed blank).
_LOCKS = {}


def _api_of(window):
    """The js_api object pywebview keeps for `window` (a pywebview Window)."""
    return getattr(window, "_js_api", None)


def lock_of(widget):
    """The lock of the window that `widget` (a page's view, or a widget in it) is in; None for
    a window without one (it may show nothing)."""
    if widget is None:
        return None
    try:
        window = getattr(widget.window(), "pywebview_window", None)
    except RuntimeError:  # its window has gone (Qt deleted it)
        return None
    return _LOCKS.get(_api_of(window))


def lock_qt_navigation(api, lock):
    """Hook pywebview's Qt page classes (once per process) so every main-frame navigation and
    every new window asks the lock of its own window: `lock` for the window given `api` as
    its js_api (set before that window is made: once made, it may navigate at once; set again
    to change the lock of a window already made).

    pywebview 6.2 has no navigation event: its BrowserView.WebPage (the window's page) accepts
    everything, and its NavigationHandler (the page it returns for target=_blank and
    window.open) opens any URL of any scheme in the browser. Subclassing WebPage would break
    its `super(BrowserView.WebPage, self)` call, so the two methods are replaced on the
    classes. Subframes are left to the page's CSP: Qt gives its web channel (the route to the
    desktop functions) to the main frame only."""
    from qtpy import QtCore
    from qtpy.QtWebEngineCore import QWebEnginePage
    from webview.platforms import qt

    _LOCKS[api] = lock
    page_class, popup_class = qt.BrowserView.WebPage, qt.BrowserView.NavigationHandler
    if getattr(page_class, "_labeldesk_locked", False):
        return
    link = QWebEnginePage.NavigationType.NavigationTypeLinkClicked
    pages, filters = [], []

    class InputWatch(QtCore.QObject):
        """Notes the user's real clicks and Enter presses (page script can't make these)."""
        kinds = {QtCore.QEvent.Type.MouseButtonRelease, QtCore.QEvent.Type.KeyPress}
        keys = {QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter, QtCore.Qt.Key.Key_Space}

        def eventFilter(self, watched_object, event):
            kind = event.type()
            if kind in self.kinds and (kind != QtCore.QEvent.Type.KeyPress
                                       or event.key() in self.keys):
                lock = lock_of(watched_object)
                if lock is not None:
                    lock.last_input = time.monotonic()
            return False

    def watch(page):
        if any(page is seen for seen in pages):
            return
        pages.append(page)
        page.urlChanged.connect(lambda url: note_url(page, url))
        page.loadFinished.connect(lambda ok: watch_input(page))

    def note_url(page, url):
        lock = lock_of(page.parent())
        if lock is not None:
            lock.url = url.toString()

    def watch_input(page):
        """On the widget that gets the page's input, which Qt makes once the page renders (an
        application-wide filter made PySide 6.12 crash under Qt WebEngine here)."""
        view = page.parent()
        if not filters:
            filters.append(InputWatch())
        (view.focusProxy() or view).installEventFilter(filters[0])

    def accept_navigation(page, url, kind, main_frame):
        watch(page)
        if not main_frame:
            return True
        lock = lock_of(page.parent())
        if lock is None:
            log.warning("refused to show %s in a window of no lock", url.toString()[:200])
            return False
        return lock.decide(url.toString(), kind == link)

    def accept_new_window(page, url, kind, main_frame):
        # pywebview's NavigationHandler keeps its window's page's parent() as _parent
        parent = getattr(page, "_parent", None)
        lock = lock_of(parent() if callable(parent) else None)
        if lock is not None:
            lock.decide(url.toString(), kind == link, popup=True)
        return False

    page_class.acceptNavigationRequest = accept_navigation
    popup_class.acceptNavigationRequest = accept_new_window
    page_class._labeldesk_locked = True


def current_url(window, seconds=2.0):
    """The window's address from any back end; never waits on a GUI that has gone away."""
    found = []
    thread = threading.Thread(target=lambda: found.append(window.get_current_url()),
                              daemon=True)
    thread.start()
    thread.join(seconds)
    return found[0] if found else None


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def block_stop_signals():
    """Block SIGTERM/SIGINT in this thread and every thread started after it (call first).

    The GUI loop holds the main thread, where Python runs signal handlers, so the signals are
    received by a thread of their own instead (close_on_signals)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


_SIGNALLED = []  # the window the signals close: the recovery window, then the main one


def close_on_signals(window):
    """SIGTERM/SIGINT close the window as its close button does (then everything shuts down).
    Called again for a later window, the signals close that one."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    waiting = bool(_SIGNALLED)
    _SIGNALLED[:] = [window]
    if waiting:
        return

    def wait():
        while True:
            signal.sigwait(STOP_SIGNALS)
            log.info("closing the window (signal)")
            try:
                _SIGNALLED[0].destroy()
            except Exception:  # noqa: BLE001 - the window may already be gone
                pass

    threading.Thread(target=wait, name="labeldesk-signals", daemon=True).start()


def bring_to_front(window, state):
    """Show the window above the others, as it was (maximized stays maximized)."""
    native = getattr(window, "native", None)
    if native is not None and hasattr(native, "activateWindow"):  # Qt: in its GUI thread
        from qtpy.QtCore import QTimer

        def show(tries=25):
            handle = native.windowHandle()
            if (handle is None or not handle.isExposed()) and tries:
                # still being mapped (a second launch right after the first): shortly again
                QTimer.singleShot(200, native, lambda: show(tries - 1))
                return
            if native.isMinimized():
                native.showMaximized() if state.maximized else native.showNormal()
            native.show()
            native.raise_()
            native.activateWindow()
        QTimer.singleShot(0, native, show)
        return
    window.restore()  # other back ends: un-minimize and raise
    if state.maximized:
        window.maximize()


def run(settings, print_token=False):
    """Open the window on a freshly started server; returns when the window is closed.
    `print_token`: the API token is printed at start (`labeldesk start --print-token`).

    The window shows at once, with the loading page (LOADING_PAGE), while a thread opens the
    data (~2 s at 1M tasks) and starts the server; then it shows the UI (open_main).

    Data that can't be opened because a store file is damaged (CorruptFile) shows the recovery
    window instead (open_recovery). Once the user repaired the data or restored a backup and
    chose to open LabelDesk, the recovery window closes and this process starts afresh on the
    same command line (restart_process): Qt WebEngine can't run a second GUI loop in one
    process, and a main window opened inside the recovery window's loop did not always end
    that loop when it was closed."""
    gui = choose_gui()
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get(
            "WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        raise CannotOpen("No display to open a window on (DISPLAY is not set). "
                         "Run `labeldesk serve` to use LabelDesk from a browser or scripts.")
    prepare_environment(gui)
    block_stop_signals()

    if not (webapp.installed() and vendored.purify_installed()):
        print("Note: Label Studio's web app is not installed; run `make setup`.", flush=True)
    stops = []  # how to shut the main window's server and data down, once it is open
    damaged, failed, restart = [], [], []

    def open_labeldesk():  # asked by the recovery window, once the data was repaired/restored
        open_app(settings, "start", recover=True).close()  # it opens now (else: said, and stay)
        restart.append(True)  # the recovery window closes; then this process starts again

    # The UI's host (desktop/core/uihost.py), where this window's web engine can open it.
    from desktop.core import uihost
    settings.ui_host = uihost.window_host(gui, uihost.ui_host())
    if instance.held_elsewhere(settings):
        # a second launch: the running LabelDesk's window comes forward (CannotOpen) and no
        # window opens here; had it just ended, this one opens as usual below
        try:
            open_app(settings, "start", recover=True).close()
        except CorruptFile:
            pass  # the recovery window below says so
    made = []  # the main window and its state, once made

    def opening():  # beside the window being made, then shown with the loading page
        try:
            app, error = open_app(settings, "start", recover=True), None
        except BaseException as e:  # noqa: BLE001 - handled once the window is there
            app, error = None, e
        while not made:
            time.sleep(0.01)
        window, state = made
        if isinstance(error, CorruptFile):
            damaged.append(error)
            # once the GUI loop runs (a window made earlier would be pywebview's to start)
            if window.events.shown.wait(20) and not window.events.closed.is_set():
                log.warning("the data can't be opened (%s is damaged): showing the recovery "
                            "window", error.path)
                try:
                    open_recovery(settings, error, gui, open_labeldesk)
                except Exception:  # never worse than before it existed: the message, on stderr
                    log.exception("the recovery window could not be made")
            window.destroy()  # the recovery window stays, or the loop ends and run() says why
            return
        if error is not None:  # raised by run() once the window has gone
            failed.append(error)
            window.destroy()
            return
        if window.events.closed.is_set():  # closed while the data was opening
            app.close()
            return
        try:
            stop, show = open_main(settings, app, gui, window, state, print_token, loader)
        except BaseException as e:  # noqa: BLE001 - raised by run() once the window has gone
            failed.append(e)
            app.close()
            window.destroy()
            return
        stops.append(stop)
        show()

    # the data opens while the window is made and shown (most of either is Python's, one
    # at a time: the sooner it starts, the sooner the UI shows)
    loader = QtLoader() if gui == "qt" else None  # here, in the GUI's thread
    opener = threading.Thread(target=opening, name="labeldesk-open", daemon=True)
    opener.start()
    made.extend(create_main(settings, gui))
    try:
        webview.start(gui=gui, private_mode=True, icon=str(vendored.UI_DIR / "img" / "icon.png"))
    finally:
        while opener.is_alive() and not stops:  # closed while the data was opening
            opener.join(0.1)
        for stop in stops:
            stop()
    if failed:
        raise failed[0]
    if restart:
        restart_process()
    if damaged and not stops:  # the recovery window was closed without opening LabelDesk
        raise CannotOpen(damaged_message(damaged[0]))
    print("LabelDesk stopped.", flush=True)
    return 0


def restart_process():
    """This process, started again with the same command line (same pid, output and signal
    mask): `python -m desktop ...`, or the bundle's own executable."""
    args = sys.argv[1:] if getattr(sys, "frozen", False) else ["-m", "desktop", *sys.argv[1:]]
    log.info("opening LabelDesk on the repaired data")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *args])


def create_main(settings, gui):
    """The main window, before the GUI loop runs: it shows the loading page (LOADING_PAGE)
    until open_main takes it to the UI. Returns (the window, its WindowState)."""
    state = WindowState(settings.data_dir).load()
    api = Facade()  # this window's own: its lock is found by it
    if gui == "qt":
        lock_qt_navigation(api, OnePage())  # the loading page, then nothing until open_main
    webview.settings["ALLOW_FILE_URLS"] = False
    window = webview.create_window(
        TITLE, html=loading_page(), js_api=api,
        width=state.width, height=state.height, x=state.x, y=state.y,
        min_size=MIN_SIZE, maximized=state.maximized, text_select=True,
        background_color="#F6F7F9")
    state.track(window)
    window.events.shown += lambda: state.keep_on_screen(window, _screens())
    close_on_signals(window)
    return window, state


def open_main(settings, app, gui, window, state, print_token=False, loader=None):
    """A freshly started server over `app`, for the main window (create_main); called once the
    data is open, while the GUI loop runs. Returns (stop, show): what shuts the server and the
    data down once the loop has ended, and what takes the window to the UI (it waits on the
    GUI: it comes last). With `loader` (a QtLoader, Qt) the window's first load of the app
    brings the one-time secret in a header; without, the sign-in page trades it."""
    import secrets

    from desktop.shell.app import Reopenable
    from desktop.shell.server import Server

    # The Settings page may switch the data folder: the server and the window stay, the
    # LabelDesk behind them is replaced (the page then reloads, signed in to the new one).
    holder = Reopenable(app)
    nonce = secrets.token_urlsafe(32)
    wsgi = instance.with_focus_endpoint(holder, nonce, lambda: bring_to_front(window, state))
    server = Server(wsgi, port=settings.port, max_body_bytes=settings.max_body_bytes).start()
    instance.publish(holder, server.url, nonce, print_token)
    print(f"LabelDesk {__version__} is open; its API is at {server.url}", flush=True)
    instance.announce(app, print_token)

    bridge = Bridge(LocalClient(server.url, lambda: holder.app.users.get(1)["token"]),
                    settings.data_dir)

    # the UI's own host, not 127.0.0.1: its session cookie then goes to no other local server
    ui_url = f"http://{app.sessions.host}:{server.port}"
    print(f"The window shows {ui_url}", flush=True)
    lock = NavigationLock(ui_url)
    if gui == "qt":
        lock_qt_navigation(_api_of(window), lock)  # the main window's: no more the loading page's
        allowed = lock.shows_ours
    else:  # GTK: pywebview's own navigation policy; the functions still check the address
        allowed = lambda: is_ours(current_url(window), ui_url)  # noqa: E731

    def reopened(old, new):
        bridge._data_dir = Path(new.settings.data_dir)
    holder.on_reopen.append(reopened)
    secret = app.sessions.one_time_secret()

    def show():
        window.expose(*exposed(bridge, allowed))
        bridge._attach(window)
        if loader is not None:  # the app at once, signed in by its first load
            loader.load(window, f"{ui_url}/", {WINDOW_SECRET_HEADER: secret})
        else:  # the sign-in page trades the secret, then opens the app
            window.load_url(f"{ui_url}/#secret={secret}")

    def stop():
        state.save()
        server.stop()
        instance.remove_instance(holder.app.settings)
        holder.close()
    return stop, show


class QtLoader:
    """Loads a page in a window with extra request headers, which pywebview's load_url can't
    send: Qt's QWebEngineHttpRequest, loaded in the GUI thread (make it in that thread, before
    the GUI loop starts; load() may be called from any thread)."""

    def __init__(self):
        from qtpy import QtCore
        from qtpy.QtWebEngineCore import QWebEngineHttpRequest
        from webview.platforms import qt

        class Relay(QtCore.QObject):
            requested = QtCore.Signal(str, str, object)

            def __init__(self):
                super().__init__()
                self.requested.connect(self.load)  # a queued call when sent from elsewhere

            @QtCore.Slot(str, str, object)
            def load(self, uid, url, headers):
                view = qt.BrowserView.instances.get(uid)
                if view is None:  # closed meanwhile
                    return
                request = QWebEngineHttpRequest(QtCore.QUrl(url))
                for name, value in headers.items():
                    request.setHeader(QtCore.QByteArray(name.encode()),
                                      QtCore.QByteArray(value.encode()))
                view.webview.load(request)

        self._relay = Relay()

    def load(self, window, url, headers):
        self._relay.requested.emit(window.uid, url, headers)


def open_recovery(settings, error, gui, open_labeldesk):
    """The recovery window (desktop/shell/recovery.py), shown when the GUI loop starts: what is
    wrong with the data, repair, backups. `open_labeldesk()` opens the data and the main
    window, then the recovery window closes. Same back end and hardening as the main window:
    the page gets exact-named functions only (bridge.Facade) and never leaves its one static
    page (OnePage)."""
    from desktop.shell import recovery
    lock, api = OnePage(), Facade()  # its own lock, found by its own js_api
    if gui == "qt":
        lock_qt_navigation(api, lock)  # before it is made (in the GUI thread, at once)
        allowed = lock.shows_ours
    else:  # GTK: the page is static and loads nothing; its text is set as text
        allowed = lambda: True  # noqa: E731
    webview.settings["ALLOW_FILE_URLS"] = False
    window = webview.create_window(
        RECOVERY_TITLE, html=recovery.page(), js_api=api, width=RECOVERY_SIZE[0],
        height=RECOVERY_SIZE[1], min_size=(560, 420), text_select=True,
        background_color="#F6F7F9")
    helper = recovery.Recovery(settings, error, open_labeldesk, window.destroy)
    window.expose(*exposed(helper, allowed))
    close_on_signals(window)
    return window


def loading_page():
    """The loading page as one static page (recovery.static_page): no server runs yet."""
    from desktop.shell import recovery
    return recovery.static_page(LOADING_PAGE, LOADING_CSP)


def _screens():
    try:  # only once the GUI runs: asking earlier would load a GUI library of pywebview's choice
        return list(webview.screens)
    except Exception:  # noqa: BLE001 - no display information before the GUI starts
        return []
