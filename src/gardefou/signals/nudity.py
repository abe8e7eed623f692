"""Nudity and sexualization level from NudeNet 3.4.2's bundled 320n detector (onnxruntime).

Value: ``"explicit" | "suggestive" | "none"``; score: confidence of that level; details:
``{"detections": [{"label", "score", "box": [x, y, w, h]}], "borderline": bool, "passes": [...]}``.

The model call is the only impure part. Pre-processing mirrors NudeNet's own (pad right/bottom to a
square, resize to 320, RGB, /255), box decoding and the level rules are pure functions
(``decode_output``, ``level_from_detections``) tested on recorded outputs and synthetic boxes.
Images whose strongest relevant detection falls in the borderline band are re-run once at 640 px
(same bundled weights; NudeNet's model takes any input size) and the detections are merged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from gardefou.errors import ConfigError, ModelUnavailableError
from gardefou.media import Media
from gardefou.signals._models import onnx_session, oriented_array, require
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.photo_style import BACKBONE_OUTPUTS, with_backbone_outputs

#: NudeNet 3.x output classes, in model order (columns 4.. of the output tensor)
LABELS: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)

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


# -- pure parts ------------------------------------------------------------------------------------
def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[0] + box[2], others[:, 0] + others[:, 2])
    y2 = np.minimum(box[1] + box[3], others[:, 1] + others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = box[2] * box[3] + others[:, 2] * others[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy class-agnostic non-maximum suppression on [x, y, w, h] boxes (as NudeNet does)."""
    order = list(np.argsort(-scores, kind="stable"))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if not order:
            break
        rest = np.array(order)
        overlaps = _iou(boxes[i], boxes[rest])
        order = [int(j) for j, o in zip(rest, overlaps, strict=True) if o <= iou]
    return keep


def decode_output(
    output: np.ndarray,
    width: int,
    height: int,
    input_size: int,
    thresholds: NudityThresholds = DEFAULT_THRESHOLDS,
) -> list[dict[str, Any]]:
    """Turn one image's raw output ``[22, N]`` (cx, cy, w, h, 18 class scores) into detections
    with boxes ``[x, y, w, h]`` in original pixels (the input was padded right/bottom)."""
    rows = np.asarray(output, dtype=np.float32)
    if rows.ndim == 3:
        rows = rows[0]
    if rows.shape[0] != 4 + len(LABELS):
        raise ValueError(f"NudeNet output has {rows.shape[0]} rows, expected {4 + len(LABELS)}")
    rows = rows.T
    cls_scores = rows[:, 4:]
    best = cls_scores.max(axis=1)
    keep = best >= thresholds.min_score
    rows, best, cls_ids = rows[keep], best[keep], cls_scores[keep].argmax(axis=1)
    if rows.shape[0] == 0:
        return []
    side = max(width, height)
    scale = side / input_size
    boxes = np.empty((rows.shape[0], 4), dtype=np.float64)
    boxes[:, 0] = np.clip((rows[:, 0] - rows[:, 2] / 2) * scale, 0, width)
    boxes[:, 1] = np.clip((rows[:, 1] - rows[:, 3] / 2) * scale, 0, height)
    boxes[:, 2] = np.minimum(rows[:, 2] * scale, width - boxes[:, 0])
    boxes[:, 3] = np.minimum(rows[:, 3] * scale, height - boxes[:, 1])
    out = []
    for i in nms(boxes, best.astype(np.float64), thresholds.nms_iou):
        if best[i] < max(thresholds.min_score, 0.25):  # NudeNet's NMS score cut
            continue
        out.append(
            {
                "label": LABELS[int(cls_ids[i])],
                "score": round(float(best[i]), 4),
                "box": [int(v) for v in boxes[i]],
            }
        )
    return out


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


def merge_detections(
    a: Sequence[Mapping[str, Any]], b: Sequence[Mapping[str, Any]], iou: float = 0.45
) -> list[dict[str, Any]]:
    """Union of two passes; a box of the same label overlapping another keeps the higher score."""
    merged: list[dict[str, Any]] = [dict(d) for d in a]
    for d in b:
        same = [
            m
            for m in merged
            if m["label"] == d["label"]
            and _iou(np.array(m["box"], float), np.array([d["box"]], float))[0] > iou
        ]
        if same:
            best = max(same, key=lambda m: m["score"])
            if d["score"] > best["score"]:
                best.update(score=d["score"], box=list(d["box"]))
        else:
            merged.append(dict(d))
    return sorted(merged, key=lambda d: -d["score"])


#: larger images are first shrunk (INTER_AREA) to this side, bounding the padded copy's memory
PRESHRINK_SIDE = 2048


