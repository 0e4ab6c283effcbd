"""Brush labels to NumPy / PNG: one mask file per (annotation, brush region).

LS stores a brush mask as its own bit-packed RLE (thi.ng rle-pack) of the RGBA canvas; the
mask is the alpha channel. We decode it by hand and write .npy (format 1.0) or 8-bit greyscale
PNG without NumPy or Pillow. Like LS, a single mask is answered as that file, several as a zip.
"""

import collections
import struct
import zipfile
import zlib

from desktop.data_export.formats.base import ExportFormat, content_type_for
from desktop.data_export.formats.items import iter_items

TAGS = ["image segmentation"]


def fits_brush(summary):
    s = summary
    brushes = s.has("BrushLabels") or s.has("brushlabels") or s.has("Brush") and s.has("Labels")
    return s.has("Image") and brushes


class BitReader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def read(self, bits):
        start, end = self.pos // 8, (self.pos + bits + 7) // 8
        chunk = int.from_bytes(self.data[start:end].ljust(end - start, b"\0"), "big")
        shift = (end - start) * 8 - (self.pos % 8) - bits
        self.pos += bits
        return (chunk >> shift) & ((1 << bits) - 1)


def decode_rle(rle):
    """LS brush RLE -> bytearray of the flat RGBA values."""
    bits = BitReader(rle)
    count = bits.read(32)
    word_size = bits.read(5) + 1
    run_sizes = [bits.read(4) + 1 for _ in range(4)]
    out = bytearray(count)
    i = 0
    while i < count:
        is_run = bits.read(1)
        j = i + 1 + bits.read(run_sizes[bits.read(2)])
        if is_run:
            value = bits.read(word_size) & 0xFF
            out[i:j] = bytes((value,)) * (j - i)
            i = j
        else:
            while i < j:
                out[i] = bits.read(word_size) & 0xFF
                i += 1
    return out[:count]


def mask_from_region(region):
    """(height, width, alpha bytes row-major) of a brush region value."""
    width, height = region["original_width"], region["original_height"]
    alpha = bytes(decode_rle(region["rle"])[3::4])
    return height, width, alpha


def npy_bytes(height, width, pixels):
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (%d, %d), }" % (height, width)
    # NumPy pads the header so the data starts on a 64-byte boundary.
    padding = 64 - (10 + len(header) + 1) % 64
    header = header + " " * (padding % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + pixels


def png_bytes(height, width, pixels):
    def chunk(kind, data):
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\0" + pixels[y * width:(y + 1) * width] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 6))
            + chunk(b"IEND", b""))


def mask_files(item):
    """(file name, height, width, pixels) per brush region, named as LS names them."""
    author = item["completed_by"]
    email = author.get("email", "") if isinstance(author, dict) else str(author)
    email = "".join(c for c in email if c.isalnum() or c in "@.")
    for from_name, regions in item["output"].items():
        counters = collections.Counter()
        for region in regions:
            kind = region["type"].lower()
            key = kind if kind in ("brushlabels", "labels") else None
            if key is None or "rle" not in region:
                continue
            name = from_name + "-" + "-".join(region[key] if key in region else ["no_label"])
            suffix = counters[name]
            counters[name] += 1
            layer = f"{name}-{suffix}".replace("/", "-").replace("\\", "-")
            filename = f"task-{item['id']}-annotation-{item['annotation_id']}-by-{email}-{layer}"
            yield (filename, *mask_from_region(region))


class BrushFormat(ExportFormat):
    tags = TAGS
    link = "https://labelstud.io/guide/export.html#Brush-labels-to-NumPy-amp-PNG"
    ext = ""

    def fits(self, summary):
        return fits_brush(summary)

    def encode(self, height, width, pixels):
        raise NotImplementedError

    def write(self, tasks, out, ctx):
        # The first mask waits in memory: if it stays alone it is the answer, not a zip.
        first, archive = None, None
        for item in iter_items(tasks, ctx.parsed_label_config):
            for filename, height, width, pixels in mask_files(item):
                entry = (filename + self.ext, self.encode(height, width, pixels))
                if first is None and archive is None:
                    first = entry
                    continue
                if archive is None:
                    archive = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
                    archive.writestr(*first)
                archive.writestr(*entry)
        if archive is not None:
            archive.close()
            return ".zip", "application/zip"
        if first is not None:
            out.write(first[1])
            return self.ext, content_type_for(self.ext)
        zipfile.ZipFile(out, "w").close()
        return ".zip", "application/zip"


class BrushToNumpyFormat(BrushFormat):
    name = "BRUSH_TO_NUMPY"
    order = 13
    title = "Brush labels to NumPy"
    description = "Export your brush labels as NumPy 2d arrays. Each label outputs as one image."
    ext = ".npy"

    def encode(self, height, width, pixels):
        return npy_bytes(height, width, pixels)


class BrushToPNGFormat(BrushFormat):
    name = "BRUSH_TO_PNG"
    order = 14
    title = "Brush labels to PNG"
    description = "Export your brush labels as PNG images. Each label outputs as one image."
    ext = ".png"

    def encode(self, height, width, pixels):
        return png_bytes(height, width, pixels)


FORMATS = [BrushToNumpyFormat(), BrushToPNGFormat()]
