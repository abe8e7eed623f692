"""`gardefou hash` and `gardefou scan`: output formats, exit codes, bad files never stop a scan."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gardefou.cli.main import EXIT_INPUT, EXIT_OK, EXIT_USAGE, cli
from tests.test_media import BAD, GOOD, encode, photo

PDQ_DIR = Path(__file__).parent / "fixtures" / "pdq"


def _cli() -> CliRunner:
    from gardefou.cli import commands_core  # noqa: F401 - registers subcommands

    return CliRunner()


def test_hash_json_matches_reference() -> None:
    row = (PDQ_DIR / "expected.csv").read_text().splitlines()[1].split(",")
    result = _cli().invoke(cli, ["hash", "--json", str(PDQ_DIR / "images" / row[0])])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["pdq"] == row[1] and out["quality"] == int(row[2])
    assert len(out["sha256"]) == 64


def test_hash_bad_file_exit_code_and_message(tmp_path: Path) -> None:
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"not an image at all")
    result = _cli().invoke(cli, ["hash", str(bad)])
    assert result.exit_code == EXIT_INPUT
    assert "text, not an image" in result.output


def _mixed_folder(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(20):
        sub = root / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"good{i:02}.png").write_bytes(encode(photo(size=(32 + i, 32)), "PNG"))
    kinds = sorted(BAD)
    for i in range(10):
        data = BAD[kinds[i % len(kinds)]][0]()
        (root / f"bad{i:02}.jpg").write_bytes(data)


def test_scan_folder_20_good_10_bad(tmp_path: Path) -> None:
    _mixed_folder(tmp_path / "in")
    db = tmp_path / "store.db"
    result = _cli().invoke(
        cli, ["--db", str(db), "scan", "--json", "--store", str(tmp_path / "in")]
    )
    assert result.exit_code == EXIT_INPUT
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(lines) == 30
    good = [x for x in lines if "signals" in x]
    bad = [x for x in lines if "error" in x]
    assert len(good) == 20 and len(bad) == 10
    assert all(len(x["signals"]["pdq"]["value"]) == 64 for x in good)
    assert all(x["error"]["message"] and x["error"]["type"].endswith("Error") for x in bad)
    from gardefou.store import MediaRepository, connect

    assert MediaRepository(connect(db)).summary() == {"media": 20, "errors": 10}


def test_scan_all_good_exits_zero_and_table(tmp_path: Path) -> None:
    (tmp_path / "one.webp").write_bytes(GOOD["webp"]())
    result = _cli().invoke(cli, ["scan", str(tmp_path)])
    assert result.exit_code == EXIT_OK
    assert "WEBP 64x48" in result.stdout and "pdq=" in result.stdout


def test_scan_missing_path_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(GOOD["png_rgb"]())
    result = _cli().invoke(
        cli, ["scan", "--json", str(tmp_path / "ok.png"), str(tmp_path / "nope.png")]
    )
    assert result.exit_code == EXIT_INPUT
    assert [("error" in json.loads(x)) for x in result.stdout.splitlines()] == [False, True]


def test_unknown_signal_is_usage_error(tmp_path: Path) -> None:
    result = _cli().invoke(cli, ["scan", "--signals", "nope", str(tmp_path)])
    assert result.exit_code == EXIT_USAGE
    assert "unknown signal 'nope'" in result.output


def test_demo_scans_bundled_samples(tmp_path: Path) -> None:
    result = _cli().invoke(cli, ["demo", "--samples", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "gardefou.db").exists()


def test_table_says_why_a_signal_is_unavailable(tmp_path: Path, monkeypatch) -> None:
    """Before: the table printed `pdq=UNAVAILABLE` and dropped the reason (what to install)."""
    from gardefou.signals.pdq import PdqSignal

    def unavailable(self, media, context=None):
        return self.unavailable("needs `pip install 'gardefou[x]'`:\tthe model\nfailed to load")

    monkeypatch.setattr(PdqSignal, "extract", unavailable)
    (tmp_path / "one.webp").write_bytes(GOOD["webp"]())
    result = _cli().invoke(cli, ["scan", str(tmp_path)])
    (row,) = result.stdout.splitlines()
    assert "pdq=UNAVAILABLE (needs `pip install 'gardefou[x]'`: the model failed to load)" in row
    assert row.count("\t") == 2  # path, format, the signal: the reason adds no column
