"""Review thumbnails: made once from an already decoded (and bounded) image.

The console shows a case's image as a small JPEG, greyscale and heavily blurred unless a
moderator reveals it. Both versions are made here, at intake, so that viewing a case never
decodes the uploaded file again.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from gardefou.media.intake import Media

THUMB_SIDE = 768  # px, the longest side: enough to judge, small enough to blur cheaply


def review_thumbnails(media: Media) -> tuple[bytes, bytes]:
    """(plain, blurred) JPEG thumbnails of the first frame, EXIF orientation applied. The blurred
    one is made on the server, so unblurred pixels reach a browser only on an explicit reveal."""
    img = media.oriented()
    scale = min(1.0, THUMB_SIDE / max(img.width, img.height))
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    # resize (not copy + thumbnail): no full-size copy of a large image.
    small = img.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0) if scale < 1 else img
    radius = max(8, small.width // 20)
    blurred = small.convert("L").filter(ImageFilter.GaussianBlur(radius=radius))
    return _jpeg(small), _jpeg(blurred)


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()
