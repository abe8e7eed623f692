"""Scanning a video: vPDQ, image signals on sampled frames, one result per signal, a decision.

One decoding pass serves both the vPDQ features (the reference's frame sampling) and the frames
the image signals look at (one a second plus scene changes, ``TimeSampler``). Each signal runs on
every signal frame as on an image; the per-video result is the worst frame's (the most explicit
nudity level, the most faces, any minor risk, ...), and its explanation names that frame's
timestamp and the other frames that agree, so a moderator can jump to them.

A signal that fails or is unavailable on any frame makes the video's result unavailable (the
policy then reads its facts as UNKNOWN, and the decision goes to review, never to allow).

C2PA in MP4/MOV: a ``uuid`` box with the C2PA identifier marks an embedded manifest; it is read
with the same reader as images and combined with the frames' watermark and generator hints.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import GardefouError
from gardefou.media.intake import Media
from gardefou.media.video import Video
from gardefou.media.video_frames import Frame, TimeSampler, every_n_frames, iter_frames
from gardefou.signals.base import SignalResult
from gardefou.signals.nudity_levels import LEVEL_RANK
from gardefou.signals.vpdq import VideoHashes, VpdqFeature, bar_crop, frame_pdq

DEFAULT_SIGNALS = ("nudity", "faces", "age", "identity", "provenance")
#: the C2PA manifest box of ISO BMFF files (C2PA spec, "Embedding manifests into BMFF")
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")


@dataclass
class VideoScan:
    video: Video
    hashes: VideoHashes
    frames: list[tuple[float, Media]] = field(repr=False)  # (timestamp, frame) seen by signals
    results: dict[str, SignalResult] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        v = self.video
        return {
            "media": {
                "format": v.format,
                "codec": v.codec,
                "width": v.width,
                "height": v.height,
                "fps": round(v.fps, 3),
                "duration": round(v.duration, 3),
                "md5": self.hashes.md5,
                "sha256": self.hashes.sha256,
            },
            "vpdq": [f.compact() for f in self.hashes.features],
            "frames_scanned": [round(t, 3) for t, _ in self.frames],
            "signals": {
                name: {
                    "value": r.value,
                    "score": r.score,
                    "available": r.available,
                    "explanation": r.explanation,
                }
                for name, r in self.results.items()
            },
        }


def frame_media(video: Video, frame: Frame) -> Media:
    """A sampled frame as image intake's Media (no bytes of its own; labelled with its time)."""
    from PIL import Image

    img = Image.fromarray(frame.rgb, "RGB")
    media = Media(
        data=b"",
        image=img,
        format="VIDEO_FRAME",
        width=img.width,
        height=img.height,
        # the display rotation as the EXIF orientation that means it: oriented() applies it
        exif_orientation={0: 1, 90: 8, 180: 3, 270: 6}.get(frame.rotation, 1),
        source=f"{video.source or '<bytes>'}@{frame.timestamp:.3f}s",
    )
    media._cache["sha256"] = f"{video.sha256}@{frame.index}"
    media._cache[FRAME_AT] = float(frame.timestamp)
    return media


#: where a frame's ``Media`` (and a key frame made from it) keeps its time in the clip
FRAME_AT = "video:frame_at"


def frame_time(media: Any) -> float | None:
    """The time in its clip of a frame's ``Media`` (a key frame kept for review), or None for
    an image."""
    t = getattr(media, "_cache", {}).get(FRAME_AT)
    return None if t is None else float(t)


def decode_for_scan(
    video: Video, every: float = 1.0, scene: float | None = 0.25, seconds_per_hash: float = 1.0
) -> tuple[VideoHashes, list[tuple[float, Media]]]:
    """One pass: the vPDQ features (and bar-cropped ones) and the frames for the signals."""
    hash_select, stamp = every_n_frames(video, seconds_per_hash)
    sampler = TimeSampler(every, scene)
    roles: dict[int, tuple[bool, bool]] = {}

    def select(index: int, t: float, thumb: Any) -> bool:
        h = bool(video.fps) and hash_select(index, t, thumb)
        s = sampler(index, t, thumb)
        roles[index] = (h or (not video.fps and s), s)
        return h or s

    select.wants_thumbnail = sampler.wants_thumbnail  # type: ignore[attr-defined]
    features: list[VpdqFeature] = []
    cropped: list[VpdqFeature] = []
    any_bars = False
    frames: list[tuple[float, Media]] = []
    for f in iter_frames(video, select):
        as_hash, as_signal = roles.pop(f.index)
        if as_hash:
            t = stamp(f.index) if video.fps else f.timestamp
            hex_hash, quality = frame_pdq(f.rgb)
            feature = VpdqFeature(hex_hash, quality, t, f.index)
            features.append(feature)
            bars = bar_crop(f.rgb)
            if bars:
                any_bars = True
                top, bottom, left, right = bars
                h, w = f.rgb.shape[:2]
                c_hex, c_q = frame_pdq(f.rgb[top : h - bottom, left : w - right])
                feature = VpdqFeature(c_hex, c_q, t, f.index)
            cropped.append(feature)
        if as_signal:
            frames.append((f.timestamp, frame_media(video, f)))
        roles.clear()
    hashes = VideoHashes(
        features,
        cropped if any_bars else [],
        video.md5,
        video.sha256,
        max((f.timestamp for f in features), default=0.0),
    )
    return hashes, frames


