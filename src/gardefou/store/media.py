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


class ReviewMedia:
    """Images of cases awaiting a person (table ``review_media``), each stored with its two
    thumbnails (plain and blurred JPEG) made once at intake: the console serves those and
    never decodes the original again."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def keep(self, event_id: str, data: bytes, thumbs: tuple[bytes, bytes] | None,
             stored_at: float, expires_at: float) -> None:  # fmt: skip
        import hashlib

        plain, blurred = thumbs if thumbs is not None else (None, None)
        self.db.execute(
            "INSERT INTO review_media (event_id, sha256, data, thumb, thumb_blurred, stored_at,"
            " expires_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (event_id, sha256) DO NOTHING",
            (event_id, hashlib.sha256(data).hexdigest(), data, plain, blurred, stored_at,
             expires_at),
        )  # fmt: skip

    def thumbnail(self, row_id: int, blurred: bool, make: Any) -> bytes:
        """The stored thumbnail of a row; ``make(original) -> (plain, blurred)`` runs only for a
        row kept before thumbnails were stored, once: its result is stored."""
        column = "thumb_blurred" if blurred else "thumb"
        row = self.db.query_one(f"SELECT {column} AS t FROM review_media WHERE id = ?", (row_id,))
        if row is not None and row["t"] is not None:
            return bytes(row["t"])
        raw = self.db.query_one("SELECT data FROM review_media WHERE id = ?", (row_id,))
        if raw is None:
            from gardefou.errors import NotFoundError

            raise NotFoundError(f"review image {row_id} is gone (expired or purged)")
        plain, blur = make(bytes(raw["data"]))
        self.db.execute(
            "UPDATE review_media SET thumb = ?, thumb_blurred = ? WHERE id = ?",
            (plain, blur, row_id),
        )
        return bytes(blur if blurred else plain)
