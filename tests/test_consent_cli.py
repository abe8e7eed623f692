"""`gardefou consent`: enrol from a photo or an embedding, show, count, withdraw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from .conftest import FIXTURES


def _run(db: Path, *args: str):
    from gardefou.cli import commands_consent  # noqa: F401 - registers the group
    from gardefou.cli.main import cli

    return CliRunner().invoke(cli, ["--db", str(db), "consent", *args])


def test_enroll_embedding_show_count_withdraw(tmp_path: Path):
    db = tmp_path / "c.db"
    emb = tmp_path / "emb.json"
    emb.write_text(json.dumps([0.01 * (i % 7) for i in range(128)]))
    r = _run(db, "enroll", "--embedding", str(emb), "--label", "case 12")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    tid, code = out["template_id"], out["withdrawal_code"]
    assert json.loads(_run(db, "count").output) == {"active": 1}
    shown = json.loads(_run(db, "show", str(tid)).output)
    assert shown["label"] == "case 12" and shown["active"] and "embedding" not in str(shown)
    bad = _run(db, "withdraw", str(tid), "--code", "wrong")
    assert bad.exit_code != 0 and "wrong withdrawal code" in bad.output
    ok = _run(db, "withdraw", str(tid), "--code", code)
    assert ok.exit_code == 0 and json.loads(ok.output)["withdrawn"] is True
    assert json.loads(_run(db, "count").output) == {"active": 0}


def test_enroll_needs_exactly_one_source_and_a_valid_embedding(tmp_path: Path):
    db = tmp_path / "c.db"
    r = _run(db, "enroll")
    assert r.exit_code != 0 and "either PHOTO or --embedding" in r.output
    short = tmp_path / "short.json"
    short.write_text("[1, 2, 3]")
    r = _run(db, "enroll", "--embedding", str(short))
    assert r.exit_code != 0 and "128" in r.output
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    r = _run(db, "enroll", "--embedding", str(junk))
    assert r.exit_code != 0 and "junk.json" in r.output


def test_enroll_from_a_portrait(tmp_path: Path):
    from gardefou.signals import get_signal

    try:
        get_signal("identity").model()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"identity model not loadable: {exc}")
    r = _run(tmp_path / "c.db", "enroll", str(FIXTURES / "signals" / "orl-s1-1.png"))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["template_id"] >= 1
