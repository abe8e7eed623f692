"""The numpy face-recognition ResNet gives dlib's own embeddings (same weights, same chips)."""

from __future__ import annotations

import numpy as np
import pytest

from gardefou.errors import ModelUnavailableError
from gardefou.media import load_media
from gardefou.signals import _dlib_resnet as resnet

from .conftest import FIXTURES

SIG = FIXTURES / "signals"
FACES = [SIG / "orl-s1-1.png", SIG / "orl-s1-2.png", SIG / "orl-s2-1.png"]
PORTRAITS = sorted((FIXTURES / "guard").glob("portrait-*.png"))


@pytest.fixture(scope="module")
def models():
    pytest.importorskip("dlib")
    from gardefou.signals._models import dlib_encoder_models, dlib_reference_encoder

    try:
        return dlib_encoder_models(), dlib_reference_encoder()
    except ModelUnavailableError as exc:
        pytest.skip(f"face-recognition-models not installed: {exc}")


def _shape(models, rgb, box=None):
    import dlib

    x, y, w, h = box if box is not None else (0, 0, rgb.shape[1], rgb.shape[0])
    return models.shape5(rgb, dlib.rectangle(x, y, x + w - 1, y + h - 1))


def test_numpy_network_matches_dlib_on_faces(models):
    import dlib

    fast, reference = models
    for path in FACES + PORTRAITS:
        rgb = np.ascontiguousarray(load_media(path).oriented().convert("RGB"))
        shape = _shape(fast, rgb)
        want = np.array(reference.compute_face_descriptor(rgb, shape))
        chip = dlib.get_face_chip(rgb, shape, resnet.CHIP_SIZE, resnet.CHIP_PADDING)
        got = resnet.forward(fast.encoder.weights, np.asarray(chip)[None])[0]
        assert got.shape == (128,)
        assert np.abs(got - want).max() < 1e-5, path.name
        used = fast.encoder(np.asarray(chip)[None])[0]  # onnxruntime when onnx is installed
        assert np.abs(used - want).max() < 1e-5, (path.name, fast.encoder.backend)


def test_batch_equals_single(models):
    import dlib

    fast, _ = models
    chips = []
    for path in FACES:
        rgb = np.ascontiguousarray(load_media(path).oriented().convert("RGB"))
        chips.append(np.asarray(dlib.get_face_chip(rgb, _shape(fast, rgb), 150, 0.25)))
    for encode in (fast.encoder, lambda c: resnet.forward(fast.encoder.weights, c)):
        batch = encode(np.stack(chips))
        for i, chip in enumerate(chips):
            assert np.allclose(batch[i], encode(chip[None])[0], atol=1e-5)


def test_identity_signal_uses_the_fast_network_and_keeps_its_verdicts(models):
    from gardefou.signals import get_signal
    from gardefou.signals.identity import compare

    sig = get_signal("identity")
    same = [sig.embed_array(np.asarray(load_media(p).oriented().convert("RGB"))) for p in FACES]
    assert compare(same[0], same[1]).same  # two photos of ORL subject 1
    assert not compare(same[0], same[2]).same  # subject 1 vs subject 2


def test_wrong_chip_shape_is_a_clear_error(models):
    fast, _ = models
    for encode in (fast.encoder, lambda c: resnet.forward(fast.encoder.weights, c)):
        with pytest.raises(ValueError, match=r"\(B, 150, 150, 3\)"):
            encode(np.zeros((1, 100, 100, 3), np.uint8))


def test_onnx_graph_is_the_numpy_network(models):
    pytest.importorskip("onnx")
    fast, _ = models
    assert fast.encoder.backend == "onnxruntime"
    chips = np.random.default_rng(3).integers(0, 256, (2, 150, 150, 3), dtype=np.uint8)
    ref = resnet.forward(fast.encoder.weights, chips)
    assert np.abs(fast.encoder(chips) - ref).max() < 1e-5


def test_a_file_that_is_not_the_network_is_refused(tmp_path):
    bad = tmp_path / "not-a-net.dat"
    bad.write_bytes(b"\x01\x05con_4" + b"\x00" * 64)
    with pytest.raises(ModelUnavailableError, match=r"not-a-net\.dat"):
        resnet.load_weights(bad)
    with pytest.raises(ModelUnavailableError, match="reinstall"):
        resnet.load_weights(tmp_path / "missing.dat")