def preprocess(rgb: np.ndarray, input_size: int) -> np.ndarray:
    """NudeNet's pre-processing: pad right/bottom to a square, resize, float /255, CHW, in
    **BGR** order.

    BGR is what NudeNet 3.4.2 actually feeds its model: its ``_read_image`` applies
    ``cv2.COLOR_RGBA2BGR`` to a 3-channel BGR image (which swaps R and B) and then
    ``blobFromImage(swapRB=True)`` swaps them back. We reproduce that, and the pad-then-resize
    order, because the model's scores move by up to 0.2 with either change. Images larger than
    PRESHRINK_SIDE are shrunk first so the padded square stays small."""
    cv2 = require("cv2", "opencv-python-headless")
    img = np.ascontiguousarray(rgb)
    h, w = img.shape[:2]
    if max(h, w) > PRESHRINK_SIDE:
        f = PRESHRINK_SIDE / max(h, w)
        img = cv2.resize(
            img, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
        )
        h, w = img.shape[:2]
    side = max(h, w)
    square = cv2.copyMakeBorder(img, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT, value=0)
    resized = cv2.resize(square, (input_size, input_size), interpolation=cv2.INTER_LINEAR)
    # channels are resized independently, so swapping to BGR here equals swapping first
    out = np.empty((3, input_size, input_size), np.float32)
    for c in range(3):
        np.divide(resized[:, :, 2 - c], np.float32(255.0), out=out[c], dtype=np.float32)
    return out


# -- the signal ------------------------------------------------------------------------------------
class NuditySignal(Signal):
    version = "nudenet-3.4.2-320n/1"
    extra = "models"
    needs_model = True
    input_size = 320
    second_pass_size = 640

    def __init__(
        self, thresholds: NudityThresholds | None = None, second_pass: bool = True
    ) -> None:
        super().__init__()
        self.thresholds = thresholds or DEFAULT_THRESHOLDS
        self.second_pass = second_pass

    def load_model(self) -> Any:
        require("onnxruntime", "onnxruntime")
        nudenet = require("nudenet", "nudenet==3.4.2")
        path = os.path.join(os.path.dirname(str(nudenet.__file__)), "320n.onnx")
        if not os.path.exists(path):
            raise ModelUnavailableError(
                f"NudeNet is installed but its bundled model {path} is missing; reinstall it "
                "with `pip install --force-reinstall nudenet==3.4.2`"
            )
        return onnx_session(with_backbone_outputs(path), "NudeNet 320n")

    def _forward(
        self, arrays: Sequence[np.ndarray], size: int
    ) -> tuple[np.ndarray, list[list[np.ndarray]] | None]:
        """(raw detector output, per image the backbone maps or None when not exposed)."""
        session = self.model()
        batch = np.stack([preprocess(a, size) for a in arrays])
        outs = session.run(None, {session.get_inputs()[0].name: batch})
        if len(outs) < 1 + len(BACKBONE_OUTPUTS):
            return outs[0], None
        maps = [[m[i] for m in outs[1 : 1 + len(BACKBONE_OUTPUTS)]] for i in range(len(arrays))]
        return outs[0], maps

    def _run(
        self, arrays: Sequence[np.ndarray], size: int, thresholds: NudityThresholds
    ) -> list[list[dict[str, Any]]]:
        output, _ = self._forward(arrays, size)
        return [
            decode_output(output[i], a.shape[1], a.shape[0], size, thresholds)
            for i, a in enumerate(arrays)
        ]

    def detect_batch(
        self, items: Sequence[Media], thresholds: NudityThresholds | None = None
    ) -> list[list[dict[str, Any]]]:
        """320-px detections for each media, batched, cached on the media as 'nudenet' (and
        the backbone maps of the same pass as 'nudenet_maps', for the photo-style heads)."""
        t = thresholds or self.thresholds
        todo = [m for m in items if "nudenet" not in m._cache]
        if todo:
            arrays = [oriented_array(m) for m in todo]
            output, maps = self._forward(arrays, self.input_size)
            for i, (m, a) in enumerate(zip(todo, arrays, strict=True)):
                m._cache["nudenet"] = decode_output(
                    output[i], a.shape[1], a.shape[0], self.input_size, t
                )
                m._cache["nudenet_maps"] = None if maps is None else maps[i]
        return [m._cache["nudenet"] for m in items]

    def feature_maps(self, media: Media) -> list[np.ndarray] | None:
        """The backbone maps of the 320-px pass (None when the graph could not expose them);
        the pass runs here if the nudity signal has not run on this media yet."""
        if "nudenet_maps" not in media._cache:
            media._cache.pop("nudenet", None)  # detections cached without maps: redo both
            self.detect_batch([media])
        maps: list[np.ndarray] | None = media._cache["nudenet_maps"]
        return maps

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        return self.extract_batch([media], context)[0]

    def extract_batch(
        self, items: Sequence[Media], context: Mapping[str, Any] | None = None
    ) -> list[SignalResult]:
        t = (
            NudityThresholds.from_mapping((context or {}).get("nudity_thresholds"))
            if context and context.get("nudity_thresholds")
            else self.thresholds
        )
        results = []
        for media, dets in zip(items, self.detect_batch(items, t), strict=True):
            level, score, why = level_from_detections(dets, t)
            borderline = is_borderline(dets, level, t)
            passes = [self.input_size]
            if borderline and self.second_pass:
                more = self._run([oriented_array(media)], self.second_pass_size, t)[0]
                dets = merge_detections(dets, more)
                passes.append(self.second_pass_size)
                level, score, why = level_from_detections(dets, t)
                borderline = is_borderline(dets, level, t)
                why += f" (after a second pass at {self.second_pass_size} px)"
            results.append(
                self.result(
                    level,
                    round(score, 4),
                    why,
                    detections=dets,
                    borderline=borderline,
                    passes=passes,
                )
            )
        return results
