"""Typed records of the banks package (plain dataclasses; pydantic lives at the HTTP edge)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# the one quality floor of PDQ hashes, re-exported for the banks package
from gardefou.signals.pdq_core import MIN_QUALITY as MIN_QUALITY

DEFAULT_THRESHOLD = 31


@dataclass(frozen=True)
class Bank:
    id: int
    name: str
    threshold: int = DEFAULT_THRESHOLD
    negative: bool = False
    enabled: bool = True
    enable_ratio: float = 1.0
    description: str = ""
    created_at: str = ""
    deleted_at: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Bank:
        return cls(
            id=int(row["id"]),
            name=row["name"],
            threshold=int(row["threshold"]),
            negative=bool(row["negative"]),
            enabled=bool(row["enabled"]),
            enable_ratio=float(row["enable_ratio"]),
            description=row["description"],
            created_at=row["created_at"],
            deleted_at=row["deleted_at"],
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Entry:
    id: int
    bank_id: int
    pdq: str
    quality: int
    md5: str | None = None
    sha256: str | None = None
    extra_pdq: tuple[str, ...] = ()
    source: str = ""
    case_id: str | None = None
    note: str = ""
    submission_id: int | None = None
    enabled: bool = True
    added_at: str = ""
    removed_at: str | None = None
    #: unix seconds before which the entry does not match (HMA's disable_until_ts)
    disabled_until: float | None = None
    content_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Entry:
        return cls(
            id=int(row["id"]),
            bank_id=int(row["bank_id"]),
            pdq=row["pdq"],
            quality=int(row["quality"]),
            md5=row["md5"],
            sha256=row["sha256"],
            extra_pdq=tuple((row["extra_pdq"] or "").split()),
            source=row["source"],
            case_id=row["case_id"],
            note=row["note"],
            submission_id=row["submission_id"],
            enabled=bool(row["enabled"]),
            added_at=row["added_at"],
            removed_at=row["removed_at"],
            disabled_until=row.get("disabled_until"),
            content_id=row.get("content_id"),
            metadata=json.loads(row["metadata"]) if row.get("metadata") else {},
        )

    def live_at(self, now: float) -> bool:
        """Matches at ``now``: not removed, enabled, and past any disabled-until time."""
        return (
            self.removed_at is None
            and self.enabled
            and (self.disabled_until is None or self.disabled_until <= now)
        )

    @property
    def rollout_bucket(self) -> float:
        """Deterministic number in [0, 1) from the hash: the entry is live when it is below the
        bank's enable_ratio, so raising the ratio only ever adds entries (gradual rollout)."""
        return rollout_bucket(self.pdq)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["extra_pdq"] = list(self.extra_pdq)
        return d


def rollout_bucket(pdq_hex: str) -> float:
    digest = hashlib.sha256(pdq_hex.lower().encode("ascii")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


@dataclass(frozen=True)
class Match:
    """One bank entry within its bank's threshold of a query hash.

    ``actionable`` is what callers act on: a positive-bank match not suppressed by a negative
    (known-benign) match, with a hash nobody needs to review first. Suppressed and negative
    matches are returned too, with ``reason``. ``confirmed`` is False for a hash from a submission
    no moderator has confirmed yet (anyone can submit one, so such a match only ever sends the
    content to human review: ``needs_review``).
    """

    bank: str
    bank_id: int
    entry_id: int
    distance: int
    threshold: int
    negative: bool = False
    kind: str = "pdq"
    query: str = "original"
    source: str = ""
    case_id: str | None = None
    suppressed: bool = False
    reason: str = ""
    confirmed: bool = True

    @property
    def actionable(self) -> bool:
        return not self.negative and not self.suppressed and self.confirmed

    @property
    def needs_review(self) -> bool:
        """A live match on an unconfirmed submission's hash: human review, never removal."""
        return not self.negative and not self.suppressed and not self.confirmed

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["actionable"] = self.actionable
        d["needs_review"] = self.needs_review
        return d


#: a submission's life: pending -> confirmed | rejected (a moderator); any -> withdrawn (the person)
SUBMISSION_STATUSES = ("pending", "confirmed", "rejected", "withdrawn")


@dataclass(frozen=True)
class Submission:
    id: int
    case_number: str
    bank_id: int
    status: str
    created_at: str
    withdrawn_at: str | None = None
    entry_ids: tuple[int, ...] = field(default=())
    reviewed_at: str | None = None
    reviewed_by: str | None = None
    review_reason: str = ""

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"

    def to_dict(self) -> dict[str, Any]:
        """What a moderator sees (never the PIN hash or the submitter digest)."""
        d = asdict(self)
        d["hashes"] = len(self.entry_ids)
        d["entry_ids"] = list(self.entry_ids)
        return d


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows added, rows dropped (quality below MIN_QUALITY, with lines),
    signals of other types kept."""

    bank: str
    added: int
    dropped_low_quality: tuple[int, ...] = ()
    duplicates: int = 0
    #: signals of types gardefou keeps but does not match yet, by type: {"video_md5": 2}
    other_signals: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "added": self.added,
            "duplicates": self.duplicates,
            "dropped_low_quality_lines": list(self.dropped_low_quality),
            "other_signals": dict(self.other_signals),
        }
