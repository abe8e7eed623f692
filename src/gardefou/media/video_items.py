"""Events and uploads that may hold a video: tell a video container from an image by its first
bytes, and load either under the caller's limits.

Only MP4, MOV, WebM and Matroska go to video intake here; animated GIF and WebP stay with image
intake (which bounds their frames), so an upload path that took them before behaves the same.
"""

from __future__ import annotations

import os

from gardefou.media.intake import Limits, Media, load_media
from gardefou.media.video import Video, VideoLimits, load_video, sniff_video

#: containers that an upload or an event's media may be, besides images
VIDEO_CONTAINERS = ("MP4", "MOV", "WEBM", "MKV")


def is_video(source: str | os.PathLike[str] | bytes) -> bool:
    """True when the first bytes name a video container (not HEIF/AVIF stills, not GIF/WebP)."""
    if isinstance(source, bytes | bytearray | memoryview):
        head = bytes(source[:64])
    else:
        try:
            with open(source, "rb") as fh:
                head = fh.read(64)
        except OSError:
            return False  # image intake reports the unreadable path with its own message
    return sniff_video(head) in VIDEO_CONTAINERS


def default_video_limits(limits: Limits) -> VideoLimits:
    """Video limits matching an image intake's byte limit, for short clips (2 minutes, one
    minute of decoding at most): an event's clip must not hold a worker for long."""
    return VideoLimits(max_bytes=limits.max_bytes, max_seconds=120.0, max_decode_seconds=60.0)


def load_item(
    source: str | os.PathLike[str] | bytes,
    limits: Limits,
    video_limits: VideoLimits | None = None,
    label: str | None = None,
) -> Media | Video:
    """An image (``Media``) or a probed ``Video``; raises the intakes' typed MediaErrors."""
    if not is_video(source):
        return load_media(source, limits, label=label)
    return load_video(source, video_limits or default_video_limits(limits), label=label)


__all__ = ["VIDEO_CONTAINERS", "default_video_limits", "is_video", "load_item"]
