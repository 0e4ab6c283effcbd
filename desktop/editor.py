"""Label Studio's labeling editor: one pinned build, fetched at set-up, served from disk.

The editor (Apache-2.0) ships inside the label-studio wheel on PyPI up to 1.13.1 as a standalone
build. Set-up (`python -m desktop.editor fetch`, run by scripts/setup.d/20-editor.sh) downloads
that wheel once into a cache, checks its SHA-256 and unpacks the few files the editor needs into
desktop/ui/vendor/. Nothing is fetched at run time (docs/adr/0003-editor.md).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .files import file_digest

VERSION = "1.13.1"
WHEEL = f"label_studio-{VERSION}-py3-none-any.whl"
SHA256 = "ce99ae0f513c2cd29a41692bcd977bfd1c86605f1bc6840eda0735f58f717e10"

UI_DIR = Path(__file__).parent / "ui"
VENDOR_DIR = UI_DIR / "vendor"
EDITOR_DIR = VENDOR_DIR / "editor"
FONTS_DIR = VENDOR_DIR / "fonts"
STAMP = VENDOR_DIR / "editor.version"

# Wheel member prefix -> folder under vendor/; which members of it to keep.
EDITOR_PREFIX = "web/dist/libs/editor/"
FONTS_PREFIX = "label_studio/core/static/fonts/"
FONTS = ("Figtree-Regular.ttf", "Figtree-SemiBold.ttf")


class EditorMissing(RuntimeError):
    pass


def installed():
    """True when the pinned editor build is unpacked and complete."""
    try:
        stamp = STAMP.read_text().split()
    except OSError:
        return False
    return stamp == [VERSION, SHA256] and (EDITOR_DIR / "main.js").is_file() \
        and (EDITOR_DIR / "main.css").is_file()


def require():
    if not installed():
        raise EditorMissing("The labeling editor is not installed. Run `make setup` (or "
                            "`python -m desktop.editor fetch`) once while online.")


def cache_dir():
    base = os.environ.get("LABELDESK_CACHE")
    if base:
        return Path(base).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "labeldesk"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "labeldesk"


def cached_wheel():
    """The pinned wheel from the cache, downloading it (pip, PyPI) if absent or damaged."""
    folder = cache_dir()
    path = folder / WHEEL
    if path.is_file() and file_digest(path, "sha256") == SHA256:
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        print(f"Fetching Label Studio's editor (label-studio=={VERSION}, 82 MB, once)...",
              flush=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary", ":all:", f"label-studio=={VERSION}", "-d", tmp],
                       check=True)
        got = Path(tmp) / WHEEL
        actual = file_digest(got, "sha256")
        if actual != SHA256:
            raise SystemExit(f"{WHEEL}: checksum mismatch (got {actual}, expected {SHA256}); "
                             "not installing it.")
        os.replace(got, path)
    return path


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
        for name in ("editor", "fonts"):
            shutil.rmtree(VENDOR_DIR / name, ignore_errors=True)
            os.replace(staging / name, VENDOR_DIR / name)
        STAMP.write_text(f"{VERSION} {SHA256}\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch():
    if installed():
        return
    unpack(cached_wheel())
    print(f"Label Studio editor {VERSION} installed in {EDITOR_DIR}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["fetch"]:
        sys.exit("usage: python -m desktop.editor fetch")
    fetch()
