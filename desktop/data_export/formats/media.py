"""Media files in exports: where a task's file is, what it is called in the archive, its size.

No Pillow: image formats only need width, height and channel count, which sit in the first
bytes of PNG, JPEG, GIF, BMP and WebP files.
"""

import hashlib
import os
import pathlib
import posixpath
import shutil
import struct
import tempfile
import time
import zipfile
from urllib.parse import urlparse


def resolve(ctx, url):
    """The local file behind a task data URL, or None (never raises).

    Only ctx.resolve_media decides what may be read. LS also reads any local path written in
    task data; we don't, so an imported task cannot pull arbitrary files into an export.
    """
    if not isinstance(url, str) or not url:
        return None
    try:
        path = ctx.resolve_media(url)
    except Exception:
        return None
    if path is None:
        return None
    path = pathlib.Path(path)
    return path if path.is_file() else None


def archive_name(url, path, copied):
    """The file name LS gives a media file in an export folder.

    LS copies Local Storage files under "<md5(url)[:8]>__<name>" and every other file under
    its own name; an unresolved file is named as the SDK's download cache names it,
    "<md5(url)[:8]>__<last part of its URL path>".
    """
    if path is None:
        name = os.path.basename(urlparse(url).path)
        ours = url.lstrip("/").startswith(("upload", "data/", "storage-data/")) or (
            "://" in url and not url.startswith(("http://", "https://")))
        if ours:  # an upload, a storage's file: its own name
            return os.path.basename(url)
        # anything else goes through the SDK's download cache: "<md5(url)[:8]>__<name>"
        return hashlib.md5(url.encode()).hexdigest()[:8] + "__" + name
    if copied and url.startswith("/data/") and "?d=" in url:
        return hashlib.md5(url.encode()).hexdigest()[:8] + "__" + path.name
    return path.name


def image_info(path):
    """(width, height, channels) of an image file, or None when the header is not understood.

    Channels follow Pillow's band count, which is what LS writes into VOC's <depth>.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head.startswith(b"\x89PNG\r\n\x1a\n"):
                return png_info(head)
            if head[:2] == b"\xff\xd8":
                f.seek(2)
                return jpeg_info(f)
            if head[:6] in (b"GIF87a", b"GIF89a"):
                width, height = struct.unpack("<HH", head[6:10])
                return width, height, 1
            if head[:2] == b"BM":
                return bmp_info(head)
            if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
                return webp_info(head)
    except (OSError, struct.error, ValueError):
        return None
    return None


def png_info(head):
    width, height, _depth, color = struct.unpack(">IIBB", head[16:26])
    # grey, ?, RGB, palette, grey+alpha, ?, RGBA
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(color, 3)
    return width, height, channels


def jpeg_info(f):
    while True:
        byte = f.read(1)
        while byte and byte != b"\xff":
            byte = f.read(1)
        while byte == b"\xff":
            byte = f.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        (length,) = struct.unpack(">H", f.read(2))
        # SOF0..SOF15 carry the frame size; C4, C8 and CC are other segments.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            _precision, height, width, components = struct.unpack(">BHHB", f.read(6))
            return width, height, components
        f.seek(length - 2, os.SEEK_CUR)


def bmp_info(head):
    (header_size,) = struct.unpack("<I", head[14:18])
    if header_size == 12:
        width, height, _planes, bits = struct.unpack("<HHHH", head[18:26])
    else:
        width, height, _planes, bits = struct.unpack("<iiHH", head[18:30])
    return width, abs(height), 1 if bits <= 8 else 3


def webp_info(head):
    chunk = head[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF, 3
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        has_alpha = (bits >> 28) & 1
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 4 if has_alpha else 3
    if chunk == b"VP8X":
        has_alpha = head[20] & 0x10
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height, 4 if has_alpha else 3
    return None


class Archive:
    """A zip written into `out` that mirrors LS's export folder.

    Small text files may be written more than once (LS overwrites, the last write wins): they
    are kept in memory (`put`) up to MEMORY_BUDGET bytes, then staged in a temporary folder
    (`path`), and zipped at the end, as are the media files to copy.
    """

    MEMORY_BUDGET = 32 * 1024 * 1024

    def __init__(self, out, folders):
        self.out = out
        self.folders = list(folders)
        self.staging = tempfile.TemporaryDirectory(prefix="labeldesk-export-")
        self.media = {}  # archive path -> source file
        self.texts = {}  # archive path -> bytes, for small files written with put()
        self.text_bytes = 0

    def path(self, arcname):
        """A staging file path for `arcname`; write it, and it goes into the zip."""
        self.texts.pop(arcname, None)
        target = os.path.join(self.staging.name, *arcname.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        return target

    def put(self, arcname, data):
        """Set the content of a small file (replacing any earlier one)."""
        if self.text_bytes + len(data) > self.MEMORY_BUDGET:
            with open(self.path(arcname), "wb") as f:
                f.write(data)
            return
        old = self.texts.get(arcname)
        if old is None:
            staged = os.path.join(self.staging.name, *arcname.split("/"))
            if os.path.exists(staged):
                os.unlink(staged)
        self.text_bytes += len(data) - (len(old) if old is not None else 0)
        self.texts[arcname] = data

    def has(self, arcname):
        return arcname in self.texts or os.path.exists(
            os.path.join(self.staging.name, *arcname.split("/")))

    def add_media(self, arcname, source):
        self.media.setdefault(arcname, pathlib.Path(source))

    def close(self):
        try:
            with zipfile.ZipFile(self.out, "w", zipfile.ZIP_DEFLATED) as zf:
                for folder in self.folders:
                    zf.writestr(zipfile.ZipInfo(folder.rstrip("/") + "/"), b"")
                # Staged files and in-memory ones, in the order os.walk(sorted) would list them.
                entries = [(arcname, None) for arcname in self.texts]
                for root, _dirs, files in os.walk(self.staging.name):
                    for name in files:
                        full = os.path.join(root, name)
                        arcname = os.path.relpath(full, self.staging.name).replace(os.sep, "/")
                        entries.append((arcname, full))
                entries.sort(key=lambda e: (posixpath.dirname(e[0]), posixpath.basename(e[0])))
                stamp = time.localtime(time.time())[:6]
                for arcname, full in entries:
                    if full is None:
                        info = zipfile.ZipInfo(arcname, date_time=stamp)
                        info.compress_type = zipfile.ZIP_DEFLATED
                        info.external_attr = 0o644 << 16
                        zf.writestr(info, self.texts[arcname])
                    else:
                        zf.write(full, arcname)
                for arcname, source in self.media.items():
                    # Media are already compressed; deflating them again only costs time.
                    with open(source, "rb") as src, zf.open(
                        zipfile.ZipInfo(arcname, date_time=zip_time(source)), "w"
                    ) as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        finally:
            self.staging.cleanup()
        return ".zip", "application/zip"


def zip_time(path):
    stamp = time.localtime(os.path.getmtime(path))
    return max(stamp[:6], (1980, 1, 1, 0, 0, 0))
