"""Safe media intake.

Never trusts the extension: the format comes from the first bytes. Size limits are checked on the
header before any pixel is decoded, so a 100 KB file declaring 30000x30000 pixels is refused
without allocating 2.7 GB. Animated images keep their frame count, read from the container's
blocks (never by decoding frames); only the first frame is decoded, and the canvas area times
the frame count is bounded too.

Pillow's process-wide settings (``Image.MAX_IMAGE_PIXELS``, ``ImageFile.LOAD_TRUNCATED_IMAGES``)
belong to the host application: intake never changes them. Its own limits are per call
(``Limits``) and never looser than Pillow's bomb limit in force in the process.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from gardefou.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaTooLargeError,
    MediaUnreadableError,
    UnsupportedFormatError,
)
from gardefou.media.headers import read_header

_HEIF_READY: bool | None = None


def _enable_heif() -> bool:
    """Register HEIC/AVIF support once, lazily (pillow-heif is optional)."""
    global _HEIF_READY
    if _HEIF_READY is None:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _HEIF_READY = True
        except ImportError:  # pragma: no cover - depends on the install
            _HEIF_READY = False
    return _HEIF_READY


@dataclass(frozen=True)
class Limits:
    """Bounds applied before decoding. Every limit is configurable; defaults suit user uploads."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 100_000_000  # 100 MP: larger is treated as a decompression bomb
    max_side: int = 30_000
    max_frames: int = 1_000
    # Canvas area x frames: a 23 KB GIF can declare 1,000 frames on a 10000x10000 canvas. Only
    # the first frame is decoded here, but whatever plays the file later pays for all of them.
    max_total_pixels: int = 1_000_000_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_side", "max_frames", "max_total_pixels"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                from gardefou.errors import ConfigError

                raise ConfigError(f"limit {name}={value!r} must be a positive integer")


# (magic prefix, offset, format name). Order matters: longer/more specific first.
_MAGIC: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
]
_FTYP_BRANDS = {
    b"heic": "HEIF",
    b"heix": "HEIF",
    b"hevc": "HEIF",
    b"hevx": "HEIF",
    b"heim": "HEIF",
    b"heis": "HEIF",
    b"mif1": "HEIF",
    b"msf1": "HEIF",
    b"avif": "AVIF",
    b"avis": "AVIF",
}


def sniff_format(data: bytes) -> str | None:
    """Return the image format named by the content's first bytes, or None."""
    for magic, offset, name in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _FTYP_BRANDS:
            return _FTYP_BRANDS[brand]
    return None


def _describe_unknown(data: bytes) -> str:
    head = data[:256].lstrip().lower()
    if head.startswith(b"<?xml") or b"<svg" in head:
        return "SVG (vector images are not accepted; rasterize it to PNG first)"
    if head.startswith(b"%pdf"):
        return "PDF (export the page as an image first)"
    try:
        data[:512].decode("utf-8")
        return "text, not an image"
    except UnicodeDecodeError:
        return f"unknown binary content starting {data[:8].hex()}"


class ContentDigests:
    """The SHA-256 and MD5 of ``data`` (an image's or a clip's bytes), computed once and kept
    in ``_cache``: exact-match banks and evidence need them, most callers never ask."""

    data: bytes
    _cache: dict[str, Any]

    @property
    def sha256(self) -> str:
        if "sha256" not in self._cache:
            self._cache["sha256"] = hashlib.sha256(self.data).hexdigest()
        return str(self._cache["sha256"])

    @property
    def md5(self) -> str:
        if "md5" not in self._cache:
            self._cache["md5"] = hashlib.md5(self.data, usedforsecurity=False).hexdigest()
        return str(self._cache["md5"])


