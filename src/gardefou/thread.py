"""Thread context: what a reply's image means given the post it answers.

Two facts come from the thread:

* **Sexualized edit**: an image posted in reply to another post is compared with the parent's
  images (the nearest ancestor with images, up to ``MAX_DEPTH`` posts up). The same person
  (face embeddings, ``gardefou.signals.identity.compare``) shown more sexualized (a higher nudity
  level) is "a sexualized edit of a real person's photo". For a generation event the input images
  play the parent's part.
* **Bot request**: a reply that mentions an account and asks to undress or sexualize someone
  ("@imgbot put her in a bikini") is a signal on that account's answer: the answer's author was
  mentioned in its parent, and the parent's text is a sexualizing request (the verdict of
  ``gardefou.decide.intent``, kept with the post).

Only compact facts of each post are kept for later replies (nudity level, face embeddings,
mentions, the request verdict): never the image and never the text. Embeddings are biometric
data: ``ThreadStore.purge`` drops entries older than the retention period.

This module owns the ``thread_posts`` table. It sits below both the decision layer
(``gardefou.decide``) and the cases (``gardefou.cases.review_keep`` shows a reply's parent
image): it imports neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from gardefou.policy.facts import UNKNOWN
from gardefou.signals.nudity_levels import LEVEL_RANK  # the one ranking of the nudity levels

MAX_DEPTH = 3


# -- compact per-post facts ------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaFacts:
    """What later replies need of one image: its nudity level and face embeddings, plus a
    compact copy of the policy's signal results (so the image can be re-judged when its
    parent arrives late) without the image, detections or boxes."""

    level: str | None  # None: unknown (nudity unavailable)
    score: float | None
    embeddings: tuple[tuple[float, ...], ...] = ()
    signals: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_signals(cls, signals: Mapping[str, Any]) -> MediaFacts:
        nud, ident = signals.get("nudity"), signals.get("identity")
        level = score = None
        if nud is not None and getattr(nud, "available", False) and nud.value in LEVEL_RANK:
            level, score = str(nud.value), nud.score
        embs: tuple[tuple[float, ...], ...] = ()
        if ident is not None and getattr(ident, "available", False):
            # one C-level conversion per face: the same float64 values as float(x) per element
            embs = tuple(
                tuple(np.asarray(f["embedding"], dtype=np.float64).ravel().tolist())
                for f in ident.value or []
            )
        compact = {n: compact_signal(r) for n, r in signals.items() if n != "identity"}
        return cls(level, score, embs, compact)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "score": self.score,
            "embeddings": [[round(x, 6) for x in e] for e in self.embeddings],
            "signals": dict(self.signals),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MediaFacts:
        return cls(
            d.get("level"),
            d.get("score"),
            tuple(tuple(e) for e in d.get("embeddings") or ()),
            dict(d.get("signals") or {}),
        )


_KEEP_DETAILS = ("count", "photo_likelihood", "quality")


def compact_signal(r: Any) -> dict[str, Any]:
    """A SignalResult reduced to what the policy reads (no boxes, detections or pixels)."""
    value = r.value
    if r.name == "faces":
        value = []  # the count and photo_likelihood are in details
    elif r.name == "age" and isinstance(value, Mapping):
        value = {"minor_risk": value.get("minor_risk")}
    elif r.name == "provenance" and isinstance(value, Mapping):
        c2pa = value.get("c2pa") or {}
        value = {
            "ai_generated": value.get("ai_generated"),
            "c2pa": {"present": c2pa.get("present")},
        }
    elif r.name in ("pdq", "pdq_dihedral", "crypto_hash", "video"):
        pass  # hashes (a clip's vPDQ too) stay whole: a re-judged reply must still match banks
    else:
        try:
            if len(json.dumps(value)) > 600:
                value = None
        except (TypeError, ValueError):
            value = None
    details = getattr(r, "details", None) or {}
    return {
        "value": value,
        "score": r.score,
        "available": bool(r.available),
        "details": {k: details[k] for k in _KEEP_DETAILS if k in details},
    }


@dataclass(frozen=True)
class ThreadPost:
    post_id: str
    author: str | None
    reply_to: str | None
    mentions: tuple[str, ...] = ()
    request_sexualizing: bool = False
    request_score: float = 0.0
    media: tuple[MediaFacts, ...] = ()
    created_at: str = ""


class ThreadStore:
    """Thread facts in the ``thread_posts`` table (migration 0004)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def get(self, post_id: str) -> ThreadPost | None:
        row = self.db.query_one("SELECT * FROM thread_posts WHERE post_id = ?", (post_id,))
        if row is None:
            return None
        return ThreadPost(
            post_id=row["post_id"],
            author=row["author"],
            reply_to=row["reply_to"],
            mentions=tuple(json.loads(row["mentions_json"])),
            request_sexualizing=bool(row["request_sexualizing"]),
            request_score=float(row["request_score"]),
            media=tuple(MediaFacts.from_dict(m) for m in json.loads(row["media_json"])),
            created_at=row["created_at"],
        )

    def put(self, p: ThreadPost) -> None:
        self.db.execute(
            "INSERT INTO thread_posts (post_id, author, reply_to, mentions_json, "
            "request_sexualizing, request_score, media_json, created_at) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (post_id) DO NOTHING",
            (
                p.post_id,
                p.author,
                p.reply_to,
                json.dumps(list(p.mentions)),
                int(p.request_sexualizing),
                p.request_score,
                json.dumps([m.to_dict() for m in p.media]),
                p.created_at,
            ),
        )

    def replies(self, post_ids: Sequence[str]) -> list[str]:
        """The ids of the posts that reply to any of ``post_ids``."""
        if not post_ids:
            return []
        marks = ", ".join("?" for _ in post_ids)
        rows = self.db.query(
            f"SELECT post_id FROM thread_posts WHERE reply_to IN ({marks})", list(post_ids)
        )
        return [r["post_id"] for r in rows]

    def purge(self, before: datetime) -> int:
        """Delete thread facts (incl. face embeddings) created before ``before``."""
        cur = self.db.execute(
            "DELETE FROM thread_posts WHERE created_at < ?", (before.isoformat(),)
        )
        return int(cur.rowcount or 0)


