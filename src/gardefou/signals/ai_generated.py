"""AI-generated or not, from the pixels alone: an advisory score next to provenance.

Provenance (C2PA, IPTC, watermarks) is positive evidence but platforms strip it; this signal
looks at what re-encoding leaves: the spectrum of the high-pass residual (generators' upsampling
leaves peaks on a regular grid of frequencies), how evenly sensor-like noise is spread, how the
colour channels' residuals correlate (a camera's demosaicing ties them), saturation, plus the
photo-style pixel statistics. A logistic head trained by ``scripts/train_ai_generated.py``
(weights in ``gardefou/data/ai_generated_head.json``) makes a calibrated probability.

It is **advisory**: measured on a small set (docs/model-cards/ai-generated.md), it misses some
generators and flags some real photos, so the default policy never acts on it; an operator may
label or send to review on ``ai_generated.likely`` (never remove on it alone).

Value: ``{"probability": p, "likely": p >= operating threshold}``; score: ``p``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np

from gardefou.errors import ModelUnavailableError
from gardefou.fact_spec import BOOL, NUMBER, FactSpec
from gardefou.media import Media
from gardefou.signals._models import oriented_array, require, shared
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.photo_style import Head, correlation, image_statistics

HEAD_FILE = "ai_generated_head.json"
#: forensic features run on a copy whose long side is this (every image gets one resampling,
#: so an image's own size, which differs between sources, matters less)
FORENSIC_SIDE = 512
#: the centre crop of the residual whose spectrum is read
SPECTRUM_N = 256
FORENSIC_NAMES: tuple[str, ...] = (
    *(f"peak{k}_{w}" for k in (2, 4, 8, 16) for w in ("local", "global")),
    "log_quiet_noise", "log_mean_noise", "noise_evenness",
    "resid_corr_rg", "resid_corr_gb", "log_resid_kurtosis",
    "sat_mean", "sat_std", "value_mean",
)  # fmt: skip


def forensic_features(rgb: np.ndarray) -> np.ndarray:
    """The FORENSIC_NAMES features of an RGB uint8 image. Pure."""
    cv2 = require("cv2", "opencv-python-headless")
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    f = FORENSIC_SIDE / max(h, w)
    inter = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    img = cv2.resize(rgb, (max(8, round(w * f)), max(8, round(h * f))), interpolation=inter)
    x = img.astype(np.float32)
    g = x.mean(axis=2)
    res = g - cv2.GaussianBlur(g, (0, 0), 1.0)
    n = SPECTRUM_N
    crop = res if min(res.shape) >= n else cv2.resize(res, (n, n))
    y0, x0 = (crop.shape[0] - n) // 2, (crop.shape[1] - n) // 2
    c = crop[y0 : y0 + n, x0 : x0 + n] * np.outer(np.hanning(n), np.hanning(n))
    log_f = np.log(np.abs(np.fft.fft2(c)) + 1e-3)
    med = float(np.median(log_f))
    out: list[float] = []
    for k in (2, 4, 8, 16):  # peaks where a k-fold upsampling grid would put them
        step = n // k
        pts = [(i * step, j * step) for i in range(k) for j in range(k) if (i, j) != (0, 0)]
        vals = np.array([log_f[a, b] for a, b in pts])
        near = np.array([np.median(log_f[max(0, a - 2) : a + 3, max(0, b - 2) : b + 3])
                         for a, b in pts])  # fmt: skip
        out += [float((vals - near).mean()), float((vals - med).mean())]
    bs = 32
    hh, ww = res.shape[0] // bs * bs, res.shape[1] // bs * bs
    if hh and ww:
        blocks = res[:hh, :ww].reshape(hh // bs, bs, ww // bs, bs).std(axis=(1, 3)).ravel()
    else:  # a strip thinner than one block: the whole residual is the only block
        blocks = np.array([res.std()])
    blocks = np.sort(blocks)
    quiet = float(blocks[: max(1, len(blocks) // 10)].mean())
    mean = float(blocks.mean())
    out += [float(np.log(quiet + 1e-3)), float(np.log(mean + 1e-3)), quiet / (mean + 1e-6)]
    r3 = x - cv2.GaussianBlur(x, (0, 0), 1.0)
    a, b, cc = (r3[..., i].ravel() for i in range(3))
    out += [correlation(a, b), correlation(b, cc)]
    rr = res.ravel()
    out += [float(np.log(((rr - rr.mean()) ** 4).mean() / (rr.std() ** 4 + 1e-9) + 1e-9))]
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32) / 255.0
    out += [float(hsv[..., 1].mean()), float(hsv[..., 1].std()), float(hsv[..., 2].mean())]
    return np.nan_to_num(np.asarray(out, dtype=np.float64))


def features(rgb: np.ndarray) -> np.ndarray:
    """The head's input: forensic features, then the photo-style statistics."""
    return np.concatenate([forensic_features(rgb), image_statistics(rgb)])


def load_head(name: str = HEAD_FILE) -> tuple[Head, float]:
    """(head, operating threshold) from the shipped file."""

    def make() -> tuple[Head, float]:
        try:
            raw = json.loads(resources.files("gardefou.data").joinpath(name).read_text())
            return Head.from_dict(raw["head"]), float(raw["threshold"])
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailableError(
                f"the ai_generated head gardefou/data/{name} cannot be read ({exc}); reinstall it "
                "with `pip install --force-reinstall gardefou` "
                "(or rebuild it: scripts/train_ai_generated.py)"
            ) from None

    head: tuple[Head, float] = shared(f"ai_generated:{name}", make)
    return head


#: the policy facts this signal provides: the registry derives the policy's fact table from them
FACTS = {
    "likely": FactSpec(
        "ai_generated.likely",
        BOOL,
        "pixel statistics put the image above the AI-generated operating threshold (advisory: "
        "label or review on it, never remove on it alone)",
        read=lambda r: bool((r.value or {})["likely"]),
    ),
    "probability": FactSpec(
        "ai_generated.probability",
        NUMBER,
        "calibrated AI-generated probability from pixels (advisory)",
        read=lambda r: float((r.value or {})["probability"]),
    ),
}


class AiGeneratedSignal(Signal):
    version = "pixels-forensic/1"
    extra = "models"
    needs_model = True
    facts = FACTS

    def load_model(self) -> Any:
        require("cv2", "opencv-python-headless")
        return load_head()

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        head, threshold = self.model()
        p = round(float(head.predict(features(oriented_array(media)))[0]), 4)
        likely = p >= threshold
        why = (
            f"pixel statistics give an AI-generated probability of {p:.2f} (operating threshold "
            f"{threshold:.2f}); advisory only: it misses some generators and flags some photos"
        )
        return self.result(
            {"probability": p, "likely": likely}, p, why, threshold=threshold, head=head.version
        )
