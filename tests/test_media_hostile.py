"""Hostile media: every file of the corpus is refused or decoded within a small CPU and memory
budget, frames are counted without decoding them, and importing gardefou leaves Pillow's
process-wide settings alone."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from gardefou.errors import CorruptMediaError, MediaError, MediaTooLargeError
from gardefou.media import Limits, load_media
from tests import hostile_media as hm

WEB = Limits(max_pixels=16_000_000, max_total_pixels=500_000_000)


def cpu(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.process_time()
    try:
        return fn(), time.process_time() - start
    except MediaError as exc:
        return exc, time.process_time() - start


@pytest.mark.parametrize("name", sorted(hm.CORPUS))
@pytest.mark.parametrize("limits", [Limits(), WEB], ids=["cli", "web"])
def test_corpus_is_refused_or_cheap(name: str, limits: Limits) -> None:
    data = hm.CORPUS[name]()
    result, seconds = cpu(lambda: load_media(data, limits).rgb())
    assert seconds < 1.5, f"{name}: {seconds:.2f} s of CPU"
    hostile = ("gif_", "apng_", "webp_", "tiff_", "png_bomb", "png_200k", "jpeg_declares")
    if name.startswith(hostile):
        assert isinstance(result, MediaTooLargeError), (name, result)
    if name in ("jpeg_truncated", "png_truncated"):
        assert isinstance(result, CorruptMediaError | MediaTooLargeError), (name, result)
    if name == "png_rgba_10000x10000":
        assert isinstance(result, MediaTooLargeError), "a 100 MP RGBA image is over both limits"


def test_gif_frames_counted_without_decoding() -> None:
    """A 23 KB GIF (1,000 1x1 frames on a large canvas): counting used to composite every frame
    on the canvas (203 s on /v1/scan for 10000x10000); the block walk answers in milliseconds."""
    data = hm.gif_canvas_frames(4_000, 4_000, 1_000)
    big = Limits(max_frames=5_000, max_total_pixels=10**12)
    media, seconds = cpu(lambda: load_media(data, big))
    assert seconds < 1.0, f"{seconds:.2f} s"  # one 16 MP frame decoded, not 1,000
    assert media.frames == 1_000 and (media.width, media.height) == (4_000, 4_000)
    exc, seconds = cpu(lambda: load_media(hm.gif_canvas_frames()))
    assert isinstance(exc, MediaTooLargeError) and seconds < 0.1


def test_frames_times_pixels_capped() -> None:
    data = hm.gif_canvas_frames(2_000, 2_000, 300)  # 4 MP canvas x 300 frames = 1,200 MP
    with pytest.raises(MediaTooLargeError, match=r"300 frames .* in all \(limit 1,000 MP"):
        load_media(data)
    assert load_media(data, Limits(max_total_pixels=2 * 10**9)).frames == 300


def test_frames_counted_per_format() -> None:
    assert load_media(hm.gif_canvas_frames(64, 64, 7)).frames == 7
    assert load_media(hm.webp_many_frames(12)).frames == 12
    with pytest.raises(MediaTooLargeError, match="more than 1,000 frames"):
        load_media(hm.webp_many_frames())
    with pytest.raises(MediaTooLargeError, match="more than 1,000 frames"):
        load_media(hm.apng_declaring_frames())
    assert load_media(hm.tiff_pages(3)).frames == 3
    assert load_media(hm.tiff_pages(3, loop=True)).frames == 3  # a loop ends the chain
    exc, seconds = cpu(lambda: load_media(hm.tiff_pages(20_000)))
    assert isinstance(exc, MediaTooLargeError) and seconds < 0.2, (exc, seconds)


def test_gif_frame_overflowing_the_canvas_counts() -> None:
    with pytest.raises(MediaTooLargeError, match="20000x20000"):
        load_media(hm.gif_frame_outside_canvas())


def test_web_pixel_limit_refuses_the_rgba_png_before_decoding() -> None:
    exc, seconds = cpu(lambda: load_media(hm.png_rgba_blank(4_000, 4_000), WEB))
    assert not isinstance(exc, MediaError), exc  # 16 MP: allowed
    exc, seconds = cpu(lambda: load_media(hm.png_rgba_blank(), WEB))
    assert isinstance(exc, MediaTooLargeError) and "10000x10000" in str(exc)
    assert seconds < 0.05


def test_pillow_bomb_limit_of_the_host_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our limit is never looser than Pillow's in force in the process."""
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    with pytest.raises(MediaTooLargeError, match="MAX_IMAGE_PIXELS"):
        load_media(hm.png_rgba_blank(1_100, 1_000))


def test_import_leaves_pillow_globals_alone() -> None:
    """`import gardefou.guard` used to set PIL.Image.MAX_IMAGE_PIXELS = None for the host."""
    code = (
        "from PIL import Image, ImageFile\n"
        "before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)\n"
        "import gardefou, gardefou.guard, gardefou.media, gardefou.scan, gardefou.decide\n"
        "from gardefou.media import load_media\n"
        "import io\n"
        "buf = io.BytesIO(); Image.new('RGB', (4, 4)).save(buf, 'PNG')\n"
        "load_media(buf.getvalue())\n"
        "after = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)\n"
        "assert before == after, (before, after)\n"
        "print(after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "89478485" in out.stdout
