"""Normalisation of the hashes a bank entry records (PDQ hex, MD5/SHA-256 digests); the
clock that used to live here is ``gardefou.clock``."""

from __future__ import annotations

import re

# the clock lives in gardefou.clock; ``now`` stays importable from here for code written
# before it moved (new code imports gardefou.clock)
from gardefou.clock import now as now
from gardefou.errors import BankError
from gardefou.signals.pdq_core import hex_to_bytes

_HEX = re.compile(r"[0-9a-f]+")


def normalize_pdq(value: str) -> str:
    return hex_to_bytes(value).hex()


def _normalize_digest(value: str | None, length: int, what: str) -> str | None:
    if value is None or value == "":
        return None
    v = value.strip().lower()
    if len(v) != length or not _HEX.fullmatch(v):
        raise BankError(f"{what} {value[:80]!r} is not {length} hex digits")
    return v
