"""Redis Streams: at-least-once delivery, decided exactly once in effect.

Producers ``XADD`` events to a stream; workers in a consumer group ``XREADGROUP`` them, decide,
commit the decision and its ledger row in one store transaction, and only then ``XACK``. A worker
killed between reading and acknowledging leaves its messages pending: when it restarts under the
same consumer name it first re-reads its own pending history (``XREADGROUP ... 0``), and any
worker claims messages left idle longer than ``claim_idle_ms`` by a consumer that never returns
(``XAUTOCLAIM``). A redelivered message whose event is already in the ledger is acknowledged
without a second decision. A message delivered more than ``max_deliveries`` times is set aside in
the dead-letter store, so one poison message cannot wedge the group.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gardefou.errors import PipelineError
from gardefou.pipeline.core import Envelope, Outcome, Processor
from gardefou.pipeline.metrics import Metrics
from gardefou.pipeline.runners import RunSummary

DEFAULT_STREAM = "gardefou:events"
DEFAULT_GROUP = "gardefou-deciders"
#: test hook: exit abruptly after committing the Nth event and before acknowledging it


def _redis(url: str) -> Any:
    try:
        import redis
    except ImportError:
        raise PipelineError(
            "Redis Streams need the redis package; install it with `pip install 'gardefou[scale]'`"
        ) from None
    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise PipelineError(
            f"cannot reach Redis at {url}: {exc}; start it (see "
            "scripts/start-services.sh) or fix --redis"
        ) from None
    return client


class RedisStream:
    """One stream and its consumer group."""

    def __init__(self, url: str, stream: str = DEFAULT_STREAM, group: str = DEFAULT_GROUP) -> None:
        self.url, self.stream, self.group = url, stream, group
        self.r = _redis(url)
        self.ensure_group()

    def ensure_group(self) -> None:
        import redis

        try:
            self.r.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def push_many(self, envelopes: Iterable[Envelope]) -> list[str]:
        pipe = self.r.pipeline(transaction=False)
        n = 0
        for env in envelopes:
            fields = {"event": env.raw, "received_at": repr(env.received_at)}
            if env.base_dir is not None:  # relative media paths resolve beside the source file
                fields["base_dir"] = str(env.base_dir)
            pipe.xadd(self.stream, fields)
            n += 1
        return [i.decode() if isinstance(i, bytes) else str(i) for i in pipe.execute()] if n else []

    def push_source(
        self, envelopes: Iterable[Envelope], max_backlog: int = 10_000, batch: int = 200
    ) -> tuple[int, int]:
        """Append every envelope, waiting while the group's backlog is over ``max_backlog``.
        Returns (pushed, backpressure waits). The wall-clock receive time is stamped at push."""
        pushed = waits = 0
        chunk: list[Envelope] = []
        for env in envelopes:
            chunk.append(env)
            if len(chunk) >= batch:
                waits += self._wait_below(max_backlog)
                pushed += len(self.push_many(_restamp(chunk)))
                chunk = []
        if chunk:
            waits += self._wait_below(max_backlog)
            pushed += len(self.push_many(_restamp(chunk)))
        return pushed, waits

    def _wait_below(self, max_backlog: int) -> int:
        waits = 0
        while self.backlog() > max_backlog:
            waits += 1
            time.sleep(0.05)
        return waits

    def backlog(self) -> int:
        """Messages not yet acknowledged by the group: never delivered (lag) plus pending."""
        for g in self.r.xinfo_groups(self.stream):
            name = g["name"].decode() if isinstance(g["name"], bytes) else g["name"]
            if name == self.group:
                lag = g.get("lag")
                if lag is None:  # Redis < 7 or after XDEL: count the entries after last id
                    lag = len(self.r.xrange(self.stream, min=f"({_s(g['last-delivered-id'])}"))
                return int(lag) + int(g["pending"])
        return int(self.r.xlen(self.stream))

    def pending_count(self) -> int:
        info = self.r.xpending(self.stream, self.group)
        return int(info["pending"])

    def delete(self) -> None:
        self.r.delete(self.stream)

    def close(self) -> None:
        self.r.close()


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _restamp(chunk: list[Envelope]) -> list[Envelope]:
    now = time.time()
    for env in chunk:
        env.received_at = now
    return chunk


@dataclass
class StreamWorker:
    stream: RedisStream
    processor: Processor
    consumer: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    batch: int = 16
    block_ms: int = 1000
    claim_idle_ms: int = 30_000
    max_deliveries: int = 5
    metrics: Metrics | None = None
    #: called with the number of decisions this worker committed so far, after each commit and
    #: before the acknowledgement (``gardefou.testing.faults`` crashes a worker exactly there)
    on_commit: Callable[[int], None] | None = None
    _committed: int = 0

    def run(self, until_idle: bool = False, max_events: int | None = None) -> RunSummary:
        """Consume until stopped (or, with ``until_idle``, until the group has nothing left).
        SIGTERM and SIGINT stop it after the message in hand is committed and acknowledged."""
        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: stop.set())
        try:
            return self._run(stop, until_idle, max_events)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(self, stop: threading.Event, until_idle: bool, max_events: int | None) -> RunSummary:
        summary = RunSummary()
        start = time.perf_counter()
        own_backlog = True  # first re-read this consumer's own pending history (a restart)
        last_claim = 0.0
        while not stop.is_set() and (max_events is None or summary.total < max_events):
            msgs: list[tuple[str, dict[bytes, bytes]]] = []
            if own_backlog:
                msgs = self._read("0")
                own_backlog = bool(msgs)
            if not msgs and time.monotonic() - last_claim > max(self.claim_idle_ms / 2000, 0.2):
                last_claim = time.monotonic()
                msgs = self._claim()
            if not msgs:
                msgs = self._read(">")
            if not msgs:
                if until_idle and self.stream.pending_count() == 0 and self.stream.backlog() == 0:
                    break
                continue
            counts = self._delivery_counts([m[0] for m in msgs])
            for msg_id, fields in msgs:
                if stop.is_set():
                    break  # the rest stay pending: this consumer re-reads them on restart
                out = self._handle(msg_id, fields, counts.get(msg_id, 1))
                summary.add(out)
                if out.status != "retry":
                    if out.status == "decided":
                        self._committed += 1
                        if self.on_commit is not None:
                            self.on_commit(self._committed)
                    self.stream.r.xack(self.stream.stream, self.stream.group, msg_id)
            if self.metrics is not None:
                self.metrics.set(
                    "stream_backlog",
                    self.stream.backlog(),
                    "Messages not yet acknowledged by the group.",
                )
        summary.elapsed_s = time.perf_counter() - start
        return summary

    def _read(self, last_id: str) -> list[tuple[str, dict[bytes, bytes]]]:
        block = None if last_id == "0" else self.block_ms
        resp = self.stream.r.xreadgroup(
            self.stream.group,
            self.consumer,
            {self.stream.stream: last_id},
            count=self.batch,
            block=block,
        )
        out = []
        for _name, entries in resp or []:
            for msg_id, fields in entries:
                if fields:  # a deleted entry shows up with no fields
                    out.append((_s(msg_id), fields))
                else:
                    self.stream.r.xack(self.stream.stream, self.stream.group, msg_id)
        return out

    def _claim(self) -> list[tuple[str, dict[bytes, bytes]]]:
        resp = self.stream.r.xautoclaim(
            self.stream.stream,
            self.stream.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch,
        )
        entries = resp[1] if resp else []
        deleted = resp[2] if resp and len(resp) > 2 else []
        for msg_id in deleted:
            self.stream.r.xack(self.stream.stream, self.stream.group, msg_id)
        claimed = [(_s(i), f) for i, f in entries if f]
        if claimed and self.metrics is not None:
            self.metrics.inc(
                "stream_claimed_total",
                "Stale messages claimed from other consumers.",
                value=len(claimed),
            )
        return claimed

    def _delivery_counts(self, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        rows = self.stream.r.xpending_range(
            self.stream.stream,
            self.stream.group,
            min=min(ids, key=_id_key),
            max=max(ids, key=_id_key),
            count=len(ids) * 4 + 16,
            consumername=self.consumer,  # just read or claimed: they are ours
        )
        return {_s(r["message_id"]): int(r["times_delivered"]) for r in rows}

    def _handle(self, msg_id: str, fields: dict[bytes, bytes], deliveries: int) -> Outcome:
        raw = fields.get(b"event", b"")
        try:
            received = float(fields.get(b"received_at", b"0") or 0) or time.time()
        except ValueError:
            received = time.time()
        base = fields.get(b"base_dir")
        env = Envelope(
            raw=raw,
            base_dir=Path(base.decode()) if base else None,
            origin=f"redis:{self.stream.stream}:{msg_id}",
            received_at=received,
            deliveries=deliveries,
        )
        if deliveries > self.max_deliveries:
            out = Outcome("dead_letter", env.origin)
            return self.processor._dead(
                env,
                out,
                "retries_exhausted",
                f"delivered {deliveries} times without being decided (limit {self.max_deliveries})",
            )
        return self.processor.process(env)


def _id_key(msg_id: str) -> tuple[int, int]:
    ms, _, seq = msg_id.partition("-")
    return int(ms), int(seq or 0)
