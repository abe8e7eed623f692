"""Read an image's declared size and frame count from its header bytes, without a decoder.

Intake checks these against its limits before Pillow sees the file: a 23 KB GIF can declare a
10000x10000 canvas and 1,000 frames, and counting frames by seeking through them composites
every one on the full canvas (minutes of CPU). Walking the container's blocks costs microseconds
a frame and stops one frame past the limit. Formats without a walker here (HEIF, AVIF, BigTIFF)
return None: intake then checks what Pillow read from the header, before decoding pixels.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from gardefou.errors import CorruptMediaError, MediaTooLargeError

#: Real PNGs carry a few dozen chunks before the pixel data; a file with more is built to make
#: a reader walk them one by one.
MAX_PNG_CHUNKS = 4_096


@dataclass(frozen=True)
class Header:
    width: int  # canvas: the largest area any frame may draw on
    height: int
    frames: int  # counted up to the limit + 1 (more means "over the limit")


def read_header(data: bytes, fmt: str, max_frames: int, where: str) -> Header | None:
    """The declared canvas and frame count of ``data`` (sniffed as ``fmt``), or None when this
    module has no walker for the format. Raises CorruptMediaError when the header is cut short."""
    reader = _READERS.get(fmt)
    if reader is None:
        return None
    try:
        return reader(data, max_frames, where)
    except (struct.error, IndexError):
        raise CorruptMediaError(
            f"{where}: {fmt} header is truncated or corrupt; re-export the image"
        ) from None


def _png(data: bytes, max_frames: int, where: str) -> Header:
    if data[12:16] != b"IHDR":
        raise CorruptMediaError(f"{where}: PNG without an IHDR header; the file is damaged")
    width, height = struct.unpack(">II", data[16:24])
    frames = 1
    pos, chunks = 8, 0
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"acTL":  # animated PNG: the declared frame count
            frames = struct.unpack(">I", data[pos + 8 : pos + 12])[0]
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise MediaTooLargeError(
                f"{where}: PNG has more than {MAX_PNG_CHUNKS:,} chunks before its pixel data "
                "(a real image has a few dozen); re-export the image"
            )
        pos += 12 + length
    return Header(width, height, max(1, frames))


def _gif(data: bytes, max_frames: int, where: str) -> Header:
    """Walk the GIF blocks: count image descriptors, grow the canvas to every frame's extent
    (decoders enlarge the canvas to fit a frame that overflows the logical screen)."""
    width, height, flags = struct.unpack("<HHB", data[6:11])
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    end = len(data)
    while pos < end and frames <= max_frames:
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image descriptor
            x, y, w, h, fflags = struct.unpack("<HHHHB", data[pos + 1 : pos + 10])
            width, height = max(width, x + w), max(height, y + h)
            frames += 1
            pos += 10 + (3 * 2 ** ((fflags & 7) + 1) if fflags & 0x80 else 0)
            pos = _skip_sub_blocks(data, pos + 1)  # after the LZW minimum code size
        else:
            break  # garbage after the last frame: decoders stop here too
    return Header(width, height, max(1, frames))


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return end


def _jpeg(data: bytes, max_frames: int, where: str) -> Header:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            pos += 1  # tolerate fill bytes between segments, as libjpeg does
            continue
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return Header(width, height, 1)
        if marker in (0xD9, 0xDA):
            break
        pos += 2 + length
    raise CorruptMediaError(f"{where}: JPEG without a frame header; the file is damaged")


def _webp(data: bytes, max_frames: int, where: str) -> Header:
    kind = data[12:16]
    if kind == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return Header(w & 0x3FFF, h & 0x3FFF, 1)
    if kind == b"VP8L":
        bits = struct.unpack("<I", data[21:25])[0]
        return Header((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 1)
    if kind != b"VP8X":
        raise CorruptMediaError(f"{where}: WebP chunk {kind!r} is not an image; file damaged")
    width = int.from_bytes(data[24:27], "little") + 1
    height = int.from_bytes(data[27:30], "little") + 1
    frames, pos = 0, 12
    while pos + 8 <= len(data) and frames <= max_frames:
        chunk, length = struct.unpack("<4sI", data[pos : pos + 8])
        if chunk == b"ANMF":
            frames += 1
        pos += 8 + length + (length & 1)
    return Header(width, height, max(1, frames))


def _bmp(data: bytes, max_frames: int, where: str) -> Header:
    if struct.unpack("<I", data[14:18])[0] == 12:  # OS/2 BITMAPCOREHEADER
        w, h = struct.unpack("<HH", data[18:22])
        return Header(w, h, 1)
    w, h = struct.unpack("<ii", data[18:26])
    return Header(w, abs(h), 1)  # a negative height means top-down rows


def _tiff(data: bytes, max_frames: int, where: str) -> Header | None:
    """Walk the IFD chain (pages) up to the limit. Pillow's own page count walks every IFD
    with a list lookup per page: a 2 MB file of 20,000 pages cost 6 s of CPU."""
    order = "<" if data[:2] == b"II" else ">"
    if struct.unpack(order + "H", data[2:4])[0] != 42:
        return None  # BigTIFF: Pillow reads its header (rare for uploads)
    offset = struct.unpack(order + "I", data[4:8])[0]
    width = height = 0
    frames, seen = 0, set()
    while offset and frames <= max_frames:
        if offset in seen or offset + 2 > len(data):
            break  # a loop or a dangling pointer ends the chain, as for decoders
        seen.add(offset)
        count = struct.unpack(order + "H", data[offset : offset + 2])[0]
        if frames == 0:
            for i in range(count):
                entry = offset + 2 + 12 * i
                tag, kind = struct.unpack(order + "HH", data[entry : entry + 4])
                if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
                    size, fmt = (2, "H") if kind == 3 else (4, "I")
                    raw = data[entry + 8 : entry + 8 + size]
                    value = struct.unpack(order + fmt, raw)[0]
                    width, height = (value, height) if tag == 256 else (width, value)
        frames += 1
        nxt = offset + 2 + 12 * count
        offset = struct.unpack(order + "I", data[nxt : nxt + 4])[0]
    return Header(width, height, max(1, frames))


_READERS = {"PNG": _png, "GIF": _gif, "JPEG": _jpeg, "WEBP": _webp, "BMP": _bmp, "TIFF": _tiff}
