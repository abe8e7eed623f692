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

import base64
import binascii
import importlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gardefou.decision import Action, Decision, Reason, RuleTrace
from gardefou.errors import ConfigError, MediaUnreadableError, PipelineEventError
from gardefou.media import Limits, Media
from gardefou.store.db import Database

#: event fields that hold media references, with the role each plays
MEDIA_FIELDS: dict[str, str] = {"media": "media", "input_media": "input", "output_media": "output"}
KINDS = ("post", "generation")


@dataclass(frozen=True)
class MediaRef:
    role: str
    label: str
    path: str | None = None
    data: bytes | None = None


@dataclass
class PipelineEvent:
    """The envelope's parsed form: an id, a kind, the media references and the raw payload
    (the decision layer reads the rest: author, text, reply_to, mentions, ...)."""

    id: str
    kind: str
    payload: dict[str, Any]
    media_refs: list[MediaRef] = field(default_factory=list)

    def load_media(
        self, limits: Limits, base_dir: Path | None = None, video_limits: Any = None
    ) -> list[Media]:
        """Decode every referenced image and probe every clip (``media.video_items``: a clip is
        a ``Video``, decided by ``decide_video``); raises the intake's MediaError on the first
        bad one."""
        from gardefou.media.video_items import load_item

        out: list[Any] = []
        for ref in self.media_refs:
            if ref.data is not None:
                out.append(load_item(ref.data, limits, video_limits, label=ref.label))
                continue
            assert ref.path is not None
            path = Path(ref.path)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            if not path.exists():
                raise MediaUnreadableError(
                    f"event {self.id}: media file {str(path)!r} does not exist; paths in an event "
                    "are relative to the JSONL file's folder"
                )
            out.append(load_item(path, limits, video_limits, label=ref.label))
        return out


def parse_event(payload: Any) -> PipelineEvent:
    """Validate the envelope fields; raise PipelineEventError naming the bad value."""
    if not isinstance(payload, dict):
        raise PipelineEventError(f"an event must be a JSON object, got {type(payload).__name__}")
    raw_id = payload.get("id")
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id) == "":
        raise PipelineEventError(
            f"event has no usable 'id' (got {raw_id!r}); every event needs "
            "a unique string id, the key that makes delivery idempotent"
        )
    event_id = str(raw_id)
    if len(event_id) > 200:
        raise PipelineEventError(f"event id of {len(event_id)} characters is over 200")
    kind = payload.get("kind") or ("generation" if "output_media" in payload else "post")
    if kind not in KINDS:
        raise PipelineEventError(f"event {event_id}: unknown kind {kind!r}; use one of {KINDS}")
    refs: list[MediaRef] = []
    for fld, role in MEDIA_FIELDS.items():
        items = payload.get(fld) or []
        if isinstance(items, str | dict):
            items = [items]
        if not isinstance(items, list):
            raise PipelineEventError(f"event {event_id}: {fld!r} must be a list of references")
        for i, item in enumerate(items):
            refs.append(_media_ref(event_id, fld, i, role, item))
    return PipelineEvent(id=event_id, kind=str(kind), payload=payload, media_refs=refs)


def _media_ref(event_id: str, fld: str, i: int, role: str, item: Any) -> MediaRef:
    label = f"{event_id}/{fld}[{i}]"
    if isinstance(item, str):
        return MediaRef(role, label, path=item)
    if isinstance(item, dict):
        if isinstance(item.get("path"), str):
            return MediaRef(role, label, path=item["path"])
        b64 = item.get("b64") or item.get("data_b64")
        if isinstance(b64, str):
            try:
                return MediaRef(role, label, data=base64.b64decode(b64, validate=True))
            except (binascii.Error, ValueError) as exc:
                raise PipelineEventError(f"{label}: 'b64' is not valid base64 ({exc})") from None
        if "url" in item:
            raise PipelineEventError(
                f"{label}: URL references are not fetched (url "
                f"{str(item['url'])[:80]!r}); download the file and pass "
                "'path', or inline it as 'b64'"
            )
    raise PipelineEventError(
        f"{label}: a media reference is a path string or an object with "
        f"'path' or 'b64', got {str(item)[:80]!r}"
    )


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
