"""What accepting a takedown request does to content: its hashes go into the victim bank (image
PDQs of usable quality, and clips through the service's ``bank_video``), and every media
already seen within ``MATCH_THRESHOLD`` bits of a request hash is recorded as removed, so the
moderator and the person see how many known copies went."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gardefou.banks.models import MIN_QUALITY
from gardefou.errors import BankError, NotFoundError
from gardefou.store.db import Database
from gardefou.takedown.models import TakedownRequest

__all__ = ["MATCH_THRESHOLD", "MIN_QUALITY", "VICTIM_BANK", "RemovalMixin"]

VICTIM_BANK = "victims"
MATCH_THRESHOLD = 31


class RemovalMixin:
    """The banking and known-copy steps of ``TakedownService.accept``."""

    db: Database
    clock: Callable[[], float]
    victim_bank: str
    bank_video: Callable[..., int] | None
    _banks: Any

    def _banks_service(self) -> Any:
        if self._banks is None:
            from gardefou.banks import BankService

            self._banks = BankService(self.db)
        return self._banks

    def _bank_hashes(self, r: TakedownRequest, actor: str) -> int:
        usable = [h for h in r.hashes if h.quality >= MIN_QUALITY]
        if not usable:
            return 0
        banks = self._banks_service()
        try:
            banks.get_bank(self.victim_bank)
        except (NotFoundError, BankError):
            banks.create_bank(
                self.victim_bank,
                description="hashes from takedown requests and victims' submissions",
                actor=actor,
            )
        rows = [
            {"pdq": h.pdq, "quality": h.quality, "case_id": r.case_number, "source": "takedown"}
            for h in usable
        ]
        ids = banks.add_entries(
            self.victim_bank, rows, actor=actor, reason=f"takedown request {r.case_number} accepted"
        )
        return len(ids)

    def _bank_videos(self, r: TakedownRequest) -> int:
        """Bank every clip of the request (re-uploads then match as a victim video)."""
        from gardefou.signals.vpdq import parse_signal_str

        bank = self.bank_video
        if bank is None:  # accept() refused a request with clips before getting here
            return 0
        for v in r.videos:
            features = parse_signal_str(v.vpdq) if v.vpdq else []
            bank(features, v.md5 or None, source="takedown", case_id=r.case_number)
        return len(r.videos)

    def _remove_known_copies(self, r: TakedownRequest) -> int:
        """Record every stored media within MATCH_THRESHOLD of a request hash as removed."""
        import numpy as np

        usable = [h.pdq for h in r.hashes if h.quality >= MIN_QUALITY]
        if not usable:
            return 0
        rows = self.db.query("SELECT sha256, pdq FROM media WHERE pdq IS NOT NULL")
        if not rows:
            return 0
        stored = np.frombuffer(b"".join(bytes.fromhex(x["pdq"]) for x in rows), np.uint8)
        stored_bits = np.unpackbits(stored.reshape(len(rows), 32), axis=1)
        best = np.full(len(rows), 257)
        for h in usable:
            q = np.unpackbits(np.frombuffer(bytes.fromhex(h), np.uint8))
            best = np.minimum(best, (stored_bits != q).sum(axis=1))
        now = self.clock()
        hits = [(rows[i]["sha256"], int(best[i])) for i in np.flatnonzero(best <= MATCH_THRESHOLD)]
        with self.db.transaction():
            for sha, dist in hits:
                self.db.execute(
                    "INSERT INTO takedown_removals (request_id, sha256, distance, removed_at) "
                    "VALUES (?,?,?,?) ON CONFLICT (request_id, sha256) DO NOTHING",
                    (r.id, sha, dist, now),
                )
        return len(hits)

    def removals(self, request_id: int) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT sha256, distance, removed_at FROM takedown_removals WHERE request_id = ? "
            "ORDER BY distance, sha256",
            (request_id,),
        )
