"""Running envelopes through the processor: inline (one thread) or a local worker pool.

The pool feeds worker processes through a bounded queue: when every worker is busy and the queue
is full, the reader blocks (backpressure) instead of buffering the whole source in memory. Each
worker opens its own store connection and decider (models load once per worker). A worker that
dies (a native crash in a decoder or model) is replaced; the events it held are resubmitted and
an event that has killed ``MAX_CRASHES`` workers is dead-lettered as ``worker_crashed``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import queue
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import PipelineError
from gardefou.media import Limits
from gardefou.pipeline.core import (
    DEFAULT_MAX_EVENT_BYTES,
    Envelope,
    Outcome,
    Processor,
    record_outcome,
)
from gardefou.pipeline.metrics import Metrics
from gardefou.store.schema import migrate_on_open

MAX_RETRIES = 3
MAX_CRASHES = 2


@dataclass
class RunSummary:
    counts: dict[str, int] = field(default_factory=dict)  # by status
    actions: dict[str, int] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)  # by reason
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    backpressure_waits: int = 0

    def add(self, out: Outcome) -> None:
        self.counts[out.status] = self.counts.get(out.status, 0) + 1
        if out.status == "decided" and out.action:
            self.actions[out.action] = self.actions.get(out.action, 0) + 1
            self.latencies_ms.append(out.latency_ms)
        if out.status == "dead_letter":
            key = out.reason_code or "?"
            self.dead_letters[key] = self.dead_letters.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]

    def to_dict(self) -> dict[str, Any]:
        rate = self.total / self.elapsed_s if self.elapsed_s else 0.0
        return {
            "events": self.total,
            "by_status": self.counts,
            "actions": self.actions,
            "dead_letters": self.dead_letters,
            "elapsed_s": round(self.elapsed_s, 3),
            "events_per_s": round(rate, 2),
            "p50_ms": _r(self.percentile(50)),
            "p99_ms": _r(self.percentile(99)),
            "backpressure_waits": self.backpressure_waits,
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


def run_inline(
    envelopes: Iterable[Envelope],
    processor: Processor,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> RunSummary:
    """Decide each envelope in this thread, retrying transient store errors."""
    summary = RunSummary()
    start = time.perf_counter()
    for env in envelopes:
        out = processor.process(env)
        while out.status == "retry" and env.deliveries < MAX_RETRIES:
            time.sleep(0.05 * 2**env.deliveries)
            env.deliveries += 1
            out = processor.process(env)
        if out.status == "retry":
            out = processor._dead(env, out, "retries_exhausted", out.reason or "transient error")
        summary.add(out)
        if on_outcome:
            on_outcome(out)
    summary.elapsed_s = time.perf_counter() - start
    return summary


# -- local worker pool ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerConfig:
    db_url: str
    decider: str | None = None
    limits: Limits = field(default_factory=Limits)
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    #: events each worker decides before reporting ready (loads the models off the clock);
    #: their ids get a "-warmup-<worker>" suffix
    warmup: tuple[bytes, ...] = ()
    #: migrate a store that is behind (True) or refuse it (False, ``--no-migrate``); None
    #: follows GARDEFOU_AUTO_MIGRATE where the worker runs. Carried here because a spawned
    #: worker does not inherit the parent's ``migrate_on_open`` choice.
    auto_migrate: bool | None = None


def _open(cfg: WorkerConfig) -> Any:
    from gardefou.store import connect

    with migrate_on_open(cfg.auto_migrate):
        return connect(cfg.db_url)


def _pool_worker(cfg: WorkerConfig, inq: Any, outq: Any, index: int) -> None:
    from gardefou.pipeline.deciders import load_decider

    db = _open(cfg)
    processor = Processor(
        db, load_decider(cfg.decider), limits=cfg.limits, max_event_bytes=cfg.max_event_bytes
    )
    for raw in cfg.warmup:
        obj = json.loads(raw)
        obj["id"] = f"{obj['id']}-warmup-{index}"
        processor.process(Envelope(json.dumps(obj).encode(), "warmup"))
    outq.put(("ready", index, None))
    while True:
        item = inq.get()
        if item is None:
            break
        seq, env = item
        outq.put(("started", index, seq))
        outq.put(("done", index, (seq, processor.process(env))))
    db.close()


def run_pool(
    envelopes: Iterable[Envelope],
    cfg: WorkerConfig,
    workers: int = 2,
    queue_size: int | None = None,
    metrics: Metrics | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> RunSummary:
    """Decide envelopes in ``workers`` processes fed by a bounded queue."""
    if workers <= 1:
        from gardefou.pipeline.deciders import load_decider

        db = _open(cfg)
        try:
            proc = Processor(
                db,
                load_decider(cfg.decider),
                limits=cfg.limits,
                max_event_bytes=cfg.max_event_bytes,
                metrics=metrics,
            )
            return run_inline(envelopes, proc, on_outcome)
        finally:
            db.close()
    _open(cfg).close()  # migrate once here, not racing in every worker
    ctx = mp.get_context("spawn")  # fork is unsafe once model runtimes have started threads
    inq = ctx.Queue(maxsize=queue_size or 2 * workers)
    outq = ctx.Queue()
    summary = RunSummary()
    pending: dict[int, Envelope] = {}
    held: dict[int, int] = {}  # worker index -> seq it is processing
    crashes: dict[int, int] = {}
    ready: set[int] = set()
    lock = threading.Lock()
    feeding_done = threading.Event()

    def spawn(i: int) -> Any:
        p = ctx.Process(
            target=_pool_worker, args=(cfg, inq, outq, i), daemon=True, name=f"gardefou-worker-{i}"
        )
        p.start()
        return p

    procs = {i: spawn(i) for i in range(workers)}
    start = time.perf_counter()

    def put(item: tuple[int, Envelope]) -> None:
        while True:
            try:
                inq.put(item, timeout=0.05)
                return
            except queue.Full:
                summary.backpressure_waits += 1
                if metrics:
                    metrics.inc(
                        "pipeline_backpressure_waits_total",
                        "Times the reader waited on a full worker queue.",
                    )

    all_ready = threading.Event()

    def feed() -> None:
        all_ready.wait()  # models load before the clock starts on the first event
        for seq, env in enumerate(envelopes):
            with lock:
                pending[seq] = env
            put((seq, env))
        feeding_done.set()

    feeder = threading.Thread(target=feed, daemon=True, name="pipeline-feeder")
    feeder.start()
    idle = 0
    try:
        while not (feeding_done.is_set() and not pending):
            try:
                kind, idx, data = outq.get(timeout=0.2)
            except queue.Empty:
                _replace_dead(
                    procs, held, pending, crashes, spawn, put, summary, on_outcome, cfg, lock, ready
                )
                # An event taken by a worker that died before saying so is in no queue: after
                # a quiet second, resubmit what is still pending (the ledger makes it harmless).
                idle = idle + 1 if feeding_done.is_set() and not held and _qsize(inq) == 0 else 0
                if idle >= 5 and pending:
                    with lock:
                        stuck = list(pending.items())
                    for item in stuck:
                        threading.Thread(target=put, args=(item,), daemon=True).start()
                    idle = 0
                continue
            if kind == "ready":
                ready.add(idx)
                if len(ready) == len(procs) and not all_ready.is_set():
                    start = time.perf_counter()  # throughput is measured once workers are up
                    all_ready.set()
            elif kind == "started":
                held[idx] = data
            elif kind == "done":
                seq, out = data
                held.pop(idx, None)
                with lock:
                    env = pending.pop(seq, None)
                if env is None:  # a resubmitted copy already finished
                    continue
                if out.status == "retry" and env.deliveries < MAX_RETRIES:
                    env.deliveries += 1
                    with lock:
                        pending[seq] = env
                    threading.Thread(target=put, args=((seq, env),), daemon=True).start()
                    continue
                _finish(out, summary, metrics, on_outcome)
            if metrics:
                metrics.set("pipeline_queue_depth", _qsize(inq), "Events waiting for a worker.")
    finally:
        for _ in procs:
            try:
                inq.put(None, timeout=1)
            except queue.Full:
                break
        for p in procs.values():
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
    summary.elapsed_s = time.perf_counter() - start
    return summary


def _finish(
    out: Outcome,
    summary: RunSummary,
    metrics: Metrics | None,
    on_outcome: Callable[[Outcome], None] | None,
) -> None:
    summary.add(out)
    if metrics:
        record_outcome(metrics, out)
    if on_outcome:
        on_outcome(out)


def _replace_dead(
    procs: dict[int, Any],
    held: dict[int, int],
    pending: dict[int, Envelope],
    crashes: dict[int, int],
    spawn: Callable[[int], Any],
    put: Callable[[tuple[int, Envelope]], None],
    summary: RunSummary,
    on_outcome: Callable[[Outcome], None] | None,
    cfg: WorkerConfig,
    lock: threading.Lock,
    ready: set[int],
) -> None:
    for i, p in list(procs.items()):
        if p.is_alive():
            continue
        if i not in ready:
            raise PipelineError(
                f"worker {i} exited with code {p.exitcode} before it was ready (see its error "
                "above); check the --db URL and the --decider"
            )
        ready.discard(i)
        procs[i] = spawn(i)
        seq = held.pop(i, None)
        if seq is None:
            continue
        with lock:
            env = pending.get(seq)
        if env is None:
            continue
        crashes[seq] = crashes.get(seq, 0) + 1
        if crashes[seq] >= MAX_CRASHES:
            from gardefou.pipeline.ledger import PipelineLedger

            db = _open(cfg)
            PipelineLedger(db).dead_letter(
                dedup_key=f"origin:{env.origin}",
                event_id=None,
                origin=env.origin,
                reason_code="worker_crashed",
                reason=f"the worker died {crashes[seq]} times on this event (exit code "
                f"{p.exitcode}); a decoder or model crashes on it",
                payload=env.raw,
                worker="pool",
                deliveries=crashes[seq],
            )
            db.close()
            with lock:
                pending.pop(seq, None)
            out = Outcome("dead_letter", env.origin, reason_code="worker_crashed")
            summary.add(out)
            if on_outcome:
                on_outcome(out)
        else:
            env.deliveries += 1
            threading.Thread(target=put, args=((seq, env),), daemon=True).start()


def _qsize(q: Any) -> int:
    try:
        return int(q.qsize())
    except NotImplementedError:  # macOS
        return -1
