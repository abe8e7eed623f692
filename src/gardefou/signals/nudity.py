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
from typing import Any

import numpy as np

from gardefou.errors import ModelUnavailableError
from gardefou.fact_spec import BOOL, STRING, FactSpec, score_fact
from gardefou.media import Media
from gardefou.signals._models import onnx_session, oriented_array, require
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.nudity_levels import (
    BELLY_LABEL,
    BREAST_COVERED,
    DEFAULT_THRESHOLDS,
    EXPLICIT_LABELS,
    SKIN_LABELS,
    SUGGESTIVE_LABELS,
    NudityThresholds,
    is_borderline,
    level_from_detections,
)
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
#: the policy facts this signal provides (``nudity.level``, ...): the registry derives the
#: policy's fact table from these declarations
_LEVELS = ("explicit", "suggestive", "none")


def _level(r: Any) -> str:
    v = r.value
    if isinstance(v, Mapping):  # tolerate {"level": ...}
        v = v.get("level")
    if v not in _LEVELS:
        raise ValueError(f"nudity level {v!r} is not one of {_LEVELS}")
    return str(v)


FACTS = {
    "level": FactSpec("nudity.level", STRING, "explicit | suggestive | none", _LEVELS, _level),
    "score": score_fact("nudity", "confidence of the level, 0..1"),
    "sexualized": FactSpec(
        "nudity.sexualized",
        BOOL,
        "level is explicit or suggestive",
        read=lambda r: _level(r) != "none",
    ),
    "explicit": FactSpec(
        "nudity.explicit", BOOL, "level is explicit", read=lambda r: _level(r) == "explicit"
    ),
}


class NuditySignal(Signal):
    version = "nudenet-3.4.2-320n/2"  # /2: the breast-class thresholds (issue 19)
    extra = "models"
    needs_model = True
    facts = FACTS
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


__all__ = [
    "BELLY_LABEL",
    "BREAST_COVERED",
    "DEFAULT_THRESHOLDS",
    "EXPLICIT_LABELS",
    "LABELS",
    "SKIN_LABELS",
    "SUGGESTIVE_LABELS",
    "NuditySignal",
    "NudityThresholds",
    "decode_output",
    "is_borderline",
    "level_from_detections",
    "merge_detections",
    "nms",
    "preprocess",
]
