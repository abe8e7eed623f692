"""Fakes for testing runners without models: a decider with a visible, non-idempotent side effect.

``RecordingDecider.record`` appends a row to ``pipeline_fake_effects`` (no unique key), so a test
can count how many times each event's side effects really happened: exactly once, even when a
worker is killed between commit and acknowledgement, is what the ledger transaction guarantees.
Set ``GARDEFOU_FAKE_DECIDE_MS`` to make each decision take that long (to widen crash windows).
"""

from __future__ import annotations

import os
import time

from gardefou.decision import Action, Decision, Reason
from gardefou.media import Media
from gardefou.pipeline.deciders import PipelineEvent
from gardefou.store.db import Database

EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS pipeline_fake_effects (event_id TEXT NOT NULL, "
    "action TEXT NOT NULL, media_count INTEGER NOT NULL, worker_pid INTEGER NOT NULL)"
)


class RecordingDecider:
    """Removes events whose text contains 'REMOVE', reviews 'REVIEW', allows the rest."""

    def __init__(self, decide_ms: float | None = None) -> None:
        self.decide_ms = (
            decide_ms
            if decide_ms is not None
            else float(os.environ.get("GARDEFOU_FAKE_DECIDE_MS", "0") or 0)
        )
        self._ready: set[int] = set()

    def decide(self, event: PipelineEvent, media: list[Media]) -> Decision:
        if self.decide_ms:
            time.sleep(self.decide_ms / 1000)
        text = str(event.payload.get("text", ""))
        action = (
            Action.REMOVE
            if "REMOVE" in text
            else Action.REVIEW
            if "REVIEW" in text
            else (Action.ALLOW)
        )
        return Decision(
            action=action, reasons=(Reason("fake", f"fake decision: {action}"),), policy="fake@1"
        )

    def record(
        self, db: Database, event: PipelineEvent, media: list[Media], decision: Decision
    ) -> None:
        if id(db) not in self._ready:
            db.execute(EFFECTS_DDL)
            self._ready.add(id(db))
        db.execute(
            "INSERT INTO pipeline_fake_effects (event_id, action, media_count, worker_pid)"
            " VALUES (?,?,?,?)",
            (event.id, str(decision.action), len(media), os.getpid()),
        )


def recording_decider() -> RecordingDecider:
    """Factory for ``--decider gardefou.pipeline.fakes:recording_decider``."""
    return RecordingDecider()
