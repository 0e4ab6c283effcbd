"""Just enough Xlib (through ctypes, libX11 comes with Qt's xcb dependencies) to find a window by
its title and ask it to close, as a window manager does when the close button is clicked."""

import ctypes
import ctypes.util
import time

Window = ctypes.c_ulong
Atom = ctypes.c_ulong
ClientMessage = 33
NoEventMask = 0


class XClientMessageData(ctypes.Union):
    _fields_ = [("b", ctypes.c_char * 20), ("s", ctypes.c_short * 10), ("l", ctypes.c_long * 5)]


class XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", Window), ("message_type", Atom),
                ("format", ctypes.c_int), ("data", XClientMessageData)]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessageEvent), ("pad", ctypes.c_long * 24)]


# Xlib's default error handler calls exit(): a window that closes while we list the windows
# (BadWindow) would end the whole test process. Ignore protocol errors instead; the callers
# poll, so a missed window is seen on the next look.
ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_ignore_errors = ERROR_HANDLER(lambda display, event: 0)
_lib = None


def _xlib():
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
    lib.XSetErrorHandler.argtypes = [ERROR_HANDLER]
    lib.XSetErrorHandler.restype = ctypes.c_void_p
    lib.XSetErrorHandler(_ignore_errors)
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    lib.XDefaultRootWindow.restype = Window
    lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    lib.XQueryTree.argtypes = [ctypes.c_void_p, Window, ctypes.POINTER(Window),
                               ctypes.POINTER(Window), ctypes.POINTER(ctypes.POINTER(Window)),
                               ctypes.POINTER(ctypes.c_uint)]
    lib.XFetchName.argtypes = [ctypes.c_void_p, Window, ctypes.POINTER(ctypes.c_char_p)]
    lib.XInternAtom.restype = Atom
    lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    lib.XSendEvent.argtypes = [ctypes.c_void_p, Window, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(XEvent)]
    lib.XFlush.argtypes = [ctypes.c_void_p]
    lib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    lib.XFree.argtypes = [ctypes.c_void_p]
    _lib = lib
    return lib


def _windows(lib, display, window):
    root, parent = Window(), Window()
    children = ctypes.POINTER(Window)()
    count = ctypes.c_uint()
    if not lib.XQueryTree(display, window, ctypes.byref(root), ctypes.byref(parent),
                          ctypes.byref(children), ctypes.byref(count)):
        return
    found = [children[i] for i in range(count.value)]
    if children:
        lib.XFree(children)
    for child in found:
        yield child
        yield from _windows(lib, display, child)


def open_display(lib, display_name, seconds=10):
    """A connection to the X server; a busy server (many clients of a loaded CI machine) may
    refuse one for a moment, so retry before failing."""
    deadline = time.monotonic() + seconds
    while True:
        display = lib.XOpenDisplay(display_name.encode())
        if display or time.monotonic() > deadline:
            assert display, f"can't open display {display_name}"
            return display
        time.sleep(0.2)


def window_titles(display_name):
    lib = _xlib()
    display = open_display(lib, display_name)
    try:
        titles = []
        for window in _windows(lib, display, lib.XDefaultRootWindow(display)):
            name = ctypes.c_char_p()
            if lib.XFetchName(display, window, ctypes.byref(name)) and name.value:
                titles.append(name.value.decode("utf-8", "replace"))
        return titles
    finally:
        lib.XCloseDisplay(display)


def close_window(display_name, title):
    """Send WM_DELETE_WINDOW to every window titled `title`; returns how many got it."""
    lib = _xlib()
    display = open_display(lib, display_name)
    try:
        protocols = lib.XInternAtom(display, b"WM_PROTOCOLS", 0)
        delete = lib.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
        sent = 0
        for window in _windows(lib, display, lib.XDefaultRootWindow(display)):
            name = ctypes.c_char_p()
            if not (lib.XFetchName(display, window, ctypes.byref(name)) and name.value):
                continue
            if name.value.decode("utf-8", "replace") != title:
                continue
            event = XEvent()
            event.xclient.type = ClientMessage
            event.xclient.window = window
            event.xclient.message_type = protocols
            event.xclient.format = 32
            event.xclient.data.l[0] = delete
            event.xclient.data.l[1] = 0  # CurrentTime
            lib.XSendEvent(display, window, 0, NoEventMask, ctypes.byref(event))
            sent += 1
        lib.XFlush(display)
        return sent
    finally:
        lib.XCloseDisplay(display)


def click(display_name, x, y):
    """A real left click at screen (x, y) through the XTEST extension, as a mouse makes it (the
    app sees an ordinary input event; page script cannot make one)."""
    lib = _xlib()
    xtst = ctypes.cdll.LoadLibrary(ctypes.util.find_library("Xtst") or "libXtst.so.6")
    xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                          ctypes.c_int, ctypes.c_ulong]
    xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_ulong]
    display = open_display(lib, display_name)
    try:
        xtst.XTestFakeMotionEvent(display, -1, int(x), int(y), 0)
        lib.XFlush(display)
        time.sleep(0.1)
        xtst.XTestFakeButtonEvent(display, 1, 1, 0)
        lib.XFlush(display)
        time.sleep(0.05)
        xtst.XTestFakeButtonEvent(display, 1, 0, 0)
        lib.XFlush(display)
    finally:
        lib.XCloseDisplay(display)


# A screenshot of the whole X screen, taken by a Qt process: its size, colours, how much of it the
# window covers and how much of its top-left corner is LabelDesk's icon.
GRAB = r"""
import json, sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv)
image = app.primaryScreen().grabWindow(0).toImage()
image.save(sys.argv[1])
w, h = image.width(), image.height()
colours, drawn, xs, ys = set(), 0, [], []
for y in range(0, h, 4):
    for x in range(0, w, 4):
        rgb = image.pixel(x, y) & 0xFFFFFF
        colours.add(rgb)
        if rgb != 0x000000:  # the window, on the screen's black
            drawn += 1
            xs.append(x)
            ys.append(y)
# the web app's header: LabelDesk's icon (#2f5bea) in the window's top left corner
left, top, brand = (min(xs), min(ys), 0) if xs else (0, 0, 0)
for y in range(top, min(top + 60, h), 2):
    for x in range(left, min(left + 80, w), 2):
        r, g, b = (image.pixel(x, y) >> 16) & 255, (image.pixel(x, y) >> 8) & 255, \
            image.pixel(x, y) & 255
        if abs(r - 0x2F) < 24 and abs(g - 0x5B) < 24 and abs(b - 0xEA) < 24:
            brand += 1
print(json.dumps({"width": w, "height": h, "colours": len(colours),
                  "drawn": drawn, "header_icon": brand}))
"""
