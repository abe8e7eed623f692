"""Media intake: every supported format decodes; every bad input gets its typed error."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gardefou.errors import (
    ConfigError,
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaTooLargeError,
    MediaUnreadableError,
    UnsupportedFormatError,
)
from gardefou.media import Limits, load_media, sniff_format


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def photo(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(arr, "RGB").convert(mode)


def png_declaring(width: int, height: int, pad_to: int = 100_000) -> bytes:
    """A small PNG whose header declares a huge image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * pad_to, 9)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
    filler = chunk(b"tEXt", b"pad\x00" + b"x" * max(0, pad_to - len(body) - 64))
    return b"\x89PNG\r\n\x1a\n" + body + filler + chunk(b"IEND", b"")


def gif_with_frames(n: int) -> bytes:
    """A 1x1 GIF with n distinct frames (built by hand: encoders merge identical frames)."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (
        b"\x21\xf9\x04\x04\x0a\x00\x00\x00"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"
    )
    return head + loop + frame * n + b"\x3b"


GOOD = {
    "jpeg": lambda: encode(photo(), "JPEG", quality=90),
    "png_rgb": lambda: encode(photo(), "PNG"),
    "png_palette": lambda: encode(photo("P"), "PNG"),
    "png_la": lambda: encode(photo("LA"), "PNG"),
    "png_rgba": lambda: encode(photo("RGBA"), "PNG"),
    "png_16bit": lambda: encode(
        Image.fromarray(np.arange(64 * 48, dtype=np.uint16).reshape(48, 64) * 20), "PNG"
    ),
    "jpeg_cmyk": lambda: encode(photo("CMYK"), "JPEG"),
    "webp": lambda: encode(photo(), "WEBP"),
    "gif": lambda: encode(photo("P"), "GIF"),
    "bmp": lambda: encode(photo(), "BMP"),
    "tiff": lambda: encode(photo(), "TIFF"),
    "heic": lambda: (__import__("pillow_heif").register_heif_opener(), encode(photo(), "HEIF"))[1],
    "avif": lambda: encode(photo(), "AVIF"),
}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_supported_formats_decode_to_rgb(kind: str) -> None:
    media = load_media(GOOD[kind](), label=kind)
    assert (media.width, media.height) == (64, 48)
    rgb = media.rgb()
    assert rgb.mode == "RGB" and rgb.size == (64, 48)


def test_16bit_png_keeps_range() -> None:
    media = load_media(GOOD["png_16bit"]())
    arr = np.asarray(media.rgb())
    assert arr.max() > 200 and arr.min() < 10, "16-bit values must be scaled, not clipped"


def test_alpha_composited_on_white() -> None:
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    media = load_media(encode(img, "PNG"))
    assert media.rgb().getpixel((0, 0)) == (255, 255, 255)


def test_format_from_content_not_extension(tmp_path: Path) -> None:
    path = tmp_path / "photo.gif"
    path.write_bytes(GOOD["png_rgb"]())
    assert load_media(path).format == "PNG"


def test_gif_keeps_frame_count() -> None:
    media = load_media(gif_with_frames(5))
    assert media.format == "GIF" and media.frames == 5


def test_exif_orientation_kept_for_models() -> None:
    img = photo(size=(40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    media = load_media(encode(img, "JPEG", exif=exif.tobytes()))
    assert media.exif_orientation == 6
    assert media.rgb().size == (40, 20), "PDQ hashes the stored pixels, as the reference does"
    assert media.oriented().size == (20, 40), "models see the image as a person does"


BAD = {
    "zero_bytes": (lambda: b"", EmptyMediaError, "zero bytes"),
    "truncated_jpeg": (lambda: GOOD["jpeg"]()[:300], CorruptMediaError, "truncated or corrupt"),
    "random_bytes": (lambda: os.urandom(4096), UnsupportedFormatError, "supported:"),
    "png_bomb_30000": (lambda: png_declaring(30000, 30000), MediaTooLargeError, "30000x30000"),
    "text_as_jpg": (lambda: b"hello, this is text\n" * 10, UnsupportedFormatError, "text"),
    "svg": (
        lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        UnsupportedFormatError,
        "SVG",
    ),
    "gif_10000_frames": (lambda: gif_with_frames(10_000), MediaTooLargeError, "frames"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_input_gets_typed_error(kind: str, tmp_path: Path) -> None:
    make, error, words = BAD[kind]
    data = make()
    if kind == "png_bomb_30000":
        assert len(data) <= 110_000
    path = tmp_path / f"{kind}.jpg"
    path.write_bytes(data)
    with pytest.raises(error, match=words) as info:
        load_media(path)
    assert str(path) in str(info.value), "the error names the file"
    assert isinstance(info.value, MediaError)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.jpg"
    path.write_bytes(GOOD["jpeg"]())
    if os.geteuid() == 0:  # root reads anything: use a dangling link instead
        path.unlink()
        path.symlink_to(tmp_path / "gone.jpg")
    else:
        path.chmod(0)
    with pytest.raises(MediaUnreadableError, match="cannot read"):
        load_media(path)


def test_limits_are_configurable_and_validated() -> None:
    data = GOOD["jpeg"]()
    with pytest.raises(MediaTooLargeError, match="limit 100"):
        load_media(data, Limits(max_bytes=100))
    with pytest.raises(MediaTooLargeError, match="MP"):
        load_media(data, Limits(max_pixels=1000))
    with pytest.raises(ConfigError, match="max_pixels"):
        Limits(max_pixels=0)


@pytest.mark.parametrize(
    "data,fmt",
    [
        (b"\xff\xd8\xff\xe0", "JPEG"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "WEBP"),
        (b"\0\0\0\x18ftypheic", "HEIF"),
        (b"<svg", None),
    ],
)
def test_sniff(data: bytes, fmt: str | None) -> None:
    assert sniff_format(data) == fmt
