"""Hash banks: PDQ (+ MD5/SHA-256) banks with per-bank thresholds, negative banks, disabled
entries, gradual rollout, hash-only submissions, and an exact 10M-scale Hamming index.

    from gardefou.store import connect
    from gardefou.banks import BankService

    banks = BankService(connect("gardefou.db"))
    banks.create_bank("ncii", threshold=31)
    banks.add_entry("ncii", pdq_hex, quality=100, source="partner-x", case_id="T-1")
    [m for m in banks.match(dihedral_hashes) if m.actionable]

See docs/banks.md.
"""

from gardefou.banks.index import HashIndex, brute_force
from gardefou.banks.models import (
    DEFAULT_THRESHOLD,
    MIN_QUALITY,
    Bank,
    Entry,
    ImportReport,
    Match,
    Submission,
)
from gardefou.banks.service import BankService

# the index's row format stays public here; it lives with the PDQ code, below the banks
from gardefou.signals.pdq_core import hexes_to_words, words_to_hexes

__all__ = [
    "DEFAULT_THRESHOLD",
    "MIN_QUALITY",
    "Bank",
    "BankService",
    "Entry",
    "HashIndex",
    "ImportReport",
    "Match",
    "Submission",
    "brute_force",
    "hexes_to_words",
    "words_to_hexes",
]