class MemoryThreadStore:
    """The same interface in a dict (tests, single-process replays)."""

    def __init__(self, posts: Iterable[ThreadPost] = ()) -> None:
        self.posts = {p.post_id: p for p in posts}

    def get(self, post_id: str) -> ThreadPost | None:
        return self.posts.get(post_id)

    def put(self, p: ThreadPost) -> None:
        self.posts.setdefault(p.post_id, p)

    def replies(self, post_ids: Sequence[str]) -> list[str]:
        wanted = set(post_ids)
        return [p.post_id for p in self.posts.values() if p.reply_to in wanted]


# -- facts -----------------------------------------------------------------------------------------

Compare = Callable[[Sequence[float], Sequence[float]], Any]


def _default_compare() -> Compare:
    from gardefou.signals.identity import compare

    return compare


def ancestor_media(
    store: Any, reply_to: str | None, depth: int = MAX_DEPTH
) -> tuple[ThreadPost | None, tuple[MediaFacts, ...]]:
    """The nearest ancestor with images (and those images), up to ``depth`` posts up."""
    pid, seen = reply_to, set()
    while pid and depth > 0 and pid not in seen:
        seen.add(pid)
        post = store.get(pid)
        if post is None:
            return None, ()
        if post.media:
            return post, post.media
        pid, depth = post.reply_to, depth - 1
    return None, ()


def edit_facts(
    item: MediaFacts, parents: Sequence[MediaFacts], compare: Compare | None = None
) -> dict[str, Any]:
    """Context facts for one image against its parent images (reply parent or edit inputs)."""
    if not parents:
        return {}
    compare = compare or _default_compare()
    best, same_levels = 0.0, []
    for parent in parents:
        for a in item.embeddings:
            for b in parent.embeddings:
                r = compare(a, b)
                best = max(best, float(r.score))
                if r.same:
                    same_levels.append(parent.level)
    same = bool(same_levels)
    facts: dict[str, Any] = {
        "thread.parent_same_person": same,
        "thread.same_person_score": round(best, 4),
    }
    if item.level is None:
        more: Any = UNKNOWN
    else:
        # compared with the least sexualized image of the same person (or of any parent)
        ref = [lv for lv in (same_levels or [p.level for p in parents]) if lv is not None]
        more = UNKNOWN if not ref else LEVEL_RANK[item.level] > min(LEVEL_RANK[lv] for lv in ref)
    facts["thread.more_sexualized_than_parent"] = more
    facts["thread.sexualized_edit"] = more if same else False
    return facts


def bot_request_facts(author: str | None, parent: ThreadPost | None) -> dict[str, Any]:
    """The post answers a sexualizing request that mentioned its author."""
    if parent is None or not author or not parent.request_sexualizing:
        return {}
    if author.lower().lstrip("@") not in parent.mentions:
        return {}
    return {
        "thread.bot_request": True,
        "request.sexualizing": True,
        "request.score": parent.request_score,
    }