def scan_video(
    video: Video,
    signals: Sequence[str] | Mapping[str, Any] = DEFAULT_SIGNALS,
    every: float = 1.0,
    scene: float | None = 0.25,
    context: Mapping[str, Any] | None = None,
) -> VideoScan:
    """Decode once, run ``signals`` (names, or name -> signal object) on the sampled frames."""
    from gardefou.signals import get_signal

    hashes, frames = decode_for_scan(video, every, scene)
    scan = VideoScan(video, hashes, frames)
    chosen = signals if isinstance(signals, Mapping) else {n: get_signal(n) for n in signals}
    for name, signal in chosen.items():
        per_frame: list[tuple[float, SignalResult]] = []
        failure = None
        for t, media in frames:
            try:
                per_frame.append((t, signal.extract(media, context)))
            except GardefouError as exc:
                failure = f"failed on the frame at {t:.1f}s ({exc})"
                break
        result = aggregate(name, getattr(signal, "version", "1"), per_frame, failure)
        if name == "provenance":
            result = with_container_c2pa(video, result)
        scan.results[name] = result
    return scan


def _rank(name: str, r: SignalResult) -> tuple[float, float]:
    """How much a frame's result weighs for the per-video result (higher decides)."""
    v = r.value
    if name == "nudity":
        level = v.get("level") if isinstance(v, Mapping) else v
        return float(LEVEL_RANK.get(str(level), 0)), r.score or 0.0
    if name in ("faces", "identity"):
        count = (r.details or {}).get("count", len(v or []))
        return float(count), r.score or 0.0
    if name == "age":
        minor = bool(v.get("minor_risk")) if isinstance(v, Mapping) else bool(v)
        return float(minor), r.score or 0.0
    if name == "provenance":
        return float((v or {}).get("ai_generated") is True), r.score or 0.0
    return r.score or 0.0, 0.0


def aggregate(
    name: str,
    version: str,
    per_frame: Sequence[tuple[float, SignalResult]],
    failure: str | None = None,
) -> SignalResult:
    """The per-video result: the deciding (worst) frame's value and score, with timestamps."""
    if failure or not per_frame or not all(r.available for _, r in per_frame):
        missing = [f"{t:.1f}s" for t, r in per_frame if not r.available]
        why = failure or (
            f"unavailable on frames at {', '.join(missing[:5])}"
            if missing
            else "no frame was sampled"
        )
        return SignalResult(name, version, None, None, f"{name}: {why}", available=False)
    ranked = sorted(per_frame, key=lambda p: (_rank(name, p[1]), -p[0]), reverse=True)
    t, best = ranked[0]
    same = [u for u, r in ranked[1:] if _rank(name, r)[0] == _rank(name, best)[0] and u != t]
    also = f"; also at {', '.join(f'{u:.1f}s' for u in sorted(same)[:5])}" if same else ""
    details = dict(best.details or {})
    details.update(
        {
            "frame_timestamp": t,
            "frames": len(per_frame),
            "per_frame": [{"t": round(u, 3), "score": r.score} for u, r in per_frame][:600],
        }
    )
    value = best.value
    if name == "identity":  # every frame's faces: the person may turn to the camera once
        value = [dict(face, t=u) for u, r in per_frame for face in (r.value or [])][:64]
        details["count"] = len(best.value or [])
    explanation = f"at {t:.1f}s of {len(per_frame)} frames: {best.explanation}{also}"
    return SignalResult(name, version, value, best.score, explanation, True, details)


def mp4_has_c2pa(data: bytes) -> bool:
    """A top-level ``uuid`` box with the C2PA identifier (MP4/MOV)."""
    i = 0
    while i + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        header = 8
        if size == 1 and i + 16 <= len(data):
            size, header = struct.unpack(">Q", data[i + 8 : i + 16])[0], 16
        elif size == 0:
            size = len(data) - i
        if kind == b"uuid" and data[i + header : i + header + 16] == C2PA_UUID:
            return True
        if size < header:
            return False
        i += size
    return False


def with_container_c2pa(video: Video, frames_result: SignalResult) -> SignalResult:
    """Add the file's embedded C2PA manifest (if any) to the frames' provenance evidence."""
    if video.format not in ("MP4", "MOV") or not mp4_has_c2pa(video.data):
        return frames_result
    from gardefou.signals.provenance import read_c2pa, verdict

    c2pa = read_c2pa(video.data)
    value = dict(frames_result.value or {}) if frames_result.available else {}
    hints = value.get("exif_generator_hints") or []
    watermark = value.get("watermark") or {}
    ai, score, why = verdict(c2pa, None, hints, watermark)
    value.update({"c2pa": c2pa, "ai_generated": ai})
    return SignalResult(
        "provenance",
        frames_result.version,
        value,
        score,
        f"file: {why}; frames: {frames_result.explanation}",
        True,
        frames_result.details,
    )


__all__ = [
    "DEFAULT_SIGNALS",
    "FRAME_AT",
    "VideoScan",
    "aggregate",
    "decode_for_scan",
    "frame_media",
    "frame_time",
    "mp4_has_c2pa",
    "scan_video",
]
