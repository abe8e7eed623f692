"""Safe video intake: bytes or a path in, a probed, bounded video out, or a typed error.

MP4, MOV, WebM and MKV go through PyAV (FFmpeg, from the ``video`` extra); animated GIF and
WebP through Pillow. The container is chosen from the first bytes, never the extension, and
FFmpeg is given that one demuxer, the bytes in memory and an ``io_open`` that refuses every
secondary open: a playlist, a QuickTime reference or a concat list cannot make it read another
file or a URL. Limits (``VideoLimits``) are checked twice:

* before decoding, on what the container declares: bytes, width and height, duration, frame
  count;
* during decoding, on what the decoder produces: every frame's size (a stream may change size
  mid-way, or declare small and decode large), the frame count, the timestamps, and the wall
  time spent (``max_decode_seconds``), checked after every packet.

FFmpeg's own ``max_pixels`` decoder option is set to the pixel limit so a frame larger than it is
refused inside the decoder, before its buffer is allocated. Decoding runs single-threaded by
default (``threads=1``): a worker pool scales by processes, and one upload must not take
every core. Frame iteration lives in ``video_frames``.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import (
    ConfigError,
    CorruptMediaError,
    EmptyMediaError,
    MediaTooLargeError,
    MediaTooLongError,
    ModelUnavailableError,
    UnsupportedFormatError,
)
from gardefou.media.intake import ContentDigests, read_source

#: container -> FFmpeg demuxer name (None: decoded by Pillow)
DEMUXERS: dict[str, str | None] = {
    "MP4": "mov,mp4,m4a,3gp,3g2,mj2",
    "MOV": "mov,mp4,m4a,3gp,3g2,mj2",
    "WEBM": "matroska,webm",
    "MKV": "matroska,webm",
    "GIF": None,
    "WEBP": None,
}
SUPPORTED = "MP4, MOV, WebM, MKV, animated GIF, animated WebP"

# ISO base media brands that are still images (HEIF/AVIF): image intake takes them.
_IMAGE_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
#: FFmpeg's own max_pixels, as a multiple of VideoLimits.max_pixels (a 1080p limit: 33 MP, ~50 MB
#: per YUV frame at most)
FFMPEG_PIXEL_FACTOR = 16
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


@dataclass(frozen=True)
class VideoLimits:
    """Bounds for one video. Defaults suit user uploads of short clips (a 10-minute 1080p60
    video fits; a 4K one needs ``max_pixels`` raised)."""

    max_bytes: int = 512 * 1024 * 1024
    max_side: int = 4096
    max_pixels: int = 1920 * 1088
    max_seconds: float = 600.0
    max_frames: int = 40_000
    max_decode_seconds: float = 300.0

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_side", "max_pixels", "max_frames"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"video limit {name}={value!r} must be a positive integer")
        for name in ("max_seconds", "max_decode_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"video limit {name}={value!r} must be a positive number")


def sniff_video(data: bytes) -> str | None:
    """The container named by the first bytes (MP4, MOV, WEBM, MKV, GIF, WEBP), or None.
    GIF and WebP are named whether or not they are animated (``open_video`` checks)."""
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _IMAGE_BRANDS:
            return None
        return "MOV" if brand == b"qt  " else "MP4"
    if data[4:8] in _QT_ATOMS:
        return "MOV"
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML: the DocType says which
        return "WEBM" if b"webm" in data[:64] else "MKV"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


@dataclass
class Video(ContentDigests):
    """A probed video: the bytes, what the container declares, and the limits to decode under.
    Decode it with ``gardefou.media.video_frames.iter_frames``."""

    data: bytes = field(repr=False)
    format: str
    codec: str
    width: int
    height: int
    fps: float  # the stream's average rate (the reference vPDQ's frame rate), 0 if unknown
    duration: float  # seconds, as declared (0.0 when the container does not say)
    declared_frames: int  # 0 when the container does not say
    limits: VideoLimits = field(repr=False)
    threads: int = 1
    source: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def open_container(self) -> Any:
        """A fresh PyAV input container over the bytes (FFmpeg formats only)."""
        return _av_open(self.data, self.format, self.limits, self.source or "<bytes>")


def load_video(
    source: str | os.PathLike[str] | bytes,
    limits: VideoLimits | None = None,
    label: str | None = None,
    threads: int = 1,
) -> Video:
    """Read and probe one video safely; raises a MediaError subclass naming the reason."""
    limits = limits or VideoLimits()
    data, where = read_source(
        source, limits.max_bytes, label, "VideoLimits.max_bytes or send a shorter clip"
    )
    return probe(data, limits, where, threads)


def probe(data: bytes, limits: VideoLimits, where: str, threads: int = 1) -> Video:
    if not data:
        raise EmptyMediaError(f"{where}: zero bytes; send the video's content")
    if len(data) > limits.max_bytes:
        raise MediaTooLargeError(
            f"{where}: {len(data):,} bytes (limit {limits.max_bytes:,}); "
            "raise VideoLimits.max_bytes"
        )
    fmt = sniff_video(data)
    if fmt is None:
        raise UnsupportedFormatError(
            f"{where}: content starting {data[:12].hex()} is not a supported video; "
            f"supported: {SUPPORTED}"
        )
    if DEMUXERS[fmt] is None:
        from gardefou.media.video_frames import probe_animation

        return probe_animation(data, fmt, limits, where)
    with _av_open(data, fmt, limits, where) as container:
        stream = _video_stream(container, where)
        cc = stream.codec_context
        width, height = int(cc.width or 0), int(cc.height or 0)
        check_size(width, height, limits, where, "declares")
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        duration = _declared_duration(container, stream)
        check_duration(duration, limits, where, "declares")
        frames = int(stream.frames or 0)
        if frames > limits.max_frames:
            raise MediaTooLargeError(
                f"{where}: declares {frames:,} frames (limit {limits.max_frames:,}); raise "
                "VideoLimits.max_frames or send a shorter clip"
            )
        codec = str(cc.name)
    return Video(
        data=data,
        format=fmt,
        codec=codec,
        width=width,
        height=height,
        fps=fps,
        duration=duration,
        declared_frames=frames,
        limits=limits,
        threads=threads,
        source=where,
    )


def check_size(width: int, height: int, limits: VideoLimits, where: str, verb: str) -> None:
    if width <= 0 or height <= 0:
        raise CorruptMediaError(
            f"{where}: {verb} {width}x{height} px: no usable frame size (a damaged header, or "
            f"one declaring over {FFMPEG_PIXEL_FACTOR * limits.max_pixels / 1e6:.0f} MP, which "
            "the decoder refuses before allocating); re-encode the video"
        )
    if width > limits.max_side or height > limits.max_side:
        raise MediaTooLargeError(
            f"{where}: {verb} frames of {width}x{height} px (limit {limits.max_side} px a "
            "side); raise VideoLimits.max_side"
        )
    if width * height > limits.max_pixels:
        raise MediaTooLargeError(
            f"{where}: {verb} frames of {width}x{height} px = {width * height / 1e6:.1f} MP "
            f"(limit {limits.max_pixels / 1e6:.1f} MP); raise VideoLimits.max_pixels"
        )


def check_duration(seconds: float, limits: VideoLimits, where: str, verb: str) -> None:
    if seconds > limits.max_seconds:
        raise MediaTooLongError(
            f"{where}: {verb} {seconds:,.1f} s of video (limit {limits.max_seconds:,.0f} s); "
            "raise VideoLimits.max_seconds or send a shorter clip"
        )


def _declared_duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return max(0.0, float(stream.duration * stream.time_base))
    if container.duration is not None:
        return max(0.0, container.duration / 1_000_000)
    return 0.0


def _video_stream(container: Any, where: str) -> Any:
    streams = list(container.streams.video)
    if not streams:
        raise UnsupportedFormatError(f"{where}: the file has no video track")
    return streams[0]


def _refuse_io_open(url: str, flags: int, options: dict[str, Any]) -> Any:
    # Why: a demuxer asking to open a second resource (an HLS segment, a QuickTime data
    # reference, a concat entry) would read a local file or a URL named by the upload.
    raise PermissionError(f"refused to open {url[:80]!r}: uploads are read from memory only")


def av_module() -> Any:
    try:
        import av
    except ImportError:
        raise ModelUnavailableError(
            "video decoding needs PyAV; install it with `pip install 'gardefou[video]'`"
        ) from None
    return av


def _av_open(data: bytes, fmt: str, limits: VideoLimits, where: str) -> Any:
    av = av_module()
    demuxer = DEMUXERS[fmt]
    options = {
        # bounded probing: FFmpeg reads at most this much to find the streams
        "probesize": str(min(len(data), 32 * 1024 * 1024)),
        "analyzeduration": str(10_000_000),
        # a ceiling inside FFmpeg, before any frame buffer is allocated: 16x our own limit, so
        # a size moderately over the limit still reaches check_size (which names it) while a
        # 100000x100000 header is zeroed by FFmpeg and refused as unusable
        "max_pixels": str(FFMPEG_PIXEL_FACTOR * limits.max_pixels),
        "enable_drefs": "0",
    }
    try:
        return av.open(
            io.BytesIO(data), mode="r", format=demuxer, options=options, io_open=_refuse_io_open
        )
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(
            f"{where}: looks like {fmt} but FFmpeg cannot open it ({_av_reason(exc)}); "
            "the file is truncated or damaged"
        ) from None


def _av_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text)[:160]


__all__ = [
    "DEMUXERS",
    "SUPPORTED",
    "Video",
    "VideoLimits",
    "check_duration",
    "check_size",
    "load_video",
    "probe",
    "sniff_video",
]
