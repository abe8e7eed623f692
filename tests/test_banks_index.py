"""HashIndex: exact radius search (100% recall against brute force), add/remove, persistence."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gardefou.banks.index import CHUNKS, HashIndex, brute_force, plan_radii
from gardefou.signals.pdq_core import hexes_to_words, words_to_hexes


def flip(words: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = words.copy()
    for i, k in enumerate(counts):
        for b in rng.choice(256, size=int(k), replace=False):
            out[i, b // 64] ^= np.uint64(1) << np.uint64(63 - b % 64)
    return out


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**64, size=(3000, 4), dtype=np.uint64)
    clustered = flip(base[rng.integers(0, 3000, 1000)], rng.integers(0, 41, 1000), rng)
    words = np.concatenate([base, clustered])
    queries = np.concatenate(
        [
            flip(words[rng.integers(0, len(words), 150)], rng.integers(0, 50, 150), rng),
            rng.integers(0, 2**64, size=(50, 4), dtype=np.uint64),
        ]
    )
    return words, queries


def as_set(hits) -> set[tuple[int, int, int]]:
    return set(zip(hits.query.tolist(), hits.key.tolist(), hits.distance.tolist(), strict=True))


@pytest.mark.parametrize("radius", [0, 1, 8, 16, 31, 40, 47, 48, 70])
def test_exact_against_brute_force(data, radius: int) -> None:
    words, queries = data
    index = HashIndex.build(np.arange(len(words)), words)
    got = index.search(queries, radius)
    want = brute_force(words, queries, radius)
    assert as_set(got) == as_set(want)
    assert len(want) > 0


@pytest.mark.parametrize("threshold", range(0, 48))
def test_plan_satisfies_pigeonhole(threshold: int) -> None:
    radii = plan_radii(threshold, 10_000_000)
    assert radii is not None
    assert sum(k + 1 for k in radii) >= threshold + 1
    assert sum(bits for _, _, bits in CHUNKS) == 256


def test_plan_gives_up_beyond_chunk_radii() -> None:
    assert plan_radii(200, 1000) is None


def test_hex_round_trip() -> None:
    hexes = ["00" * 32, "ff" * 32, "0123456789abcdef" * 4]
    assert words_to_hexes(hexes_to_words(hexes)) == hexes
    assert int(hexes_to_words(["80" + "00" * 31])[0, 0]) == 1 << 63  # bit 0 is the top bit


def test_incremental_add_remove_and_compact(data) -> None:
    words, queries = data
    index = HashIndex.build(np.arange(2000), words[:2000])
    index.add(np.arange(2000, len(words)), words[2000:])
    assert index.delta_size == len(words) - 2000
    assert as_set(index.search(queries, 31)) == as_set(brute_force(words, queries, 31))
    gone = list(range(0, len(words), 3))
    assert index.remove(gone) == len(gone)
    keep = np.setdiff1d(np.arange(len(words)), gone)
    want = brute_force(words[keep], queries, 31, keys=keep)
    assert as_set(index.search(queries, 31)) == as_set(want)
    index.compact()
    assert index.delta_size == 0 and len(index) == len(keep)
    assert as_set(index.search(queries, 31)) == as_set(want)


def test_several_hashes_per_key_give_one_hit(data) -> None:
    words, _ = data
    index = HashIndex.build([7, 7, 8], words[:3])
    hits = index.search(words[:2], 256)
    assert sorted(zip(hits.query.tolist(), hits.key.tolist(), strict=True)) == [
        (0, 7),
        (0, 8),
        (1, 7),
        (1, 8),
    ]
    assert hits.distance[(hits.query == 0) & (hits.key == 7)][0] == 0


def test_save_and_load_memory_mapped(tmp_path, data) -> None:
    words, queries = data
    index = HashIndex.build(np.arange(len(words)), words)
    index.add([10**6], words[:1])
    index.save(tmp_path / "idx")
    loaded = HashIndex.load(tmp_path / "idx")
    assert isinstance(loaded._base.words, np.memmap)
    assert loaded.generation == 1 and len(loaded) == len(words) + 1
    assert as_set(loaded.search(queries, 31)) == as_set(index.search(queries, 31))
    loaded.add([10**6 + 1], words[1:2])
    loaded.save(tmp_path / "idx")
    assert sorted(p.name for p in (tmp_path / "idx").glob("gen-*")) == ["gen-000002"]


def test_load_missing_says_how_to_fix(tmp_path) -> None:
    from gardefou.errors import BankError

    with pytest.raises(BankError, match="reindex"):
        HashIndex.load(tmp_path / "nothing")


def test_readers_see_consistent_results_while_a_writer_adds(data) -> None:
    words, queries = data
    index = HashIndex.build(np.arange(1000), words[:1000])
    want_base = as_set(brute_force(words[:1000], queries, 31))
    errors: list[str] = []

    def reader() -> None:
        for _ in range(8):
            got = as_set(index.search(queries, 31))
            if not want_base <= got:  # never loses what was there; may see new rows
                errors.append("lost rows")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for start in range(1000, len(words), 200):
        index.add(np.arange(start, min(start + 200, len(words))), words[start : start + 200])
    for t in threads:
        t.join()
    assert not errors
    assert as_set(index.search(queries, 31)) == as_set(brute_force(words, queries, 31))
