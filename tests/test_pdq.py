"""PDQ must be bit-exact with the reference C++ hasher: one differing bit fails the test."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gardefou.media import load_media
from gardefou.signals.pdq_core import (
    DIHEDRAL_NAMES,
    hamming_hex,
    hex_to_bytes,
    pdq_dihedral,
    pdq_hash,
)
from tests.conftest import FIXTURES, shared_path


def _rows(root: Path) -> list[tuple[Path, str, int]]:
    with open(root / "expected.csv", newline="") as f:
        return [
            (root / "images" / r["path"], r["pdq_hex"], int(r["quality"]))
            for r in csv.DictReader(f)
        ]


def _check(path: Path, want_hex: str, want_quality: int) -> None:
    got_hex, got_quality = pdq_hash(load_media(path).rgb())
    assert got_hex == want_hex, f"{path}: {hamming_hex(got_hex, want_hex)} bits differ"
    assert got_quality == want_quality


@pytest.mark.parametrize("row", _rows(FIXTURES / "pdq"), ids=lambda r: r[0].name)
def test_bundled_reference_vectors(row: tuple[Path, str, int]) -> None:
    _check(*row)


def test_all_38_reference_vectors() -> None:
    root = shared_path("data", "pdq-reference")
    rows = _rows(root)
    assert len(rows) == 38
    mismatches = []
    for path, want_hex, want_q in rows:
        got_hex, got_q = pdq_hash(load_media(path).rgb())
        if (got_hex, got_q) != (want_hex, want_q):
            mismatches.append((path.name, hamming_hex(got_hex, want_hex), got_q, want_q))
    assert mismatches == []


def test_dihedral_hashes_match_transformed_files() -> None:
    """Each file of the dih/ set is one transform of the original; its plain PDQ must appear
    among the original's 8 dihedral hashes (within the usual JPEG re-encoding noise)."""
    root = FIXTURES / "pdq" / "images" / "reg-test-input" / "dih"
    original = load_media(FIXTURES / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg")
    hashes, _ = pdq_dihedral(original.rgb())
    assert len(hashes) == len(DIHEDRAL_NAMES) == 8
    assert hashes[0] == pdq_hash(original.rgb())[0]
    for path in sorted(root.iterdir()):
        plain, _ = pdq_hash(load_media(path).rgb())
        assert hamming_hex(plain, hashes[0]) > 31, "a rotated copy must not match plain PDQ"
        assert min(hamming_hex(plain, h) for h in hashes) <= 31


@pytest.mark.parametrize("bad", ["", "abc", "z" * 64, "0" * 63, "0" * 65])
def test_bad_hex_rejected_with_value(bad: str) -> None:
    from gardefou.errors import HashFormatError

    with pytest.raises(HashFormatError, match="PDQ hash"):
        hex_to_bytes(bad)
