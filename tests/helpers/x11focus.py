"""Which window has the X keyboard focus (a second launch must bring the running window to the
front; with no window manager under Xvfb, Qt activates a window by setting the input focus on
it, so the focus shows whether it did)."""

import ctypes

import x11

POINTER_ROOT = 1


def _lib():
    lib = x11._xlib()
    lib.XGetInputFocus.argtypes = [ctypes.c_void_p, ctypes.POINTER(x11.Window),
                                   ctypes.POINTER(ctypes.c_int)]
    return lib


def _titled(lib, display, title):
    found = set()
    for window in x11._windows(lib, display, lib.XDefaultRootWindow(display)):
        name = ctypes.c_char_p()
        if lib.XFetchName(display, window, ctypes.byref(name)) and name.value \
                and name.value.decode("utf-8", "replace") == title:
            found.add(window)
    return found


def focused_title_is(display_name, title):
    """Whether the focused window is titled `title` (or lies inside such a window)."""
    lib = _lib()
    display = x11.open_display(lib, display_name)
    try:
        focus, revert = x11.Window(), ctypes.c_int()
        lib.XGetInputFocus(display, ctypes.byref(focus), ctypes.byref(revert))
        if focus.value in (0, POINTER_ROOT):
            return False
        for top in _titled(lib, display, title):
            if focus.value == top or focus.value in set(x11._windows(lib, display, top)):
                return True
        return False
    finally:
        lib.XCloseDisplay(display)
