"""A reply clip judged again from its stored facts, through the video path.

A clip decided before its parent post is known is re-judged when the parent arrives
(``cases.reevaluate``). The clip itself is not kept, so what the thread store holds of it must be
enough: its per-video signal results and faces (as for an image) and a marker entry
(``CLIP_FACTS``) with its vPDQ hash lists and MD5. With those the new decision has the bank facts
of a clip (video banks, every frame hash against the image banks), the thread facts against the
parent's images, and ``CONTENT_TYPE_VIDEO`` -- not the image path's, where a clip without a PDQ
hash had unknown bank facts and read as an image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
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


@dataclasses.dataclass
class _StoredScan:
    """The part of a ``VideoScan`` that ``decide_video`` reads."""

    hashes: VideoHashes
    results: dict[str, Any]


def rejudge_clip(
    services: Any,
    base: Mapping[str, Any],
    parent_media: Sequence[Any],
    actor: str | None,
    label: str,
    facts: Any,
    signals: Mapping[str, Any],
) -> Any:
    """The ``ItemResult`` of a stored clip (``signals``: its results rebuilt by
    ``cases.reevaluate.stored_signals``), decided as ``decide_video.judge_video`` decides a
    fresh one."""
    from gardefou.decide import ItemResult
    from gardefou.decide_context import item_context
    from gardefou.media.video_decide import decide_video

    results = {k: v for k, v in signals.items() if k != CLIP_FACTS}
    ctx = item_context(services, base, parent_media, actor, results, facts)
    # the image path's bank facts read a PDQ hash a clip does not have: decide_video sets them
    for k in [k for k in ctx if k.startswith("bank.")]:
        ctx.pop(k)
    if services.banks is None and getattr(services, "video_index", None) is None:
        ctx["bank.match"] = False  # a deployment without banks, as for images
    vd = decide_video(
        _StoredScan(stored_hashes(facts), results),  # type: ignore[arg-type]
        services.policy,
        ctx,
        video_index=getattr(services, "video_index", None),
        image_banks=services.banks,
        victim_banks=services.victim_banks,
        parents=parent_media,
    )
    return ItemResult(label, results, vd.context, vd.decision, facts)


__all__ = ["CLIP_FACTS", "clip_marker", "is_clip", "rejudge_clip", "stored_hashes"]
