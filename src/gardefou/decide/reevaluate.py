"""Late thread context: re-judge replies that were decided before their parent was known.

Workers decide events concurrently, so a bot's answer can be decided before the photo it edits
or the request it answers is stored, and its thread facts are then missing. When a post is
recorded, its already-decided descendants (up to ``MAX_DEPTH`` levels) are judged again from
their stored facts (compact signal results and face embeddings, never the image) with the
thread now known. This module judges (reads only); ``gardefou.decide.record.reevaluate_replies``
applies the result: a more severe one replaces the automatic decision and escalates the case,
logged as a ``reevaluation`` action; a milder one changes nothing, and a case a person has
already decided is not overridden (the new decision is only logged on it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gardefou.decide.context import post_context
from gardefou.decide.judge import combine, judge_items
from gardefou.decide.services import Services
from gardefou.decide.video import rejudge_clip, with_video_type
from gardefou.decision import SEVERITY, Decision
from gardefou.signals.base import SignalResult
from gardefou.thread import MAX_DEPTH, MediaFacts


@dataclass(frozen=True)
class Rejudged:
    """One decided reply judged again: its stored decision and the new one."""

    event_id: str
    reply_to: str | None
    old: Decision
    new: Decision
    poster: str | None
    requester: str | None

    @property
    def escalated(self) -> bool:
        return SEVERITY[self.new.action] > SEVERITY[self.old.action]


def stored_signals(mf: MediaFacts) -> dict[str, SignalResult]:
    """SignalResults rebuilt from a thread entry's compact copy."""
    out = {
        name: SignalResult(
            name,
            "stored",
            d.get("value"),
            d.get("score"),
            "stored result",
            bool(d.get("available", True)),
            dict(d.get("details") or {}),
        )
        for name, d in mf.signals.items()
    }
    out["identity"] = SignalResult(
        "identity", "stored", [{"box": [], "embedding": list(e)} for e in mf.embeddings]
    )
    return out


def rejudge_replies(
    services: Services,
    post_id: str,
    stored_post: Callable[[str], Decision | None],
    depth: int = MAX_DEPTH,
) -> list[Rejudged]:
    """Judge again the decided descendants of ``post_id`` (``stored_post``: the stored decision
    of a post event, or None), nearest first."""
    # with the video stack (about a second to import): paid when a re-judgement happens
    from gardefou.media.video_rejudge import is_clip

    assert services.policy is not None
    out = []
    frontier = [post_id]
    for _ in range(depth):
        frontier = services.threads.replies(frontier)
        if not frontier:
            break
        for cid in frontier:
            old = stored_post(cid)
            tp = services.threads.get(cid)
            if old is None or tp is None or not tp.media:
                continue
            thread_base, notes, requester, parents = post_context(services, tp.author, tp.reply_to)
            base = {"event.kind": "post", "event.is_reply": bool(tp.reply_to), **thread_base}
            labelled = [(f"{cid}/media[{i}]", stored_signals(m)) for i, m in enumerate(tp.media)]
            # a clip goes through the video path (its stored vPDQ, CONTENT_TYPE_VIDEO)
            clip = [is_clip(m) for m in tp.media]
            items = judge_items(
                services,
                base,
                parents,
                tp.author,
                [x for x, c in zip(labelled, clip, strict=True) if not c],
            )
            items += [
                rejudge_clip(services, base, parents, tp.author, lb, m, s)
                for (lb, s), m, c in zip(labelled, tp.media, clip, strict=True)
                if c
            ]
            new = combine(services.policy, items, [f"re-evaluated when {post_id} arrived", *notes])
            if any(clip):
                new = with_video_type(new, any_image=not all(clip))
            out.append(Rejudged(cid, tp.reply_to, old, new, tp.author, requester))
    return out
