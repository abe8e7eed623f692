"""vPDQ: the reference video hash (ThreatExchange ``vpdq``) on PyAV and gardefou's PDQ.

A vPDQ hash is a list of features, one per sampled frame: the frame's PDQ hash, its quality and
its timestamp. As the reference computes it:

* frames are sampled by frame number (decode order): every ``int(seconds_per_hash * fps)``-th
  (at least every frame; ``seconds_per_hash=0`` hashes every frame), ``fps`` being the stream's
  average frame rate; the timestamp is ``frame_number / fps`` in float32;
* each kept frame is converted to RGB24 by swscale with area averaging, at the coded size or at
  a given downsample size;
* PDQ runs on the whole frame: float32 luma ``0.299 R + 0.587 G + 0.114 B`` (float arithmetic,
  not the float64 of the image path), the Jarosz filter and 64x64 decimation straight from the
  frame (the image path's 512-px nearest-neighbour step is not applied), DCT, median.

On the reference's 14 sample videos the frame counts and timestamps are identical and every
frame of quality 50 or more is within the reference's distance tolerance; exact bit equality
depends on the FFmpeg build (see docs/video.md for the measured figures).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gardefou.errors import HashFormatError
from gardefou.media.video import Video
from gardefou.media.video_frames import TimeSampler, every_n_frames, iter_frames
from gardefou.media.video_skip import SkipUnsafe, can_skip, iter_sampled
from gardefou.signals.pdq_core import bits_to_hex, hex_to_bytes

#: the reference's thresholds (python-threatexchange ``vpdq_util``)
QUALITY_THRESHOLD = 50
DISTANCE_THRESHOLD = 31
QUERY_MATCH_PCT = 80.0
INDEX_MATCH_PCT = 0.0
_R, _G, _B = np.float32(0.299), np.float32(0.587), np.float32(0.114)


@dataclass(frozen=True)
class VpdqFeature:
    pdq_hex: str
    quality: int
    timestamp: float
    frame_number: int = -1  # -1 when read from a format that does not carry it

    def compact(self) -> str:
        """``hex,quality,timestamp``: python-threatexchange's VpdqCompactFeature string."""
        return f"{self.pdq_hex},{self.quality},{self.timestamp:.3f}"


def frame_pdq(rgb: np.ndarray) -> tuple[str, int]:
    """(hex, quality) of one video frame as the reference vPDQ hashes it."""
    h, w = rgb.shape[:2]
    if h < 5 or w < 5:  # the reference's MIN_HASHABLE_DIM: no hash, quality 0
        return "0" * 64, 0
    rgb32 = rgb.astype(np.float32)
    # the reference's float expression, left to right: R*cr + G*cg, then + B*cb
    luma = rgb32[..., 0] * _R + rgb32[..., 1] * _G
    luma += rgb32[..., 2] * _B
    try:
        from gardefou.signals import _pdq_numba as fast
    except ImportError:  # pragma: no cover - numba is in gardefou[fast]
        return _pdqhash_frame(rgb)
    coeffs, quality = fast._float16x16(
        np.ascontiguousarray(luma, np.float32), fast.DCT, (h, w) != (64, 64)
    )
    return bits_to_hex(fast._bits(coeffs)), int(quality)


def _pdqhash_frame(rgb: np.ndarray) -> tuple[str, int]:
    """Without numba: pdqhash (its float64 luma may flip a few bits on some frames)."""
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return bits_to_hex(bits), int(quality)


def hash_video(
    video: Video,
    seconds_per_hash: float = 1.0,
    size: tuple[int, int] | None = None,
) -> list[VpdqFeature]:
    """The vPDQ features of ``video`` (see the module docstring); ``size`` = (width, height) to
    downsample to before hashing, as the reference's ``downsample_width/height``."""
    return video_hashes(video, seconds_per_hash, size, crop_bars=False).features


@dataclass(frozen=True)
class VideoHashes:
    """The reference vPDQ of a video, its bar-cropped variant, and the file hashes."""

    features: list[VpdqFeature]
    #: the same frames hashed with black bars removed; empty when no sampled frame has bars.
    #: PDQ is not crop-invariant: a letterboxed upload and its bar-free re-encode share no frame
    #: hash, so matching compares both variants (``gardefou.banks.video.match_hashes``).
    cropped: list[VpdqFeature]
    md5: str
    sha256: str
    duration: float

    def variants(self) -> list[list[VpdqFeature]]:
        return [self.features] + ([self.cropped] if self.cropped else [])


