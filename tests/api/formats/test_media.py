"""The header-only image size reader must agree with Pillow (which LS uses)."""

import pytest
from PIL import Image

from desktop.data_export.formats.media import image_info

CASES = [
    ("PNG", "RGB"), ("PNG", "RGBA"), ("PNG", "L"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "1"),
    ("JPEG", "RGB"), ("JPEG", "L"), ("JPEG", "CMYK"),
    ("GIF", "P"), ("BMP", "RGB"), ("BMP", "P"), ("BMP", "L"),
    ("WEBP", "RGB"), ("WEBP", "RGBA"),
]


@pytest.mark.parametrize("fmt, mode", CASES)
def test_size_and_channels_like_pillow(tmp_path, fmt, mode):
    path = tmp_path / f"img.{fmt.lower()}"
    Image.new(mode, (123, 45)).save(path, fmt)
    with Image.open(path) as img:
        expected = (*img.size, len(img.getbands()))
    assert image_info(path) == expected


def test_lossless_webp_and_progressive_jpeg(tmp_path):
    Image.new("RGBA", (300, 7)).save(tmp_path / "a.webp", "WEBP", lossless=True)
    assert image_info(tmp_path / "a.webp")[:2] == (300, 7)
    Image.new("RGB", (64, 33)).save(tmp_path / "p.jpg", "JPEG", progressive=True)
    assert image_info(tmp_path / "p.jpg") == (64, 33, 3)


def test_unknown_or_missing_files(tmp_path):
    (tmp_path / "x.svg").write_text("<svg/>")
    assert image_info(tmp_path / "x.svg") is None
    assert image_info(tmp_path / "nope.png") is None
