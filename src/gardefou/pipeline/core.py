"""One event through the stages: parse -> intake -> decide -> commit.

Every runner (inline, local pool, Redis Streams, HTTP ingest) calls ``Processor.process`` and
only differs in where envelopes come from and when they are acknowledged. The processor never
raises for a bad event: it returns an ``Outcome`` saying whether the event was decided, was a
duplicate of an already-decided one, was set aside in the dead-letter store (with the reason), or
must be retried (a transient store failure; the runner does not acknowledge it).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gardefou.errors import MediaError, PipelineEventError
from gardefou.media import Limits
from gardefou.pipeline.deciders import Decider, PipelineEvent
from gardefou.pipeline.ledger import AlreadyDecided, PipelineLedger
from gardefou.pipeline.metrics import Metrics
from gardefou.store.db import Database

#: an event line larger than this is poison (media belong in references, not inline megabytes)
DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024
_ID_PEEK = re.compile(rb'"id"\s*:\s*"?([A-Za-z0-9_.:@/-]{1,200})')


@dataclass
class Envelope:
    """An event as received: raw bytes plus where it came from and when."""

    raw: bytes
    origin: str  # "posts.jsonl:12", "redis:gardefou:events:1700000000000-0", "http"
    received_at: float = field(default_factory=time.time)  # wall clock, for end-to-end latency
    deliveries: int = 1
    payload: dict[str, Any] | None = None  # already parsed (HTTP ingest)
    base_dir: Path | None = None  # relative media paths resolve here (JSONL file's folder)
    #: False for events from the network (HTTP ingest): a path would read the server's files
    paths_allowed: bool = True


@dataclass
class Outcome:
    status: str  # "decided" | "duplicate" | "dead_letter" | "retry"
    origin: str
    event_id: str | None = None
    action: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    latency_ms: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def is_transient(exc: BaseException) -> bool:
    """Store/network failures worth retrying rather than dead-lettering the event."""
    name = type(exc).__name__
    module = type(exc).__module__
    if name in ("OperationalError", "InterfaceError") and module.startswith(("sqlite3", "psycopg")):
        return True
    return isinstance(exc, ConnectionError | TimeoutError)


class Processor:
    """Decides envelopes against one store connection. Not thread-safe: one per worker."""

    def __init__(
        self,
        db: Database,
        decider: Decider,
        *,
        limits: Limits | None = None,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        metrics: Metrics | None = None,
        worker: str | None = None,
        video_limits: Any = None,
    ) -> None:
        self.db = db
        self.ledger = PipelineLedger(db)
        self.decider = decider
        bind = getattr(decider, "bind", None)
        if callable(bind):  # deciders that read context (threads, consent) use this store
            bind(db)
        self.limits = limits or Limits()
        #: limits of a clip in an event (``media.video.VideoLimits``); None: the default
        self.video_limits = video_limits
        self.max_event_bytes = max_event_bytes
        self.metrics = metrics
        self.worker = worker or worker_name()

    # -- the stages ---------------------------------------------------------------------------
    def process(self, env: Envelope) -> Outcome:
        out = Outcome(status="decided", origin=env.origin)
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            out.stages[stage] = out.stages.get(stage, 0.0) + (now - clock)
            clock = now

        try:
            event = self._parse(env, out)
            lap("parse")
            if event is None:
                return out
            if self.ledger.is_decided(event.id):
                out.status = "duplicate"
                return out
            if not env.paths_allowed and any(r.path is not None for r in event.media_refs):
                return self._dead(
                    env,
                    out,
                    "invalid_event",
                    f"event {event.id}: media given by path; files on the server are not read "
                    "for events sent over the network: inline the image as 'b64'",
                )
            try:
                media = event.load_media(self.limits, env.base_dir, self.video_limits)
            except MediaError as exc:
                return self._dead(env, out, exc.code, str(exc))
            lap("intake")
            try:
                decision = self.decider.decide(event, media)
            except (MediaError, PipelineEventError) as exc:
                # the decision layer's own validation: a bad event, not a bug
                code = "invalid_event" if type(exc) is PipelineEventError else exc.code
                return self._dead(env, out, code, str(exc))
            lap("decide")
            try:
                with self.db.transaction():
                    out.latency_ms = self.ledger.claim(
                        event.id,
                        event.kind,
                        decision,
                        env.origin,
                        self.worker,
                        env.deliveries,
                        env.received_at,
                    )
                    self.decider.record(self.db, event, media, decision)
            except AlreadyDecided:
                out.status = "duplicate"
                return out
            lap("commit")
            out.action = str(decision.action)
            return out
        except Exception as exc:  # noqa: BLE001 - one poison event must not stop the stream
            if is_transient(exc):
                out.status, out.reason_code = "retry", "transient"
                out.reason = f"{type(exc).__name__}: {exc}"
                return out
            # a bug, not a bad event: keep the innermost frames so it can be reported
            frames = traceback.extract_tb(exc.__traceback__)[-4:]
            where = " <- ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[::-1]
            )
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            detail = f"{detail} (at {where})"
            return self._dead(env, out, "internal_error", detail)
        finally:
            self._observe(out)

    def _parse(self, env: Envelope, out: Outcome) -> PipelineEvent | None:
        if len(env.raw) > self.max_event_bytes:
            # name the event for the operator without parsing megabytes of JSON
            m = _ID_PEEK.search(env.raw[:4096])
            out.event_id = m.group(1).decode("utf-8", "replace") if m else None
            self._dead(
                env,
                out,
                "event_too_large",
                f"event of {len(env.raw):,} bytes is over the {self.max_event_bytes:,}-byte "
                "limit; reference media by path instead of inlining it, or raise "
                "--max-event-bytes",
            )
            return None
        try:
            payload = env.payload if env.payload is not None else json.loads(env.raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self._dead(env, out, "invalid_json", f"not a JSON object: {exc}")
            return None
        except RecursionError:
            self._dead(
                env,
                out,
                "invalid_json",
                "JSON nested too deeply (the parser's limit is about 1,000 levels); flatten the "
                "event",
            )
            return None
        if isinstance(payload, dict):
            out.event_id = _usable_id(payload.get("id"))
        bad_text = _lone_surrogate(env.raw, payload)
        if bad_text is not None:
            self._dead(
                env,
                out,
                "invalid_text",
                f"text holds a lone UTF-16 surrogate ({bad_text}), which is not a character; "
                "send valid UTF-8 (pair the surrogates or drop the unpaired one)",
            )
            return None
        try:
            event = PipelineEvent.parse(payload)
        except PipelineEventError as exc:
            # a too-long field keeps its own code (it did when the decider parsed the fields)
            code = "invalid_event" if type(exc) is PipelineEventError else exc.code
            self._dead(env, out, code, str(exc))
            return None
        out.event_id = event.id
        return event

    def _dead(self, env: Envelope, out: Outcome, code: str, reason: str) -> Outcome:
        # Whatever the event held (lone surrogates, control bytes) must not stop it being stored.
        reason = _storable(reason)
        out.event_id = _usable_id(out.event_id)
        out.status, out.reason_code, out.reason = "dead_letter", code, reason
        key = str(out.event_id) if out.event_id is not None else f"origin:{env.origin}"
        self.ledger.dead_letter(
            dedup_key=key,
            event_id=out.event_id,
            origin=env.origin,
            reason_code=code,
            reason=reason,
            payload=env.raw,
            worker=self.worker,
            deliveries=env.deliveries,
        )
        return out

    def _observe(self, out: Outcome) -> None:
        if self.metrics is not None:
            record_outcome(self.metrics, out)


def _usable_id(value: Any) -> str | None:
    """An event id that can be stored and shown, or None (the dead letter is keyed by origin)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if 0 < len(text) <= 200 and _storable(text) == text else None