#: a border row/column is a bar when its mean luma is under this (0-255) ...
BAR_MEAN = 24.0
#: ... and its brightest pixel under this (compression noise stays well below it)
BAR_MAX = 64.0
#: at most this share of the height (width) is taken as bars on each side
BAR_MAX_SHARE = 0.3


def bar_crop(rgb: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) pixel rows/columns of black bars, or None without bars."""
    h, w = rgb.shape[:2]
    grey = rgb.mean(axis=2, dtype=np.float32)

    def run(mean: np.ndarray, peak: np.ndarray, limit: int) -> int:
        dark = (mean < BAR_MEAN) & (peak < BAR_MAX)
        n = int(np.argmin(dark)) if not dark.all() else len(dark)
        return n if n <= limit else 0

    rows_mean, rows_max = grey.mean(axis=1), grey.max(axis=1)
    cols_mean, cols_max = grey.mean(axis=0), grey.max(axis=0)
    top = run(rows_mean, rows_max, int(h * BAR_MAX_SHARE))
    bottom = run(rows_mean[::-1], rows_max[::-1], int(h * BAR_MAX_SHARE))
    left = run(cols_mean, cols_max, int(w * BAR_MAX_SHARE))
    right = run(cols_mean[::-1], cols_max[::-1], int(w * BAR_MAX_SHARE))
    # a bar under 2% of the side is encoder padding or noise, not a letterbox
    top, bottom = (top, bottom) if top + bottom >= 0.02 * h else (0, 0)
    left, right = (left, right) if left + right >= 0.02 * w else (0, 0)
    if not (top or bottom or left or right):
        return None
    return top, bottom, left, right


def video_hashes(
    video: Video,
    seconds_per_hash: float = 1.0,
    size: tuple[int, int] | None = None,
    crop_bars: bool = True,
) -> VideoHashes:
    """One decoding pass: the reference features and (``crop_bars``) the bar-cropped ones."""
    if seconds_per_hash < 0:
        raise ValueError(f"seconds_per_hash={seconds_per_hash!r} must be 0 or more")
    if not video.fps:  # animations: sample by their own frame durations
        frames = iter_frames(video, TimeSampler(seconds_per_hash, scene=None), size)
        return _hashes(video, frames, crop_bars)
    select, stamp = every_n_frames(video, seconds_per_hash)
    every = max(1, int(seconds_per_hash * video.fps))
    if every > 1 and can_skip(video):
        # frames neither sampled nor referenced are not decoded (media.video_skip); the same
        # features, or a full decode when the packets cannot number the frames
        try:
            return _hashes(video, iter_sampled(video, every, size, stamp), crop_bars)
        except SkipUnsafe:
            pass
    return _hashes(video, iter_frames(video, select, size, timestamps=stamp), crop_bars)


def _hashes(video: Video, frames: Iterable[Any], crop_bars: bool) -> VideoHashes:
    out, cropped, any_bars = [], [], False
    for f in frames:
        hex_hash, quality = frame_pdq(f.rgb)
        feature = VpdqFeature(hex_hash, quality, f.timestamp, f.index)
        out.append(feature)
        if crop_bars:
            bars = bar_crop(f.rgb)
            if bars is None:
                cropped.append(feature)
                continue
            any_bars = True
            top, bottom, left, right = bars
            h, w = f.rgb.shape[:2]
            c_hex, c_quality = frame_pdq(f.rgb[top : h - bottom, left : w - right])
            cropped.append(VpdqFeature(c_hex, c_quality, f.timestamp, f.index))
    return VideoHashes(
        features=out,
        cropped=cropped if any_bars else [],
        md5=video.md5,
        sha256=video.sha256,
        duration=max((f.timestamp for f in out), default=0.0),
    )


# ----- text forms -------------------------------------------------------------------------


def to_reference_lines(features: Iterable[VpdqFeature]) -> str:
    """The reference CLI's file: ``frame_number,quality,hex,timestamp`` per line."""
    return "".join(
        f"{f.frame_number},{f.quality},{f.pdq_hex},{f.timestamp:.3f}\n" for f in features
    )


