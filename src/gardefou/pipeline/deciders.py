"""What the pipeline needs from the decision layer, and the adapters that provide it.

The pipeline owns execution (delivery, idempotency, dead letters, metrics); deciding is delegated
to a ``Decider`` with two methods:

- ``decide(event, media) -> Decision``: signals and policy, no writes, safe to run twice;
- ``record(db, event, media, decision)``: the decision's side effects (case, strikes, evidence),
  run inside the pipeline's commit transaction together with the ledger row, so they happen
  exactly once per event even when the message is delivered twice.

``load_decider("module:factory")`` builds one from a dotted path (the CLI's ``--decider``); the
default is ``gardefou.pipeline.deciders:default_decider``, the platform decision layer
(``gardefou.decide``); if an optional third-party package it needs is missing, it warns and sends
every event to review. A decider with a ``bind(db)`` method is given the worker's store (thread
context is read from it).
"""

from __future__ import annotations

import importlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gardefou.decision import Action, Decision, Reason, RuleTrace
from gardefou.errors import ConfigError
from gardefou.events import Event, MediaRef, parse_event
from gardefou.media import Limits, Media
from gardefou.store.db import Database


@dataclass
class PipelineEvent:
    """An event as the pipeline handles it: the parsed event (``gardefou.events``, the one event
    model), its id and kind, its media references and the raw payload (for deciders that read
    fields the event model does not keep)."""

    event: Event
    payload: dict[str, Any]

    @classmethod
    def parse(cls, payload: Any) -> PipelineEvent:
        """Validate ``payload`` (``gardefou.events.parse_event``); raises PipelineEventError
        naming the bad value."""
        return cls(parse_event(payload), payload)

    @property
    def id(self) -> str:
        return self.event.id

    @property
    def kind(self) -> str:
        return self.event.kind

    @property
    def media_refs(self) -> tuple[MediaRef, ...]:
        return self.event.media_refs

    def load_media(
        self, limits: Limits, base_dir: Path | None = None, video_limits: Any = None
    ) -> list[Any]:
        """Decode every referenced image and probe every clip (``MediaRef.load``); raises the
        intake's MediaError on the first bad one."""
        return [ref.load(limits, base_dir, video_limits) for ref in self.media_refs]


class Decider(Protocol):
    def decide(self, event: PipelineEvent, media: list[Media]) -> Decision: ...

    def record(
        self, db: Database, event: PipelineEvent, media: list[Media], decision: Decision
    ) -> None: ...


class SignalsOnlyDecider:
    """Runs the given signals, stores their results, and allows: the pipeline without a policy.
    The decision says so in its reasons and ``policy`` field, so it is never mistaken for a
    policy verdict. ``degraded``: why the policy could not load; every decision is then
    "review" (the pipeline fails closed), with that reason."""

    def __init__(self, signals: list[str] | None = None, degraded: str | None = None) -> None:
        from gardefou.signals import signal_names

        self.signals = signals if signals is not None else signal_names(None)
        self.degraded = degraded

    def decide(self, event: PipelineEvent, media: list[Media]) -> Decision:
        from gardefou.scan import run_signals

        unavailable: set[str] = set()
        for m in media:
            results = run_signals(m, self.signals)
            m._cache["pipeline_results"] = results
            unavailable.update(r.name for r in results if not r.available)
        if self.degraded:
            return Decision(
                action=Action.REVIEW,
                reasons=(Reason("policy_unavailable", self.degraded[:500]),),
                rule_trace=(RuleTrace("policy_unavailable", True, self.degraded[:500]),),
                policy="none",
                unavailable=tuple(sorted(unavailable)),
            )
        return Decision(
            action=Action.ALLOW,
            reasons=(
                Reason("no_policy", "no policy installed: signals recorded, nothing enforced"),
            ),
            rule_trace=(RuleTrace("no_policy", True, f"{len(media)} media scanned"),),
            policy="none",
            unavailable=tuple(sorted(unavailable)),
        )

    def record(
        self, db: Database, event: PipelineEvent, media: list[Media], decision: Decision
    ) -> None:
        from gardefou.store.media import MediaRepository

        repo = MediaRepository(db)
        for m in media:
            repo.save_scan(m, m._cache.get("pipeline_results", []))


def default_decider() -> Decider:
    """The platform decision layer (``gardefou.decide``: signals, the store's banks, consent,
    thread context, policy, cases and strikes), built by ``services_for`` like every other
    entry point.

    Only a missing optional third-party package may degrade it, and then loudly: a warning,
    and every decision is "review" (nothing allowed unseen). An ImportError raised inside
    gardefou itself is a bug and propagates: a safety decision never becomes "allow" because
    something failed to load."""
    try:
        from gardefou.decide import PlatformDecider, services_for
    except ImportError as exc:
        missing = exc.name or ""
        if not missing or missing == "gardefou" or missing.startswith("gardefou."):
            raise
        message = (
            f"the decision layer cannot load: third-party package {missing!r} is missing "
            f"({exc}); every event goes to review until it is installed "
            "(pip install 'gardefou[all]')"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        logging.getLogger(__name__).error(message)
        return SignalsOnlyDecider(degraded=message)

    decider: Decider = PlatformDecider(services_for)
    return decider


def load_decider(spec: str | None) -> Decider:
    """Build a decider from 'module:factory' (a callable returning a Decider), or the default."""
    if not spec:
        return default_decider()
    module, _, attr = spec.partition(":")
    if not attr:
        raise ConfigError(f"--decider {spec!r} must look like 'package.module:factory'")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load decider {spec!r}: {exc}") from None
    decider: Decider = factory()
    return decider
