"""Hash-only submissions by the people depicted, mixed into BankService."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from gardefou.banks.models import Bank, Submission
from gardefou.banks.review import SubmissionLimits, SubmissionReview, submission_from_row
from gardefou.clock import now
from gardefou.errors import AuthError, BankError, NotFoundError
from gardefou.pins import Attempts, needs_rehash
from gardefou.pins import hash_pin as _hash_pin


class Submissions(SubmissionReview):
    """``submit_hashes`` makes a ``pending`` submission: its matches go to human review, never
    to removal, until a moderator confirms it (``review_submission``); ``confirmed=True`` is for
    a moderator entering a submission they have checked. ``submitter`` (``review.submitter_key``
    of the client address) is held to ``limits`` (default ``SubmissionLimits()``)."""

    def submit_hashes(
        self,
        bank: str | int | Bank,
        hashes: Sequence[str | tuple[str, int]],
        *,
        actor: str = "submitter",
        note: str = "",
        submitter: str | None = None,
        limits: SubmissionLimits | None = None,
        confirmed: bool = False,
        videos: int = 0,
    ) -> tuple[str, str]:
        """Hash-only submission (no image). Each item: hex, or (hex, quality). Returns
        (case_number, pin); the PIN is shown once and stored only as an argon2id hash."""
        b = self.get_bank(bank)
        # ``videos``: clips whose hashes the caller keeps in the video bank store under this
        # case number (gardefou.web.video); each counts as one hash against the limits
        if not hashes and not videos:
            raise BankError("a submission needs at least one PDQ hash or one clip's hashes")
        limits = limits or SubmissionLimits()
        if len(hashes) + videos > limits.max_hashes:
            self.check_submission_limits("", len(hashes) + videos, limits)  # the clear error
        rows = []
        for item in hashes:
            pdq, quality = (item, 100) if isinstance(item, str) else item
            rows.append(self._entry_row(pdq, int(quality), None, None, ()))
        case_number = "GF-" + secrets.token_hex(5).upper()
        pin = f"{secrets.randbelow(10**8):08d}"
        status = "confirmed" if confirmed else "pending"
        with self.db.transaction():
            if submitter is not None:
                self.check_submission_limits(submitter, len(rows) + videos, limits)
            sub_id = self.db.insert(
                "INSERT INTO bank_submissions (case_number, pin_hash, bank_id, status, created_at, "
                "submitter, hashes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_number, _hash_pin(pin), b.id, status, now(), submitter, len(rows) + videos),
            )
            for row in rows:
                self._insert_entry(b.id, row, "submission", case_number, note, sub_id, True)
            self._audit(
                "submission.create",
                actor=actor,
                bank_id=b.id,
                submission_id=sub_id,
                case_number=case_number,
                hashes=len(rows),
                status=status,
            )
        return case_number, pin

    def get_submission(self, case_number: str, pin: str) -> Submission:
        row = self.db.query_one(
            "SELECT * FROM bank_submissions WHERE case_number = ?", (case_number.strip().upper(),)
        )
        # wrong PINs counted per case in the store, unknown cases too and at the same cost
        subject = case_number.strip().upper()[:64]
        if not Attempts(self.db, "submission").verify(
            subject, str(pin).strip(), row["pin_hash"] if row else None
        ):
            if row is None:
                raise NotFoundError(f"no submission {case_number!r}; check the case number")
            raise AuthError(f"wrong PIN for submission {case_number!r}")
        assert row is not None  # verify() is False for an unknown case
        if needs_rehash(row["pin_hash"]):  # a PBKDF2 hash from an older release: upgrade it
            self.db.execute(
                "UPDATE bank_submissions SET pin_hash = ? WHERE id = ?",
                (_hash_pin(str(pin).strip()), row["id"]),
            )
        ids = tuple(
            int(r["id"])
            for r in self.db.query(
                "SELECT id FROM bank_entries WHERE submission_id = ? ORDER BY id", (row["id"],)
            )
        )
        return submission_from_row(row, ids)

    def withdraw_submission(
        self, case_number: str, pin: str, *, actor: str = "submitter", reason: str = ""
    ) -> int:
        """Withdraw a submission: its hashes stop matching on the next query. Returns how many
        entries were removed (0 when it was already withdrawn)."""
        sub = self.get_submission(case_number, pin)
        if sub.status == "withdrawn":
            return 0
        stamp = now()
        with self.db.transaction():
            self.db.execute(
                "UPDATE bank_entries SET removed_at = ? WHERE submission_id = ? AND "
                "removed_at IS NULL",
                (stamp, sub.id),
            )
            self.db.execute(
                "UPDATE bank_submissions SET status = 'withdrawn', withdrawn_at = ? WHERE id = ?",
                (stamp, sub.id),
            )
            self._audit(
                "submission.withdraw",
                actor=actor,
                reason=reason,
                bank_id=sub.bank_id,
                submission_id=sub.id,
                entries=len(sub.entry_ids),
            )
        if self._live is not None:
            self._live.remove(sub.entry_ids)
        return len(sub.entry_ids)
