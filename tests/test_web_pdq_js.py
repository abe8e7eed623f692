"""The JavaScript PDQ (web/static/pdq.js) is bit-exact with the reference, checked under Node.

Pixels are decoded by Pillow here (as gardefou.signals.pdq_core does) so that this test isolates
the hashing arithmetic; tests/browser/ repeats the check with the browser's own decoders.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO, shared_path

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed; the JS PDQ check needs it"
)


def _run_node(items: list[tuple[str, np.ndarray]], tmp_path: Path) -> dict[str, dict]:
    manifest = []
    for i, (name, arr) in enumerate(items):
        raw = tmp_path / f"{i}.rgb"
        raw.write_bytes(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())
        manifest.append(
            {"name": name, "raw": str(raw), "width": arr.shape[1], "height": arr.shape[0]}
        )
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    proc = subprocess.run(
        [NODE, str(REPO / "tests" / "pdq_js_check.js"), str(tmp_path / "manifest.json")],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return {r["name"]: r for r in json.loads(proc.stdout)}


def test_js_pdq_equals_reference_csv(tmp_path: Path) -> None:
    root = shared_path("data", "pdq-reference")
    with (root / "expected.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 38
    items = []
    for row in rows:
        with Image.open(root / "images" / row["path"]) as img:
            items.append((row["path"], np.asarray(img.convert("RGB"))))
    got = _run_node(items, tmp_path)
    wrong = [
        (r["path"], got[r["path"]]["hex"], r["pdq_hex"])
        for r in rows
        if (got[r["path"]]["hex"], got[r["path"]]["quality"]) != (r["pdq_hex"], int(r["quality"]))
    ]
    assert not wrong, f"{len(wrong)}/38 differ, first: {wrong[:3]}"


@pytest.mark.parametrize("seed", range(3))
def test_js_pdq_equals_pdqhash_on_synthetic_sizes(tmp_path: Path, seed: int) -> None:
    from gardefou.signals.pdq_core import pdq_hash

    rng = np.random.default_rng(seed)
    items = []
    for h, w in [(64, 64), (5, 9), (100, 37), (513, 200), (777, 1024), (300, 512)]:
        # smooth gradients plus noise: realistic medians, not all-ties
        y, x = np.mgrid[0:h, 0:w]
        base = (np.sin(x / (3 + seed)) * 60 + np.cos(y / 7) * 60 + 128)[..., None]
        arr = np.clip(base + rng.normal(0, 25, (h, w, 3)), 0, 255).astype(np.uint8)
        items.append((f"{h}x{w}", arr))
    got = _run_node(items, tmp_path)
    for name, arr in items:
        hex_, quality = pdq_hash(Image.fromarray(arr, "RGB"))
        assert (got[name]["hex"], got[name]["quality"]) == (hex_, quality), name
