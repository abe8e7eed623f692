"""Review thumbnails: made once from an already decoded (and bounded) image.

The console shows a case's image as a small JPEG, greyscale and heavily blurred unless a
moderator reveals it. Both versions are made here, at intake, so that viewing a case never
decodes the uploaded file again.

They are made for every case that awaits a person, so on a flood most images pay for them:
measured on an AVX2-only core (``benchmarks/flood_profile.py``) the first version took
~21 ms per 1024-px image, a third of the pipeline's non-model time. Hence OpenCV's bilinear
resize of the shared pixel array (Pillow's bilinear without it), the blur computed at a quarter
of the size, and the greyscale JPEG saved as greyscale. None of it feeds a decision.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from gardefou.media.intake import Media

THUMB_SIDE = 768  # px, the longest side: enough to judge, small enough to blur cheaply
#: the blur runs on a copy this many times smaller, then is scaled back: a Gaussian of radius
#: >= 8 px leaves nothing a 4x smaller copy cannot carry, at 1/16 of the pixels
BLUR_REDUCE = 4


def review_thumbnails(media: Media) -> tuple[bytes, bytes]:
    """(plain, blurred) JPEG thumbnails of the first frame, EXIF orientation applied. The blurred
    one is made on the server, so unblurred pixels reach a browser only on an explicit reveal."""
    img = media.oriented()
    scale = min(1.0, THUMB_SIDE / max(img.width, img.height))
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    small = _shrink(media, img, size, scale) if scale < 1 else img
    return _jpeg(small.convert("RGB")), _jpeg(blurred(small))


def _shrink(media: Media, img: Image.Image, size: tuple[int, int], scale: float) -> Image.Image:
    """``img`` resized to ``size`` (no full-size copy). With OpenCV (the models extra), from the
    pixel array the signals already share: Pillow's antialiased bilinear took ~12 CPU ms on a
    1024-px photo on an AVX2-only core, OpenCV's bilinear ~1.5. Plain bilinear samples 2x2
    pixels, which is enough down to half size; below that, area averaging (no aliasing)."""
    try:
        import cv2
    except ImportError:  # no models extra: Pillow, 1.6x cheaper with bilinear than bicubic
        return img.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
    import numpy as np

    arr = media.rgb_array() if img is media.rgb() else np.asarray(img)
    inter = cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
    return Image.fromarray(cv2.resize(arr, size, interpolation=inter), "RGB")


def blurred(img: Image.Image) -> Image.Image:
    """Greyscale, Gaussian blur of radius max(8, width / 20), same size as ``img``."""
    grey = img.convert("L")
    radius = max(8, grey.width // 20)
    f = BLUR_REDUCE if min(grey.size) >= 4 * BLUR_REDUCE else 1
    if f == 1:
        return grey.filter(ImageFilter.GaussianBlur(radius=radius))
    tiny = grey.reduce(f).filter(ImageFilter.GaussianBlur(radius=radius / f))
    try:
        import cv2
    except ImportError:
        return tiny.resize(grey.size, Image.Resampling.BILINEAR)
    import numpy as np

    # scaling back up: OpenCV's bilinear ~0.3 ms against Pillow's ~2.5 on a 768-px thumbnail
    return Image.fromarray(cv2.resize(np.asarray(tiny), grey.size, interpolation=cv2.INTER_LINEAR))


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()