@dataclass
class Media(ContentDigests):
    """A decoded, bounded image and the facts intake learned about it."""

    data: bytes = field(repr=False)
    image: Image.Image = field(repr=False)  # first frame, orientation as stored (see oriented())
    format: str
    width: int
    height: int
    frames: int = 1
    mode: str = "RGB"  # mode of the file before conversion (P, LA, I;16, CMYK, ...)
    exif_orientation: int = 1
    source: str | None = None  # path or caller-supplied label, never fetched
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def rgb(self) -> Image.Image:
        """The first frame as RGB, as stored (no EXIF rotation): what the PDQ reference hashes."""
        if "rgb" not in self._cache:
            self._cache["rgb"] = _to_rgb(self.image)
        img: Image.Image = self._cache["rgb"]
        return img

    def rgb_array(self) -> Any:
        """``rgb()`` as one shared, read-only, C-contiguous uint8 array (numpy copies a Pillow
        image on every ``asarray``, ~1 ms per megapixel: the hashes and the models share this)."""

        def make() -> Any:
            import numpy as np

            arr = np.ascontiguousarray(np.asarray(self.rgb(), dtype=np.uint8))
            arr.flags.writeable = False
            return arr

        return self.cached("rgb_array", make)

    def oriented(self) -> Image.Image:
        """RGB with EXIF orientation applied: what a person sees; used by the face/nudity models."""
        if "oriented" not in self._cache:
            rgb = self.rgb()
            if self.exif_orientation in (2, 3, 4, 5, 6, 7, 8):
                rgb = _apply_orientation(rgb, self.exif_orientation)
            self._cache["oriented"] = rgb
        img: Image.Image = self._cache["oriented"]
        return img

    def cached(self, key: str, factory: Any) -> Any:
        """Memoize derived arrays (resized copies, face boxes) shared across signals."""
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]


def _apply_orientation(img: Image.Image, orientation: int) -> Image.Image:
    ops = {
        2: [Image.Transpose.FLIP_LEFT_RIGHT],
        3: [Image.Transpose.ROTATE_180],
        4: [Image.Transpose.FLIP_TOP_BOTTOM],
        5: [Image.Transpose.TRANSPOSE],
        6: [Image.Transpose.ROTATE_270],
        7: [Image.Transpose.TRANSVERSE],
        8: [Image.Transpose.ROTATE_90],
    }[orientation]
    for op in ops:
        img = img.transpose(op)
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any mode to 8-bit RGB. Alpha is composited on white (what a viewer shows)."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits rather than clip (Pillow's convert clips at 255).
        import numpy as np

        arr = np.asarray(img, dtype=np.uint32)
        arr8 = (arr >> 8).astype("uint8") if arr.max() > 255 else arr.astype("uint8")
        return Image.fromarray(arr8, "L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # An RGBA image is its own mask (its alpha band): no converted copy, no extra channel.
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba)
        return background
    return img.convert("RGB")


def load_media(
    source: str | os.PathLike[str] | bytes, limits: Limits | None = None, label: str | None = None
) -> Media:
    """Read and decode one image safely. Raises a MediaError subclass naming the reason."""
    limits = limits or Limits()
    data, where = read_source(
        source, limits.max_bytes, label, "Limits.max_bytes or send a smaller file"
    )
    return _decode(data, limits, where)


