"""The numba PDQ gives pdqhash's bits and quality exactly (which test_pdq.py ties to the
reference vectors): any differing bit or quality fails."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from gardefou.errors import ConfigError
from gardefou.media import load_media
from gardefou.signals import pdq_core
from gardefou.signals.pdq_core import reference_pixels
from tests.conftest import FIXTURES, shared_path

pdqhash = pytest.importorskip("pdqhash")
fast = pytest.importorskip("gardefou.signals._pdq_numba", reason="numba is not installed")


def _same(arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr)
    want, want_q = pdqhash.compute_dihedral(arr)
    got, got_q = fast.compute_dihedral(arr)
    diff = [int((np.asarray(w) != g).sum()) for w, g in zip(want, got, strict=True)]
    assert (got_q, diff) == (want_q, [0] * 8), arr.shape
    one, one_q = pdqhash.compute(arr)
    got_one, got_one_q = fast.compute(arr)
    assert got_one_q == one_q and (np.asarray(one) == got_one).all(), arr.shape


def _images(root):
    with open(root / "expected.csv", newline="") as f:
        return [root / "images" / r["path"] for r in csv.DictReader(f)]


def test_bundled_reference_images():
    for path in _images(FIXTURES / "pdq"):
        _same(reference_pixels(load_media(path).rgb()))


def test_all_38_reference_images():
    for path in _images(shared_path("data", "pdq-reference")):
        _same(reference_pixels(load_media(path).rgb()))


def test_random_images_of_many_sizes():
    rng = np.random.default_rng(7)
    sizes = [(8, 8), (8, 600), (600, 8), (63, 65), (64, 64), (127, 129), (512, 512), (300, 511)]
    sizes += [tuple(int(v) for v in rng.integers(8, 520, 2)) for _ in range(40)]
    for h, w in sizes:
        _same(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_flat_gradient_and_striped_images():
    rng = np.random.default_rng(8)
    for value in (0, 1, 128, 255):
        _same(np.full((40, 70, 3), value, np.uint8))  # every coefficient ties
    ramp = np.tile(np.arange(256, dtype=np.uint8), (200, 1))
    _same(np.dstack([ramp, ramp[:, ::-1], ramp]))
    stripes = np.zeros((128, 96, 3), np.uint8)
    stripes[::2] = 255
    _same(stripes)
    _same(np.repeat(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), 9, axis=0))


def test_backend_choice(monkeypatch):
    img = np.random.default_rng(9).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    results = {}
    for choice in ("numba", "pdqhash"):
        monkeypatch.setattr(pdq_core, "_BACKEND", None)
        monkeypatch.setenv("GARDEFOU_PDQ", choice)
        assert pdq_core.backend() is (fast if choice == "numba" else pdqhash)
        results[choice] = (pdq_core.pdq_dihedral(img), pdq_core.pdq_hash(img))
    assert results["numba"] == results["pdqhash"]
    monkeypatch.setattr(pdq_core, "_BACKEND", None)
    monkeypatch.setenv("GARDEFOU_PDQ", "fastest")
    with pytest.raises(ConfigError, match=r"fastest.*auto.*numba.*pdqhash"):
        pdq_core.backend()
    monkeypatch.setattr(pdq_core, "_BACKEND", None)


def test_tiny_images_are_left_to_pdqhash(monkeypatch):
    monkeypatch.setattr(pdq_core, "_BACKEND", fast)
    for shape in ((1, 1, 3), (4, 30, 3), (7, 7, 3)):
        img = np.full(shape, 200, np.uint8)
        bits, q = pdqhash.compute(img)
        assert pdq_core.pdq_hash(img) == (pdq_core.bits_to_hex(bits), int(q))


def test_plain_hash_is_the_dihedral_original_except_64x64():
    """The pdq signal reuses the dihedral computation; it must equal pdq_hash everywhere."""
    import io

    from PIL import Image

    from gardefou.signals import get_signal

    rng = np.random.default_rng(10)
    shapes = [(64, 64), (1, 1), (3, 3), (4, 30), (5, 5), (8, 9), (64, 65), (700, 300), (512, 512)]
    paths = _images(FIXTURES / "pdq")[:5]
    medias = [load_media(p) for p in paths]
    for h, w in shapes:
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, "PNG")
        medias.append(load_media(buf.getvalue()))
    for media in medias:
        want = pdq_core.pdq_hash(media.rgb_array())
        for order in (("pdq_dihedral", "pdq"), ("pdq",)):
            fresh = load_media(media.data)
            results = {name: get_signal(name).extract(fresh) for name in order}
            assert (results["pdq"].value, results["pdq"].details["quality"]) == want


def test_large_images_downsampled_inside_the_compiled_path(monkeypatch):
    """Above 512 px the compiled path samples the reference's rows and columns itself."""
    rng = np.random.default_rng(11)
    for shape in ((513, 40, 3), (40, 900, 3), (1024, 683, 3), (2000, 2000, 3)):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        monkeypatch.setattr(pdq_core, "_BACKEND", fast)
        got = pdq_core.pdq_dihedral(img)
        monkeypatch.setattr(pdq_core, "_BACKEND", pdqhash)
        assert got == pdq_core.pdq_dihedral(img), shape
    monkeypatch.setattr(pdq_core, "_BACKEND", None)


def test_a_compiled_path_that_fails_its_self_check_is_not_used(monkeypatch):
    import types

    broken = types.SimpleNamespace(
        compute_dihedral=lambda img: (_ for _ in ()).throw(OSError("no cache"))
    )
    real_import = pdq_core.importlib.import_module

    def fake_import(name):
        return broken if name == "gardefou.signals._pdq_numba" else real_import(name)

    monkeypatch.setattr(pdq_core.importlib, "import_module", fake_import)
    monkeypatch.setattr(pdq_core, "_BACKEND", None)
    monkeypatch.delenv("GARDEFOU_PDQ", raising=False)
    with pytest.warns(RuntimeWarning, match="self-check"):
        assert pdq_core.backend() is pdqhash
    monkeypatch.setattr(pdq_core, "_BACKEND", None)
    monkeypatch.setenv("GARDEFOU_PDQ", "numba")
    with pytest.raises(ConfigError, match="self-check"):
        pdq_core.backend()
    monkeypatch.setattr(pdq_core, "_BACKEND", None)
