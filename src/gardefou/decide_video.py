"""A video in an event: decoded once (vPDQ and the sampled frames), the decision layer's signals
on every sampled frame, aggregated per video (``media.video_scan.aggregate``), the context facts
of an image (thread, consent), then ``media.video_decide.decide_video`` for the bank facts (video
banks and every frame against the image banks) and ``CONTENT_TYPE_VIDEO``.

The evidence facts of the clip (MD5, SHA-256, the vPDQ digest, the deciding frames' timestamps;
no pixels) travel with the decision as a ``video_evidence`` trace entry (JSON), which the stored
decision and the evidence log keep (``evidence.from_store``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from gardefou.media.video import Video

#: the rule name of the trace entry that holds a clip's evidence facts (JSON)
EVIDENCE_TRACE = "video_evidence"
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
    from gardefou.decide import ItemResult
    from gardefou.decide_context import item_context
    from gardefou.media.video_decide import decide_video
    from gardefou.media.video_rejudge import CLIP_FACTS, clip_marker
    from gardefou.media.video_scan import VideoScan, decode_for_scan, with_container_c2pa
    from gardefou.thread import MediaFacts

    names = [n for n in services.signal_names if n not in _IMAGE_HASHES]
    hashes, frames = decode_for_scan(video)
    signals = frame_signals(services, frames, names)
    if "provenance" in signals:
        signals["provenance"] = with_container_c2pa(video, signals["provenance"])
    scan = VideoScan(video, hashes, frames, signals)
    # the stored facts carry the clip's hashes: a late re-judgement goes through the video path
    facts = MediaFacts.from_signals({**signals, CLIP_FACTS: clip_marker(hashes)})
    ctx = item_context(services, base, parent_media, actor, signals, facts)
    # image bank facts came from a frame hash the clip does not have: decide_video sets them
    for k in [k for k in ctx if k.startswith("bank.")]:
        ctx.pop(k)
    if services.banks is None and getattr(services, "video_index", None) is None:
        ctx["bank.match"] = False  # a deployment without banks, as for images
    vd = decide_video(
        scan,
        services.policy,
        ctx,
        video_index=getattr(services, "video_index", None),
        image_banks=services.banks,
        victim_banks=services.victim_banks,
        parents=parent_media,
    )
    from gardefou.decision import RuleTrace

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
    import io

    from gardefou.media import Limits, load_media
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
    from gardefou.media.video_decide import video_content_type

    if not any_image:
        return video_content_type(decision)
    types = list(decision.dsa_fields.get("content_type", []))
    if "CONTENT_TYPE_VIDEO" not in types:
        types.append("CONTENT_TYPE_VIDEO")
    return dataclasses.replace(decision, dsa_fields={**decision.dsa_fields, "content_type": types})


def trace_evidence(decision: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The clips' evidence facts in a stored decision (``Decision.to_dict()``)."""
    out = []
    for t in (decision or {}).get("rule_trace") or ():
        if t.get("rule") == EVIDENCE_TRACE:
            try:
                out.append(json.loads(t["detail"]))
            except (ValueError, TypeError):
                continue  # a trace entry is text: an unreadable one is skipped, not fatal
    return out


__all__ = [
    "EVIDENCE_TRACE",
    "evidence_facts",
    "frame_signals",
    "judge_video",
    "trace_evidence",
    "vpdq_digest",
    "with_video_type",
]
