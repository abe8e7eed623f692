"""Deciding on a video: a clip in an event (``judge_video``) and a scanned clip on its own
(``decide_video``, the CLI's ``gardefou video scan``).

A clip in an event is decoded once (vPDQ and the sampled frames), the decision layer's signals
run on every sampled frame, aggregated per video (``media.video_scan.aggregate``), then the
context facts of an image (thread, consent), then ``decide_video`` for the bank facts (video
banks and every frame against the image banks) and ``CONTENT_TYPE_VIDEO``.

The bank facts follow the image path (``context.bank_facts``): an actionable match sets
``bank.match``; a match in a victim bank (by name or a victim source) sets ``bank.victim_match``;
a bank that cannot be searched makes both UNKNOWN, never "no match".

The evidence facts of the clip (MD5, SHA-256, the vPDQ digest, the deciding frames' timestamps;
no pixels) travel with the decision as a ``video_evidence`` trace entry (JSON), which the stored
decision and the evidence log keep (``evidence.from_store``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gardefou.decide.context import VICTIM_SOURCES, item_context
from gardefou.decide.results import ItemResult
from gardefou.decision import (
    EVIDENCE_TRACE,
    Decision,
    RuleTrace,
    trace_evidence,
    video_content_type,
)
from gardefou.media import Limits, load_media
from gardefou.media.video import Video
from gardefou.policy import UNKNOWN, Policy, evaluate, load_default_policy
from gardefou.thread import MediaFacts, edit_facts

# media.video_scan, signals.vpdq and banks.video load the video stack (about a second): imported
# where a clip is decided, so that deciding images does not pay for it

#: key frames of a clip kept for review (blurred in the console, like a case's images)
KEY_FRAMES = 4
#: hash signals of images: a video's are its vPDQ features and file hashes instead
_IMAGE_HASHES = frozenset({"pdq", "pdq_dihedral", "crypto_hash"})


def frame_signals(
    services: Any, frames: Sequence[tuple[float, Any]], names: Sequence[str]
) -> dict[str, Any]:
    """One result per signal for the whole clip; a signal missing on any frame is unavailable."""
    from gardefou.media.video_scan import aggregate

    per: dict[str, list[tuple[float, Any]]] = {n: [] for n in names}
    failure: dict[str, str] = {}
    for t, media in frames:
        got = services.extract(media, list(names))
        for n in names:
            r = got.get(n)
            if r is None:
                failure.setdefault(n, f"not computed on the frame at {t:.1f}s")
            else:
                per[n].append((t, r))
    out = {}
    for n in names:
        version = next((getattr(r, "version", "1") for _, r in per[n]), "1")
        out[n] = aggregate(n, version, per[n], failure.get(n))
    return out


def vpdq_digest(scan: Any) -> str:
    """SHA-256 of the clip's vPDQ features (ThreatExchange's signal string): one short value
    that names the exact hash list the decision used."""
    from gardefou.signals.vpdq import to_signal_str

    return hashlib.sha256(to_signal_str(scan.hashes.features).encode()).hexdigest()


def evidence_facts(scan: Any, signals: Mapping[str, Any]) -> dict[str, Any]:
    """What evidence keeps of a clip: hashes and the deciding frames' times, never pixels."""
    deciding = sorted(
        {
            round(float(r.details["frame_timestamp"]), 3)
            for r in signals.values()
            if getattr(r, "available", False) and "frame_timestamp" in (r.details or {})
        }
    )
    return {
        "md5": scan.hashes.md5,
        "sha256": scan.hashes.sha256,
        "vpdq_sha256": vpdq_digest(scan),
        "vpdq_frames": len(scan.hashes.features),
        "duration": round(scan.video.duration, 3),
        "frames_scanned": len(scan.frames),
        "deciding_frames": deciding,
    }


def judge_video(
    services: Any,
    base: Mapping[str, Any],
    parent_media: Sequence[Any],
    actor: str | None,
    label: str,
    video: Video,
) -> Any:
    """The ``ItemResult`` of one clip of an event."""
    from gardefou.media.video_rejudge import CLIP_FACTS, clip_marker
    from gardefou.media.video_scan import VideoScan, decode_for_scan, with_container_c2pa

    names = [n for n in services.signal_names if n not in _IMAGE_HASHES]
    hashes, frames = decode_for_scan(video)
    signals = frame_signals(services, frames, names)
    if "provenance" in signals:
        signals["provenance"] = with_container_c2pa(video, signals["provenance"])
    scan = VideoScan(video, hashes, frames, signals)
    # the stored facts carry the clip's hashes: a late re-judgement goes through the video path
    facts = MediaFacts.from_signals({**signals, CLIP_FACTS: clip_marker(hashes)})
    ctx = item_context(services, base, parent_media, actor, signals, facts)
    vd = _decide_clip(scan, services, ctx, parent_media)
    facts_json = json.dumps({"item": label, **evidence_facts(scan, signals)}, sort_keys=True)
    decision = dataclasses.replace(
        vd.decision,
        rule_trace=(*vd.decision.rule_trace, RuleTrace(EVIDENCE_TRACE, False, facts_json)),
    )
    video._cache["key_frames"] = key_frames(frames, facts_json)
    frames.clear()  # the decoded frames are not kept past the decision
    return ItemResult(label, signals, vd.context, decision, facts)


