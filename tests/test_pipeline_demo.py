"""The bundled demo stream (`gardefou demo`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from gardefou.pipeline import parse_event


def test_demo_bundle_is_complete_and_benign_sized():
    folder = resources.files("gardefou.data") / "demo"
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 14
    for line in lines:
        obj = json.loads(line)
        if obj["id"] == "demo-11":
            continue  # the URL reference is meant to be refused
        for ref in parse_event(obj).media_refs:
            assert (folder / ref.path).is_file(), ref.path  # type: ignore[operator]
    bank = json.loads((folder / "victim_bank.json").read_text(encoding="utf-8"))
    assert len(bank["entries"][0]["pdq"]) == 64


@pytest.mark.slow
def test_run_demo_decides_the_stream(tmp_path: Path):
    """Real models on benign images: the bot's answer to an undress request and the generation
    go to review, both copies of the banked photo are removed, bad events are dead-lettered and
    the redelivered first event is not decided twice."""
    from gardefou.pipeline.demo import run_demo

    lines: list[str] = []
    result = run_demo(tmp_path / "demo", echo=lines.append)
    assert result["by_status"] == {"decided": 11, "dead_letter": 2, "duplicate": 1}
    assert result["actions"] == {"allow": 7, "review": 2, "remove": 2}
    assert result["dead_letter_reasons"] == ["demo-10: media_corrupt", "demo-11: invalid_event"]
    text = "\n".join(lines)
    assert "demo-06: remove" in text and "demo-07: remove" in text and "demo-03: review" in text
    again = run_demo(tmp_path / "demo", echo=lines.append)  # fresh store each time
    assert again["actions"] == result["actions"]


def test_demo_command_serves_the_console_unless_told_not_to(tmp_path: Path, monkeypatch):
    """`gardefou demo` runs the stream, then serves the console on the demo store;
    `--no-serve` prints and exits. (run_demo and uvicorn are replaced: this checks the wiring.)"""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    import uvicorn
    from click.testing import CliRunner

    import gardefou.pipeline.demo as demo_mod
    from gardefou.cli import commands_core, commands_web  # noqa: F401 - registers subcommands
    from gardefou.cli.main import cli

    ran: list[Path] = []
    served: list[dict[str, object]] = []

    def fake_run_demo(folder: Path, **_: object) -> dict[str, object]:
        from gardefou.store import connect

        folder.mkdir(parents=True, exist_ok=True)
        connect(folder / "gardefou.db").close()
        ran.append(folder)
        return {}

    monkeypatch.setattr(demo_mod, "run_demo", fake_run_demo)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append(kw))
    monkeypatch.delenv("GARDEFOU_ADMIN_KEY", raising=False)
    # serve sets these two in os.environ for its workers; monkeypatch restores them afterwards
    monkeypatch.setenv("GARDEFOU_DB", str(tmp_path / "unused.db"))
    monkeypatch.setenv("GARDEFOU_MAX_UPLOAD_MB", "20")
    runner = CliRunner()
    out = tmp_path / "d"
    quiet = runner.invoke(cli, ["demo", "--out", str(out), "--no-serve"])
    assert quiet.exit_code == 0, quiet.output
    assert ran == [out] and served == []
    loud = runner.invoke(cli, ["demo", "--out", str(out), "--port", "8123"])
    assert loud.exit_code == 0, loud.output
    assert served and served[0]["port"] == 8123 and served[0]["host"] == "127.0.0.1"
    assert "/console" in loud.output and "admin API key" in loud.output
    import os

    assert os.environ["GARDEFOU_DB"] == str(out / "gardefou.db")
