"""Persisting scan results: one row per distinct media (by SHA-256) and its signal results."""

from __future__ import annotations

import json
from typing import Any

from gardefou import clock
from gardefou.media import Media
from gardefou.signals.base import SignalResult
from gardefou.store.db import Database
from gardefou.store.media_crypto import ReviewCipher


class MediaRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save_scan(self, media: Media, results: list[SignalResult]) -> None:
        """Upsert the media row and its results in one transaction (idempotent on re-scan)."""
        pdq = next((r for r in results if r.name == "pdq" and r.available), None)
        now = clock.now("milliseconds")
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
            (source, type(error).__name__, str(error), clock.now("milliseconds")),
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
    """Images of cases awaiting a person (table ``review_media``), each stored encrypted with its
    two thumbnails (plain and blurred JPEG) made once when kept: the console serves those and
    never decodes the original again. ``role``: the case's own image ("media") or the parent
    post's, kept beside a reply's case ("parent")."""

    def __init__(self, db: Database, cipher: Any = None) -> None:
        self.db = db
        self._cipher = cipher

    @property
    def cipher(self) -> Any:
        if self._cipher is None:
            self._cipher = ReviewCipher.for_db(self.db)
        return self._cipher

    def keep(self, event_id: str, data: bytes, thumbs: tuple[bytes, bytes] | None,
             stored_at: float, expires_at: float, role: str = "media",
             frame_at: float | None = None) -> None:  # fmt: skip
        """``frame_at``: a clip's key frame, its time in the clip (seconds)."""
        import hashlib

        sha = hashlib.sha256(data).hexdigest()
        plain, blurred = thumbs if thumbs is not None else (None, None)
        seal = self.cipher.seal
        self.db.execute(
            "INSERT INTO review_media (event_id, sha256, data, thumb, thumb_blurred, stored_at,"
            " expires_at, role, encrypted, frame_at) VALUES (?,?,?,?,?,?,?,?,1,?)"
            " ON CONFLICT (event_id, sha256) DO NOTHING",
            (event_id, sha, seal(data, event_id, sha), seal(plain, event_id, sha + ":thumb"),
             seal(blurred, event_id, sha + ":blurred"), stored_at, expires_at, role, frame_at),
        )  # fmt: skip

    def rows(self, event_id: str) -> list[dict[str, Any]]:
        """The kept images of an event: its own first, then the parent's (id, sha256, role,
        frame_at: a clip's key frame's time, else None)."""
        return self.db.query(
            "SELECT id, sha256, role, frame_at FROM review_media WHERE event_id = ? "
            "ORDER BY CASE WHEN role = 'media' THEN 0 ELSE 1 END, id",
            (event_id,),
        )

    def _open(self, row: dict[str, Any], column: str, suffix: str) -> bytes | None:
        value = row[column]
        if value is None or not row["encrypted"]:
            return None if value is None else bytes(value)
        return self.cipher.open(value, row["event_id"], row["sha256"] + suffix)

    def thumbnail(self, row_id: int, blurred: bool, make: Any) -> bytes:
        """The stored thumbnail of a row; ``make(original) -> (plain, blurred)`` runs only for a
        row kept before thumbnails were stored, once: its result is stored."""
        column, suffix = ("thumb_blurred", ":blurred") if blurred else ("thumb", ":thumb")
        row = self.db.query_one(
            f"SELECT event_id, sha256, encrypted, {column} FROM review_media WHERE id = ?",
            (row_id,),
        )
        if row is None:
            from gardefou.errors import NotFoundError

            raise NotFoundError(f"review image {row_id} is gone (expired or purged)")
        thumb = self._open(row, column, suffix)
        if thumb is not None:
            return thumb
        raw = self.db.query_one(
            "SELECT event_id, sha256, encrypted, data FROM review_media WHERE id = ?", (row_id,)
        )
        assert raw is not None
        plain, blur = make(self._open(raw, "data", ""))
        enc = bool(raw["encrypted"])
        ev, sha = raw["event_id"], raw["sha256"]
        self.db.execute(
            "UPDATE review_media SET thumb = ?, thumb_blurred = ? WHERE id = ?",
            (self.cipher.seal(plain, ev, sha + ":thumb") if enc else plain,
             self.cipher.seal(blur, ev, sha + ":blurred") if enc else blur, row_id),
        )  # fmt: skip
        return bytes(blur if blurred else plain)


class ThreadMedia:
    """A post's images held, encrypted, for the policy's ``review_media.parent_hours`` (table
    ``thread_media``), so that a reply's case can show the original beside the edit."""

    def __init__(self, db: Database, cipher: Any) -> None:
        self.db, self.cipher = db, cipher

    def hold(self, post_id: str, data: bytes, stored_at: float, expires_at: float) -> None:
        import hashlib

        sha = hashlib.sha256(data).hexdigest()
        self.db.execute(
            "INSERT INTO thread_media (post_id, sha256, data, stored_at, expires_at)"
            " VALUES (?,?,?,?,?) ON CONFLICT (post_id, sha256) DO NOTHING",
            (post_id, sha, self.cipher.seal(data, "post:" + post_id, sha), stored_at,
             expires_at),
        )  # fmt: skip

    def images(self, post_id: str, now: float) -> list[bytes]:
        rows = self.db.query(
            "SELECT sha256, data FROM thread_media WHERE post_id = ? AND expires_at >= ? "
            "ORDER BY id",
            (post_id, now),
        )
        return [self.cipher.open(r["data"], "post:" + post_id, r["sha256"]) for r in rows]
