"""benchmarks/identity_colour.py: reading a cache of embeddings."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def _load(name: str):
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(name, REPO / f"benchmarks/{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


class CountingNpz:
    """An NpzFile stand-in that counts reads (each ``npz[key]`` re-reads the whole array)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays, self.reads = arrays, Counter()

    def __getitem__(self, key: str) -> np.ndarray:
        self.reads[key] += 1
        return self.arrays[key].copy()


def test_cache_arrays_are_read_once_not_once_per_image(tmp_path):
    colour = _load("identity_colour")
    names = np.array([f"P{i}/P{i}_0001.jpg" for i in range(50)])
    emb = np.arange(50 * 128, dtype=np.float64).reshape(50, 128)
    cache = CountingNpz({"names": names, "emb": emb, "source": np.array(["yunet"] * 50)})
    vecs, source = colour.read_cache(cache)
    assert max(cache.reads.values()) == 1, cache.reads
    assert np.array_equal(vecs["P7/P7_0001.jpg"], emb[7]) and source["P7/P7_0001.jpg"] == "yunet"
    # and from a real file, as main() passes it
    np.savez(tmp_path / "c.npz", names=names, emb=emb, source=np.array(["hog"] * 50))
    vecs, source = colour.read_cache(np.load(tmp_path / "c.npz"))
    assert len(vecs) == 50 and np.array_equal(vecs["P49/P49_0001.jpg"], emb[49])
