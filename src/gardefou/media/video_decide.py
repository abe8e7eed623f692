"""The policy decision for a scanned video: bank facts from video banks and from image banks
(frame by frame), thread facts against the parent post's images, the per-video signal results,
and the DSA content type ``CONTENT_TYPE_VIDEO``.

The bank facts follow the image path (``decide_context.bank_facts``): an actionable match sets
``bank.match``; a match in a victim bank (by name or a victim source) sets ``bank.victim_match``;
a bank that cannot be searched makes both UNKNOWN, never "no match".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gardefou.decision import Decision
from gardefou.media.video_scan import VideoScan
from gardefou.policy import UNKNOWN, evaluate, load_default_policy
from gardefou.policy.model import Policy


@dataclass
class VideoDecision:
    decision: Decision
    video_matches: list[Any]
    frame_matches: list[Any]
    context: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.to_dict(),
            "video_matches": [m.to_dict() for m in self.video_matches],
            "frame_matches": [m.to_dict() for m in self.frame_matches],
        }


def _victim(m: Any, victim_banks: Sequence[str] | None) -> bool:
    from gardefou.decide_context import VICTIM_SOURCES

    if victim_banks is not None:
        return m.bank in victim_banks
    return getattr(m, "source", "") in VICTIM_SOURCES or "victim" in m.bank.lower()


def bank_context(
    scan: VideoScan,
    video_index: Any = None,
    image_banks: Any = None,
    victim_banks: Sequence[str] | None = None,
) -> tuple[dict[str, Any], list[Any], list[Any]]:
    from gardefou.banks.video import match_frames

    if video_index is None and image_banks is None:
        return {}, [], []
    try:
        vm = video_index.match(scan.hashes) if video_index is not None else []
        fm = match_frames(image_banks, scan.hashes.features) if image_banks is not None else []
    except Exception:  # noqa: BLE001 - a bank outage is "unknown", never "no match"
        return {"bank.match": UNKNOWN, "bank.victim_match": UNKNOWN}, [], []
    # an unconfirmed hash (an anonymous submission no moderator has confirmed, in a video bank or
    # an image bank) only sends the clip to review, as for images: never bank.match
    live = [m for m in [*vm, *fm] if m.actionable and getattr(m, "confirmed", True) is not False]
    unconfirmed = [
        m
        for m in [*vm, *fm]
        if not m.negative
        and not getattr(m, "suppressed", False)
        and getattr(m, "confirmed", True) is False
    ]
    ctx: dict[str, Any] = {"bank.match": bool(live), "bank.unconfirmed_match": bool(unconfirmed)}
    if unconfirmed:
        cases = {str(m.case_id) for m in unconfirmed if getattr(m, "case_id", None)}
        ctx["bank.unconfirmed_cases"] = sorted(cases)
    if live:
        ctx["bank.victim_match"] = any(_victim(m, victim_banks) for m in live)
        distances = [int(m.distance) for m in fm if m.actionable]
        if distances:
            ctx["bank.min_distance"] = min(distances)
    return ctx, vm, fm


def video_content_type(decision: Decision) -> Decision:
    """The same decision with CONTENT_TYPE_VIDEO in place of CONTENT_TYPE_IMAGE."""
    types = [
        "CONTENT_TYPE_VIDEO" if t == "CONTENT_TYPE_IMAGE" else t
        for t in decision.dsa_fields.get("content_type", [])
    ]
    if "CONTENT_TYPE_VIDEO" not in types:
        types.insert(0, "CONTENT_TYPE_VIDEO")
    return dataclasses.replace(decision, dsa_fields={**decision.dsa_fields, "content_type": types})


def decide_video(
    scan: VideoScan,
    policy: Policy | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    video_index: Any = None,
    image_banks: Any = None,
    victim_banks: Sequence[str] | None = None,
    parents: Sequence[Any] = (),
) -> VideoDecision:
    """``parents``: the ``thread.MediaFacts`` of the images this clip replies to (a thread
    store's ``ancestor_media``, or a generation's input images): a clip showing the same person
    more sexualized is a sexualized edit, as for an image reply."""
    policy = policy or load_default_policy()
    bank_ctx, vm, fm = bank_context(scan, video_index, image_banks, victim_banks)
    ctx = {**dict(context or {}), **bank_ctx}
    if parents:
        from gardefou.thread import MediaFacts, edit_facts

        ctx.update(edit_facts(MediaFacts.from_signals(scan.results), parents))
    decision = evaluate(policy, scan.results, ctx)
    return VideoDecision(video_content_type(decision), vm, fm, ctx)


__all__ = ["VideoDecision", "bank_context", "decide_video", "video_content_type"]
