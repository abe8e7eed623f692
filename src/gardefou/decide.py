"""The decision layer the runners call: one event in, one stored, explainable decision out.

    services = services_for(db)             # the store's banks, default policy, consent, threads
    stored = decide_event(event, services)  # idempotent: keyed by event id

``services_for`` is the one constructor every entry point uses (web, pipeline workers, CLI,
library), so a decision does not depend on how it was asked for; ``Services(db)`` does the
same (it attaches the store's banks unless told ``banks=None``).

``decide_event`` = load the media, ``decide`` (signals, bank matches, consent registry, thread
context, policy; reads only), then ``record`` (decision row, thread facts, case, strikes; one
transaction). Deciding an event a second time returns the stored decision and does nothing else.

Signals run cheap-first (``Services.lazy``, default): hashes, bank match, nudity and provenance,
then faces, age and identity only while a rule that is not yet decided needs them
(``gardefou.policy.needs``); the decision is the one the eager path (``lazy=False``) gives, and
skipped signals are named in the trace, never counted as unavailable.

For the pipeline's runners, ``platform_decider()`` (in ``gardefou.decide_pipeline``, importable
from here) adapts this to their Decider protocol
(``decide(event, media)`` without writes, ``record(db, event, media, decision)`` inside their
commit transaction).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gardefou.decide_context import (  # noqa: F401 - bank_facts, consent_context: re-exported
    BANK_SIGNAL,
    IDENTITY_FACTS,
    NO_PARENT_NOTE,
    SKIPPED_KEY,
    VICTIM_SOURCES,
    bank_facts,
    consent_context,
    item_context,
)
from gardefou.decision import SEVERITY, Action, Decision, Reason, RuleTrace
from gardefou.events import Event, GenerationEvent, Post, parse_event
from gardefou.media import Limits, Media
from gardefou.policy import Policy, evaluate, load_default_policy
from gardefou.policy.facts import UNKNOWN
from gardefou.policy.needs import EXPENSIVE_SIGNALS, needed_signals, thread_memory_signals
from gardefou.signals.base import SignalResult
from gardefou.thread import (
    Intent,
    MediaFacts,
    ThreadPost,
    ThreadStore,
    ancestor_media,
    bot_request_facts,
    request_intent,
)

#: signals the decision layer reads besides the policy's own (thread and consent need faces)
CONTEXT_SIGNALS = ("identity",)
Extract = Callable[[Media, Sequence[str]], Mapping[str, Any]]


def _run_signals(media: Media, names: Sequence[str]) -> dict[str, Any]:
    from gardefou.scan import run_signals

    return {r.name: r for r in run_signals(media, list(names))}


class _StoreBanks:
    """``Services.banks``' default: a BankService over the Services' own store."""

    def __repr__(self) -> str:
        return "STORE_BANKS"


STORE_BANKS: Any = _StoreBanks()


@dataclass
class Services:
    """What deciding needs. Only ``db`` is required; the rest defaults sensibly.

    ``banks`` defaults to the store's banks (``STORE_BANKS``): a library caller gets the same
    victim-bank checks as the web service and the pipeline. ``banks=None`` turns bank matching
    off (bank facts then default to "no match"): only for a deployment without hash banks."""

    db: Any
    policy: Policy | None = None
    #: gardefou.banks BankService (or anything with .match(hashes, quality=)), STORE_BANKS, None
    banks: Any = STORE_BANKS
    consent: Any = None  # ConsentRegistry; default: over db
    threads: Any = None  # ThreadStore; default: over db
    intent: Callable[[str], Intent] = request_intent
    extract: Extract = _run_signals
    limits: Limits = field(default_factory=Limits)
    base_dir: Path | None = None
    #: accounts that never get strikes (the platform's own image bot)
    exempt_accounts: frozenset[str] = frozenset()
    #: bank names whose matches are victim matches; None: banks fed by submissions/takedowns
    victim_banks: frozenset[str] | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: cheap signals first; faces/age/identity only when an undecided rule needs them
    #: (``gardefou.policy.needs``; same decisions). False: every signal on every image.
    lazy: bool = True
    #: a deployment's cap, in days, on the policy's ``review_media.days`` (the web service's
    #: ``Settings.review_media_days``); None: the policy's alone
    review_media_days: float | None = None
    #: limits of a clip in an event (``media.video.VideoLimits``); None: ``limits``' byte limit,
    #: 2 minutes, 1 minute of decoding (``media.video_items.default_video_limits``)
    video_limits: Any = None
    #: video banks (``banks.video.VideoIndex``) a clip is matched against; None: image banks only
    video_index: Any = None

    def __post_init__(self) -> None:
        if self.banks is STORE_BANKS:
            from gardefou.banks.service import BankService

            self.banks = BankService(self.db)
        if self.policy is None:
            self.policy = load_default_policy()
        if self.consent is None:
            from gardefou.consent import ConsentRegistry

            self.consent = ConsentRegistry(self.db)
        if self.threads is None:
            self.threads = ThreadStore(self.db)

    @property
    def signal_names(self) -> list[str]:
        assert self.policy is not None
        names = [*self.policy.required_signals(), *CONTEXT_SIGNALS]
        if self.banks is not None:
            names.append(BANK_SIGNAL)
        return list(dict.fromkeys(names))

    def cases(self, db: Any | None = None) -> Any:
        from gardefou.cases import CaseStore

        assert self.policy is not None
        return CaseStore(
            db or self.db, self.policy, exempt_accounts=self.exempt_accounts, clock=self.clock
        )


def services_for(db: Any, *, banks: Any = STORE_BANKS, **overrides: Any) -> Services:
    """The Services every entry point uses (web, pipeline workers, CLI, library): the store's
    banks (``banks``: a BankService over ``db`` to share, e.g. the web app's, which keeps one
    live index), the default policy, the consent registry and the thread store; ``overrides``
    are Services fields (policy, extract, limits, ...), and the store's video banks."""
    if "video_index" not in overrides:  # clips in pipeline events match the video banks too
        from gardefou.banks.video_store import VideoBankStore

        overrides["video_index"] = VideoBankStore(db)
    return Services(db, banks=banks, **overrides)


