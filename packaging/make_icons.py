"""Render packaging/icons/labeldesk.svg into the icons the bundles need (run at hand, results
are committed): labeldesk.png (512), labeldesk-<n>.png, labeldesk.ico (Windows) and
labeldesk.icns (macOS).

PNGs come from Qt's SVG renderer (PySide6, already a dependency of the window); the .ico and
.icns containers are written here: both may hold PNG images as they are (ICO since Vista, ICNS
types ic07-ic10), so no image library is needed.

    .venv/bin/python packaging/make_icons.py
"""

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent / "icons"
SVG = HERE / "labeldesk.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = {b"icp4": 16, b"icp5": 32, b"icp6": 64, b"ic07": 128, b"ic08": 256, b"ic09": 512,
              b"ic10": 1024}


def render(size):
    """The SVG as PNG bytes, size x size."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer
    QGuiApplication.instance() or QGuiApplication([sys.argv[0], "-platform", "offscreen"])
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)


def ico(pngs):
    """An ICO file holding PNG images (ICONDIR, then one ICONDIRENTRY per image)."""
    head = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(head) + 16 * len(pngs)
    entries, bodies = b"", b""
    for size, png in pngs:
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        bodies += png
        offset += len(png)
    return head + entries + bodies


def icns(pngs):
    """An ICNS file: 'icns' + length, then (type, length, PNG) blocks."""
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in pngs)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main():
    rendered = {size: render(size) for size in PNG_SIZES}
    for size in PNG_SIZES:
        (HERE / f"labeldesk-{size}.png").write_bytes(rendered[size])
    (HERE / "labeldesk.png").write_bytes(rendered[512])
    (HERE / "labeldesk.ico").write_bytes(ico([(s, rendered[s]) for s in ICO_SIZES]))
    (HERE / "labeldesk.icns").write_bytes(icns([(k, rendered[s]) for k, s in ICNS_TYPES.items()]))
    print(f"wrote icons into {HERE}")


if __name__ == "__main__":
    main()
