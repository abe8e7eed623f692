"""Audit of guard decisions: request hash, decision, reasons, time; prompt text only if kept.

``AuditLog(db, retain_prompt_days=0)`` records every refusal (and review); ``record_all=True``
records allowed requests too. With ``retain_prompt_days=0`` (the default) the prompt text is
never stored, only its hash; with N > 0 it is stored and ``purge()`` blanks it after N days.
Table: ``guard_audit`` (migration 0003_guard.sql).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gardefou import clock
from gardefou.decision import Decision
from gardefou.errors import ConfigError
from gardefou.media import Media


@dataclass
class AuditLog:
    db: Any  # gardefou.store.Database
    retain_prompt_days: int = 0
    record_all: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.retain_prompt_days, int) or self.retain_prompt_days < 0:
            raise ConfigError(
                f"retain_prompt_days={self.retain_prompt_days!r} must be a whole number of days "
                ">= 0 (0 = never store prompt text)"
            )

    def record(self, kind: str, text: str, media: Sequence[Media], decision: Decision
               ) -> int | None:  # fmt: skip
        if decision.allowed and not self.record_all:
            return None
        from gardefou.guard.guard import request_hash

        now = clock.utcnow()
        keep = self.retain_prompt_days > 0
        until = (now + timedelta(days=self.retain_prompt_days)).isoformat() if keep else None
        reasons = [{"code": r.code, "message": r.message, "category": r.category,
                    "signal": r.signal, "score": r.score} for r in decision.reasons]  # fmt: skip
        with self.db.transaction() as tx:
            return int(tx.insert(
                "INSERT INTO guard_audit (kind, request_hash, action, categories, reasons_json, "
                "policy, unavailable, image_sha256, prompt_text, retain_until, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, request_hash(text, media), str(decision.action),
                 ",".join(decision.categories), json.dumps(reasons, ensure_ascii=False),
                 decision.policy, ",".join(decision.unavailable),
                 ",".join(m.sha256 for m in media), text if keep else None, until,
                 now.isoformat()),
            ))  # fmt: skip

    def purge(self, now: datetime | None = None) -> int:
        """Blank prompt text whose retention has expired; returns the number of rows changed."""
        stamp = (now or clock.utcnow()).isoformat()
        with self.db.transaction() as tx:
            cur = tx.execute(
                "UPDATE guard_audit SET prompt_text = NULL WHERE prompt_text IS NOT NULL "
                "AND retain_until IS NOT NULL AND retain_until <= ?", (stamp,))  # fmt: skip
            return int(getattr(cur, "rowcount", 0) or 0)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.db.query(
            "SELECT * FROM guard_audit ORDER BY id DESC LIMIT ?", (limit,))  # fmt: skip
        return rows