@dataclass
class ItemResult:
    label: str
    signals: Mapping[str, Any]
    context: dict[str, Any]
    decision: Decision
    facts: MediaFacts
    skipped: frozenset[str] = frozenset()


@dataclass
class Decided:
    """``decide``'s result: the decision plus what ``record`` stores."""

    event: Event
    decision: Decision
    items: list[ItemResult]
    thread_post: ThreadPost
    poster: str | None
    requester: str | None
    #: the judged images and, for a generation, its inputs: what a moderator is shown
    media: tuple[Media, ...] = ()
    parent_images: tuple[Media, ...] = ()


@dataclass(frozen=True)
class StoredDecision:
    event_id: str
    decision: Decision
    case_id: int | None
    created: bool  # False: the event had been decided before; nothing was done again


# -- deciding --------------------------------------------------------------------------------------


def _load(refs: Sequence[Any], services: Services) -> list[Any]:
    """Images as ``Media``, clips (MP4, MOV, WebM, MKV) as probed ``media.video.Video``."""
    from gardefou.media.video_items import load_item

    return [
        load_item(r.resolve(services.base_dir), services.limits, services.video_limits, r.label)
        for r in refs
    ]


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
            else Intent(False, 0.0, "no mention" if event.text else "empty")
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
        from gardefou.decide_video import judge_video

        results += [
            judge_video(services, base, parent_media, event.actor, label, v) for label, v in clips
        ]
    decision = combine(services.policy, results, notes)
    if clips:
        from gardefou.decide_video import with_video_type

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


def post_context(
    services: Services, author: str | None, reply_to: str | None
) -> tuple[dict[str, Any], list[str], str | None, tuple[MediaFacts, ...]]:
    """Thread facts of a post: (context, notes, requester, the ancestor images to compare)."""
    base: dict[str, Any] = {}
    notes: list[str] = []
    requester = None
    parent = services.threads.get(reply_to) if reply_to else None
    bot = bot_request_facts(author, parent)
    if bot:
        base.update(bot)
        requester = parent.author if parent is not None else None
        notes.append(f"answers a sexualizing request by {requester} that mentioned {author}")
    ancestor, parent_media = ancestor_media(services.threads, reply_to)
    if ancestor is not None and author and ancestor.author == author:
        base["thread.parent_same_author"] = True
    if reply_to:
        seen = f"{len(parent_media)} ancestor image(s) compared"
        notes.append(f"reply to {reply_to}: {seen if parent_media else NO_PARENT_NOTE}")
    return base, notes, requester, parent_media


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


