"""RFC 6962/9162 proof vectors from transparency-dev/merkle: every wantErr case is rejected and
every other case accepted. A subset ships in tests/fixtures/evidence/; the full set is read from
../shared/spec/merkle-vectors/ when present."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gardefou.errors import ProofError
from gardefou.evidence.merkle import verify_consistency, verify_inclusion
from tests.conftest import FIXTURES, shared_path

SUBSET = FIXTURES / "evidence" / "merkle-vectors"


def _b64(s: str) -> bytes:
    return base64.b64decode(s)


def _check(case_path: Path) -> None:
    case = json.loads(case_path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]
    if "leafIdx" in case:

        def run() -> None:
            verify_inclusion(case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof,
                             _b64(case["root"]))  # fmt: skip
    else:

        def run() -> None:
            verify_consistency(case["size1"], case["size2"], proof, _b64(case["root1"]),
                               _b64(case["root2"]))  # fmt: skip

    if case["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


SUBSET_CASES = sorted(SUBSET.rglob("*.json"))


def test_subset_is_present() -> None:
    assert len(SUBSET_CASES) >= 50
    assert any(json.loads(p.read_text())["wantErr"] is False for p in SUBSET_CASES)


@pytest.mark.parametrize("case", SUBSET_CASES, ids=lambda p: str(p.relative_to(SUBSET)))
def test_vector_subset(case: Path) -> None:
    _check(case)


def test_full_vector_set() -> None:
    root = shared_path("spec", "merkle-vectors")
    cases = sorted(root.rglob("*.json"))
    assert len(cases) > 150
    failures = []
    accepted = rejected = 0
    for case in cases:
        try:
            _check(case)
        except (AssertionError, ProofError, pytest.fail.Exception) as exc:
            failures.append(f"{case.relative_to(root)}: {exc}")
        else:
            if json.loads(case.read_text())["wantErr"]:
                rejected += 1
            else:
                accepted += 1
    assert not failures, "\n".join(failures)
    assert accepted >= 10 and rejected > 100
