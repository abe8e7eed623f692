"""Photo or drawing: how likely an image (and each face in it) is a photograph of something real
rather than a drawing, painting, cartoon, anime, sketch or 3D render.

No new network: the features are NudeNet's own backbone activations, read from the pass the
nudity signal already makes (``NuditySignal.feature_maps``: three extra outputs of the same
graph, ~free), pooled over the image (or a face box). A logistic head trained by
``scripts/train_photo_style.py`` (fixed seeds, data and figures in
docs/model-cards/photo-style.md) turns them into a calibrated probability; its weights ship in
``gardefou/data/photo_style_head.json`` and run in numpy. ``image_statistics`` (colour palette,
gradients, noise residuals, spectrum) is here too: the AI-generated signal uses it, and the
training script compares the heads with it (the same accuracy for ~12 ms, so not shipped).

Everything here is pure except ``PhotoStyle.assess``, which asks the nudity signal for its maps.
When the maps cannot be had (NudeNet or onnx missing) the answer is None, which the policy reads
as "a photograph" (the cautious reading for a real-person rule).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from gardefou.errors import ModelUnavailableError
from gardefou.signals._models import require, shared

HEAD_FILE = "photo_style_head.json"
#: statistics run on a copy whose long side is at most this (cost ~ pixels)
STATS_SIDE = 256
#: a face box is grown by this fraction of its size on each side before pooling (hair, outline
#: and background carry most of the drawing cues; tight boxes show only skin)
FACE_MARGIN = 0.5
#: the heads' inputs: mean and standard deviation of each backbone channel
N_MAP_FEATURES = 2 * (64 + 128 + 256)
#: faces scored one by one (a few ms each); the rest of a crowd takes the image's value
MAX_FACES = 16
#: the photo-style heads clip standardized features to +-Z_CLIP (in training too): an image unlike
#: any training image must not push a linear head to an extreme by extrapolation
Z_CLIP = 6.0

STAT_NAMES: tuple[str, ...] = (
    "sat_mean", "sat_std", "sat_p90", "sat_high", "log_chroma",
    "palette_entropy", "palette_top10", "log_palette_size", "palette_top1",
    "grey_entropy", "grey_white", "grey_black", "grey_std",
    "grad_0", "grad_1", "grad_4", "grad_16", "grad_64", "grad_256",
    "log_grad_mean", "log_grad_kurtosis",
    "log_resid_mean", "log_resid_flat_std", "resid_zero", "resid_flat_zero", "log_resid_kurtosis",
    "log_lap_mean", "log_lap_flat_mean",
    "spectrum_slope", "spectrum_wobble", "spectrum_high", "spectrum_mid",
    "canny_density", "resid_corr_rg", "resid_corr_gb",
)  # fmt: skip


#: intermediate outputs of NudeNet's YOLOv8n backbone exposed next to the detections, at strides
#: 8, 16 and 32 (64, 128 and 256 channels): the photo-style heads pool them (signals/photo_style.py)
BACKBONE_OUTPUTS: tuple[str, ...] = (
    "/model.4/cv2/act/Mul_output_0",
    "/model.6/cv2/act/Mul_output_0",
    "/model.9/cv2/act/Mul_output_0",
)


def with_backbone_outputs(path: str) -> str | bytes:
    """NudeNet's graph with BACKBONE_OUTPUTS added as outputs (same weights, same detections),
    or the path unchanged when onnx is not installed or the graph lacks those tensors."""
    try:
        import onnx
        from onnx import helper
    except ImportError:
        return path
    model = onnx.load(path)
    produced = {o for n in model.graph.node for o in n.output}
    if not all(name in produced for name in BACKBONE_OUTPUTS):
        return path
    for name in BACKBONE_OUTPUTS:
        model.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return bytes(model.SerializeToString())


def _kurtosis(v: np.ndarray) -> float:
    mu, sd = float(v.mean()), float(v.std()) + 1e-6
    return float(((v - mu) ** 4).mean() / sd**4)


def correlation(u: np.ndarray, v: np.ndarray) -> float:
    """Pearson correlation of two residual planes; 1.0 where either is flat (no texture)."""
    su, sv = float(u.std()), float(v.std())
    if su < 1e-3 or sv < 1e-3:
        return 1.0
    return float(((u - u.mean()) * (v - v.mean())).mean() / (su * sv))


def image_statistics(rgb: np.ndarray) -> np.ndarray:
    """The STAT_NAMES features of an RGB uint8 image. Pure.

    Why these: drawings have few, flat, saturated colours (palette), large areas without any
    gradient and hard edges (gradient histogram), no sensor noise (median residuals exactly zero,
    uncorrelated across channels where a camera's demosaicing correlates them) and a power
    spectrum that departs from the ~1/f^2 of natural scenes."""
    cv2 = require("cv2", "opencv-python-headless")
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    f = STATS_SIDE / max(h, w)
    if f < 1:
        size = (max(8, round(w * f)), max(8, round(h * f)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    elif min(h, w) < 8:
        rgb = cv2.resize(rgb, (max(8, w), max(8, h)), interpolation=cv2.INTER_NEAREST)
    x = rgb.astype(np.float32)
    grey = x.mean(axis=2)
    out: list[float] = []
    s = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float32) / 255.0
    out += [s.mean(), s.std(), np.percentile(s, 90), (s > 0.6).mean()]
    out += [math.log1p(float(np.abs(x - grey[..., None]).mean()))]
    q = (rgb // 16).astype(np.int32)
    cnt = np.bincount((q[..., 0] * 256 + q[..., 1] * 16 + q[..., 2]).ravel(), minlength=4096)
    p = cnt / cnt.sum()
    nz, top = p[p > 0], np.sort(p)
    out += [-(nz * np.log(nz)).sum(), top[-10:].sum(), math.log((cnt > 0).sum()), top[-1]]
    gh = np.bincount(grey.astype(np.int32).ravel(), minlength=256) / grey.size
    gz = gh[gh > 0]
    out += [-(gz * np.log(gz)).sum(), gh[245:].sum(), gh[:10].sum(), grey.std() / 64]
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.sqrt(gx * gx + gy * gy)
    out += list(np.histogram(mag, bins=[0, 1, 4, 16, 64, 256, 1e9])[0] / mag.size)
    out += [math.log1p(float(mag.mean())), math.log1p(_kurtosis(mag.ravel()))]
    med = cv2.medianBlur(rgb, 3).astype(np.float32)
    rc = x - med
    r = rc.mean(axis=2)
    flat = mag < 8
    rf = r[flat] if flat.sum() > 50 else r.ravel()
    out += [math.log1p(float(np.abs(r).mean())), math.log1p(float(rf.std()))]
    out += [(np.abs(r) < 0.5).mean(), (np.abs(rf) < 0.5).mean(), math.log1p(_kurtosis(r.ravel()))]
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    out += [math.log1p(float(lap.mean())), math.log1p(float(lap[flat].mean()) if flat.any() else 0)]
    g = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA)
    power = np.abs(np.fft.fftshift(np.fft.fft2(g - g.mean()))) ** 2
    yy, xx = np.mgrid[-64:64, -64:64]
    rad = np.sqrt(xx**2 + yy**2).astype(np.int64).ravel()
    prof = np.bincount(rad, power.ravel()) / np.maximum(np.bincount(rad), 1)
    k = np.arange(2, 60)
    lp = np.log(prof[k] + 1e-6)
    slope, icpt = np.polyfit(np.log(k), lp, 1)
    tot = prof[1:64].sum() + 1e-9
    out += [slope, float((lp - (slope * np.log(k) + icpt)).std())]
    out += [prof[32:64].sum() / tot, prof[16:32].sum() / tot]
    out += [(cv2.Canny(rgb, 100, 200) > 0).mean()]
    a, b, c = (rc[..., i].ravel() for i in range(3))
    out += [correlation(a, b), correlation(b, c)]
    return np.asarray(out, dtype=np.float64)


def pool_maps(
    maps: Sequence[np.ndarray],
    width: int,
    height: int,
    box: Sequence[float] | None = None,
) -> np.ndarray:
    """Mean and standard deviation per channel of each backbone map (``[C, n, n]``, computed on
    the image padded right/bottom to a square) over the image, or over ``box`` (x, y, w, h in
    image pixels). Pure."""
    side = max(width, height)
    if box is None:
        x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    else:
        x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
        x1, y1 = min(float(width), x0 + float(box[2])), min(float(height), y0 + float(box[3]))
    feats = []
    for fm in maps:
        fm = np.asarray(fm, dtype=np.float32)
        if fm.ndim == 4:
            fm = fm[0]
        n = fm.shape[1]
        c0, r0 = min(n - 1, int(x0 / side * n)), min(n - 1, int(y0 / side * n))
        c1 = max(c0 + 1, min(n, math.ceil(x1 / side * n)))
        r1 = max(r0 + 1, min(n, math.ceil(y1 / side * n)))
        v = fm[:, r0:r1, c0:c1].reshape(fm.shape[0], -1)
        feats += [v.mean(axis=1), v.std(axis=1)]
    return np.concatenate(feats).astype(np.float64)


def grown_box(box: Sequence[int], width: int, height: int, margin: float = FACE_MARGIN
              ) -> tuple[int, int, int, int]:  # fmt: skip
    """``box`` grown by ``margin`` of its size on each side, clipped to the image."""
    x, y, w, h = (int(v) for v in box)
    mx, my = round(w * margin), round(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(width, x + w + mx), min(height, y + h + my)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


@dataclass(frozen=True)
class Head:
    """Standardize, then a logistic regression, then Platt calibration: ``p = sigmoid(a * z + b)``
    with ``z`` the regression's logit. Weights from scripts/train_photo_style.py."""

    version: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calib_a: float = 1.0
    calib_b: float = 0.0
    clip: float | None = None  # standardized features clipped to +-clip (as in training)

    def predict(self, features: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(features, dtype=np.float64))
        if x.shape[1] != self.coef.shape[0]:
            raise ValueError(f"{x.shape[1]} features given, head {self.version} needs "
                             f"{self.coef.shape[0]}")  # fmt: skip
        z = (x - self.mean) / self.scale
        if self.clip is not None:
            z = np.clip(z, -self.clip, self.clip)
        z = z @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(self.calib_a * z + self.calib_b, -40, 40)))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Head:
        return cls(
            str(d["version"]),
            np.asarray(d["mean"], dtype=np.float64),
            np.asarray(d["scale"], dtype=np.float64),
            np.asarray(d["coef"], dtype=np.float64),
            float(d["intercept"]),
            float(d.get("calib_a", 1.0)),
            float(d.get("calib_b", 0.0)),
            None if d.get("clip") is None else float(d["clip"]),
        )

    def to_dict(self) -> dict[str, Any]:
        def r(a: np.ndarray) -> list[float]:
            return [round(float(v), 7) for v in a]

        return {
            "version": self.version,
            "mean": r(self.mean),
            "scale": r(self.scale),
            "coef": r(self.coef),
            "intercept": round(self.intercept, 7),
            "calib_a": round(self.calib_a, 7),
            "calib_b": round(self.calib_b, 7),
            "clip": self.clip,
        }


