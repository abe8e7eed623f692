"""The advisory pixel-based AI-generated signal (signals/ai_generated.py)."""

from __future__ import annotations

import numpy as np
import pytest

from gardefou.media import load_media
from gardefou.policy.facts import lookup, resolve
from gardefou.signals import available_signals
from gardefou.signals.ai_generated import FORENSIC_NAMES, features, forensic_features, load_head
from gardefou.signals.photo_style import STAT_NAMES

from .conftest import FIXTURES

pytest.importorskip("cv2")


def test_forensic_features_have_one_value_per_name_on_any_shape():
    rng = np.random.default_rng(1)
    for shape in ((600, 800, 3), (40, 30, 3), (8, 8, 3), (20, 3000, 3), (1, 1, 3)):
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        f = forensic_features(img)
        assert f.shape == (len(FORENSIC_NAMES),) and np.isfinite(f).all()


def test_shipped_head_matches_the_features_and_has_an_operating_threshold():
    head, threshold = load_head()
    assert head.coef.shape == (len(FORENSIC_NAMES) + len(STAT_NAMES),)
    assert 0.0 < threshold < 1.0


def test_the_signal_is_advisory_and_calibrated():
    from gardefou.signals import get_signal

    r = get_signal("ai_generated").extract(load_media(FIXTURES / "signals" / "earth_apollo17.jpg"))
    p = r.value["probability"]
    assert 0.0 <= p <= 1.0 and r.score == p
    assert r.value["likely"] == (p >= r.details["threshold"])
    assert "advisory" in r.explanation
    assert features(np.zeros((64, 64, 3), np.uint8)).shape == head_width()


def head_width() -> tuple[int]:
    return (len(FORENSIC_NAMES) + len(STAT_NAMES),)


def test_policy_facts_read_it_and_unknown_when_it_did_not_run():
    names = frozenset(available_signals())
    spec = lookup("ai_generated.likely", names)
    assert not isinstance(spec, str), spec
    signals = {"ai_generated": {"value": {"probability": 0.9, "likely": True}, "score": 0.9}}
    assert resolve("ai_generated.likely", spec, signals, {}) is True
    from gardefou.policy.facts import UNKNOWN

    assert resolve("ai_generated.likely", spec, {}, {}) is UNKNOWN


def test_the_default_policy_never_uses_it():
    from importlib import resources

    text = (resources.files("gardefou.policy") / "default.yaml").read_text("utf-8")
    assert "ai_generated." not in text.replace("provenance.ai_generated", "")
