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