def load_heads(name: str = HEAD_FILE) -> dict[str, Any]:
    """The shipped heads file: ``{"image": Head, "face": Head, ...metadata}``."""

    def make() -> dict[str, Any]:
        try:
            raw = json.loads(resources.files("gardefou.data").joinpath(name).read_text())
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"the photo-style head gardefou/data/{name} cannot be read ({exc}); reinstall it "
                "with `pip install --force-reinstall gardefou` "
                "(or rebuild it: scripts/train_photo_style.py)"
            ) from None
        return {k: Head.from_dict(v) if k in ("image", "face") else v for k, v in raw.items()}

    return dict(shared(f"photo_style:{name}", make))


def image_features(rgb: np.ndarray, maps: Sequence[np.ndarray]) -> np.ndarray:
    """The image head's input: the backbone maps pooled over the image."""
    h, w = rgb.shape[:2]
    return pool_maps(maps, w, h)


def face_features(rgb: np.ndarray, maps: Sequence[np.ndarray], box: Sequence[int]
                  ) -> np.ndarray:  # fmt: skip
    """The face head's input: the maps pooled over the grown face box."""
    h, w = rgb.shape[:2]
    return pool_maps(maps, w, h, grown_box(box, w, h))


@dataclass(frozen=True)
class PhotoStyle:
    """Per image and per face photo likelihoods (None when they could not be computed)."""

    image: float | None
    faces: tuple[float | None, ...]
    version: str
    why: str = ""

    @staticmethod
    def assess(media: Any, boxes: Sequence[Sequence[int]]) -> PhotoStyle:
        """Score ``media`` and its face ``boxes``; needs the nudity signal's backbone maps."""
        from gardefou.signals import get_signal
        from gardefou.signals._models import oriented_array

        try:
            heads = load_heads()
            maps = get_signal("nudity").feature_maps(media)  # type: ignore[attr-defined]
        except ModelUnavailableError as exc:
            return PhotoStyle(None, tuple(None for _ in boxes), "unavailable", str(exc))
        if maps is None:
            why = "NudeNet's backbone maps are unavailable (install onnx)"
            return PhotoStyle(None, tuple(None for _ in boxes), "unavailable", why)
        rgb = oriented_array(media)
        image = float(heads["image"].predict(image_features(rgb, maps))[0])
        faces = tuple(float(heads["face"].predict(face_features(rgb, maps, b))[0]) for b in boxes)
        return PhotoStyle(round(image, 4), tuple(round(f, 4) for f in faces),
                          heads["image"].version)  # fmt: skip
