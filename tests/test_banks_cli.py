"""`gardefou bank ...` and `gardefou match` end to end (CliRunner, a SQLite file per test)."""

from __future__ import annotations

import json
import random
import re
import shutil

import pytest
from click.testing import CliRunner
from PIL import Image, ImageOps

import gardefou.cli.commands_bank
import gardefou.cli.commands_bank_entries  # noqa: F401 - registers the entry commands
from gardefou.cli.main import cli


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "g.db")

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_bank_lifecycle_and_match_json(run, fixtures, tmp_path) -> None:
    image = fixtures / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"
    run("bank", "create", "ncii", "--reason", "pilot")
    run("bank", "create", "benign", "--negative", "--threshold", "20")
    out = run("bank", "add", "ncii", str(image), "--case-id", "T-1", "--json").output
    entry = json.loads(out)
    assert entry["case_id"] == "T-1" and len(entry["pdq"]) == 64

    rotated = tmp_path / "rotated.png"
    Image.open(image).transpose(Image.Transpose.ROTATE_90).save(rotated)
    matches = json.loads(run("match", str(rotated), "--json").output)
    assert [(m["bank"], m["entry_id"]) for m in matches] == [("ncii", entry["id"])]
    assert {"bank", "entry_id", "distance"} <= set(matches[0])
    assert matches[0]["query"] != "original"

    assert json.loads(run("match", entry["pdq"], "--json").output)[0]["distance"] == 0
    assert json.loads(run("match", "0" * 64, "--json").output) == []

    listing = json.loads(run("bank", "list", "--json").output)
    assert {b["name"]: b["entries"] for b in listing} == {"benign": 0, "ncii": 1}

    run("bank", "disable", str(entry["id"]), "--reason", "appeal")
    assert json.loads(run("match", entry["pdq"], "--json").output) == []
    run("bank", "enable", str(entry["id"]))
    audit = [json.loads(line) for line in run("bank", "audit", "ncii").output.splitlines()]
    assert [a["action"] for a in audit][:3] == ["entry.enable", "entry.disable", "entry.add"]
    assert audit[1]["reason"] == "appeal"


def test_import_export_round_trip(run, tmp_path) -> None:
    rng = random.Random(1)
    rows = [f"{rng.getrandbits(256):064x}" for _ in range(4)]
    src = tmp_path / "in.csv"
    src.write_text("pdq_hex,quality,note\n" + "".join(f"{h},90,n{i}\n" for i, h in enumerate(rows)))
    run("bank", "create", "a")
    report = json.loads(run("bank", "import", "a", str(src)).output)
    assert report["added"] == 4
    out = tmp_path / "out.csv"
    run("bank", "export", "a", "-o", str(out))
    run("bank", "create", "b")
    assert json.loads(run("bank", "import", "b", str(out)).output)["added"] == 4
    te = run("bank", "export", "b", "--format", "te").stdout
    assert te.splitlines() == [f"pdq {h}" for h in rows]


def test_bad_import_exits_with_line_number(run, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("pdq_hex,quality\n" + "ab" * 32 + ",100\nzz,100\n")
    run("bank", "create", "a")
    result = run("bank", "import", "a", str(bad), ok=False)
    assert result.exit_code == 1 and "line 3" in result.output
    assert json.loads(run("bank", "list", "--json").output)[0]["entries"] == 0


def test_submit_and_withdraw(run) -> None:
    h = "ab" * 32
    run("bank", "create", "ncii")
    out = json.loads(run("bank", "submit", "ncii", f"{h}:80", "--json").output)
    assert re.fullmatch(r"GF-[0-9A-F]{10}", out["case_number"])
    assert len(json.loads(run("match", h, "--json").output)) == 1
    wrong = run("bank", "withdraw", out["case_number"], "--pin", "x", ok=False)
    assert wrong.exit_code != 0 and "wrong PIN" in wrong.output
    run("bank", "withdraw", out["case_number"], "--pin", out["pin"])
    assert json.loads(run("match", h, "--json").output) == []


def test_crop_resilient_add_matches_bordered_copy(run, fixtures, tmp_path) -> None:
    image = fixtures / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg"
    local = tmp_path / "orig.jpg"
    shutil.copy(image, local)
    run("bank", "create", "a")
    entry = json.loads(run("bank", "add", "a", str(local), "--crop-resilient", "--json").output)
    assert len(entry["extra_pdq"]) >= 2
    framed = tmp_path / "framed.png"
    img = Image.open(local).convert("RGB")
    ImageOps.expand(img, border=img.width // 10, fill="black").save(framed)
    matches = json.loads(run("match", str(framed), "--json").output)
    assert [m["entry_id"] for m in matches] == [entry["id"]]
    assert json.loads(run("match", str(framed), "--json", "--no-trim").output) == []
