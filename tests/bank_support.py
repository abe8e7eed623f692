"""Deciding against a real (or fake) bank in tests: the default policy over benign content
signals plus a ``pdq_dihedral`` hash the test chooses, so a bank match is the only thing that
can move the decision."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gardefou import testing as T
from gardefou.decide import Services
from gardefou.policy import load_default_policy
from gardefou.signals import SignalResult

SIGNALS = frozenset({*T.POLICY_SIGNALS, "pdq_dihedral"})


def rand_hex(rng: random.Random) -> str:
    """A random 256-bit PDQ hash, as hex."""
    return f"{rng.getrandbits(256):064x}"


def flip(hex_hash: str, bits: int, rng: random.Random) -> str:
    """``hex_hash`` with ``bits`` distinct random bits flipped: a near copy at that distance."""
    value = int(hex_hash, 16)
    for b in rng.sample(range(256), bits):
        value ^= 1 << b
    return f"{value:064x}"


def banked_extract(
    pdq_of: Callable[[Any], SignalResult], content: Mapping[str, SignalResult] | None = None
) -> Callable[[Any, Any], dict[str, SignalResult]]:
    """An extractor answering ``content`` (default: a benign image) and ``pdq_of(media)``."""

    def extract(media: Any, names: Any) -> dict[str, SignalResult]:
        out = dict(T.signal_set() if content is None else content)
        out["pdq_dihedral"] = pdq_of(media)
        return {k: v for k, v in out.items() if k in names}

    return extract


def bank_services(
    db: Any, base_dir: Path, banks: Any, extract: Callable[..., Any], **kwargs: Any
) -> Services:
    """Services deciding with the default policy over SIGNALS against ``banks``."""
    return Services(
        db,
        policy=load_default_policy(signals=SIGNALS),
        extract=extract,
        base_dir=base_dir,
        banks=banks,
        **kwargs,
    )
