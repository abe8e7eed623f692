"""The level rules of the nudity signal: which NudeNet classes, at which scores, make an image
``explicit``, ``suggestive`` or ``none``. Pure functions on detections (no model), tested on
synthetic and recorded detections; thresholds documented in docs/model-cards/nudity.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from gardefou.errors import ConfigError

#: the signal's levels from least to most severe; the one ranking every caller compares with
LEVELS: tuple[str, ...] = ("none", "suggestive", "explicit")
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}

#: exposed intimate parts: any one above threshold makes the image "explicit"
EXPLICIT_LABELS = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    }
)
#: covered intimate parts (swimwear, underwear, tight clothing): "suggestive"
SUGGESTIVE_LABELS = frozenset(
    {"FEMALE_GENITALIA_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED", "ANUS_COVERED"}
)
BREAST_COVERED = "FEMALE_BREAST_COVERED"
#: an exposed belly is suggestive only together with a covered intimate part (bikini pattern)
BELLY_LABEL = "BELLY_EXPOSED"
#: exposed skin that turns a moderately scored covered part into "suggestive" (swimwear pattern)
SKIN_LABELS = frozenset({"BELLY_EXPOSED", "MALE_BREAST_EXPOSED"})


@dataclass(frozen=True)
class NudityThresholds:
    """Decision thresholds on NudeNet class scores (documented in docs/model-cards/nudity.md)."""

    explicit: float = 0.50  # an EXPLICIT_LABELS box at or above this -> "explicit"
    suggestive: float = 0.70  # a SUGGESTIVE_LABELS box at or above this alone -> "suggestive"
    suggestive_with_skin: float = 0.50  # ... or at or above this with exposed skin (SKIN_LABELS)
    skin: float = 0.30  # the exposed-skin score needed for the rule above
    # FEMALE_BREAST_COVERED fires on fitted tops of clothed adults (0.59-0.71 on street-fashion
    # photos, docs/model-cards/nudity.md): on its own it needs breast_alone, and with bare skin
    # (or in the belly rule) the skin score must reach breast_skin
    breast_alone: float = 0.85
    breast_skin: float = 0.65
    belly: float = 0.50  # BELLY_EXPOSED at or above this ...
    belly_companion: float = 0.30  # ... with a SUGGESTIVE_LABELS box at or above this
    borderline_margin: float = 0.15  # a relevant score within this below a threshold: borderline
    min_score: float = 0.20  # raw detections below this are dropped (NudeNet's own cut)
    nms_iou: float = 0.45

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"nudity threshold {f.name}={value!r} must be in [0, 1]")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> NudityThresholds:
        if not raw:
            return cls()
        known = {f.name for f in fields(cls)}
        bad = sorted(set(raw) - known)
        if bad:
            raise ConfigError(f"unknown nudity threshold(s) {bad}; known: {sorted(known)}")
        return replace(cls(), **{k: float(v) for k, v in raw.items()})


DEFAULT_THRESHOLDS = NudityThresholds()


def _top(
    detections: Sequence[Mapping[str, Any]], labels: frozenset[str]
) -> Mapping[str, Any] | None:
    hits = [d for d in detections if d["label"] in labels]
    return max(hits, key=lambda d: d["score"]) if hits else None


def _alone_threshold(label: str, t: NudityThresholds) -> float:
    """A covered part's score needed on its own: FEMALE_BREAST_COVERED, which fires on fitted
    tops of clothed people, needs ``breast_alone``; the lower covered parts ``suggestive``."""
    return t.breast_alone if label == BREAST_COVERED else t.suggestive


def _skin_needed(label: str, t: NudityThresholds) -> float:
    return t.breast_skin if label == BREAST_COVERED else t.skin


def _belly_needed(label: str, t: NudityThresholds) -> float:
    return max(t.belly, t.breast_skin) if label == BREAST_COVERED else t.belly


def level_from_detections(
    detections: Sequence[Mapping[str, Any]], thresholds: NudityThresholds = DEFAULT_THRESHOLDS
) -> tuple[str, float, str]:
    """(level, confidence of that level, explanation) from NudeNet detections. Pure."""
    t = thresholds
    exp = _top(detections, EXPLICIT_LABELS)
    if exp is not None and exp["score"] >= t.explicit:
        return (
            "explicit",
            float(exp["score"]),
            f"exposed {exp['label']} detected with score {exp['score']:.2f} "
            f"(explicit threshold {t.explicit:.2f})",
        )
    covered = sorted(
        (d for d in detections if d["label"] in SUGGESTIVE_LABELS), key=lambda d: -d["score"]
    )
    alone = [d for d in covered if d["score"] >= _alone_threshold(d["label"], t)]
    if alone:
        sug = alone[0]
        return (
            "suggestive",
            float(sug["score"]),
            f"{sug['label']} detected with score {sug['score']:.2f} (suggestive threshold "
            f"{_alone_threshold(sug['label'], t):.2f}): swimwear, underwear or similar",
        )
    skin = _top(detections, SKIN_LABELS)
    with_skin = [
        d
        for d in covered
        if d["score"] >= t.suggestive_with_skin
        and skin is not None
        and skin["score"] >= _skin_needed(d["label"], t)
    ]
    if with_skin and skin is not None:
        sug = with_skin[0]
        return (
            "suggestive",
            float(sug["score"]),
            f"{sug['label']} ({sug['score']:.2f}) with {skin['label']} ({skin['score']:.2f}): "
            "covered intimate part and bare skin, the swimwear/underwear pattern",
        )
    belly = _top(detections, frozenset({BELLY_LABEL}))
    with_belly = [
        d
        for d in covered
        if d["score"] >= t.belly_companion
        and belly is not None
        and belly["score"] >= _belly_needed(d["label"], t)
    ]
    if with_belly and belly is not None:
        sug = with_belly[0]
        score = min(float(belly["score"]), float(sug["score"]))
        return (
            "suggestive",
            score,
            f"exposed belly ({belly['score']:.2f}) with {sug['label']} ({sug['score']:.2f}): "
            "the swimwear/underwear pattern",
        )
    relevant = [d["score"] for d in detections if d["label"] in EXPLICIT_LABELS | SUGGESTIVE_LABELS]
    top = max(relevant, default=0.0)
    if top == 0.0:
        return "none", 1.0, "no exposed or covered intimate body part detected"
    return (
        "none",
        round(1.0 - float(top), 4),
        f"strongest intimate-part detection {top:.2f} is below the thresholds "
        f"(explicit {t.explicit:.2f}, suggestive {t.suggestive:.2f})",
    )


def is_borderline(
    detections: Sequence[Mapping[str, Any]],
    level: str,
    thresholds: NudityThresholds = DEFAULT_THRESHOLDS,
) -> bool:
    """True when a relevant score sits just under the threshold that would raise the level."""
    t, m = thresholds, thresholds.borderline_margin
    if level == "explicit":
        return False
    exp = _top(detections, EXPLICIT_LABELS)
    if exp is not None and t.explicit - m <= exp["score"] < t.explicit:
        return True
    if level == "none":
        skin = _top(detections, SKIN_LABELS)
        for d in detections:
            if d["label"] not in SUGGESTIVE_LABELS:
                continue
            limit = _alone_threshold(d["label"], t)
            if skin is not None and skin["score"] >= _skin_needed(d["label"], t):
                limit = min(limit, t.suggestive_with_skin)
            if limit - m <= d["score"] < limit:
                return True
    return False
