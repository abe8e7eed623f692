"""Progress of `gardefou bank import` and `gardefou backfill` on stderr: counts, rate, ETA; only
on a terminal or with --progress, never with --quiet, and never on stdout."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

import gardefou.cli.commands_bank
import gardefou.cli.commands_pipeline  # noqa: F401
from gardefou.cli import progress as progress_mod
from gardefou.cli.main import cli
from gardefou.cli.progress import Progress
from gardefou.testing.fake_pipeline import benign_jpeg

ROWS = 2500


@pytest.fixture
def hashes(tmp_path: Path) -> Path:
    rng = random.Random(7)
    path = tmp_path / "victims.te"
    path.write_text("".join(f"pdq {rng.getrandbits(256):064x}\n" for _ in range(ROWS)))
    return path


def _import(tmp_path: Path, hashes: Path, *flags: str):
    db = ["--db", str(tmp_path / "g.db")]
    runner = CliRunner()
    assert runner.invoke(cli, [*db, "bank", "create", "victims", "--reason", "t"]).exit_code == 0
    result = runner.invoke(cli, [*db, "bank", "import", "victims", str(hashes), *flags])
    assert result.exit_code == 0, result.output
    return result


def test_bank_import_progress_counts_rows_on_stderr_only(tmp_path: Path, hashes: Path) -> None:
    result = _import(tmp_path, hashes, "--progress")
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"bank import victims: 0/{ROWS:,} rows (0%)")
    assert lines[-1].startswith(f"bank import victims: {ROWS:,}/{ROWS:,} rows (100%), ")
    assert lines[-1].endswith(" rows/s")
    assert json.loads(result.stdout)["added"] == ROWS  # stdout: the report, nothing else


@pytest.mark.parametrize("flags", [(), ("--progress", "--quiet"), ("-q",)])
def test_bank_import_is_silent_off_a_terminal_or_when_quiet(
    tmp_path: Path, hashes: Path, flags: tuple[str, ...]
) -> None:
    assert _import(tmp_path, hashes, *flags).stderr == ""


def test_bank_import_progress_on_a_terminal_by_default(
    tmp_path: Path, hashes: Path, monkeypatch
) -> None:
    monkeypatch.setattr(progress_mod, "_stderr_is_terminal", lambda: True)
    # one line rewritten in place (click drops the erase-line code when not on a real terminal)
    err = _import(tmp_path, hashes).stderr.replace("\x1b[2K", "")
    assert err.startswith("\rbank import victims: 0/") and err.endswith("\n")
    assert err.count("\n") == 1
    assert f"{ROWS:,}/{ROWS:,} rows (100%)" in err
    monkeypatch.setattr(progress_mod, "_stderr_is_terminal", lambda: True)
    assert _import(tmp_path / "q", hashes, "--quiet").stderr == ""


def test_backfill_progress(tmp_path: Path) -> None:
    src = tmp_path / "archive"
    src.mkdir()
    for i in range(6):
        (src / f"{i}.jpg").write_bytes(benign_jpeg(i, 64))
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    args = ["--db", str(tmp_path / "g.db"), "backfill", str(src), "--batch", "2"]
    result = CliRunner().invoke(cli, [*args, "--progress", "--run-id", "r1"])
    assert result.exit_code == 1  # one file rejected
    lines = result.stderr.splitlines()
    assert lines[0] == "backfill: 0/7 files (0%)"
    assert lines[-1].startswith("backfill: 7/7 files (100%), ")
    assert "6 rescanned, 0 already done, 1 rejected" in result.stdout
    quiet = CliRunner().invoke(cli, [*args, "--run-id", "r2", "--quiet"])
    assert quiet.exit_code == 1 and quiet.stderr == ""


def test_rate_and_eta_from_the_clock() -> None:
    now = [100.0]
    bar = Progress("job", "files", True, False, clock=lambda: now[0])
    now[0] = 110.0
    assert bar.line(250, 1000) == "job: 250/1,000 files (25%), 25 files/s, ETA 30s"
    now[0] = 100.0 + 3600
    assert bar.line(1000, 10_000) == "job: 1,000/10,000 files (10%), 0 files/s, ETA 9h00m"
    assert bar.line(0, 0) == "job: 0/0 files"


def test_lines_are_throttled_off_a_terminal(capsys) -> None:
    now = [0.0]
    bar = Progress("job", "rows", True, False, clock=lambda: now[0])
    for i in range(100):  # 100 updates within 1 s: the first and the last are written
        now[0] = i / 100
        bar(i, 100)
    bar(100, 100)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[-1].startswith("job: 100/100 rows (100%)")
