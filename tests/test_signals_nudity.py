"""Nudity signal: level rules and box decoding on synthetic boxes and recorded raw outputs of
benign images; the real model on a benign portrait and a benign object photo. No sexual imagery
is used anywhere: the explicit/suggestive paths are exercised with synthetic detections."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gardefou.errors import ConfigError
from gardefou.media import load_media
from gardefou.signals import nudity as N
from gardefou.signals.nudity import (
    LABELS,
    NudityThresholds,
    decode_output,
    is_borderline,
    level_from_detections,
    merge_detections,
)

from .conftest import FIXTURES, loaded_signal

SIG = FIXTURES / "signals"


def det(label: str, score: float, box: list[int] | None = None) -> dict:
    return {"label": label, "score": score, "box": box or [10, 10, 50, 50]}


LEVEL_CASES = [
    # (detections, expected level, expected score)
    ([], "none", 1.0),
    ([det("FACE_FEMALE", 0.9), det("FEET_EXPOSED", 0.8)], "none", 1.0),
    ([det("FEMALE_BREAST_EXPOSED", 0.70)], "explicit", 0.70),
    ([det("MALE_GENITALIA_EXPOSED", 0.50)], "explicit", 0.50),  # exactly at threshold
    ([det("BUTTOCKS_EXPOSED", 0.49)], "none", 0.51),  # just below
    ([det("ANUS_EXPOSED", 0.6), det("FEMALE_BREAST_COVERED", 0.9)], "explicit", 0.6),
    # a fitted top scores FEMALE_BREAST_COVERED up to ~0.71 on clothed street photos: on its
    # own the breast class needs 0.85 (issue 19); the lower covered parts keep 0.70
    ([det("FEMALE_BREAST_COVERED", 0.72)], "none", 0.28),
    ([det("FEMALE_BREAST_COVERED", 0.86)], "suggestive", 0.86),
    ([det("FEMALE_GENITALIA_COVERED", 0.72)], "suggestive", 0.72),
    ([det("BUTTOCKS_COVERED", 0.70), det("FEMALE_BREAST_COVERED", 0.6)], "suggestive", 0.70),
    # recorded detections of clothed street photos that were "suggestive" (ccp_0331, ccp_1756)
    (
        [
            det("FEMALE_BREAST_COVERED", 0.7033),
            det("FEMALE_BREAST_COVERED", 0.6782),
            det("ARMPITS_EXPOSED", 0.6703),
        ],
        "none",
        0.2967,
    ),
    (
        [
            det("FEMALE_BREAST_COVERED", 0.672),
            det("FEMALE_BREAST_COVERED", 0.5921),
            det("BELLY_EXPOSED", 0.567),
        ],
        "none",
        0.328,
    ),
    # breast class with clearly bare skin is still the swimwear pattern
    ([det("FEMALE_BREAST_COVERED", 0.6), det("BELLY_EXPOSED", 0.7)], "suggestive", 0.6),
    # a covered part alone at 0.5-0.7 fired on clothed people in the benign photos: not enough
    ([det("FEMALE_BREAST_COVERED", 0.62)], "none", 0.38),
    # ... but with bare skin it is the swimwear pattern
    ([det("FEMALE_GENITALIA_COVERED", 0.55), det("MALE_BREAST_EXPOSED", 0.4)], "suggestive", 0.55),
    ([det("BUTTOCKS_COVERED", 0.49)], "none", 0.51),
    ([det("FEMALE_GENITALIA_COVERED", 0.8), det("BELLY_EXPOSED", 0.9)], "suggestive", 0.8),
    # bikini pattern: belly + weaker covered part
    ([det("BELLY_EXPOSED", 0.7), det("FEMALE_BREAST_COVERED", 0.35)], "suggestive", 0.35),
    ([det("BELLY_EXPOSED", 0.55), det("FEMALE_GENITALIA_COVERED", 0.35)], "suggestive", 0.35),
    # ... with the breast class only, the belly must reach breast_skin (0.65): a crop top
    ([det("BELLY_EXPOSED", 0.6), det("FEMALE_BREAST_COVERED", 0.35)], "none", 0.65),
    # a bare belly alone is not suggestive (crop tops, sport)
    ([det("BELLY_EXPOSED", 0.9)], "none", 1.0),
    ([det("BELLY_EXPOSED", 0.9), det("FEMALE_BREAST_COVERED", 0.2)], "none", 0.8),
    # a shirtless man is not counted (documented choice)
    ([det("MALE_BREAST_EXPOSED", 0.95)], "none", 1.0),
]


@pytest.mark.parametrize(("detections", "level", "score"), LEVEL_CASES)
def test_level_rules(detections, level, score):
    got, conf, why = level_from_detections(detections)
    assert (got, round(conf, 4)) == (level, score)
    assert why


def test_breast_thresholds_restore_the_previous_rules():
    old = NudityThresholds(breast_alone=0.70, breast_skin=0.30)
    top = [det("FEMALE_BREAST_COVERED", 0.672), det("BELLY_EXPOSED", 0.567)]
    assert level_from_detections(top, old)[0] == "suggestive"
    assert level_from_detections(top)[0] == "none"
    assert level_from_detections([det("FEMALE_BREAST_COVERED", 0.72)], old)[0] == "suggestive"


def test_thresholds_are_configurable_and_validated():
    strict = NudityThresholds(explicit=0.3, suggestive=0.3)
    assert level_from_detections([det("BUTTOCKS_EXPOSED", 0.35)], strict)[0] == "explicit"
    assert NudityThresholds.from_mapping({"explicit": "0.6"}).explicit == 0.6
    with pytest.raises(ConfigError, match=r"explicit=1\.5"):
        NudityThresholds(explicit=1.5)
    with pytest.raises(ConfigError, match="unknown nudity threshold"):
        NudityThresholds.from_mapping({"explict": 0.5})


def test_borderline():
    assert is_borderline([det("BUTTOCKS_EXPOSED", 0.35)], "none")
    assert is_borderline([det("FEMALE_GENITALIA_COVERED", 0.60)], "none")
    assert is_borderline([det("FEMALE_BREAST_COVERED", 0.75)], "none")  # below breast_alone
    assert not is_borderline([det("FEMALE_BREAST_COVERED", 0.60)], "none")
    assert not is_borderline([det("FEMALE_BREAST_COVERED", 0.40)], "none")
    assert is_borderline([det("BUTTOCKS_COVERED", 0.40), det("BELLY_EXPOSED", 0.35)], "none")
    assert is_borderline([det("FEMALE_BREAST_COVERED", 0.40), det("BELLY_EXPOSED", 0.7)], "none")
    assert not is_borderline(
        [det("FEMALE_BREAST_COVERED", 0.40), det("BELLY_EXPOSED", 0.35)], "none"
    )  # a crop top's faint belly no longer lowers the breast class's limit
    assert not is_borderline([det("FEMALE_BREAST_COVERED", 0.20)], "none")
    assert is_borderline([det("FEMALE_BREAST_COVERED", 0.6), det("ANUS_EXPOSED", 0.4)],
                         "suggestive")  # fmt: skip
    assert not is_borderline([det("ANUS_EXPOSED", 0.9)], "explicit")


def test_merge_keeps_higher_score_of_overlapping_same_label():
    a = [det("BELLY_EXPOSED", 0.4, [0, 0, 100, 100]), det("FACE_MALE", 0.9)]
    b = [det("BELLY_EXPOSED", 0.6, [5, 5, 100, 100]), det("FEET_COVERED", 0.3, [200, 200, 9, 9])]
    merged = merge_detections(a, b)
    assert [d["label"] for d in merged] == ["FACE_MALE", "BELLY_EXPOSED", "FEET_COVERED"]
    assert merged[1]["score"] == 0.6


def raw_output(rows: list[tuple[float, float, float, float, str, float]]) -> np.ndarray:
    """A synthetic [22, N] output: (cx, cy, w, h, label, score) per candidate, model units."""
    out = np.zeros((4 + len(LABELS), len(rows)), dtype=np.float32)
    for j, (cx, cy, w, h, label, score) in enumerate(rows):
        out[:4, j] = (cx, cy, w, h)
        out[4 + LABELS.index(label), j] = score
    return out


def test_decode_scales_boxes_back_and_clips():
    # a 640x480 image is padded to 640x640 and seen at 320: model units are half the pixels
    out = raw_output([(100, 50, 40, 20, "FACE_MALE", 0.8), (315, 235, 20, 20, "FEET_COVERED", 0.5)])
    dets = decode_output(out, 640, 480, 320)
    assert dets[0] == {"label": "FACE_MALE", "score": 0.8, "box": [160, 80, 80, 40]}
    # second box crosses the right edge (x 610..650): clipped to the 640 px width
    assert dets[1]["box"] == [610, 450, 30, 30]


def test_decode_drops_weak_and_suppresses_overlaps():
    out = raw_output([
        (100, 100, 40, 40, "FACE_FEMALE", 0.9),
        (102, 101, 40, 40, "FACE_MALE", 0.7),  # overlaps: suppressed (class-agnostic NMS)
        (200, 200, 40, 40, "FEET_EXPOSED", 0.15),  # below the 0.2 cut
        (250, 250, 30, 30, "BELLY_COVERED", 0.22),  # kept by the 0.2 cut, dropped by NMS's 0.25
    ])  # fmt: skip
    dets = decode_output(out, 320, 320, 320)
    assert [d["label"] for d in dets] == ["FACE_FEMALE"]


def test_decode_rejects_wrong_shape():
    with pytest.raises(ValueError, match="rows"):
        decode_output(np.zeros((10, 5)), 100, 100, 320)


def test_recorded_outputs_of_benign_images():
    rec = np.load(SIG / "nudenet_raw_outputs.npz")
    w, h = rec["orl-s1-1_size"]
    portrait = decode_output(rec["orl-s1-1"], int(w), int(h), 320)
    assert [d["label"] for d in portrait] == ["FACE_FEMALE"]  # NudeNet's face class; a man
    assert level_from_detections(portrait)[0] == "none"
    w, h = rec["earth_apollo17_size"]
    assert decode_output(rec["earth_apollo17"], int(w), int(h), 320) == []


def test_preprocess_matches_nudenet_reference():
    cv2 = pytest.importorskip("cv2")
    nn = pytest.importorskip("nudenet.nudenet")
    rgb = np.asarray(load_media(SIG / "earth_apollo17.jpg").oriented())
    ref = nn._read_image(np.ascontiguousarray(rgb[:, :, ::-1]), 320)[0][0]
    assert np.abs(N.preprocess(rgb, 320) - ref).max() < 1e-6
    assert cv2 is not None


@pytest.fixture(scope="module")
def signal():
    return loaded_signal("nudity", "NudeNet")


def test_real_model_portrait_is_none(signal):
    r = signal.extract(load_media(SIG / "orl-s1-1.png"))
    assert r.value == "none" and r.available
    assert any(d["label"].startswith("FACE_") for d in r.details["detections"])
    assert r.details["borderline"] is False and r.details["passes"] == [320]
    json.dumps(r.to_dict())


def test_real_model_batch_equals_single(signal):
    items = [load_media(SIG / n) for n in ("orl-s1-1.png", "earth_apollo17.jpg", "orl-s2-1.png")]
    batch = signal.extract_batch(items)
    single = [signal.extract(load_media(SIG / n), None)
              for n in ("orl-s1-1.png", "earth_apollo17.jpg", "orl-s2-1.png")]  # fmt: skip
    for a, b in zip(batch, single, strict=True):
        assert a.value == b.value
        assert [d["label"] for d in a.details["detections"]] == [
            d["label"] for d in b.details["detections"]]  # fmt: skip


def test_second_pass_runs_only_on_borderline(signal, monkeypatch):
    media = load_media(SIG / "earth_apollo17.jpg")
    media._cache["nudenet"] = [det("BUTTOCKS_COVERED", 0.60)]  # synthetic borderline detection
    calls = []

    def fake_run(arrays, size, thresholds):
        calls.append(size)
        return [[det("BUTTOCKS_COVERED", 0.75)]]

    monkeypatch.setattr(signal, "_run", fake_run)
    r = signal.extract(media)
    assert calls == [640]
    assert r.value == "suggestive" and r.details["passes"] == [320, 640]
    other = load_media(SIG / "orl-s1-1.png")
    other._cache["nudenet"] = [det("FACE_MALE", 0.9)]
    signal.extract(other)
    assert calls == [640]


def test_context_thresholds_override(signal):
    media = load_media(SIG / "earth_apollo17.jpg")
    media._cache["nudenet"] = [det("BUTTOCKS_COVERED", 0.3)]
    r = N.NuditySignal(second_pass=False).extract(
        media, {"nudity_thresholds": {"suggestive": 0.25}}
    )
    assert r.value == "suggestive"
    media._cache["nudenet"] = [det("FEMALE_BREAST_COVERED", 0.3)]
    r = N.NuditySignal(second_pass=False).extract(
        media, {"nudity_thresholds": {"breast_alone": 0.25}}
    )
    assert r.value == "suggestive"


def record_outputs() -> None:
    """Regenerate nudenet_raw_outputs.npz (run this file as a script) after a model change."""
    sess = N.NuditySignal().model()
    out = {}
    for name in ("orl-s1-1", "earth_apollo17"):
        path = next(SIG.glob(f"{name}.*"))
        rgb = np.asarray(load_media(path).oriented())
        raw = sess.run(None, {sess.get_inputs()[0].name: N.preprocess(rgb, 320)[None]})[0][0]
        out[name] = raw[:, raw[4:].max(axis=0) >= 0.05]
        out[f"{name}_size"] = np.array([rgb.shape[1], rgb.shape[0]])
    np.savez_compressed(SIG / "nudenet_raw_outputs.npz", **out)


if __name__ == "__main__":
    record_outputs()
