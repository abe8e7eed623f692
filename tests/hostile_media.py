"""The hostile-media corpus: small files that cost a naive decoder minutes of CPU or gigabytes.

Every file is generated here in a few lines (hand-written bytes where an encoder would refuse or
merge frames), so nothing binary is committed. The intake tests, the web tests and the acceptance
benchmark (benchmarks/hostile_uploads.py) replay the same set. Each entry is benign: blank or
noise pixels, no depiction of anyone.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Callable

from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png(width: int, height: int, color_type: int, bit_depth: int, idat: bytes,
         extra: bytes = b"") -> bytes:  # fmt: skip
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + extra
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def _zeros_zlib(row_bytes: int, rows: int) -> bytes:
    """zlib of ``rows`` blank PNG scanlines (filter byte + zeros), compressed row by row."""
    z = zlib.compressobj(9)
    row = bytes(row_bytes + 1)
    return b"".join(z.compress(row) for _ in range(rows)) + z.flush()


def gif_canvas_frames(width: int = 10_000, height: int = 10_000, frames: int = 1_000) -> bytes:
    """A GIF whose logical screen is width x height with ``frames`` distinct 1x1 frames: ~23 KB
    for the defaults; a decoder that composites every frame on the canvas does 100 MP of work a
    frame (203 s of CPU measured on /v1/scan before frames were counted without decoding)."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)
    head = b"GIF89a" + screen + b"\x00\x00\x00\xff\xff\xff"  # two-colour global palette
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (
        b"\x21\xf9\x04\x04\x0a\x00\x00\x00"  # graphic control: restore to background, 0.1 s
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00"  # LZW min code 2, one sub-block, terminator
    )
    return head + loop + frame * frames + b"\x3b"


def gif_frame_outside_canvas() -> bytes:
    """A 1x1 logical screen whose only frame declares 20000x20000 at (0,0): decoders that grow
    the canvas to fit the frame allocate 400 MP from 40 bytes."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 20_000, 20_000, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame + b"\x3b"


@functools.lru_cache(maxsize=4)
def png_rgba_blank(width: int = 10_000, height: int = 10_000) -> bytes:
    """An RGBA PNG of width x height, all transparent: ~389 KB for 10000x10000, 400 MB decoded
    (1.4 GB of server memory measured before the web pixel limit)."""
    return _png(width, height, 6, 8, _zeros_zlib(width * 4, height))


@functools.lru_cache(maxsize=2)
def png_bomb(side: int = 20_000) -> bytes:
    """A 1-bit greyscale PNG of side x side: ~50 KB that declares 400 MP (a decompression bomb)."""
    return _png(side, side, 0, 1, _zeros_zlib((side + 7) // 8, side))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but whose pixel data is one blank row: a
    decoder that allocates before reading pays for the declared size, then fails."""
    return _png(width, height, 2, 8, zlib.compress(bytes(width * 3 + 1)))


def png_many_chunks(chunks: int = 200_000) -> bytes:
    """A 1x1 PNG preceded by ``chunks`` empty ancillary chunks (each walked one by one)."""
    return _png(1, 1, 0, 8, zlib.compress(b"\x00\x00"), extra=_chunk(b"zzZz", b"") * chunks)


def apng_declaring_frames(frames: int = 1_000_000) -> bytes:
    """An APNG of 1x1 whose acTL declares a million frames."""
    actl = _chunk(b"acTL", struct.pack(">II", frames, 0))
    return _png(1, 1, 0, 8, zlib.compress(b"\x00\x00"), extra=actl)


def webp_many_frames(frames: int = 1_200, side: int = 16) -> bytes:
    """An animated WebP with more frames than the intake accepts (distinct tiny frames)."""
    imgs = [Image.new("RGB", (side, side), (i % 256, (i // 256) % 256, 7)) for i in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, "WEBP", save_all=True, append_images=imgs[1:], lossless=True, duration=10)
    return buf.getvalue()


def jpeg_declaring(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to declare width x height."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff_pages(pages: int = 20_000, loop: bool = False) -> bytes:
    """A TIFF of ``pages`` 1x1 pages sharing one strip (~100 bytes a page; a reader that looks
    each page up in a list is quadratic: 6 s of CPU for 20,000). ``loop``: the last page points
    back to the first."""
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 0), (278, 3, 1, 1), (279, 4, 1, 1)]  # fmt: skip
    ifd_size = 2 + 12 * len(entries) + 4
    strip = 8 + pages * ifd_size
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for i in range(pages):
        nxt = 8 + (i + 1) * ifd_size if i + 1 < pages else (8 if loop else 0)
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            out += struct.pack("<HHII", tag, kind, count, strip if tag == 273 else value)
        out += struct.pack("<I", nxt)
    return bytes(out + b"\x80")


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * keep))]


def benign_jpeg(side: int = 256) -> bytes:
    buf = io.BytesIO()
    Image.radial_gradient("L").resize((side, side)).convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def benign_photo_jpeg(min_bytes: int = 600_000) -> bytes:
    """A benign noisy JPEG of at least ``min_bytes`` (a real-sized phone photo upload)."""
    import numpy as np

    rng = np.random.default_rng(13)
    side = 512
    while True:
        arr = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr, "RGB").save(buf, "JPEG", quality=92)
        if buf.tell() >= min_bytes:
            return buf.getvalue()
        side += 64


#: name -> generator. Every one must be refused (a typed MediaError) or decoded within the
#: budget; the acceptance benchmark replays them all against a live server.
CORPUS: dict[str, Callable[[], bytes]] = {
    "gif_10000x10000_1000_frames": gif_canvas_frames,
    "gif_10000x10000_60_frames": lambda: gif_canvas_frames(frames=60),
    "gif_4000x4000_1000_frames": lambda: gif_canvas_frames(4_000, 4_000, 1_000),
    "gif_frame_outside_canvas": gif_frame_outside_canvas,
    "png_rgba_10000x10000": png_rgba_blank,
    "png_rgba_4000x4000": lambda: png_rgba_blank(4_000, 4_000),  # at the service limit
    "png_bomb_20000x20000": png_bomb,
    "png_declares_30000x30000": lambda: png_declaring(30_000, 30_000),
    "png_declares_4900x4900_truncated": lambda: png_declaring(4_900, 4_900),
    "png_200k_chunks": png_many_chunks,
    "apng_declares_1M_frames": apng_declaring_frames,
    "webp_1200_frames": webp_many_frames,
    "tiff_20000_pages": tiff_pages,
    "jpeg_declares_60000x60000": jpeg_declaring,
    "jpeg_truncated": lambda: truncated(benign_jpeg(512)),
    "png_truncated": lambda: truncated(png_rgba_blank(1_000, 1_000)),
}
