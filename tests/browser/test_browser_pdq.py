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
