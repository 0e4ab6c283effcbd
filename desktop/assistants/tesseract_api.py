"""Tesseract's own library in the worker process, through its C API (ctypes): the OCR
assistant's reader where libtesseract 5 can be loaded, the command-line program otherwise.

The program pays for its start on every page (the process, the English model, its
dictionaries: ~0.06 s of a 0.47 s page); the library loads them once per worker and reads each
page with the same code the program runs (leptonica's pixRead, Recognize, the TSV renderer's
text), so the words and boxes are the program's. No Python package is needed: ctypes is in
the standard library, and libtesseract is the library the program itself links to (Debian's
libtesseract5, Homebrew's, or the copy a packaged LabelDesk carries beside the program).

One page at a time per library (TessBaseAPI is not thread-safe); ctypes lets go of the GIL
during the call, so the worker's other requests go on. A page past its deadline is cancelled
by Tesseract's own monitor (ETEXT_DESC), as the program's timeout would have ended it.
OpenMP: OMP_THREAD_LIMIT=1 is set before the library is loaded (libgomp reads it once, then).
"""

import atexit
import ctypes
import ctypes.util
import glob
import os
import sys
import threading

_P = ctypes.c_void_p
_S = ctypes.c_char_p


def candidates(program=None, bundle=None):
    """Where libtesseract may be, most likely first: the bundle's copy (beside the bundled
    program's other libraries), the system's (ldconfig, the dyld paths), the program's
    prefix (<prefix>/bin/tesseract -> <prefix>/lib, e.g. Homebrew's /opt/homebrew)."""
    found = []
    if bundle:
        found += sorted(glob.glob(os.path.join(bundle, "libtesseract.so.5*")))
        found += sorted(glob.glob(os.path.join(bundle, "libtesseract.5*.dylib")))
    if not bundle:
        name = ctypes.util.find_library("tesseract")
        if name:
            found.append(name)
        if program:
            prefix = os.path.dirname(os.path.dirname(os.path.realpath(program)))
            for pattern in ("libtesseract.so.5*", "libtesseract.5*.dylib"):
                found += sorted(glob.glob(os.path.join(prefix, "lib", pattern)))
    return list(dict.fromkeys(found))


class Library:
    """libtesseract 5, loaded once: one TessBaseAPI per language, used under a lock."""

    def __init__(self, path, tessdata=None):
        os.environ["OMP_THREAD_LIMIT"] = "1"  # before libgomp starts: 0.36 s -> 2.3 s else
        lib = ctypes.CDLL(path)
        lib.TessVersion.restype = _S
        version = lib.TessVersion().decode("ascii", "replace")
        if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 5:
            raise OSError(f"{path} is Tesseract {version}, not 5")
        for name, args, result in (
                ("TessBaseAPICreate", [], _P),
                ("TessBaseAPIInit3", [_P, _S, _S], ctypes.c_int),
                ("TessBaseAPISetVariable", [_P, _S, _S], ctypes.c_int),
                ("TessBaseAPISetPageSegMode", [_P, ctypes.c_int], None),
                ("TessBaseAPISetImage2", [_P, _P], None),
                ("TessBaseAPISetSourceResolution", [_P, ctypes.c_int], None),
                ("TessBaseAPIRecognize", [_P, _P], ctypes.c_int),
                ("TessBaseAPIGetTsvText", [_P, ctypes.c_int], _P),
                ("TessBaseAPIClear", [_P], None),
                ("TessBaseAPIEnd", [_P], None),
                ("TessBaseAPIDelete", [_P], None),
                ("TessDeleteText", [_P], None),
                ("TessMonitorCreate", [], _P),
                ("TessMonitorSetDeadlineMSecs", [_P, ctypes.c_int], None),
                ("TessMonitorDelete", [_P], None),
                # leptonica's, found through libtesseract (which links it)
                ("pixRead", [_S], _P),
                ("pixDestroy", [ctypes.POINTER(_P)], None)):
            function = getattr(lib, name)  # AttributeError: not the C API we know
            function.argtypes, function.restype = args, result
        self.lib, self.path, self.version = lib, path, version
        self.tessdata = tessdata
        self.lock = threading.Lock()
        self.apis = {}
        atexit.register(self.close)

    def thread_limit(self):
        """OpenMP's thread limit in this process (libgomp's, through libtesseract)."""
        try:
            return self.lib.omp_get_thread_limit()
        except AttributeError:  # built without OpenMP
            return 1

    def _api(self, lang):
        api = self.apis.get(lang)
        if api is None:
            api = self.lib.TessBaseAPICreate()
            datapath = os.fsencode(self.tessdata) if self.tessdata else None
            if self.lib.TessBaseAPIInit3(api, datapath, lang.encode("ascii")) != 0:
                self.lib.TessBaseAPIDelete(api)
                raise RuntimeError(f"Tesseract has no {lang!r} language data here")
            # its messages ("Estimating resolution as ...") stay out of the worker's log
            self.lib.TessBaseAPISetVariable(api, b"debug_file", os.fsencode(os.devnull))
            self.apis[lang] = api
        return api

    def tsv(self, path, lang, psm, timeout_s):
        """Tesseract's TSV text of one image (rows of the program's TSV, no header)."""
        name = os.path.basename(os.fspath(path))
        if not isinstance(lang, str) or not lang.replace("+", "").replace("_", "").isalnum():
            raise RuntimeError(f"not a Tesseract language: {lang!r}")
        with self.lock:
            api = self._api(lang)
            pix = _P(self.lib.pixRead(os.fsencode(path)))
            if not pix.value:
                raise RuntimeError(f"Tesseract could not read {name}: not an image it knows")
            monitor = self.lib.TessMonitorCreate()
            try:
                self.lib.TessBaseAPISetPageSegMode(api, int(psm))
                self.lib.TessBaseAPISetImage2(api, pix)
                self.lib.TessMonitorSetDeadlineMSecs(monitor, int(timeout_s * 1000))
                if self.lib.TessBaseAPIRecognize(api, monitor) != 0:
                    raise RuntimeError(f"Tesseract could not read {name} "
                                       f"(or not within {timeout_s} s)")
                text = self.lib.TessBaseAPIGetTsvText(api, 0)
                if not text:
                    raise RuntimeError(f"Tesseract could not read {name}")
                try:
                    return ctypes.string_at(text).decode("utf-8", "replace")
                finally:
                    self.lib.TessDeleteText(text)
            finally:
                self.lib.TessMonitorDelete(monitor)
                self.lib.TessBaseAPIClear(api)
                self.lib.pixDestroy(ctypes.byref(pix))

    def close(self):
        with self.lock:
            for api in self.apis.values():
                self.lib.TessBaseAPIEnd(api)
                self.lib.TessBaseAPIDelete(api)
            self.apis.clear()


def load(program=None, tessdata=None, bundle=None):
    """The first libtesseract 5 that loads (see candidates), else None."""
    if sys.platform == "win32":  # its DLL names differ; the program serves there
        return None
    for path in candidates(program, bundle):
        try:
            return Library(path, tessdata)
        except (OSError, AttributeError):
            continue
    return None
