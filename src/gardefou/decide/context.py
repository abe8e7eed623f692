"""Context facts for the policy: a post's place in its thread (``post_context``), and of one
image its bank matches, thread edits and consent registry (``item_context``).

``item_context`` can leave the facts derived from face embeddings UNKNOWN while identity has
not run (cheap-first signals, ``gardefou.policy.needs``). Reads only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gardefou.consent import consent_facts
from gardefou.decide.services import BANK_SIGNAL, Services
from gardefou.policy.facts import UNKNOWN
from gardefou.signals.nudity_levels import LEVEL_RANK
from gardefou.thread import MediaFacts, ancestor_media, bot_request_facts, edit_facts

__all__ = [
    "BANK_SIGNAL",
    "IDENTITY_FACTS",
    "NO_PARENT_NOTE",
    "SKIPPED_KEY",
    "VICTIM_SOURCES",
    "bank_facts",
    "consent_context",
    "item_context",
    "post_context",
]

VICTIM_SOURCES = frozenset({"submission", "takedown", "victim"})
NO_PARENT_NOTE = "no earlier image in the thread known"
#: context facts derived from face embeddings (identity): UNKNOWN until identity has run
IDENTITY_FACTS = {
    f: "identity"
    for f in (
        "thread.parent_same_person",
        "thread.same_person_score",
        "thread.more_sexualized_than_parent",
        "thread.sexualized_edit",
        "consent.match",
        "consent.evidence",
    )
}
_BANK_UNKNOWN = {
    "bank.match": UNKNOWN,
    "bank.victim_match": UNKNOWN,
    "bank.unconfirmed_match": UNKNOWN,
}
#: pseudo-signal kept with an image's thread facts: the signals cheap-first skipped (so a later
#: re-evaluation from the stored signals knows they were not needed, not unavailable)
SKIPPED_KEY = "_skipped"


# -- context facts ---------------------------------------------------------------------------------


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


def bank_facts(services: Services, signals: Mapping[str, Any]) -> dict[str, Any]:
    if services.banks is None:
        return {}
    r = signals.get(BANK_SIGNAL)
    if r is None or not r.available:
        # without the hashes nothing can be matched: unknown, unless there is nothing to match
        return {"bank.match": False} if _no_banks(services.banks) else dict(_BANK_UNKNOWN)
    quality = (r.details or {}).get("quality")
    try:
        matches = services.banks.match(r.value, quality=quality)
    except Exception:  # noqa: BLE001 - a bank outage is "unknown", never "no match"
        return dict(_BANK_UNKNOWN)

    def get(m: Any, k: str, default: Any = None) -> Any:
        return m.get(k, default) if isinstance(m, Mapping) else getattr(m, k, default)

    def live_match(m: Any) -> bool:
        return not get(m, "negative", False) and not get(m, "suppressed", False)

    # An unconfirmed hash (an anonymous submission no moderator has confirmed) can only send the
    # image to review: it never sets bank.match / bank.victim_match, which rules may act on.
    # Matches without the field (another bank service) are taken as confirmed.
    unconfirmed = [m for m in matches if live_match(m) and not get(m, "confirmed", True)]
    live = [
        m for m in matches if get(m, "actionable", True) and get(m, "confirmed", True) is not False
    ]
    facts: dict[str, Any] = {"bank.unconfirmed_match": bool(unconfirmed)}
    # Hashes from a hash-sharing exchange (source "exchange:<name>"): the exchange is named in
    # the decision and the DSA statement, and gets feedback on the match and on its outcome.
    shared = [m for m in live + unconfirmed if str(get(m, "source", "")).startswith("exchange:")]
    if shared:
        facts["bank.exchanges"] = sorted({str(get(m, "source"))[9:] for m in shared})
        facts["bank.exchange_entries"] = sorted({int(get(m, "entry_id")) for m in shared})
    if unconfirmed:  # shown in the rule trace: the submissions a moderator confirms or rejects
        cases = {str(get(m, "case_id")) for m in unconfirmed if get(m, "case_id")}
        facts["bank.unconfirmed_cases"] = sorted(cases)
    if not live:
        return {"bank.match": False, **facts}

    def victim(m: Any) -> bool:
        if services.victim_banks is not None:
            return get(m, "bank") in services.victim_banks
        return get(m, "source", "") in VICTIM_SOURCES or "victim" in str(get(m, "bank", "")).lower()

    return {
        "bank.match": True,
        "bank.victim_match": any(victim(m) for m in live),
        "bank.min_distance": min(int(get(m, "distance", 256)) for m in live),
        # which entries: copies of one victim's image are one cluster in the review queue
        "bank.entries": sorted({str(get(m, "entry_id")) for m in live if get(m, "entry_id")}),
        **facts,
    }


def _no_banks(banks: Any) -> bool:
    """True only when a BankService is sure it holds no positive bank (any doubt: False)."""
    list_banks = getattr(banks, "list_banks", None)
    if list_banks is None:
        return False
    try:
        return not any(b.enabled and not b.negative for b in list_banks())
    except Exception:  # noqa: BLE001 - a store error leaves the facts unknown
        return False


def consent_context(services: Services, facts: MediaFacts, poster: str | None) -> dict[str, Any]:
    if services.consent is None or not facts.embeddings:
        return {}
    try:
        return consent_facts(services.consent.match(facts.embeddings), poster)
    except Exception:  # noqa: BLE001 - registry down: unknown, so sexualized faces go to review
        return {"consent.match": UNKNOWN}


def item_context(
    services: Services,
    base: Mapping[str, Any],
    parent_media: Sequence[MediaFacts],
    actor: str | None,
    signals: Mapping[str, Any],
    facts: MediaFacts,
    *,
    identity_pending: bool = False,
    memo: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The context facts of one image. With ``identity_pending`` the facts derived from face
    embeddings are UNKNOWN, except what the nudity levels alone settle (an image not more
    sexualized than any parent image is no sexualized edit, whoever it shows)."""
    if not identity_pending:
        ctx = {**base, **edit_facts(facts, parent_media)} if parent_media else dict(base)
        ctx.update(_once(memo, "bank", lambda: bank_facts(services, signals)))
        # the accountable account: a person posting, or requesting an edit of, their own face
        ctx.update(_once(memo, "consent", lambda: consent_context(services, facts, actor)))
        return ctx
    ctx = dict(base)
    if parent_media:
        levels = [p.level for p in parent_media]
        more: Any = UNKNOWN
        if facts.level is not None and None not in levels:
            if LEVEL_RANK[facts.level] <= min(LEVEL_RANK[lv] for lv in levels if lv is not None):
                more = False
        ctx.update(
            {
                "thread.parent_same_person": UNKNOWN,
                "thread.same_person_score": UNKNOWN,
                "thread.more_sexualized_than_parent": more,
                "thread.sexualized_edit": False if more is False else UNKNOWN,
            }
        )
    ctx.update(_once(memo, "bank", lambda: bank_facts(services, signals)))
    if services.consent is not None:
        ctx.update({"consent.match": UNKNOWN, "consent.evidence": UNKNOWN})
    return ctx


def _once(memo: dict[str, Any] | None, key: str, make: Any) -> Any:
    """A bank or consent-registry look-up done once per image (``memo``: that image's cache;
    the bank match needs only cheap signals, the registry match the face embeddings, which do
    not change once identity has run)."""
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    return memo[key]
