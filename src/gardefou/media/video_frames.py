"""Decoding a probed ``Video`` frame by frame, under its limits.

``iter_frames`` decodes every frame (the count, size, timestamp and time limits apply to all of
them) and converts to RGB only the frames a selector keeps. Two selectors:

* ``every_n_frames`` is the reference vPDQ's: frame number (decode order, from 0) modulo
  ``int(seconds_per_hash * fps)`` (at least 1), timestamp ``frame_number / fps``;
* ``TimeSampler`` keeps the first frame of every ``seconds`` interval plus scene changes (a
  frame whose 32x32 grey thumbnail differs from the last kept one by more than ``scene`` in
  mean absolute value, 0-1): what the signals look at.

RGB conversion uses FFmpeg's swscale with area averaging, as the reference does (at the coded
size, or at ``size`` when given). Animated GIF and WebP are decoded by Pillow under the same
limits; their timestamps come from the frame durations.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from gardefou.errors import (
    CorruptMediaError,
    MediaTimeoutError,
    MediaTooLargeError,
)
from gardefou.media.video import (
    Video,
    VideoLimits,
    av_module,
    check_duration,
    check_size,
)

#: a selector sees (frame number, timestamp, thumbnail-or-None) and says whether to keep it
Selector = Callable[[int, float, Any], bool]


@dataclass(frozen=True)
class Frame:
    index: int  # decode order from 0 (the reference vPDQ's frame number)
    timestamp: float  # seconds
    rgb: np.ndarray  # (H, W, 3) uint8, as coded (vPDQ hashes it so, as the reference does)
    #: counter-clockwise degrees (0, 90, 180, 270) the display matrix turns the frame by: a
    #: phone's portrait clip is coded sideways; the signals look at it turned (frame_media)
    rotation: int = 0


def every_n_frames(
    video: Video, seconds_per_hash: float
) -> tuple[Selector, Callable[[int], float]]:
    """The reference's sampling: (selector, frame number -> timestamp)."""
    fps = video.fps or 1.0
    mod = max(1, int(seconds_per_hash * fps))
    fps32 = np.float32(fps)
    return (lambda i, t, thumb: i % mod == 0), (lambda i: float(np.float32(i) / fps32))


class TimeSampler:
    """First frame of each ``seconds`` interval, plus scene changes above ``scene`` (0-1)."""

    def __init__(self, seconds: float = 1.0, scene: float | None = 0.25) -> None:
        self.seconds, self.scene = seconds, scene
        self.wants_thumbnail = scene is not None
        self._next = 0.0
        self._last: np.ndarray | None = None

    def __call__(self, index: int, timestamp: float, thumb: Any) -> bool:
        keep = timestamp >= self._next
        if not keep and self.scene is not None and thumb is not None and self._last is not None:
            keep = float(np.abs(thumb - self._last).mean()) / 255.0 > self.scene
        if keep:
            while self._next <= timestamp:
                self._next += self.seconds
            if thumb is not None:
                self._last = thumb
        return keep


def iter_frames(
    video: Video,
    select: Selector | None = None,
    size: tuple[int, int] | None = None,
    timestamps: Callable[[int], float] | None = None,
) -> Iterator[Frame]:
    """Decode ``video``; yield the frames ``select`` keeps (all when None) as RGB, resized to
    ``size`` (width, height) when given. Raises a MediaError subclass on any limit or damage."""
    if video.format in ("GIF", "WEBP"):
        yield from _iter_animation(video, select, size)
        return
    yield from _iter_av(video, select, size, timestamps)


class _Clock:
    """Time spent inside the decoder only (not in the caller's work between frames)."""

    def __init__(self, limits: VideoLimits, where: str) -> None:
        self.limit, self.where, self.spent = limits.max_decode_seconds, where, 0.0
        self._start = 0.0

    def __enter__(self) -> _Clock:
        self._start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.spent += time.monotonic() - self._start
        self.check()

    def check(self) -> None:
        if self.spent > self.limit:
            raise MediaTimeoutError(
                f"{self.where}: decoding took over {self.limit:g} s (spent {self.spent:.1f} s); "
                "raise VideoLimits.max_decode_seconds or send a shorter clip"
            )