def _storable(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (lone surrogates) and NULs escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


# A \uD800-\uDFFF escape, or its bytes encoded directly (json.loads decodes bytes with
# "surrogatepass", so ED A0 80 becomes a lone surrogate too).
_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _lone_surrogate(raw: bytes, payload: Any) -> str | None:
    """The first unpaired surrogate in the parsed event (JSON's \\uD800 escapes decode to one;
    no store can keep it), or None. The raw-bytes check keeps the common case free."""
    if not _SURROGATE_ESCAPE.search(raw):
        return None
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(exc.object[exc.start]):04X}"
    return None


def record_outcome(metrics: Metrics, out: Outcome) -> None:
    """Count an outcome and its stage times (also used by runners that collect outcomes from
    worker processes)."""
    metrics.inc(
        "pipeline_events_total",
        "Events by outcome and action.",
        {"status": out.status, "action": out.action or ""},
    )
    for stage, seconds in out.stages.items():
        metrics.observe(
            "pipeline_stage_seconds", seconds, "Time spent per stage.", {"stage": stage}
        )
    if out.status == "decided":
        metrics.observe(
            "pipeline_latency_seconds",
            out.latency_ms / 1000.0,
            "End-to-end latency: received to decision committed.",
        )
    if out.status == "dead_letter":
        metrics.inc(
            "pipeline_dead_letters_total",
            "Events set aside, by reason.",
            {"reason": out.reason_code or "?"},
        )
