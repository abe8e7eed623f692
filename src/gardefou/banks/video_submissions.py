"""Hash-only submissions that carry clips: the submission row and its clips' vPDQ entries in one
transaction, and the clips following the submission's review.

A clip is hashed where it is (the CLI, or the person's own device before ``POST
/v1/submissions``); only its frame hashes and file digests reach the store. Its entries go to the
victim video bank with ``source="submission"`` and the submission's case number; until a
moderator confirms the submission they are ``pending`` and a match only sends the upload to
review (``VideoMatch.confirmed`` is False): anonymous input never removes anything by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gardefou.banks.video_store import VICTIM_VIDEO_BANK, VideoBankStore
from gardefou.errors import BankError
from gardefou.signals.vpdq import VideoHashes


def submit_with_clips(
    banks: Any,
    bank: str,
    hashes: Sequence[str | tuple[str, int]],
    clips: Sequence[VideoHashes],
    *,
    confirmed: bool = False,
    **submit: Any,
) -> tuple[str, str]:
    """``BankService.submit_hashes`` plus each clip's hashes in the victim video bank, all or
    nothing (a clip too uniform to bank refuses the whole submission). (case number, PIN)."""
    if not hashes and not clips:
        raise BankError("a submission needs at least one PDQ hash or one clip's hashes")
    store = VideoBankStore(banks.db)
    with banks.db.transaction():
        case, pin = banks.submit_hashes(
            bank, list(hashes), confirmed=confirmed, videos=len(clips), **submit
        )
        if clips:
            store.ensure_bank(VICTIM_VIDEO_BANK)
            note = "confirmed" if confirmed else "pending"
            rows = [
                {"features": c.features, "cropped": c.cropped, "md5": c.md5 or None,
                 "sha256": c.sha256 or None, "source": "submission", "case_id": case,
                 "note": note}
                for c in clips
            ]  # fmt: skip
            store.add_many(VICTIM_VIDEO_BANK, rows)
    return case, pin


def follow_review(db: Any, case_number: str, state: str) -> int:
    """The submission's clips after its review or withdrawal: ``confirmed`` makes their matches
    actionable, ``rejected`` / ``withdrawn`` remove them. The entries changed."""
    return VideoBankStore(db).set_submission_state(case_number, state)


__all__ = ["follow_review", "submit_with_clips"]
