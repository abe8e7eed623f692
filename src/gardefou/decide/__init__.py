"""The decision layer the runners call: one event in, one stored, explainable decision out.

    services = services_for(db)             # the store's banks, default policy, consent, threads
    stored = decide_event(event, services)  # idempotent: keyed by event id

``services_for`` is the one constructor every entry point uses (web, pipeline workers, CLI,
library), so a decision does not depend on how it was asked for.

``decide_event`` = load the media, ``decide`` (signals, bank matches, consent registry, thread
context, policy; reads only), then ``record`` (decision row, thread facts, case, strikes; one
transaction). Deciding an event a second time returns the stored decision and does nothing else.
For the pipeline's runners, ``platform_decider()`` adapts this to their Decider protocol
(``--decider gardefou.decide:platform_decider``).

The modules, each importing only those above it (docs/architecture.md)::

    intent      does a request's text ask to undress or sexualize someone
    services    Services (what deciding needs), services_for, signal extraction
    results     ItemResult, Decided, StoredDecision
    context     context facts: a post's thread, an image's banks, edits, consent
    video       a clip in an event (judge_video) or on its own (decide_video)
    judge       decide, judge_lazily, judge_items, combine (reads only)
    reevaluate  judging replies again when their parent arrives late (reads only)
    record      the decisions table: record, get_decision, reevaluate_replies (writes)
    runner      decide_event, PlatformDecider, platform_decider
"""

from __future__ import annotations

from gardefou.decide.context import (
    BANK_SIGNAL,
    IDENTITY_FACTS,
    NO_PARENT_NOTE,
    SKIPPED_KEY,
    VICTIM_SOURCES,
    bank_facts,
    consent_context,
    item_context,
    post_context,
)
from gardefou.decide.intent import RequestIntent, request_intent, rules_intent
from gardefou.decide.judge import combine, decide, judge_items, judge_lazily
from gardefou.decide.record import get_decision, record, reevaluate_replies
from gardefou.decide.results import Decided, ItemResult, StoredDecision
from gardefou.decide.runner import PlatformDecider, decide_event, platform_decider
from gardefou.decide.services import (
    CONTEXT_SIGNALS,
    STORE_BANKS,
    Extract,
    Services,
    services_for,
)

__all__ = [
    "BANK_SIGNAL",
    "CONTEXT_SIGNALS",
    "IDENTITY_FACTS",
    "NO_PARENT_NOTE",
    "SKIPPED_KEY",
    "STORE_BANKS",
    "VICTIM_SOURCES",
    "Decided",
    "Extract",
    "ItemResult",
    "PlatformDecider",
    "RequestIntent",
    "Services",
    "StoredDecision",
    "bank_facts",
    "combine",
    "consent_context",
    "decide",
    "decide_event",
    "get_decision",
    "item_context",
    "judge_items",
    "judge_lazily",
    "platform_decider",
    "post_context",
    "record",
    "reevaluate_replies",
    "request_intent",
    "rules_intent",
    "services_for",
]
