"""The one wall clock: UTC now, and the text forms the store and the evidence log write.

Timestamps are stored as ISO 8601 text and compared as text (deadlines, "older than"), which is
only right while every writer of a column uses the same form; so writers take the time and its
form from here instead of calling ``datetime.now`` and formatting their own. Code that must be
testable at a fixed time takes a ``clock`` argument whose default is ``utcnow``.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["now", "now_z", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def now(timespec: str = "microseconds") -> str:
    """UTC now as ``2026-01-05T13:04:05.123456+00:00`` (``timespec`` as ``isoformat`` takes it:
    the store's tables use microseconds, media intake milliseconds, keys and consent seconds)."""
    return utcnow().isoformat(timespec=timespec)


def now_z() -> str:
    """UTC now as ``2026-01-05T13:04:05.123456Z``, the form of the evidence log's signed
    records (changing it would change what verifiers hash)."""
    return utcnow().replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
