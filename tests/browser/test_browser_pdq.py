"""In Chromium: the portal's client-side PDQ equals the reference on all 38 images, decoding with
the browser's own decoders (createImageBitmap, no colour conversion, no EXIF rotation)."""

from __future__ import annotations

import csv

import pytest

from tests.browser.conftest import shot
from tests.conftest import shared_path

pytestmark = pytest.mark.browser


def test_browser_pdq_equals_reference(live_server, page) -> None:
    root = shared_path("data", "pdq-reference")
    with (root / "expected.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    page.goto(live_server.url + "/pdq-check")
    page.set_input_files("#files", [str(root / "images" / r["path"]) for r in rows])
    page.wait_for_selector(f"text=done {len(rows)}", timeout=120_000)
    cells = page.eval_on_selector_all(
        "#out tr", "trs => trs.map(tr => Array.from(tr.children).map(td => td.textContent))"
    )
    shot(page, "pdq-check")
    assert len(cells) == len(rows)
    wrong = []
    for row, got in zip(rows, cells, strict=True):
        assert got[0] == row["path"].rsplit("/", 1)[-1]
        if got[1:] != [row["pdq_hex"], row["quality"]]:
            wrong.append((row["path"], got[1:], row["pdq_hex"], row["quality"]))
    assert not wrong, f"{len(wrong)}/38 differ in the browser: {wrong[:5]}"


def test_browser_pdq_transparent_png_matches_server(live_server, page, tmp_path) -> None:
    """Transparent pixels are composited on white in both places: a binary alpha gives the same
    hash bit for bit; partial alpha may round differently by one level (a few bits at most)."""
    import numpy as np
    from PIL import Image

    from gardefou.media import load_media
    from gardefou.signals.pdq_core import hamming_hex, pdq_hash

    y, x = np.mgrid[0:300, 0:400]
    rgb = np.stack([(x * 0.6) % 256, (y * 0.8) % 256, ((x + y) * 0.3) % 256], -1)
    binary = np.where((x // 50 + y // 50) % 2 == 0, 255, 0)
    partial = (x * 255 // 399).astype(np.uint8)
    files = []
    for name, alpha in (("binary.png", binary), ("partial.png", partial)):
        arr = np.dstack([rgb, alpha]).astype(np.uint8)
        Image.fromarray(arr, "RGBA").save(tmp_path / name)
        files.append(tmp_path / name)
    page.goto(live_server.url + "/pdq-check")
    page.set_input_files("#files", [str(f) for f in files])
    page.wait_for_selector("text=done 2")
    rows = page.eval_on_selector_all(
        "#out tr", "trs => trs.map(tr => Array.from(tr.children).map(td => td.textContent))"
    )
    server = [pdq_hash(load_media(f).rgb())[0] for f in files]
    assert rows[0][1] == server[0]
    assert hamming_hex(rows[1][1], server[1]) <= 8
