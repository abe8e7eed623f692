"""The pipeline's own tables: the processed-event ledger and the dead-letter store.

The ledger row is the idempotency key. A worker commits the decision's side effects and the
ledger row in ONE transaction, and acknowledges the message only after that commit. A message
redelivered after a crash finds the row and is acknowledged without a second decision; two
workers racing on the same event (a stale message claimed while its first owner still runs) both
try to insert the row, and the loser's transaction, side effects included, is rolled back.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from gardefou import clock
from gardefou.decision import Decision
from gardefou.store.db import Database

#: how much of a poison payload is kept for the operator (the rest is counted, not stored)
EXCERPT_CHARS = 2000


class AlreadyDecided(Exception):
    """Raised inside the commit transaction to roll it back when another delivery won."""


@dataclass(frozen=True)
class LedgerEntry:
    event_id: str
    kind: str
    action: str
    origin: str
    worker: str
    deliveries: int
    latency_ms: float


class PipelineLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- processed events ---------------------------------------------------------------------
    def is_decided(self, event_id: str) -> bool:
        return (
            self.db.query_one(
                "SELECT 1 AS one FROM pipeline_events WHERE event_id = ?", (event_id,)
            )
            is not None
        )

    def claim(
        self,
        event_id: str,
        kind: str,
        decision: Decision,
        origin: str,
        worker: str,
        deliveries: int,
        received_at: float,
    ) -> float:
        """Insert the ledger row inside the caller's transaction; raise AlreadyDecided when the
        event already has one (the caller's transaction must then roll back). Returns the
        end-to-end latency in ms, measured from ``received_at`` (wall clock)."""
        now = time.time()
        latency_ms = max(0.0, (now - received_at) * 1000.0)
        cur = self.db.execute(
            "INSERT INTO pipeline_events (event_id, kind, action, decision_json, origin, worker,"
            " deliveries, received_at, decided_at, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (event_id) DO NOTHING",
            (
                event_id,
                kind,
                str(decision.action),
                json.dumps(decision.to_dict(), default=str),
                origin,
                worker,
                deliveries,
                received_at,
                now,
                latency_ms,
            ),
        )
        if cur.rowcount == 0:
            raise AlreadyDecided(event_id)
        return latency_ms

    def decision(self, event_id: str) -> Decision | None:
        row = self.db.query_one(
            "SELECT decision_json FROM pipeline_events WHERE event_id = ?", (event_id,)
        )
        return Decision.from_dict(json.loads(row["decision_json"])) if row else None

    def counts_by_action(self) -> dict[str, int]:
        rows = self.db.query("SELECT action, COUNT(*) AS n FROM pipeline_events GROUP BY action")
        return {r["action"]: int(r["n"]) for r in rows}

    def count(self) -> int:
        row = self.db.query_one("SELECT COUNT(*) AS n FROM pipeline_events")
        return int(row["n"]) if row else 0

    def latencies_ms(self, limit: int = 100_000) -> list[float]:
        rows = self.db.query(
            "SELECT latency_ms FROM pipeline_events ORDER BY decided_at DESC LIMIT ?", (limit,)
        )
        return [float(r["latency_ms"]) for r in rows]

    # -- dead letters -------------------------------------------------------------------------
    def dead_letter(
        self,
        *,
        dedup_key: str,
        event_id: str | None,
        origin: str,
        reason_code: str,
        reason: str,
        payload: bytes | str,
        worker: str,
        deliveries: int = 1,
    ) -> None:
        """Set a poison event aside with its reason. Idempotent on ``dedup_key`` (the event id,
        or the message's origin when the id is unreadable): a redelivery updates the row."""
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        self.db.execute(
            "INSERT INTO dead_letters (dedup_key, event_id, origin, reason_code, reason,"
            " payload_excerpt, payload_bytes, deliveries, worker, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (dedup_key) DO UPDATE SET"
            " deliveries = excluded.deliveries, reason = excluded.reason,"
            " reason_code = excluded.reason_code",
            (
                dedup_key,
                event_id,
                origin,
                reason_code,
                reason[:4000],
                text[:EXCERPT_CHARS],
                len(payload),
                deliveries,
                worker,
                clock.now("milliseconds"),
            ),
        )

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT id, dedup_key, event_id, origin, reason_code, reason, payload_bytes,"
            " deliveries, worker, created_at FROM dead_letters ORDER BY id LIMIT ?",
            (limit,),
        )

    def dead_letter_counts(self) -> dict[str, int]:
        rows = self.db.query(
            "SELECT reason_code, COUNT(*) AS n FROM dead_letters GROUP BY reason_code"
        )
        return {r["reason_code"]: int(r["n"]) for r in rows}


def store_metrics(db: Database, metrics: Any = None) -> Any:
    """Fill a Metrics registry with what the store knows: decisions by action, dead letters by
    reason, and the end-to-end latency histogram of the most recent decisions."""
    from gardefou.pipeline.metrics import Metrics

    m = metrics or Metrics()
    ledger = PipelineLedger(db)
    for action, n in sorted(ledger.counts_by_action().items()):
        m.set("store_decisions", n, "Decided events in the store, by action.", {"action": action})
    for reason, n in sorted(ledger.dead_letter_counts().items()):
        m.set("store_dead_letters", n, "Dead letters in the store, by reason.", {"reason": reason})
    for ms in ledger.latencies_ms(limit=10_000):
        m.observe(
            "store_latency_seconds",
            ms / 1000.0,
            "End-to-end latency of the last 10,000 decisions (received to committed).",
        )
    return m
