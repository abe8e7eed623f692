"""Keeping the images a moderator needs, whatever path opened the case (docs/web.md).

``gardefou.decide.record`` calls ``keep_for_case`` when it opens a case that awaits a person: the
HTTP routes, ``gardefou run``, ``stream work``, ``backfill`` and the demo all record through it,
so none leaves the moderator with hashes only. What is kept is the policy's ``review_media``:

- ``media``: the event's own images (for a generation, its outputs; its inputs are the parent);
- ``parent``: the image the reply or generation edited, shown beside it. A post's images are held
  in ``thread_media`` for ``parent_hours`` so that a later reply's case can take a copy.

Everything is encrypted at rest (``gardefou.store.media_crypto``), expires after ``days`` at
most, and is deleted when the case is decided (``gardefou.cases.review_media``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from gardefou.cases.review_media import AWAITING_PERSON
from gardefou.errors import GardefouError

log = logging.getLogger(__name__)
DAY, HOUR = 86400.0, 3600.0


def _thumbs(media: Any) -> tuple[bytes, bytes] | None:
    from gardefou.media.thumbnail import review_thumbnails

    try:
        return review_thumbnails(media)
    except Exception as exc:  # noqa: BLE001 - made on first view instead, never fails a decision
        log.warning("review thumbnail of %s failed (%s); made on first view", media.source, exc)
        return None


def _decode(data: bytes, label: str) -> Any:
    from gardefou.media import Limits, load_media

    try:
        return load_media(data, Limits(), label=label)
    except GardefouError:
        return None


def _cipher(db: Any) -> Any:
    from gardefou.store.media_crypto import ReviewCipher

    return ReviewCipher.for_db(db)


def ancestor_id(db: Any, decided: Any) -> str | None:
    """The post whose image a reply answers (its nearest ancestor with images), or None."""
    reply_to = getattr(decided.event, "reply_to", None)
    if not reply_to:
        return None
    from gardefou.thread import ThreadStore, ancestor_media

    ancestor, _ = ancestor_media(ThreadStore(db), reply_to)
    return str(ancestor.post_id) if ancestor is not None else None


def keep_for_case(db: Any, services: Any, decided: Any, case: Any) -> int:
    """Keep the images of ``case`` (just opened by ``decided``) while it awaits a person.
    Returns how many were kept. A missing key or a failed thumbnail is logged, never raised:
    the case stands with its hashes, and the moderator is told no image was kept."""
    if case is None or case.status not in AWAITING_PERSON:
        return 0
    rules = services.policy.review_media
    now = services.clock().timestamp()
    days = rules.days
    cap = getattr(services, "review_media_days", None)
    if cap is not None:
        days = min(days, float(cap))
    expires = now + days * DAY
    from gardefou.store.media import ReviewMedia, ThreadMedia

    try:
        store = ReviewMedia(db, _cipher(db))
    except GardefouError as exc:
        log.warning("case %s: review images not kept: %s", case.id, exc)
        return 0
    kept = 0
    if "media" in rules.keep:
        from gardefou.media.video_scan import frame_time

        for m in decided.media:  # a clip's key frames keep their time for the console's strip
            store.keep(case.event_id, m.data, _thumbs(m), now, expires, role="media",
                       frame_at=frame_time(m))  # fmt: skip
            kept += 1
    if "parent" in rules.keep:
        parents: Sequence[Any] = list(decided.parent_images)
        ancestor = ancestor_id(db, decided)
        if not parents and ancestor:
            held = ThreadMedia(db, store.cipher).images(ancestor, now)
            parents = [p for p in (_decode(d, f"{ancestor} image") for d in held) if p]
        for m in parents:
            store.keep(case.event_id, m.data, _thumbs(m), now, expires, role="parent")
            kept += 1
    return kept


def attach_parent_images(db: Any, services: Any, event_id: str, reply_to: str | None) -> int:
    """A reply decided before its parent (late thread context): once the parent is recorded,
    its held images join the reply's case if that case still awaits a person, and the parent
    becomes the case's cluster key. Idempotent."""
    rules = services.policy.review_media
    if "parent" not in rules.keep or not reply_to:
        return 0
    row = db.query_one("SELECT id, status FROM cases WHERE event_id = ?", (event_id,))
    if row is None or row["status"] not in AWAITING_PERSON:
        return 0
    from gardefou.thread import ThreadStore, ancestor_media

    ancestor, _ = ancestor_media(ThreadStore(db), reply_to)
    if ancestor is None:
        return 0
    from gardefou.store.media import ReviewMedia, ThreadMedia

    try:
        store = ReviewMedia(db, _cipher(db))
    except GardefouError as exc:
        log.warning("case %s: parent images not kept: %s", row["id"], exc)
        return 0
    now = services.clock().timestamp()
    days = rules.days
    cap = getattr(services, "review_media_days", None)
    expires = now + (min(days, float(cap)) if cap is not None else days) * DAY
    held = ThreadMedia(db, store.cipher).images(str(ancestor.post_id), now)
    kept = 0
    for data in held:
        m = _decode(data, f"{ancestor.post_id} image")
        if m is not None:
            store.keep(event_id, m.data, _thumbs(m), now, expires, role="parent")
            kept += 1
    db.execute(
        "INSERT INTO case_keys (case_id, kind, value) VALUES (?,?,?) "
        "ON CONFLICT (case_id, kind, value) DO NOTHING",
        (int(row["id"]), "parent", str(ancestor.post_id)),
    )
    return kept


def hold_post_images(db: Any, services: Any, decided: Any) -> int:
    """Hold a post's images for ``parent_hours`` (encrypted) in case a reply edits them."""
    rules = services.policy.review_media
    if rules.parent_hours <= 0 or "parent" not in rules.keep or decided.event.kind != "post":
        return 0
    now = services.clock().timestamp()
    text = getattr(decided.event, "text", None)
    if decided.thread_post.request_sexualizing and text:
        db.execute(
            "INSERT INTO thread_requests (post_id, text, expires_at) VALUES (?,?,?) "
            "ON CONFLICT (post_id) DO NOTHING",
            (decided.event.id, text[:1000], now + rules.parent_hours * HOUR),
        )
    if not decided.media:
        return 0
    from gardefou.store.media import ThreadMedia

    try:
        threads = ThreadMedia(db, _cipher(db))
    except GardefouError as exc:
        log.warning("post %s: images not held for replies: %s", decided.event.id, exc)
        return 0
    for m in decided.media:
        threads.hold(decided.event.id, m.data, now, now + rules.parent_hours * HOUR)
    return len(decided.media)


def request_text(db: Any, decided: Any) -> str | None:
    """The request that links a case to its parent: a generation's prompt, or the held text of
    the post a bot's reply answers."""
    if decided.event.kind == "generation":
        return getattr(decided.event, "request", None) or None
    reply_to = getattr(decided.event, "reply_to", None)
    if not reply_to:
        return None
    row = db.query_one("SELECT text FROM thread_requests WHERE post_id = ?", (reply_to,))
    return str(row["text"]) if row else None