# -- recording -------------------------------------------------------------------------------------


def get_decision(db: Any, event_id: str) -> StoredDecision | None:
    row = db.query_one(
        "SELECT decision_json, case_id FROM decisions WHERE event_id = ?", (event_id,)
    )
    if row is None:
        return None
    return StoredDecision(
        event_id, Decision.from_dict(json.loads(row["decision_json"])), row["case_id"], False
    )


def record(db: Any, decided: Decided, services: Services) -> StoredDecision:
    """Store the decision, thread facts, case and strikes in one transaction; exactly once."""
    ev, d = decided.event, decided.decision
    now = services.clock().astimezone(UTC).isoformat(timespec="seconds")
    with db.transaction():
        cur = db.execute(
            "INSERT INTO decisions (event_id, kind, actor, action, policy, decision_json, "
            "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (event_id) DO NOTHING",
            (
                ev.id,
                ev.kind,
                ev.actor,
                d.action.value,
                d.policy,
                json.dumps(d.to_dict(), default=str),
                now,
            ),
        )
        if not cur.rowcount:
            existing = get_decision(db, ev.id)
            assert existing is not None
            return existing
        threads = services.threads if db is services.db else ThreadStore(db)
        threads.put(decided.thread_post)
        content_date = (ev.created_at or services.clock()).date().isoformat()
        case = services.cases(db).open(
            ev.id,
            ev.kind,
            d,
            poster=decided.poster,
            requester=decided.requester,
            content_date=content_date,
        )
        if case is not None:
            db.execute("UPDATE decisions SET case_id = ? WHERE event_id = ?", (case.id, ev.id))
            # what a moderator needs to see and what groups copies (docs/web.md), every path
            from gardefou.cases.clusters import record_case_keys
            from gardefou.cases.review_keep import keep_for_case

            keep_for_case(db, services, decided, case)
            record_case_keys(db, services, decided, case)
        from gardefou.cases.review_keep import hold_post_images

        hold_post_images(db, services, decided)
        if isinstance(ev, Post) and db is services.db:
            # replies decided before this post was known are judged again with it
            from gardefou.cases.reevaluate import reevaluate_replies

            reevaluate_replies(db, services, ev.id)
    _exchange_feedback(db, decided)
    return StoredDecision(ev.id, d, case.id if case else None, True)


def _exchange_feedback(db: Any, decided: Decided) -> None:
    """Tell the exchanges their hashes matched (queued, sent later; never raises). Outside the
    decision's transaction: a failed insert must not abort the decision on PostgreSQL."""
    items = decided.items
    entries = sorted({e for it in items for e in it.context.get("bank.exchange_entries") or ()})
    if entries:
        from gardefou.exchanges.feedback import record_matches

        record_matches(db, entries, "seen", event_id=decided.event.id)


def decide_event(event: Event | Mapping[str, Any], services: Services) -> StoredDecision:
    """Decide one event once. Raises PipelineEventError / MediaError for a bad event (the
    runner's dead-letter store takes it); a replay returns the stored decision."""
    ev = event if isinstance(event, Post | GenerationEvent) else parse_event(dict(event))
    stored = get_decision(services.db, ev.id)
    if stored is not None:
        return stored
    if isinstance(ev, Post):
        media = {"media": _load(ev.media, services)}
    else:
        media = {
            "input": _load(ev.input_media, services),
            "output": _load(ev.output_media, services),
        }
    return record(services.db, decide(ev, media, services), services)


# -- adapter for gardefou.pipeline -----------------------------------------------------------------


def __getattr__(name: str) -> Any:
    # PlatformDecider and platform_decider live in gardefou.decide_pipeline; importable from here
    # (``--decider gardefou.decide:platform_decider``) without an import cycle
    if name in ("PlatformDecider", "platform_decider"):
        from gardefou import decide_pipeline

        return getattr(decide_pipeline, name)
    raise AttributeError(f"module 'gardefou.decide' has no attribute {name!r}")