def _iter_av(
    video: Video,
    select: Selector | None,
    size: tuple[int, int] | None,
    timestamps: Callable[[int], float] | None,
) -> Iterator[Frame]:
    av = av_module()
    limits, where = video.limits, video.source or "<bytes>"
    clock = _Clock(limits, where)
    wants_thumb = bool(getattr(select, "wants_thumbnail", False))
    index, last_time = 0, 0.0
    with clock:
        container = video.open_container()
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE" if video.threads > 1 else "NONE"
        stream.thread_count = video.threads
        packets = container.demux(stream)
        while True:
            with clock:
                try:
                    packet = next(packets, None)
                    if packet is None:
                        break
                    decoded = packet.decode()
                except av.error.FFmpegError as exc:
                    raise CorruptMediaError(
                        f"{where}: {video.format}/{video.codec} stream is damaged after frame "
                        f"{index} ({_reason(exc)}); re-encode the video"
                    ) from None
            for frame in decoded:
                check_size(frame.width, frame.height, limits, where, "decodes")
                if index >= limits.max_frames:
                    raise MediaTooLargeError(
                        f"{where}: more than {limits.max_frames:,} frames (limit "
                        f"{limits.max_frames:,}); raise VideoLimits.max_frames"
                    )
                t = _frame_time(frame, index, video)
                check_duration(t, limits, where, "decodes")
                last_time = max(last_time, t)
                thumb = None
                if wants_thumb:
                    thumb = frame.reformat(32, 32, "gray").to_ndarray().astype(np.int16)
                if select is None or select(index, t, thumb):
                    with clock:
                        rgb = _rgb(frame, size)
                    turn = round(float(frame.rotation or 0) / 90.0) * 90 % 360
                    yield Frame(index, timestamps(index) if timestamps else t, rgb, turn)
                index += 1
    if index == 0:
        raise CorruptMediaError(f"{where}: no frame could be decoded; the file is damaged")
    if video.duration > 2.0 and last_time < 0.8 * video.duration - 1.0:
        raise CorruptMediaError(
            f"{where}: decoding stopped at {last_time:.1f} s of a declared "
            f"{video.duration:.1f} s; the file is truncated"
        )


def _frame_time(frame: Any, index: int, video: Video) -> float:
    t = frame.time
    if t is None:
        return index / video.fps if video.fps else 0.0
    return max(0.0, float(t))


def _rgb(frame: Any, size: tuple[int, int] | None) -> np.ndarray:
    width, height = size if size else (frame.width, frame.height)
    out = frame.reformat(width, height, "rgb24", interpolation="AREA").to_ndarray()
    return np.ascontiguousarray(out)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)[:160]


# ----- animated GIF / WebP (Pillow) ---------------------------------------------------------


def _iter_animation(
    video: Video, select: Selector | None, size: tuple[int, int] | None
) -> Iterator[Frame]:
    from PIL import Image

    limits, where = video.limits, video.source or "<bytes>"
    clock = _Clock(limits, where)
    wants_thumb = bool(getattr(select, "wants_thumbnail", False))
    img = Image.open(io.BytesIO(video.data))
    index, t = 0, 0.0
    while True:
        with clock:
            try:
                img.seek(index)
            except EOFError:
                break
            except (OSError, ValueError, SyntaxError) as exc:
                raise CorruptMediaError(
                    f"{where}: {video.format} frame {index} is damaged ({exc})"
                ) from None
        if index >= limits.max_frames:
            raise MediaTooLargeError(
                f"{where}: more than {limits.max_frames:,} frames (limit "
                f"{limits.max_frames:,}); raise VideoLimits.max_frames"
            )
        check_duration(t, limits, where, "decodes")
        thumb = None
        if wants_thumb:
            with clock:
                thumb = np.asarray(img.convert("L").resize((32, 32)), dtype=np.int16)
        if select is None or select(index, t, thumb):
            with clock:
                try:
                    rgb = img.convert("RGB")
                except (OSError, ValueError) as exc:
                    raise CorruptMediaError(
                        f"{where}: {video.format} frame {index} is damaged ({exc})"
                    ) from None
                if size:
                    rgb = rgb.resize(size, Image.Resampling.BOX)
            yield Frame(index, round(t, 6), np.ascontiguousarray(np.asarray(rgb, np.uint8)))
        # GIF/WebP store each frame's display time in ms; a 0 ms frame still counts
        t += max(0, int(img.info.get("duration", 0) or 0)) / 1000.0
        index += 1
    if index == 0:
        raise CorruptMediaError(f"{where}: no frame could be decoded; the file is damaged")


__all__ = [
    "Frame",
    "TimeSampler",
    "every_n_frames",
    "iter_frames",
]