def parse_reference_lines(text: str) -> list[VpdqFeature]:
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) != 4:
            raise HashFormatError(
                f"vPDQ line {n}: {line[:80]!r} has {len(parts)} fields; expected "
                "frame_number,quality,hex,timestamp"
            )
        out.append(_feature(parts[2], parts[1], parts[3], n, frame=parts[0]))
    return out


def to_signal_str(features: Iterable[VpdqFeature]) -> str:
    """python-threatexchange's VPDQ signal string: a JSON list of ``hex,quality,timestamp``."""
    return json.dumps([f.compact() for f in features])


def parse_signal_str(text: str) -> list[VpdqFeature]:
    try:
        items = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise HashFormatError(f"vPDQ signal is not JSON ({exc.msg}): {text[:80]!r}") from None
    if not isinstance(items, list):
        raise HashFormatError(f"vPDQ signal must be a JSON list, got {type(items).__name__}")
    out = []
    for n, item in enumerate(items, start=1):
        parts = str(item).split(",")
        if len(parts) != 3:
            raise HashFormatError(
                f"vPDQ feature {n}: {str(item)[:80]!r} is not hex,quality,timestamp"
            )
        out.append(_feature(parts[0], parts[1], parts[2], n))
    return out


def _feature(hex_hash: str, quality: str, timestamp: str, n: int, frame: str = "-1") -> VpdqFeature:
    hex_to_bytes(hex_hash)  # raises HashFormatError naming the value
    try:
        q, t, fn = int(quality), float(timestamp), int(frame)
    except ValueError:
        raise HashFormatError(
            f"vPDQ feature {n}: quality {quality!r} / timestamp {timestamp!r} / frame "
            f"{frame!r} are not numbers"
        ) from None
    if not 0 <= q <= 100 or t < 0 or not np.isfinite(t):
        raise HashFormatError(
            f"vPDQ feature {n}: quality {q} must be 0-100 and timestamp {t} must be >= 0"
        )
    return VpdqFeature(hex_hash.strip().lower(), q, t, fn)


# ----- matching ---------------------------------------------------------------------------


def prepare(features: Sequence[VpdqFeature], quality: int = QUALITY_THRESHOLD) -> list[str]:
    """Unique frame hashes (first occurrence order) of at least ``quality``: what is matched."""
    seen: dict[str, None] = {}
    for f in features:
        if f.quality >= quality and f.pdq_hex not in seen:
            seen[f.pdq_hex] = None
    return list(seen)


def match_percent(
    query: Sequence[VpdqFeature],
    target: Sequence[VpdqFeature],
    distance: int = DISTANCE_THRESHOLD,
    quality: int = QUALITY_THRESHOLD,
) -> tuple[float, float]:
    """(query %, target %): the share of each side's unique frame hashes with a match within
    ``distance`` on the other side, as python-threatexchange's brute matcher (0, 0 when either
    side has no frame of the quality)."""
    from gardefou.signals.pdq_core import hexes_to_words

    q, t = prepare(query, quality), prepare(target, quality)
    if not q or not t:
        return 0.0, 0.0
    qw, tw = hexes_to_words(q), hexes_to_words(t)
    # (len(q), len(t)) distance matrix by 64-bit words: fine for clip-sized lists
    d = np.zeros((len(q), len(t)), np.int32)
    for k in range(qw.shape[1]):
        d += np.bitwise_count(qw[:, k][:, None] ^ tw[:, k][None, :]).astype(np.int32)
    close = d <= distance
    q_pct = 100.0 * int(close.any(axis=1).sum()) / len(q)
    return q_pct, 100.0 * int(close.any(axis=0).sum()) / len(t)


__all__ = [
    "DISTANCE_THRESHOLD",
    "INDEX_MATCH_PCT",
    "QUALITY_THRESHOLD",
    "QUERY_MATCH_PCT",
    "VideoHashes",
    "VpdqFeature",
    "bar_crop",
    "frame_pdq",
    "hash_video",
    "match_percent",
    "parse_reference_lines",
    "parse_signal_str",
    "prepare",
    "to_reference_lines",
    "to_signal_str",
    "video_hashes",
]
