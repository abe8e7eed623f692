"""Late thread context: re-judge replies that were decided before their parent was known.

Workers decide events concurrently, so a bot's answer can be decided before the photo it edits
or the request it answers is stored, and its thread facts are then missing. When a post is
recorded, its already-decided descendants (up to ``MAX_DEPTH`` levels) are judged again from
their stored facts (compact signal results and face embeddings, never the image) with the
thread now known. A more severe result replaces the automatic decision and escalates the case,
logged as a ``reevaluation`` action; a milder one changes nothing, and a case a person has
already decided is not overridden (the new decision is only logged on it).
"""

from __future__ import annotations

import json
from typing import Any

from gardefou.decision import SEVERITY, Decision
from gardefou.signals.base import SignalResult
from gardefou.thread import MAX_DEPTH, MediaFacts


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


def reevaluate_replies(db: Any, services: Any, post_id: str, depth: int = MAX_DEPTH) -> list[Any]:
    """Re-judge the decided descendants of ``post_id``; returns the escalated StoredDecisions."""
    from gardefou.cases.review_keep import attach_parent_images
    from gardefou.decide import StoredDecision, combine, judge_items, post_context
    from gardefou.decide_video import with_video_type
    from gardefou.media.video_rejudge import is_clip, rejudge_clip

    assert services.policy is not None
    changed = []
    frontier = [post_id]
    for _ in range(depth):
        marks = ", ".join("?" for _ in frontier)
        rows = db.query(f"SELECT post_id FROM thread_posts WHERE reply_to IN ({marks})", frontier)
        frontier = [r["post_id"] for r in rows]
        if not frontier:
            break
        for cid in frontier:
            row = db.query_one(
                "SELECT kind, decision_json FROM decisions WHERE event_id = ?", (cid,)
            )
            tp = services.threads.get(cid)
            if row is None or row["kind"] != "post" or tp is None or not tp.media:
                continue
            # the moderator of a case still open now sees the parent's photo beside the reply
            attach_parent_images(db, services, cid, tp.reply_to)
            old = Decision.from_dict(json.loads(row["decision_json"]))
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
            if SEVERITY[new.action] <= SEVERITY[old.action]:
                continue
            db.execute(
                "UPDATE decisions SET action = ?, policy = ?, decision_json = ? WHERE event_id = ?",
                (new.action.value, new.policy, json.dumps(new.to_dict(), default=str), cid),
            )
            case = services.cases(db).reevaluate(
                cid, "post", new, poster=tp.author, requester=requester
            )
            if case is not None:
                db.execute("UPDATE decisions SET case_id = ? WHERE event_id = ?", (case.id, cid))
            changed.append(StoredDecision(cid, new, case.id if case else None, True))
    return changed
