"""The compiled query plan (banks/_index_numba.py) returns exactly the numpy plan's hits."""

from __future__ import annotations

import numpy as np
import pytest

from gardefou.banks import index as index_mod
from gardefou.banks import index_plan
from gardefou.banks.index import HashIndex, _Base, brute_force

pytest.importorskip("numba", reason="numba not installed (gardefou[fast])")


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    near = words[rng.integers(0, n, 60)].copy()
    for row in near:  # 0-45 random bits flipped: hits, near misses and far misses
        for b in rng.choice(256, size=int(rng.integers(0, 46)), replace=False):
            row[b // 64] ^= np.uint64(1) << np.uint64(63 - b % 64)
    far = rng.integers(0, 2**64, size=(20, 4), dtype=np.uint64)
    return words, np.concatenate([near, far])


def _both(index: HashIndex, queries: np.ndarray, radius: int):
    index.kernel = "auto"
    fast = index.search(queries, radius)
    index.kernel = "numpy"
    slow = index.search(queries, radius)
    index.kernel = "auto"
    return fast, slow


def _triples(h) -> set[tuple[int, int, int]]:
    return set(zip(h.query.tolist(), h.key.tolist(), h.distance.tolist(), strict=True))


def _same(a, b) -> bool:
    return all(
        np.array_equal(x, y)
        for x, y in ((a.query, b.query), (a.key, b.key), (a.distance, b.distance))
    )


def test_the_compiled_plan_is_used_when_numba_is_installed() -> None:
    assert index_mod._fast_kernel() is not None


@pytest.mark.parametrize("radius", [0, 1, 8, 31, 40, 47])
def test_compiled_plan_equals_numpy_plan_and_brute_force(radius: int) -> None:
    words, queries = _data(6000, 1)
    index = HashIndex.build(np.arange(len(words)) * 5 + 3, words)  # keys are not row numbers
    index.remove([3, 8, 5 * 4000 + 3])
    fast, slow = _both(index, queries, radius)
    assert _same(fast, slow)
    want = brute_force(words, queries, radius, keys=np.arange(len(words)) * 5 + 3)
    dead = {3, 8, 5 * 4000 + 3}
    assert _triples(fast) == {t for t in _triples(want) if t[1] not in dead}


def test_compiled_plan_on_full_tables(monkeypatch) -> None:
    """Large segments address every chunk value (no ``values`` filter): force that layout on a
    small segment so the full-table branch is compared too."""
    monkeypatch.setattr(_Base, "prefix_bits", staticmethod(lambda bits, n: bits))
    words, queries = _data(4000, 2)
    index = HashIndex.build(np.arange(len(words)), words)
    assert all(v is None for v in index._base.values)
    for radius in (8, 31):
        fast, slow = _both(index, queries, radius)
        assert _same(fast, slow) and len(fast) > 0


def test_memory_mapped_index_and_warm(tmp_path) -> None:
    words, queries = _data(5000, 3)
    HashIndex.build(np.arange(len(words)), words).save(tmp_path / "ix")
    loaded = HashIndex.load(tmp_path / "ix")
    assert loaded.warm() >= words.nbytes
    fast, slow = _both(loaded, queries, 31)
    assert _same(fast, slow) and len(fast) > 0


def test_without_numba_the_numpy_plan_answers(monkeypatch) -> None:
    monkeypatch.setattr(index_mod, "_KERNEL", [None])
    words, queries = _data(3000, 4)
    index = HashIndex.build(np.arange(len(words)), words)
    got = index.search(queries, 31)
    want = brute_force(words, queries, 31)
    assert _same(got, want)


def test_popcount_without_numpy_bitwise_count_gives_the_same_distances(monkeypatch) -> None:
    """numpy >= 1.26 is allowed and only numpy 2 has bitwise_count: the byte-table fallback."""
    words, queries = _data(3000, 5)
    want = index_plan.distances(words, queries[0])
    table = index_plan._row_popcount_table(words ^ queries[0])
    assert np.array_equal(table, want)
    monkeypatch.setattr(index_plan, "_HAS_BITWISE_COUNT", False)
    assert np.array_equal(index_plan.distances(words, queries[0]), want)
    index = HashIndex.build(np.arange(len(words)), words)
    index.kernel = "numpy"
    assert _same(index.search(queries, 31), brute_force(words, queries, 31))
