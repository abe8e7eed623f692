"""What the thread store keeps of a clip so that it can be judged again, through the video path.

A clip decided before its parent post is known is re-judged when the parent arrives
(``gardefou.decide.reevaluate``, ``gardefou.decide.video.rejudge_clip``). The clip itself is not
kept, so what the thread store holds of it must be enough: its per-video signal results and faces
(as for an image) and a marker entry (``CLIP_FACTS``) with its vPDQ hash lists and MD5. With
those the new decision has the bank facts of a clip (video banks, every frame hash against the
image banks), the thread facts against the parent's images, and ``CONTENT_TYPE_VIDEO`` -- not
the image path's, where a clip without a PDQ hash had unknown bank facts and read as an image.
"""

from __future__ import annotations

from typing import Any

from gardefou.signals.base import SignalResult
from gardefou.signals.vpdq import VideoHashes, parse_signal_str, to_signal_str

#: the name of the marker entry in a clip's stored ``thread.MediaFacts.signals``
CLIP_FACTS = "video"


def clip_marker(hashes: VideoHashes) -> SignalResult:
    """What a later re-judgement needs of a clip besides its signal results: its hashes (no
    pixels). Stored whole in the thread store (``thread.compact_signal`` keeps it)."""
    return SignalResult(
        CLIP_FACTS,
        "1",
        {
            "vpdq": to_signal_str(hashes.features),
            "vpdq_cropped": to_signal_str(hashes.cropped) if hashes.cropped else "",
            "md5": hashes.md5,
        },
        None,
        "a clip: re-judged through the video path",
    )


def is_clip(facts: Any) -> bool:
    """True for the stored facts of a clip (``thread.MediaFacts``)."""
    return CLIP_FACTS in (getattr(facts, "signals", None) or {})


def stored_hashes(facts: Any) -> VideoHashes:
    """The clip's hashes from its stored marker."""
    value = dict(facts.signals[CLIP_FACTS].get("value") or {})
    cropped = value.get("vpdq_cropped") or ""
    return VideoHashes(
        parse_signal_str(value.get("vpdq") or "[]"),
        parse_signal_str(cropped) if cropped else [],
        str(value.get("md5") or ""),
        "",
        0.0,
    )


__all__ = ["CLIP_FACTS", "clip_marker", "is_clip", "stored_hashes"]
