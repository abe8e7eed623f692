"""Fakes for testing runners without models: a decider with a visible, non-idempotent side
effect, and synthetic event streams of benign generated images (some corrupt, some oversized).

``RecordingDecider.record`` appends a row to ``pipeline_fake_effects`` (no unique key), so a test
can count how many times each event's side effects really happened: exactly once, even when a
worker is killed between commit and acknowledgement, is what the ledger transaction guarantees.
Set ``GARDEFOU_FAKE_DECIDE_MS`` to make each decision take that long (to widen crash windows).
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import time
from pathlib import Path

from PIL import Image

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

    def bind(self, db: Database) -> None:
        """Create the effects table before any event's transaction (the Processor calls this
        once). Workers starting together may all create it, and PostgreSQL then fails all but
        one ``CREATE TABLE IF NOT EXISTS`` with a unique violation in its catalog: retry."""
        if id(db) in self._ready:
            return
        for attempt in range(5):
            try:
                with db.transaction():
                    db.execute(EFFECTS_DDL)
                break
            except Exception:  # the concurrent-create race: the table exists now
                if attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
        self._ready.add(id(db))

    def record(
        self, db: Database, event: PipelineEvent, media: list[Media], decision: Decision
    ) -> None:
        self.bind(db)  # a no-op once bound; for callers that skip the Processor
        db.execute(
            "INSERT INTO pipeline_fake_effects (event_id, action, media_count, worker_pid)"
            " VALUES (?,?,?,?)",
            (event.id, str(decision.action), len(media), os.getpid()),
        )


def recording_decider() -> RecordingDecider:
    """Factory for ``--decider gardefou.testing.fake_pipeline:recording_decider``."""
    return RecordingDecider()


def benign_jpeg(seed: int, size: int = 96) -> bytes:
    """A small gradient image (no people, nothing sensitive)."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size))
    r0, g0, b0 = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    img.putdata(
        [
            ((r0 + x * 2) % 256, (g0 + y * 2) % 256, (b0 + x + y) % 256)
            for y in range(size)
            for x in range(size)
        ]
    )
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def write_stream(
    folder: Path, n: int, corrupt_every: int = 0, oversized_every: int = 0, prefix: str = "e"
) -> tuple[Path, dict[str, str]]:
    """Write ``n`` events to folder/events.jsonl; return the path and the expected outcome per
    event id ("decided", "media_corrupt" or "event_too_large")."""
    folder.mkdir(parents=True, exist_ok=True)
    media_dir = folder / "media"
    media_dir.mkdir(exist_ok=True)
    expected: dict[str, str] = {}
    lines = []
    for i in range(n):
        eid = f"{prefix}{i:05d}"
        img = benign_jpeg(i % 7)
        event: dict[str, object] = {
            "id": eid,
            "author": f"u{i % 5}",
            "text": "REMOVE" if i % 3 == 0 else "hi",
        }
        if corrupt_every and i % corrupt_every == corrupt_every - 1:
            event["media"] = [{"b64": base64.b64encode(img[: len(img) // 2]).decode()}]
            expected[eid] = "media_corrupt"
        elif oversized_every and i % oversized_every == oversized_every - 1:
            event["media"] = [f"media/{i % 7}.jpg"]
            event["padding"] = "x" * 70_000
            expected[eid] = "event_too_large"
        else:
            path = media_dir / f"{i % 7}.jpg"
            if not path.exists():
                path.write_bytes(img)
            event["media"] = [f"media/{i % 7}.jpg"]
            expected[eid] = "decided"
        lines.append(json.dumps(event))
    path = folder / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, expected
