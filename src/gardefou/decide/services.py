"""What deciding needs (``Services``) and the one constructor every entry point uses.

    services = services_for(db)   # the store's banks, default policy, consent, threads

``services_for`` is used by the web service, the pipeline's workers, the CLI and library
callers alike, so a decision does not depend on how it was asked for; ``Services(db)`` does the
same (it attaches the store's banks unless told ``banks=None``). Signal extraction
(``Services.extract``) runs the registered signals (``gardefou.scan.run_signals``); tests and
replays put recorded results in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gardefou.banks.service import BankService
from gardefou.cases import CaseStore
from gardefou.clock import utcnow
from gardefou.consent import ConsentRegistry
from gardefou.decide.intent import RequestIntent, request_intent
from gardefou.media import Limits, Media
from gardefou.policy import Policy, load_default_policy
from gardefou.scan import run_signals
from gardefou.thread import ThreadStore

#: the signal whose hashes are matched against the banks (all eight dihedral PDQ hashes)
BANK_SIGNAL = "pdq_dihedral"
#: signals the decision layer reads besides the policy's own (thread and consent need faces)
CONTEXT_SIGNALS = ("identity",)
Extract = Callable[[Media, Sequence[str]], Mapping[str, Any]]


def _run_signals(media: Media, names: Sequence[str]) -> dict[str, Any]:
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
    intent: Callable[[str], RequestIntent] = request_intent
    extract: Extract = _run_signals
    limits: Limits = field(default_factory=Limits)
    base_dir: Path | None = None
    #: accounts that never get strikes (the platform's own image bot)
    exempt_accounts: frozenset[str] = frozenset()
    #: bank names whose matches are victim matches; None: banks fed by submissions/takedowns
    victim_banks: frozenset[str] | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
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
            self.banks = BankService(self.db)
        if self.policy is None:
            self.policy = load_default_policy()
        if self.consent is None:
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

    def cases(self, db: Any | None = None) -> CaseStore:
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
        # the video stack takes about a second to import: only once something is decided
        from gardefou.banks.video_store import VideoBankStore

        overrides["video_index"] = VideoBankStore(db)
    return Services(db, banks=banks, **overrides)
