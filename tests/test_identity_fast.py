"""The numpy face-recognition ResNet gives dlib's own embeddings (same weights, same chips)."""

from __future__ import annotations

import numpy as np
import pytest

from gardefou.errors import ModelUnavailableError
from gardefou.media import load_media
from gardefou.signals import _dlib_resnet as resnet
from gardefou.signals._identity_encoder import INT8_MAX_DRIFT, Encoder, int8_or_fp32

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
        fp32 = Encoder(fast.encoder.weights)  # onnxruntime when onnx is installed
        used = fp32(np.asarray(chip)[None])[0]
        assert np.abs(used - want).max() < 1e-5, (path.name, fp32.backend)
        # The contract on every CPU: the encoder in use (int8 where its load-time self-check
        # passed, else float32) is within INT8_MAX_DRIFT (0.07, L2; same-person threshold 0.51)
        # of dlib's embedding. The uint8-weight int8 network moves one by ~0.035 (0.136 with
        # int8 weights on an AVX2 CPU without VNNI, where onnxruntime's u8s8 kernel saturates).
        used = fast.encoder(np.asarray(chip)[None])[0]
        assert np.linalg.norm(used - want) < INT8_MAX_DRIFT, (path.name, fast.encoder.backend)


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
    fp32 = Encoder(fast.encoder.weights)
    assert fp32.backend == "onnxruntime-fp32"
    chips = np.random.default_rng(3).integers(0, 256, (2, 150, 150, 3), dtype=np.uint8)
    ref = resnet.forward(fast.encoder.weights, chips)
    assert np.abs(fp32(chips) - ref).max() < 1e-5


def test_int8_is_the_default_and_uses_the_shipped_ranges(models):
    pytest.importorskip("onnx")
    from gardefou.signals._models import _sha256

    fast, _ = models
    import face_recognition_models as frm

    sha = _sha256(frm.face_recognition_model_location())
    ranges = resnet.load_ranges(sha)
    assert ranges is not None and set(ranges) == set(resnet.SITES)
    # int8 unless its self-check failed on this CPU, which the encoder then says
    assert fast.encoder.precision == "int8" or "running float32" in fast.encoder.note
    assert fast.encoder.backend == f"onnxruntime-{fast.encoder.precision}"
    assert fast.encoder.int8_drift is not None
    # ranges made for another weight file, or an incomplete file, are not used
    assert resnet.load_ranges("0" * 64) is None


def test_int8_ranges_are_checked(tmp_path, models):
    pytest.importorskip("onnx")
    fast, _ = models
    with pytest.raises(ValueError, match="miss the sites"):
        resnet.to_onnx(fast.encoder.weights, {"input": [-1.0, 1.0]})
    bad = tmp_path / "ranges.json"
    bad.write_text('{"weights_sha256": "abc", "ranges": {"input": [0, 1]}}')
    assert resnet.load_ranges("abc", bad) is None  # incomplete
    bad.write_text("not json")
    assert resnet.load_ranges("abc", bad) is None


def test_quant_params_cover_the_range_and_zero():
    q = resnet.quant_params(-0.5, 1.5, nonneg=False)
    assert q.zero == round(0.5 / q.scale) and abs(q.scale * 255 - 2.0) < 1e-6
    relu = resnet.quant_params(-3.0, 2.0, nonneg=True)  # after ReLU: from 0, zero point 0
    assert relu.zero == 0 and abs(relu.scale * 255 - 2.0) < 1e-6
    assert resnet.quant_params(0.0, 0.0, nonneg=True).scale == 1.0  # a dead site


def test_precision_setting(monkeypatch):
    from gardefou.errors import ConfigError

    monkeypatch.delenv("GARDEFOU_IDENTITY_PRECISION", raising=False)
    assert resnet.precision_setting() == "int8"
    monkeypatch.setenv("GARDEFOU_IDENTITY_PRECISION", "FP32")
    assert resnet.precision_setting() == "fp32"
    monkeypatch.setenv("GARDEFOU_IDENTITY_PRECISION", "int4")
    with pytest.raises(ConfigError, match=r"int4.*int8.*fp32"):
        resnet.precision_setting()


