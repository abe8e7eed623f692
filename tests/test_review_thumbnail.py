"""Review thumbnails: same sizes and look as before, at a fraction of the CPU (docs/web.md)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

from gardefou.media import load_media
from gardefou.media.thumbnail import THUMB_SIDE, _jpeg, blurred, review_thumbnails
from gardefou.testing.fake_pipeline import benign_jpeg


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_thumbnails_keep_their_sizes_and_the_blurred_one_is_greyscale() -> None:
    media = load_media(benign_jpeg(3, 1024))
    plain, blur = (_open(b) for b in review_thumbnails(media))
    assert max(plain.size) == THUMB_SIDE and plain.mode == "RGB"
    assert blur.size == plain.size
    # saved as a one-channel JPEG: a third of the encoding work of a grey RGB one
    assert blur.mode == "L"


def test_quarter_size_blur_matches_the_full_size_gaussian() -> None:
    rng = np.random.default_rng(5)
    # a face-sized pattern: blocks of 24 px, the detail a blur must remove
    blocks = rng.integers(0, 256, (32, 24), dtype=np.uint8)
    img = Image.fromarray(np.kron(blocks, np.ones((24, 24), np.uint8)))
    full = np.asarray(img.filter(ImageFilter.GaussianBlur(radius=img.width // 20)), float)
    fast = np.asarray(blurred(img), float)
    assert fast.shape == full.shape
    inner = (slice(40, -40), slice(40, -40))  # the borders are handled differently by design
    assert np.abs(fast[inner] - full[inner]).mean() < 2.0
    # as much of the 24-px pattern is left to see as with the full-size blur: little
    assert abs(fast[inner].std() - full[inner].std()) < 0.15 * full[inner].std()
    assert fast[inner].std() < 0.3 * np.asarray(img, float).std()


def test_small_images_are_blurred_at_full_size() -> None:
    img = Image.new("RGB", (10, 10), (200, 10, 10))
    assert blurred(img).size == (10, 10)


def test_shrunk_thumbnail_looks_like_pillows_antialiased_resize() -> None:
    """The plain thumbnail is resized by OpenCV from the shared pixel array (bilinear down to
    half size, area averaging below): within a grey level or two of Pillow's antialiased
    bilinear resize, at both a 1024-px and a 3000-px side (where plain bilinear would alias)."""
    for side in (1024, 3000):
        media = load_media(benign_jpeg(4, side))
        img = media.oriented()
        plain = np.asarray(_open(review_thumbnails(media)[0]), float)
        ref = img.resize((plain.shape[1], plain.shape[0]), Image.Resampling.BILINEAR)
        ref_jpeg = np.asarray(_open(_jpeg(ref)), float)  # both through the same JPEG encoder
        assert np.abs(plain - ref_jpeg).mean() < 2.5, side
