"""MerkleTree against a naive RFC 9162 reference; every generated proof verifies and every
tampered one is rejected."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gardefou.errors import EvidenceError, ProofError
from gardefou.evidence.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, written as literally as possible."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def data(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


def tree_of(n: int) -> MerkleTree:
    return MerkleTree(leaf_hash(d) for d in data(n))


def test_empty_tree_root() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", [*range(1, 34), 63, 64, 65, 100, 257])
def test_root_matches_reference_at_every_size(n: int) -> None:
    t = tree_of(n)
    leaves = data(n)
    for size in range(n + 1):
        assert t.root(size) == mth(leaves[:size])


def test_all_inclusion_and_consistency_proofs_verify() -> None:
    t = tree_of(40)
    for size in range(1, 41):
        root = t.root(size)
        for i in range(size):
            verify_inclusion(i, size, t.leaf(i), t.inclusion_proof(i, size), root)
        for size1 in range(1, size + 1):
            verify_consistency(size1, size, t.consistency_proof(size1, size), t.root(size1), root)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 3000), st.data())
def test_tampered_proofs_rejected(n: int, draw: st.DataObject) -> None:
    t = tree_of(n)
    i = draw.draw(st.integers(0, n - 1))
    proof = t.inclusion_proof(i)
    root = t.root()
    verify_inclusion(i, n, t.leaf(i), proof, root)
    if proof:
        j = draw.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        flipped = bytearray(bad[j])
        flipped[draw.draw(st.integers(0, 31))] ^= 1 << draw.draw(st.integers(0, 7))
        bad[j] = bytes(flipped)
        with pytest.raises(ProofError):
            verify_inclusion(i, n, t.leaf(i), bad, root)
        with pytest.raises(ProofError):
            verify_inclusion(i, n, t.leaf(i), proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(i, n, leaf_hash(b"other"), proof, root)
    other = (i + 1) % n
    if t.leaf(other) != t.leaf(i):
        with pytest.raises(ProofError):
            verify_inclusion(other, n, t.leaf(i), proof, root)
    m = draw.draw(st.integers(1, n - 1))
    cproof = t.consistency_proof(m)
    verify_consistency(m, n, cproof, t.root(m), root)
    with pytest.raises(ProofError):
        verify_consistency(m, n, cproof, leaf_hash(b"x"), root)
    with pytest.raises(ProofError):
        verify_consistency(m, n, cproof[1:], t.root(m), root)


def test_truncate_restores_earlier_state() -> None:
    t = tree_of(37)
    root20 = t.root(20)
    t.truncate(20)
    assert t.size == 20 and t.root() == root20
    t.extend(leaf_hash(d) for d in data(37)[20:])
    assert t.root() == tree_of(37).root()


def test_bad_inputs_named() -> None:
    t = tree_of(5)
    with pytest.raises(EvidenceError, match="out of range"):
        t.inclusion_proof(5)
    with pytest.raises(EvidenceError, match="32 bytes"):
        t.append(b"short")
    with pytest.raises(EvidenceError, match="size 9"):
        t.root(9)


def test_newest_receipt_matches_the_general_path() -> None:
    t = MerkleTree()
    with pytest.raises(EvidenceError, match="empty"):
        t.newest_receipt()
    for i, d in enumerate(data(300)):
        t.append(leaf_hash(d))
        root, proof = t.newest_receipt()
        assert root == t.root() == mth(data(i + 1)) if i < 70 else root == t.root()
        assert proof == t.inclusion_proof(i)
        verify_inclusion(i, i + 1, t.leaf(i), proof, root)