def test_int8_and_fp32_agree_on_who_is_who(models):
    import dlib

    fast, _ = models
    fp32 = Encoder(fast.encoder.weights)
    chips = []
    for path in FACES + PORTRAITS:
        rgb = np.ascontiguousarray(load_media(path).oriented().convert("RGB"))
        chips.append(np.asarray(dlib.get_face_chip(rgb, _shape(fast, rgb), 150, 0.25)))
    a, b = fast.encoder(np.stack(chips)), fp32(np.stack(chips))
    da = np.linalg.norm(a[:, None] - a[None], axis=2)
    db = np.linalg.norm(b[:, None] - b[None], axis=2)
    assert np.abs(da - db).max() < 0.04
    assert ((da <= 0.51) == (db <= 0.51)).all()


def test_a_file_that_is_not_the_network_is_refused(tmp_path):
    bad = tmp_path / "not-a-net.dat"
    bad.write_bytes(b"\x01\x05con_4" + b"\x00" * 64)
    with pytest.raises(ModelUnavailableError, match=r"not-a-net\.dat"):
        resnet.load_weights(bad)
    with pytest.raises(ModelUnavailableError, match="reinstall"):
        resnet.load_weights(tmp_path / "missing.dat")


@pytest.mark.slow
def test_shipped_int8_ranges_are_what_calibration_measures(models):
    """The ranges file is reproducible: the faces of the BSDS500 photos give the same ranges
    (scripts/calibrate_identity.py writes it)."""
    import json
    import sys

    from tests.conftest import shared_path

    photos = shared_path("data", "photos")
    sys.path.insert(0, str(resnet.INT8_RANGES.parents[3] / "scripts"))
    try:
        from calibrate_identity import photo_chips
    finally:
        sys.path.pop(0)
    fast, _ = models
    fresh = resnet.calibrate(fast.encoder.weights, photo_chips(photos))
    shipped = json.loads(resnet.INT8_RANGES.read_text())["ranges"]
    assert set(fresh) == set(shipped)
    for site, (lo, hi) in fresh.items():
        assert shipped[site] == pytest.approx([lo, hi], rel=1e-3, abs=1e-5), site


def test_int8_self_check_falls_back_to_fp32_when_inaccurate(models, monkeypatch, caplog):
    """A CPU whose int8 kernels drift (as u8s8 did on AVX2 without VNNI) runs float32: here
    simulated with a bound no int8 network meets."""
    pytest.importorskip("onnx")
    import face_recognition_models as frm

    from gardefou.signals import _identity_encoder
    from gardefou.signals._models import _sha256

    fast, _ = models
    ranges = resnet.load_ranges(_sha256(frm.face_recognition_model_location()))
    assert int8_or_fp32(fast.encoder.weights, ranges).precision == "int8"  # u8u8: accurate here
    monkeypatch.setattr(_identity_encoder, "INT8_MAX_DRIFT", 0.0)
    with caplog.at_level("WARNING", logger="gardefou.signals._identity_encoder"):
        enc = Encoder(fast.encoder.weights, "int8", ranges)
    assert enc.precision == "fp32" and enc.backend == "onnxruntime-fp32"
    assert enc.int8_drift > 0 and "running float32 instead" in enc.note
    assert "running float32 instead" in caplog.text
    chips = np.random.default_rng(4).integers(0, 256, (1, 150, 150, 3), dtype=np.uint8)
    assert np.abs(enc(chips) - resnet.forward(fast.encoder.weights, chips)).max() < 1e-5


def test_uint8_weights_hold_the_same_values(models):
    """u8u8 only changes how the weights are stored (zero point 128): on a CPU whose u8s8 kernel
    is exact both give the same embeddings, so the calibrated ranges still apply."""
    pytest.importorskip("onnx")
    import onnx
    from onnx import numpy_helper

    fast, _ = models
    ranges = {s: [-1.0, 1.0] for s in resnet.SITES}

    def weights(scheme):
        g = onnx.load_from_string(resnet.to_onnx(fast.encoder.weights, ranges, scheme=scheme)).graph
        inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        out = []
        for n in g.node:
            if n.op_type == "DequantizeLinear" and inits.get(n.input[0]) is not None:
                q, zero = inits[n.input[0]], inits[n.input[2]]
                if q.ndim == 4:
                    out.append(q.astype(np.int32) - zero.astype(np.int32)[:, None, None, None])
        return out

    a, b = weights("u8u8"), weights("u8s8")
    assert len(a) == len(b) == 1 + 2 * len(resnet.BLOCKS)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    with pytest.raises(ValueError, match="int8 scheme"):
        resnet.to_onnx(fast.encoder.weights, ranges, scheme="s8s8")
