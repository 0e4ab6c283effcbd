"""Local folders as storages: which paths are allowed, listing them, serving their files.

Everything is checked on resolved paths (symlinks followed): a folder or file is usable only when
it lies inside the allowed root (settings.local_files_root, Label Studio's
LOCAL_FILES_DOCUMENT_ROOT), so neither `..` nor a symlink can reach outside it.
"""

import os
import re
from pathlib import Path
from urllib.parse import quote

from .errors import NotFound, ValidationError


def resolved_root(root):
    return Path(root).expanduser().resolve()


def inside(path, folder):
    """Whether resolved `path` is `folder` or below it."""
    return path == folder or folder in path.parents


def check_folder(path, root):
    """The resolved folder of a storage `path`, or Label Studio's 400."""
    if not isinstance(path, str) or not path.strip():
        raise ValidationError({"path": ["This field is required."]})
    root = resolved_root(root)
    given = Path(path.strip()).expanduser()
    example = root / "dataset1"
    if not given.is_absolute():
        raise ValidationError(f'Absolute local path "{path}" must be a subdirectory of '
                              f'LOCAL_FILES_DOCUMENT_ROOT="{root}" by security reasons. '
                              f'For example: "{example}".')
    folder = given.resolve()
    if not folder.exists():
        raise ValidationError(f"Path {path} does not exist")
    if root not in folder.parents:
        raise ValidationError(f'Absolute local path "{path}" must be a subdirectory of '
                              f'LOCAL_FILES_DOCUMENT_ROOT="{root}" by security reasons. '
                              f'For example: "{example}".')
    if not folder.is_dir():
        raise ValidationError(f"Path {path} must be a directory")
    return folder


def check_regex(pattern):
    if pattern in (None, ""):
        return None
    if not isinstance(pattern, str):
        raise ValidationError({"regex_filter": ["Not a valid string."]})
    try:
        return re.compile(pattern)
    except re.error as e:
        raise ValidationError({"regex_filter": [f"Invalid regular expression: {e}"]}) from None


def list_files(path, root, regex=None, recursive=False):
    """(absolute key, resolved file) of the files to import, sorted by name as Label Studio.

    The key is the path as found under the storage folder (Label Studio's storage_filename);
    files whose real location is outside the allowed root are skipped."""
    root = resolved_root(root)
    folder = Path(path).expanduser()
    found = folder.rglob("*") if recursive else folder.glob("*")
    out = []
    for entry in sorted(found, key=lambda p: (p.name, str(p))):
        try:
            if not entry.is_file():
                continue
            real = entry.resolve()
        except OSError:
            continue
        if root not in real.parents:
            continue
        if regex is not None and not regex.match(entry.name):
            continue
        out.append((str(entry), real))
    return out


def file_url(real, root):
    """/data/local-files/?d=<path relative to the root>, as Label Studio writes it."""
    relative = real.relative_to(resolved_root(root)).as_posix()
    return f"/data/local-files/?d={quote(relative)}"


def served_file(d, root, storage_folders):
    """The file behind /data/local-files/?d=<d>: inside the root and inside some local import
    storage's folder, after following symlinks; NotFound for anything else."""
    if not isinstance(d, str) or not d.strip() or "\x00" in d:
        raise NotFound()
    root = resolved_root(root)
    try:
        candidate = (root / d.lstrip("/")).resolve() if not os.path.isabs(d) else \
            Path(d).resolve()
    except (OSError, RuntimeError, ValueError):
        raise NotFound() from None
    if root not in candidate.parents or not candidate.is_file():
        raise NotFound()
    for folder in storage_folders:
        try:
            folder = Path(folder).expanduser().resolve()
        except (OSError, RuntimeError):
            continue
        if inside(folder, root) and folder in candidate.parents:
            return candidate
    raise NotFound()
