"""Moderator review of hash-only submissions, and the abuse limits on submitting.

Anyone can submit hashes without an account, so a submission's hashes only send matching
content to human review until a moderator confirms the submission (as StopNCII's partner
platforms do); a rejected submission stops matching at once. Entries added by an operator
(partner imports, accepted takedowns, ``bank add``) carry no submission and act at once.

Per-submitter limits are counted in the store, so they hold across workers and processes. A
submitter is a digest of the client address, never the address, and is erased after the longest
window (a day): the limits need no more.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gardefou import clock
from gardefou.banks.core import BankCore
from gardefou.banks.models import Submission
from gardefou.errors import BankError, ConfigError, NotFoundError, RateLimitError

_ENV = {
    "max_hashes": "GARDEFOU_SUBMISSION_MAX_HASHES",
    "per_hour": "GARDEFOU_SUBMISSIONS_PER_HOUR",
    "per_day": "GARDEFOU_SUBMISSIONS_PER_DAY",
    "hashes_per_day": "GARDEFOU_SUBMISSION_HASHES_PER_DAY",
}


@dataclass(frozen=True)
class SubmissionLimits:
    """How much one submitter (one client address) may submit."""

    max_hashes: int = 32  # hashes in one submission
    per_hour: int = 5  # submissions per submitter in the last hour
    per_day: int = 20  # submissions per submitter in the last 24 hours
    hashes_per_day: int = 200  # hashes per submitter in the last 24 hours

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SubmissionLimits:
        env = os.environ if env is None else env
        values: dict[str, int] = {}
        for field_name, var in _ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            try:
                values[field_name] = int(raw)
            except ValueError:
                values[field_name] = -1
            if values[field_name] < 1:
                raise ConfigError(f"{var}={raw!r} is not a whole number >= 1; set e.g. {var}=10")
        return cls(**values)


def submitter_key(address: str) -> str:
    """A digest of a client address: counts submissions without storing who sent them."""
    digest = hashlib.sha256(b"gardefou-submitter\0" + address.encode("utf-8", "replace"))
    return "sha256:" + digest.hexdigest()[:32]


def submission_from_row(row: Mapping[str, Any], entry_ids: tuple[int, ...]) -> Submission:
    return Submission(
        id=int(row["id"]),
        case_number=row["case_number"],
        bank_id=int(row["bank_id"]),
        status=row["status"],
        created_at=row["created_at"],
        withdrawn_at=row["withdrawn_at"],
        entry_ids=entry_ids,
        reviewed_at=row.get("reviewed_at"),
        reviewed_by=row.get("reviewed_by"),
        review_reason=row.get("review_reason") or "",
    )


class SubmissionReview(BankCore):
    def check_submission_limits(
        self, submitter: str, hashes: int, limits: SubmissionLimits, at: datetime | None = None
    ) -> None:
        """Raise BankError (too many hashes at once) or RateLimitError (429, with retry_after)
        when ``submitter`` may not submit ``hashes`` more now. Call inside the transaction that
        inserts the submission: it locks the submitter until that transaction ends, so that
        concurrent requests from one address are counted one after the other."""
        if hashes > limits.max_hashes:
            raise BankError(
                f"{hashes} hashes in one submission; the limit is {limits.max_hashes}. Submit "
                "the hashes of the images you need protected most, or ask the platform's "
                "support team to add more"
            )
        at = at or clock.utcnow()
        day_ago = (at - timedelta(days=1)).isoformat(timespec="microseconds")
        hour_ago = (at - timedelta(hours=1)).isoformat(timespec="microseconds")
        with self.db.transaction():
            # two requests from one address on two workers would both count the rows
            # committed so far and both insert: the lock, held until the caller's transaction
            # commits the new submission, makes the count and the insert one step
            self.db.lock("bank-submitter:" + submitter)
            # data minimisation: the longest window is a day, so older digests are not needed
            self.db.execute(
                "UPDATE bank_submissions SET submitter = NULL WHERE submitter IS NOT NULL AND "
                "created_at < ?",
                (day_ago,),
            )
            rows = self.db.query(
                "SELECT created_at, hashes FROM bank_submissions WHERE submitter = ? AND "
                "created_at >= ? ORDER BY created_at",
                (submitter, day_ago),
            )
        last_hour = [r for r in rows if r["created_at"] >= hour_ago]
        day_hashes = sum(int(r["hashes"]) for r in rows)

        def wait(oldest: str, window: timedelta) -> float:
            free_at = datetime.fromisoformat(oldest) + window
            return max(1.0, (free_at - at).total_seconds())

        if len(last_hour) >= limits.per_hour:
            retry = wait(last_hour[0]["created_at"], timedelta(hours=1))
            raise RateLimitError(
                f"{len(last_hour)} submissions from this address in the last hour (limit "
                f"{limits.per_hour}); try again in {retry / 60:.0f} minutes",
                retry_after=retry,
            )
        if len(rows) >= limits.per_day or day_hashes + hashes > limits.hashes_per_day:
            retry = wait(rows[0]["created_at"], timedelta(days=1))
            raise RateLimitError(
                f"{len(rows)} submissions ({day_hashes} hashes) from this address in the last "
                f"24 hours (limits {limits.per_day} submissions, {limits.hashes_per_day} "
                f"hashes); try again in {retry / 3600:.1f} hours",
                retry_after=retry,
            )

    def _entry_ids(self, submission_id: int) -> tuple[int, ...]:
        rows = self.db.query(
            "SELECT id FROM bank_entries WHERE submission_id = ? ORDER BY id", (submission_id,)
        )
        return tuple(int(r["id"]) for r in rows)

    def find_submission(self, case_number: str) -> Submission:
        """A submission by case number, for a moderator (no PIN: moderators are authenticated)."""
        row = self.db.query_one(
            "SELECT * FROM bank_submissions WHERE case_number = ?",
            (str(case_number).strip().upper(),),
        )
        if row is None:
            raise NotFoundError(
                f"no submission {case_number!r}; list them with `gardefou bank submissions`"
            )
        return submission_from_row(row, self._entry_ids(int(row["id"])))

    def list_submissions(self, status: str | None = None, limit: int = 100) -> list[Submission]:
        """Submissions, oldest first (the review queue order), optionally of one status."""
        sql, params = "SELECT * FROM bank_submissions", []
        if status is not None:
            sql += " WHERE status = ?"
            params.append(status)
        rows = self.db.query(sql + " ORDER BY id LIMIT ?", (*params, limit))
        return [submission_from_row(r, self._entry_ids(int(r["id"]))) for r in rows]

    def review_submission(
        self, case_number: str, *, confirm: bool, actor: str | None = None, reason: str = ""
    ) -> Submission:
        """A moderator's verdict. Confirm: the hashes act like any other entry (matches remove).
        Reject: the hashes stop matching at once. A confirmed submission can still be rejected
        (abuse found later); rejected and withdrawn ones are final."""
        sub = self.find_submission(case_number)
        allowed = ("pending",) if confirm else ("pending", "confirmed")
        if sub.status not in allowed:
            verb = "confirm" if confirm else "reject"
            raise BankError(
                f"submission {sub.case_number} is {sub.status}; only a "
                f"{' or '.join(allowed)} submission can be {verb}ed"
            )
        status, stamp = ("confirmed" if confirm else "rejected"), clock.now()
        with self.db.transaction():
            if not confirm:
                self.db.execute(
                    "UPDATE bank_entries SET removed_at = ? WHERE submission_id = ? AND "
                    "removed_at IS NULL",
                    (stamp, sub.id),
                )
            self.db.execute(
                "UPDATE bank_submissions SET status = ?, reviewed_at = ?, reviewed_by = ?, "
                "review_reason = ? WHERE id = ?",
                (status, stamp, actor or self.actor, reason[:2000], sub.id),
            )
            self._audit(
                f"submission.{'confirm' if confirm else 'reject'}",
                actor=actor,
                reason=reason,
                bank_id=sub.bank_id,
                submission_id=sub.id,
                entries=len(sub.entry_ids),
            )
        if not confirm and self._live is not None:
            self._live.remove(sub.entry_ids)
        return self.find_submission(sub.case_number)
