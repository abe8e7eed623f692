"""`gardefou measure` from a JSONL sample, with population counts and validation data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import gardefou.cli.commands_report  # noqa: F401 - registers the commands
from gardefou.cli.main import cli


def _write(path: Path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_measure_cli(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    items, pop = [], []
    for h in range(6):
        hour = f"2026-01-05T{10 + h:02d}"
        items += [{"hour": f"{hour}:{m:02d}:00Z", "label": bool(rng.random() < 0.6)}
                  for m in range(100)]  # fmt: skip
        pop.append({"hour": hour, "images": 190_000})
    validation = [{"truth": True, "label": True}] * 92 + [{"truth": True, "label": False}] * 8
    validation += [{"truth": False, "label": False}] * 96 + [{"truth": False, "label": True}] * 4
    args = ["measure", _write(tmp_path / "s.jsonl", items), "--population",
            _write(tmp_path / "p.jsonl", pop), "--validation",
            _write(tmp_path / "v.jsonl", validation), "--plot", str(tmp_path / "p.png"),
            "--boot", "1000"]  # fmt: skip
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "share of images:" in res.output and "images per hour:" in res.output
    assert "sensitivity 0.920, specificity 0.960" in res.output
    assert (tmp_path / "p.png").stat().st_size > 10_000
    res = CliRunner().invoke(cli, [*args[:-2], "--json"])
    d = json.loads(res.output)
    assert len(d["hours"]) == 6 and d["rate_per_hour"]["low"] < d["rate_per_hour"]["high"]


def test_measure_cli_needs_a_source(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["measure"])
    assert res.exit_code == 2 and "SAMPLE" in res.output
    bad = _write(tmp_path / "bad.jsonl", [{"hour": "2026-01-05T10"}])
    res = CliRunner().invoke(cli, ["measure", bad])
    assert res.exit_code == 2 and "label" in res.output


def test_measure_from_store(tmp_path: Path) -> None:
    from gardefou.store import connect
    from tests.test_transparency import _populate_store

    db = connect(tmp_path / "g.db")
    _populate_store(db)
    db.close()
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "measure", "--from-store",
                                   "--accuracy", "90,10,95,5", "--boot", "500"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "images per hour:" in res.output and "2026-01-05T12" in res.output


def test_measure_samples_a_whole_stream(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    items = [{"hour": f"2026-01-05T{h:02d}", "label": bool(rng.random() < 0.3)}
             for h in range(4) for _ in range(5000)]  # fmt: skip
    stream = _write(tmp_path / "stream.jsonl", items)
    args = ["measure", stream, "--sample-per-hour", "300", "--json", "--boot", "500"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert [h["sampled"] for h in d["hours"]] == [300] * 4
    assert [h["population"] for h in d["hours"]] == [5000] * 4
    assert d["rate_per_hour"]["low"] < 0.3 * 5000 < d["rate_per_hour"]["high"]


def test_measure_bad_side_files_named(tmp_path: Path) -> None:
    sample = _write(tmp_path / "s.jsonl", [{"hour": "2026-01-05T10", "label": True}])
    bad_pop = _write(tmp_path / "p.jsonl", [{"hour": "2026-01-05T10"}])
    res = CliRunner().invoke(cli, ["measure", sample, "--population", bad_pop])
    assert res.exit_code == 2 and "'images'" in res.output
    bad_val = _write(tmp_path / "v.jsonl", [{"truth": True}])
    res = CliRunner().invoke(cli, ["measure", sample, "--validation", bad_val])
    assert res.exit_code == 2 and "'label'" in res.output