def key_frames(frames: Sequence[tuple[float, Any]], facts_json: str) -> list[Any]:
    """Up to ``KEY_FRAMES`` frames as JPEG images (``Media``) for a case's review media: the
    frames that decided a signal first, then frames spread over the clip. Review media are
    encrypted, blurred in the console and expire (gardefou.cases.review_keep); evidence keeps
    none of them."""
    from gardefou.media.video_scan import FRAME_AT

    if not frames:
        return []
    deciding = json.loads(facts_json)["deciding_frames"]
    times = [t for t, _ in frames]
    chosen = [min(range(len(times)), key=lambda i: abs(times[i] - t)) for t in deciding]
    step = max(1, len(frames) // KEY_FRAMES)
    for i in [*chosen, *range(0, len(frames), step)]:
        if i not in chosen:
            chosen.append(i)
    out = []
    for i in sorted(dict.fromkeys(chosen[:KEY_FRAMES])):
        _, media = frames[i]
        buf = io.BytesIO()
        img = media.image.convert("RGB")
        img.thumbnail((768, 768))
        img.save(buf, "JPEG", quality=85)
        key = load_media(buf.getvalue(), Limits(), label=f"{media.source}")
        key.cached(FRAME_AT, lambda t=times[i]: t)  # the console's strip shows the time
        out.append(key)
    return out


def with_video_type(decision: Any, any_image: bool) -> Any:
    """An event with a clip is a video for the DSA; with images too it is both."""
    if not any_image:
        return video_content_type(decision)
    types = list(decision.dsa_fields.get("content_type", []))
    if "CONTENT_TYPE_VIDEO" not in types:
        types.append("CONTENT_TYPE_VIDEO")
    return dataclasses.replace(decision, dsa_fields={**decision.dsa_fields, "content_type": types})


# -- a scanned clip ------------------------------------------------------------------------------


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
    if victim_banks is not None:
        return m.bank in victim_banks
    return getattr(m, "source", "") in VICTIM_SOURCES or "victim" in m.bank.lower()


def bank_context(
    scan: Any,
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


def decide_video(
    scan: Any,
    policy: Policy | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    video_index: Any = None,
    image_banks: Any = None,
    victim_banks: Sequence[str] | None = None,
    parents: Sequence[Any] = (),
) -> VideoDecision:
    """The policy decision for a scanned clip (``media.video_scan.VideoScan``). ``parents``: the
    ``thread.MediaFacts`` of the images this clip replies to (a thread
    store's ``ancestor_media``, or a generation's input images): a clip showing the same person
    more sexualized is a sexualized edit, as for an image reply."""
    policy = policy or load_default_policy()
    bank_ctx, vm, fm = bank_context(scan, video_index, image_banks, victim_banks)
    ctx = {**dict(context or {}), **bank_ctx}
    if parents:
        ctx.update(edit_facts(MediaFacts.from_signals(scan.results), parents))
    decision = evaluate(policy, scan.results, ctx)
    return VideoDecision(video_content_type(decision), vm, fm, ctx)


# -- a stored clip, judged again (late thread context) ---------------------------------------------


@dataclass
class _StoredScan:
    """The part of a ``VideoScan`` that ``decide_video`` reads."""

    hashes: Any  # signals.vpdq.VideoHashes
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
    ``reevaluate.stored_signals``), decided as ``judge_video`` decides a fresh one."""
    from gardefou.media.video_rejudge import CLIP_FACTS, stored_hashes

    results = {k: v for k, v in signals.items() if k != CLIP_FACTS}
    ctx = item_context(services, base, parent_media, actor, results, facts)
    vd = _decide_clip(_StoredScan(stored_hashes(facts), results), services, ctx, parent_media)
    return ItemResult(label, results, vd.context, vd.decision, facts)


def _decide_clip(
    scan: Any, services: Any, ctx: dict[str, Any], parent_media: Sequence[Any]
) -> VideoDecision:
    """``decide_video`` with the deployment's banks, for a fresh clip and a stored one alike."""
    # the image path's bank facts read a PDQ hash a clip does not have: decide_video sets them
    for k in [k for k in ctx if k.startswith("bank.")]:
        ctx.pop(k)
    if services.banks is None and getattr(services, "video_index", None) is None:
        ctx["bank.match"] = False  # a deployment without banks, as for images
    return decide_video(
        scan,
        services.policy,
        ctx,
        video_index=getattr(services, "video_index", None),
        image_banks=services.banks,
        victim_banks=services.victim_banks,
        parents=parent_media,
    )


__all__ = [
    "EVIDENCE_TRACE",
    "VideoDecision",
    "bank_context",
    "decide_video",
    "evidence_facts",
    "frame_signals",
    "judge_video",
    "rejudge_clip",
    "trace_evidence",
    "video_content_type",
    "vpdq_digest",
    "with_video_type",
]
