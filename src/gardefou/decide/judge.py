"""Judging an event: signals, context facts and the policy, per image, combined into one
decision for the event. Reads only (the thread store, the banks, the consent registry);
``gardefou.decide.record`` stores what this returns.

Signals run cheap-first (``Services.lazy``, default): hashes, bank match, nudity and provenance,
then faces, age and identity only while a rule that is not yet decided needs them
(``gardefou.policy.needs``); the decision is the one the eager path (``lazy=False``) gives, and
skipped signals are named in the trace, never counted as unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from gardefou.decide.context import (
    IDENTITY_FACTS,
    SKIPPED_KEY,
    item_context,
    post_context,
)
from gardefou.decide.intent import RequestIntent
from gardefou.decide.results import Decided, ItemResult
from gardefou.decide.services import Services
from gardefou.decide.video import judge_video, with_video_type
from gardefou.decision import SEVERITY, Action, Decision, Reason, RuleTrace
from gardefou.events import Event, GenerationEvent, Post
from gardefou.media import Media
from gardefou.policy import Policy, evaluate
from gardefou.policy.facts import UNKNOWN
from gardefou.policy.needs import EXPENSIVE_SIGNALS, needed_signals, thread_memory_signals
from gardefou.signals.base import SignalResult
from gardefou.thread import MediaFacts, ThreadPost


def decide(event: Event, media: Mapping[str, Sequence[Media]], services: Services) -> Decided:
    """Decide without writing. ``media`` maps role ("media", "input", "output") to decoded
    images in the event's order."""
    assert services.policy is not None
    names = services.signal_names
    base: dict[str, Any] = {"event.kind": event.kind, "event.is_reply": bool(event.reply_to)}
    notes: list[str] = []
    if isinstance(event, Post):
        poster = event.author
        # only a post that mentions an account can be a request to a bot
        intent = (
            services.intent(event.text)
            if event.text and event.mentions
            else RequestIntent(False, 0.0, "no mention" if event.text else "empty")
        )
        thread_base, thread_notes, requester, parent_media = post_context(
            services, event.author, event.reply_to
        )
        base.update(thread_base)
        notes.extend(thread_notes)
        items = list(media.get("media", ()))
    else:
        assert isinstance(event, GenerationEvent)
        poster, requester = None, event.requester
        intent = services.intent(event.request)
        base.update({"request.sexualizing": intent.sexualizing, "request.score": intent.score})
        items = list(media.get("output", ()))
        if items:
            parent_media = tuple(
                MediaFacts.from_signals(services.extract(m, ["nudity", "identity"]))
                for m in media.get("input", ())
                if isinstance(m, Media)  # an input clip is judged as the output's source only
            )
            notes.append(f"{len(parent_media)} input image(s) compared with the output")
        else:
            # refused (or not produced): the request is judged on its inputs, so the requester
            # is accountable for asking as if the image had been made
            parent_media = ()
            items = list(media.get("input", ()))
            base["generation.no_output"] = True
            notes.append("no output (refused or not produced): the request is judged on its inputs")
    if intent.sexualizing:
        notes.append(f"request text: sexualizing ({intent.source}, {intent.score:.2f})")

    # a reply decided before its image ancestors are known is judged again when they arrive
    # (from its stored signals), so it gets every signal now
    late = bool(event.reply_to) and not parent_media
    images = [(label, m) for label, m in _labels(items) if isinstance(m, Media)]
    clips: list[tuple[str, Any]] = [(lb, m) for lb, m in _labels(items) if not isinstance(m, Media)]
    if services.lazy and not late:
        results = [
            judge_lazily(services, base, parent_media, event.actor, label, m, names)
            for label, m in images
        ]
    else:
        labelled = [(label, services.extract(m, names)) for label, m in images]
        results = judge_items(services, base, parent_media, event.actor, labelled)
    if clips:  # every signal on the sampled frames (docs/video.md), then decide_video
        results += [
            judge_video(services, base, parent_media, event.actor, label, v) for label, v in clips
        ]
    decision = combine(services.policy, results, notes)
    if clips:
        decision = with_video_type(decision, any_image=bool(images))
    created = event.created_at or services.clock()
    post = ThreadPost(
        post_id=event.id,
        author=event.actor,
        reply_to=event.reply_to,
        mentions=getattr(event, "mentions", ()),
        request_sexualizing=intent.sexualizing,
        request_score=intent.score,
        media=tuple(r.facts for r in results),
        created_at=created.astimezone(UTC).isoformat(timespec="seconds"),
    )
    parents = tuple(media.get("input", ())) if isinstance(event, GenerationEvent) and items else ()
    if isinstance(event, GenerationEvent) and not media.get("output"):
        parents = ()  # refused: the inputs are what is judged (and shown as the case's own)
    # what a moderator is shown: the images, and each clip's few key frames (decide_video)
    shown = tuple(
        k for m in items for k in ([m] if isinstance(m, Media) else m._cache.get("key_frames", []))
    )
    parents = tuple(m for m in parents if isinstance(m, Media))
    return Decided(event, decision, results, post, poster, requester, shown, parents)


def _labels(items: Sequence[Media]) -> list[tuple[str, Media]]:
    return [(getattr(m, "source", None) or f"media[{i}]", m) for i, m in enumerate(items)]


