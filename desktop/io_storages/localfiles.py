"""Local folders as storages: which paths are allowed, listing them, serving their files.

Everything is checked on resolved paths (symlinks followed). A storage's folder must lie inside
the allowed root (settings.local_files_root, Label Studio's LOCAL_FILES_DOCUMENT_ROOT), and a
file counts as the storage's only when it really lies inside that storage's own folder: a
symlink in the folder pointing elsewhere (even elsewhere under the root, such as the home
folder) is neither synced nor served. Symlinks that stay inside the folder work. Label Studio
follows such symlinks; LabelDesk doesn't, on purpose (docs/security.md).
"""

import os
import re
from pathlib import Path
from urllib.parse import quote

from desktop.core.errors import NotFound, ValidationError


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
        raise ValidationError(f'Absolute local path "{path.strip()}" does not exist')
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
    """The files to import, sorted by name as Label Studio: ([(absolute key, resolved file)],
    [keys of the files skipped because they really lie outside the storage folder]).

    The key is the path as found under the storage folder (Label Studio's storage_filename).
    `path` is the storage's folder as check_folder() resolved it (inside the root)."""
    folder = Path(path).expanduser().resolve()
    if resolved_root(root) not in folder.parents:
        return [], []
    found = folder.rglob("*") if recursive else folder.glob("*")
    out, outside = [], []
    for entry in sorted(found, key=lambda p: (p.name, str(p))):
        if regex is not None and not regex.match(entry.name):
            continue
        try:
            if not entry.is_file():
                continue
            real = entry.resolve()
        except (OSError, RuntimeError):  # unreadable, or a symlink loop
            continue
        if folder not in real.parents:  # a symlink out of the folder
            outside.append(str(entry))
            continue
        out.append((str(entry), real))
    return out, outside


def file_url(real, root):
    """/data/local-files/?d=<path relative to the root>, as Label Studio writes it."""
    relative = real.relative_to(resolved_root(root)).as_posix()
    return f"/data/local-files/?d={quote(relative)}"


def served_file(d, root, storage_folders):
    """The file behind /data/local-files/?d=<d>, or NotFound.

    As in Label Studio, `d` is a path under the root (or an absolute one) and is served only
    when a local import storage's folder contains it. LabelDesk checks that twice: the path as
    named (`..` collapsed, symlinks not followed) lies in a storage's folder, as configured or
    resolved, and the file it really is (symlinks followed) lies in that same folder. So a
    symlink in one storage's folder can't serve a file elsewhere, not even one in another
    storage's folder (that one is served by its own path)."""
    if not isinstance(d, str) or not d.strip() or "\x00" in d:
        raise NotFound()
    root = resolved_root(root)
    try:
        named = Path(os.path.normpath(d if os.path.isabs(d) else root / d.lstrip("/")))
        candidate = named.resolve()
    except (OSError, RuntimeError, ValueError):
        raise NotFound() from None
    if root not in candidate.parents or not candidate.is_file():
        raise NotFound()
    for folder in storage_folders:
        try:
            given = Path(os.path.normpath(Path(folder).expanduser()))
            real = given.resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if (root in real.parents and real in candidate.parents
                and (real in named.parents or given in named.parents)):
            return candidate
    raise NotFound()
