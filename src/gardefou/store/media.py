"""Persisting scan results: one row per distinct media (by SHA-256) and its signal results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gardefou.media import Media
from gardefou.signals.base import SignalResult
from gardefou.store.db import Database


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class MediaRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save_scan(self, media: Media, results: list[SignalResult]) -> None:
        """Upsert the media row and its results in one transaction (idempotent on re-scan)."""
        pdq = next((r for r in results if r.name == "pdq" and r.available), None)
        now = utcnow()
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO media (sha256, md5, pdq, pdq_quality, format, width, height, frames,"
                " byte_size, first_seen, last_source) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (sha256) DO UPDATE SET last_source = excluded.last_source,"
                " pdq = COALESCE(excluded.pdq, media.pdq),"
                " pdq_quality = COALESCE(excluded.pdq_quality, media.pdq_quality)",
                (
                    media.sha256,
                    media.md5,
                    pdq.value if pdq else None,
                    pdq.details.get("quality") if pdq else None,
                    media.format,
                    media.width,
                    media.height,
                    media.frames,
                    len(media.data),
                    now,
                    media.source,
                ),
            )
            for r in results:
                self.db.execute(
                    "INSERT INTO signal_results (sha256, name, version, available, score,"
                    " value_json, explanation, created_at) VALUES (?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (sha256, name, version) DO UPDATE SET"
                    " available = excluded.available, score = excluded.score,"
                    " value_json = excluded.value_json, explanation = excluded.explanation",
                    (
                        media.sha256,
                        r.name,
                        r.version,
                        int(r.available),
                        r.score,
                        json.dumps({"value": r.value, "details": dict(r.details)}),
                        r.explanation,
                        now,
                    ),
                )

    def save_error(self, source: str, error: Exception) -> None:
        self.db.execute(
            "INSERT INTO scan_errors (source, error_type, message, created_at) VALUES (?,?,?,?)",
            (source, type(error).__name__, str(error), utcnow()),
        )

    def get(self, sha256: str) -> dict[str, Any] | None:
        return self.db.query_one("SELECT * FROM media WHERE sha256 = ?", (sha256,))

    def summary(self) -> dict[str, int]:
        media = self.db.query_one("SELECT COUNT(*) AS n FROM media")
        errors = self.db.query_one("SELECT COUNT(*) AS n FROM scan_errors")
        return {
            "media": int(media["n"]) if media else 0,
            "errors": int(errors["n"]) if errors else 0,
        }