def read_source(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview,
    max_bytes: int,
    label: str | None,
    fix: str,
) -> tuple[bytes, str]:
    """The bytes of ``source`` (bytes, or a path read whole only when its size is within
    ``max_bytes``) and the name errors use; ``fix`` ends the size error ("raise <fix>")."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), label or "<bytes>"
    path = Path(source)
    where = label or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise MediaTooLargeError(
                f"{where}: file is {size:,} bytes (limit {max_bytes:,}); raise {fix}"
            )
        return path.read_bytes(), where
    except MediaTooLargeError:
        raise
    except IsADirectoryError:
        raise MediaUnreadableError(f"{where}: is a directory, not a file") from None
    except OSError as exc:
        raise MediaUnreadableError(
            f"{where}: cannot read file ({exc.strerror or exc}); check that it exists "
            "and that this user may read it"
        ) from None


def _decode(data: bytes, limits: Limits, where: str) -> Media:
    if not data:
        raise EmptyMediaError(f"{where}: zero bytes; send the image's content")
    if len(data) > limits.max_bytes:
        raise MediaTooLargeError(
            f"{where}: {len(data):,} bytes (limit {limits.max_bytes:,}); raise Limits.max_bytes"
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedFormatError(
            f"{where}: {_describe_unknown(data)}; supported: JPEG, PNG, WebP, GIF, BMP, TIFF, "
            "HEIC, AVIF"
        )
    if fmt in ("HEIF", "AVIF") and not _enable_heif():
        raise UnsupportedFormatError(
            f"{where}: {fmt} needs pillow-heif; install it with `pip install pillow-heif`"
        )
    # Header first: size and frames from the container's bytes, before Pillow reads anything.
    header = read_header(data, fmt, limits.max_frames, where)
    if header is not None:
        _check_dimensions(header.width, header.height, limits, where)
        _check_frames(header.width * header.height, header.frames, limits, where)
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
        _check_dimensions(width, height, limits, where)
        if header is not None:
            frames = header.frames
        else:  # TIFF pages, HEIF images: Pillow reads the count from the header, no decode
            frames = int(getattr(img, "n_frames", 1))
            _check_frames(width * height, frames, limits, where)
        mode = img.mode
        orientation = _exif_orientation(img)
        img.load()  # the first frame only
    except (MediaTooLargeError, UnsupportedFormatError, CorruptMediaError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own bomb limit in this process (the host's setting) is lower than ours.
        raise MediaTooLargeError(f"{where}: decompression bomb refused ({exc})") from None
    except UnidentifiedImageError:
        raise CorruptMediaError(
            f"{where}: looks like {fmt} but cannot be parsed; the file is damaged"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptMediaError(
            f"{where}: {fmt} data is truncated or corrupt ({exc}); re-export the image"
        ) from None
    return Media(
        data=data,
        image=img,
        format=fmt,
        width=width,
        height=height,
        frames=frames,
        mode=mode,
        exif_orientation=orientation,
        source=where,
    )


def _pixel_limit(limits: Limits) -> tuple[int, str]:
    """The pixel limit in force: ours, or Pillow's bomb limit in this process when lower (the
    host's setting: never relaxed, never changed)."""
    pillow = Image.MAX_IMAGE_PIXELS
    if pillow is not None and pillow < limits.max_pixels:
        return int(pillow), "PIL.Image.MAX_IMAGE_PIXELS in this process"
    return limits.max_pixels, "Limits.max_pixels"


def _check_frames(area: int, frames: int, limits: Limits, where: str) -> None:
    if frames > limits.max_frames:
        raise MediaTooLargeError(
            f"{where}: more than {limits.max_frames:,} frames (limit {limits.max_frames:,}); "
            "raise Limits.max_frames or send a still image"
        )
    if area * frames > limits.max_total_pixels:
        raise MediaTooLargeError(
            f"{where}: {frames:,} frames on a {area / 1e6:.1f} MP canvas = "
            f"{area * frames / 1e6:,.0f} MP in all (limit {limits.max_total_pixels / 1e6:,.0f} "
            "MP, Limits.max_total_pixels); send a still image or a shorter animation"
        )


def _check_dimensions(width: int, height: int, limits: Limits, where: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptMediaError(f"{where}: declares {width}x{height} px; the header is damaged")
    if width > limits.max_side or height > limits.max_side:
        raise MediaTooLargeError(
            f"{where}: image too large: {width}x{height} px (limit {limits.max_side} px a side)"
        )
    max_pixels, which = _pixel_limit(limits)
    if width * height > max_pixels:
        raise MediaTooLargeError(
            f"{where}: image too large: {width}x{height} px = {width * height / 1e6:.0f} MP "
            f"(limit {max_pixels / 1e6:.0f} MP, {which}); possible decompression bomb"
        )


def _exif_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not reject the image
        return 1


__all__ = ["ImageOps", "Limits", "Media", "load_media", "sniff_format"]
