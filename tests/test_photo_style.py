"""Photo or drawing (signals/photo_style.py) and the faces signal's photo_likelihood."""

from __future__ import annotations

import io

import numpy as np
import pytest

from gardefou.media import load_media
from gardefou.signals.faces import photo_fact
from gardefou.signals.photo_style import (
    N_MAP_FEATURES,
    STAT_NAMES,
    Head,
    PhotoStyle,
    grown_box,
    image_statistics,
    load_heads,
    pool_maps,
)

from .conftest import FIXTURES

SIG = FIXTURES / "signals"


def cartoon_png() -> bytes:
    """A clip-art face: flat colours, black outlines, white background (drawn here)."""
    cv2 = pytest.importorskip("cv2")
    from PIL import Image

    img = np.full((300, 300, 3), 255, np.uint8)
    cv2.circle(img, (150, 150), 100, (250, 205, 160), -1)
    cv2.circle(img, (150, 150), 100, (0, 0, 0), 4)
    for x in (110, 190):
        cv2.circle(img, (x, 125), 14, (255, 255, 255), -1)
        cv2.circle(img, (x, 125), 14, (0, 0, 0), 3)
        cv2.circle(img, (x, 128), 6, (30, 30, 30), -1)
    cv2.ellipse(img, (150, 190), (45, 22), 0, 0, 180, (0, 0, 0), 4)
    cv2.ellipse(img, (150, 60), (105, 45), 0, 180, 360, (120, 60, 20), -1)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return buf.getvalue()


def test_statistics_have_one_value_per_name_and_no_nans():
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
    flat = np.full((64, 64, 3), 200, np.uint8)
    tiny = np.zeros((3, 5, 3), np.uint8)
    for img in (noisy, flat, tiny):
        s = image_statistics(img)
        assert s.shape == (len(STAT_NAMES),) and np.isfinite(s).all()


def test_pool_maps_reads_only_the_image_or_the_box():
    # a 10x10 map of a 200x100 image padded to 200x200: rows 5.. are padding (zeros here)
    m = np.zeros((2, 10, 10), np.float32)
    m[:, :5, :] = 1.0
    m[1, 0, 0] = 5.0
    whole = pool_maps([m], 200, 100)
    assert whole.shape == (4,) and whole[0] == 1.0  # padding rows not averaged in
    box = pool_maps([m], 200, 100, (0, 0, 20, 20))  # the top-left cell only
    assert box[1] == 5.0 and box[3] == 0.0


def test_grown_box_stays_inside_the_image():
    assert grown_box((0, 0, 10, 10), 12, 12) == (0, 0, 12, 12)
    assert grown_box((40, 40, 20, 20), 100, 100) == (30, 30, 40, 40)


def test_head_round_trip_and_calibration():
    head = Head("t/1", np.zeros(2), np.ones(2), np.array([1.0, -1.0]), 0.5, 2.0, -1.0)
    again = Head.from_dict(head.to_dict())
    x = np.array([[1.0, 0.0], [0.0, 3.0]])
    assert np.allclose(head.predict(x), again.predict(x))
    assert np.isclose(head.predict(x)[0], 1 / (1 + np.exp(-(2.0 * 1.5 - 1.0))))
    with pytest.raises(ValueError, match="3 features given"):
        head.predict(np.zeros(3))


def test_the_fact_leans_to_photo_and_never_guesses_drawing():
    assert photo_fact(PhotoStyle(0.1, (0.2, 0.8), "v")) == 0.8  # one photographic face
    assert photo_fact(PhotoStyle(0.1, (), "v")) == 0.1
    assert photo_fact(PhotoStyle(None, (), "unavailable")) is None  # read as a photo
    assert photo_fact(PhotoStyle(0.1, (None,), "v")) is None


def test_shipped_heads_match_the_feature_layout():
    heads = load_heads()
    assert heads["image"].coef.shape == (N_MAP_FEATURES,) == (2 * (64 + 128 + 256),)
    assert heads["face"].coef.shape == (N_MAP_FEATURES,)
    assert heads["image"].clip == heads["face"].clip == 6.0


# -- the real models -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def faces():
    from gardefou.signals import get_signal

    sig = get_signal("faces")
    try:
        sig.model()
        get_signal("nudity").model()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"face/NudeNet models not loadable here: {exc}")
    return sig


def test_backbone_outputs_leave_the_detections_unchanged(faces):
    import os

    import nudenet

    from gardefou.signals import get_signal
    from gardefou.signals._models import onnx_session, oriented_array
    from gardefou.signals.nudity import decode_output, preprocess

    path = os.path.join(os.path.dirname(nudenet.__file__), "320n.onnx")
    plain = onnx_session(path, "plain")
    media = load_media(SIG / "orl-s1-1.png")
    rgb = oriented_array(media)
    x = preprocess(rgb, 320)[None]
    (raw,) = plain.run(None, {plain.get_inputs()[0].name: x})[:1]
    want = decode_output(raw[0], rgb.shape[1], rgb.shape[0], 320)
    nudity = get_signal("nudity")
    assert nudity.detect_batch([media])[0] == want
    maps = nudity.feature_maps(media)
    assert maps is not None and [m.shape[0] for m in maps] == [64, 128, 256]


def test_a_photographed_face_is_a_photo(faces):
    r = faces.extract(load_media(SIG / "orl-s1-1.png"))
    assert r.details["photo_likelihood"] >= 0.9
    assert r.value[0]["photo_likelihood"] >= 0.5


def test_a_drawn_face_is_not_a_photo(faces):
    r = faces.extract(load_media(cartoon_png()))
    assert r.details["image_photo_likelihood"] < 0.2
    assert r.details["photo_likelihood"] < 0.5  # the policy's real_person stays false


def test_without_the_maps_the_face_counts_as_a_photo(faces, monkeypatch):
    from gardefou.signals import get_signal

    monkeypatch.setattr(get_signal("nudity"), "feature_maps", lambda media: None)
    r = faces.extract(load_media(cartoon_png()))
    assert r.details["photo_likelihood"] is None  # the policy reads None as 1.0