def judge_lazily(
    services: Services,
    base: Mapping[str, Any],
    parent_media: Sequence[MediaFacts],
    actor: str | None,
    label: str,
    media: Media,
    names: Sequence[str],
) -> ItemResult:
    """Cheap signals first (hashes, bank, nudity, provenance), then each expensive signal only
    while an undecided rule needs it; the decision is the one every signal would give."""
    policy = services.policy
    assert policy is not None
    memory = thread_memory_signals(policy, IDENTITY_FACTS)  # later replies compare with these
    pending = [n for n in EXPENSIVE_SIGNALS if n in names and n not in memory]
    signals = dict(services.extract(media, [n for n in names if n not in pending]))
    skipped: set[str] = set()
    memo: dict[str, Any] = {}  # one bank and one consent-registry look-up per image
    for name in pending:
        facts = MediaFacts.from_signals(signals)
        waiting = "identity" in pending and "identity" not in signals
        ctx = item_context(
            services, base, parent_media, actor, signals, facts, identity_pending=waiting, memo=memo
        )
        left = [n for n in pending if n not in signals and n not in skipped]
        if name in needed_signals(policy, signals, ctx, left, IDENTITY_FACTS):
            signals.update(services.extract(media, [name]))
        else:
            skipped.add(name)
    facts = MediaFacts.from_signals(signals)
    if skipped:
        marker = SignalResult(
            SKIPPED_KEY, "1", sorted(skipped), None, "not computed: no undecided rule needed them"
        )
        facts = MediaFacts.from_signals({**signals, SKIPPED_KEY: marker})
    waiting = "identity" in skipped
    ctx = item_context(
        services, base, parent_media, actor, signals, facts, identity_pending=waiting, memo=memo
    )
    if waiting:
        skipped |= {f for f in IDENTITY_FACTS if ctx.get(f, None) is UNKNOWN}
    frozen = frozenset(skipped)
    decision = evaluate(policy, signals, ctx, skipped=frozen)
    return ItemResult(label, signals, ctx, decision, facts, frozen)


def judge_items(
    services: Services,
    base: Mapping[str, Any],
    parent_media: Sequence[MediaFacts],
    actor: str | None,
    labelled: Sequence[tuple[str, Mapping[str, Any]]],
) -> list[ItemResult]:
    """Context facts and the policy's decision for each (label, signal results) image."""
    assert services.policy is not None
    results = []
    for label, stored in labelled:
        # signals stored by a cheap-first decision name the ones it skipped
        marker = stored.get(SKIPPED_KEY)
        skipped = frozenset(getattr(marker, "value", None) or ())
        signals = {k: v for k, v in stored.items() if k != SKIPPED_KEY}
        facts = MediaFacts.from_signals(stored)
        waiting = "identity" in skipped
        ctx = item_context(
            services, base, parent_media, actor, signals, facts, identity_pending=waiting
        )
        if waiting:
            skipped |= {f for f in IDENTITY_FACTS if ctx.get(f, None) is UNKNOWN}
        decision = evaluate(services.policy, signals, ctx, skipped=skipped)
        results.append(ItemResult(label, signals, ctx, decision, facts, skipped))
    return results


def combine(policy: Policy, items: list[ItemResult], notes: Sequence[str] = ()) -> Decision:
    """One decision for an event: the most severe of its images' decisions, with every trace."""
    notes = list(notes)
    for it in items:
        facts = _fact_summary(it.context, it.skipped)
        if it.skipped:
            skipped = sorted(s for s in it.skipped if "." not in s)
            facts = "; ".join(
                x for x in (facts, f"skipped (no undecided rule needs them): {skipped}") if x
            )
        if facts:
            notes.append(f"{it.label}: {facts}")
    context = RuleTrace("context", False, "; ".join(notes) or "no thread or request context")
    if not items:
        return Decision(
            Action.ALLOW,
            (Reason("no_media", "The event has no image to evaluate."),),
            (context,),
            policy=policy.ref,
        )
    winner = max(items, key=lambda r: SEVERITY[r.decision.action])  # first on ties
    reasons = list(winner.decision.reasons)
    seen = {r.code for r in reasons}
    for it in items:
        for r in it.decision.reasons:
            if r.code not in seen and it.decision.action != Action.ALLOW:
                reasons.append(r)
                seen.add(r.code)
    multi = len(items) > 1
    trace = [context] + [
        RuleTrace(t.rule, t.matched, f"{it.label}: {t.detail}" if multi else t.detail, t.action)
        for it in items
        for t in it.decision.rule_trace
    ]
    unavailable = sorted({u for it in items for u in it.decision.unavailable})
    d = winner.decision
    exchanges = sorted({x for it in items for x in it.context.get("bank.exchanges") or ()})
    if exchanges and d.action != Action.ALLOW and "exchange_hash_match" not in seen:
        # the DSA statement and the evidence name the exchange whose hash matched
        reasons.append(
            Reason(
                "exchange_hash_match",
                f"The matched hash came from the hash-sharing exchange {', '.join(exchanges)}.",
                signal="exchange:" + ",".join(exchanges),
            )
        )
    return Decision(
        d.action,
        tuple(reasons),
        tuple(trace),
        d.dsa_fields,
        d.categories,
        d.confidence,
        d.policy,
        tuple(unavailable),
    )


def _fact_summary(ctx: Mapping[str, Any], skipped: frozenset[str] = frozenset()) -> str:
    """The derived facts worth showing a moderator (those that differ from 'nothing found')."""
    shown = []
    for k, v in ctx.items():
        if k.startswith("event.") or v is False or v is None:
            continue
        if k in ("thread.same_person_score", "request.score", "bank.min_distance") and not (
            ctx.get("thread.parent_same_person") is True
            or ctx.get("request.sexualizing") is True
            or ctx.get("bank.match") is True
        ):  # facts are three-valued: UNKNOWN has no truth value
            continue
        if v is UNKNOWN and k in skipped:
            continue  # not computed: listed with the skipped signals
        shown.append(f"{k}={'unknown' if v is UNKNOWN else v}")
    return ", ".join(shown)
