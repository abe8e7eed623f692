"""`gardefou policy check|test|show`."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from gardefou.cli.commands_policy import load_cases
from gardefou.cli.main import cli
from gardefou.errors import PolicyError

SIGNALS = {"nudity": "x:X", "faces": "x:X", "age": "x:X", "identity": "x:X", "provenance": "x:X"}


@pytest.fixture(autouse=True)
def _registry(monkeypatch):
    # the content signals may not be registered in every tree; the policy only needs the names
    import gardefou.signals as reg

    real = reg.available_signals
    monkeypatch.setattr(reg, "available_signals", lambda: {**SIGNALS, **real()})
    from gardefou.policy import loader

    loader._default_cache.clear()


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_check_default():
    r = run("policy", "check")
    assert r.exit_code == 0 and "ok: gardefou-ncii@1" in r.output
    r = run("policy", "check", "--json")
    assert json.loads(r.output)["signals"] == ["age", "faces", "nudity", "provenance"]


def test_check_bad_file_exit_2(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        "name: x\nversion: 1\nrules:\n  - id: a\n    when: {nudeness.level: x}\n"
        "    action: remove\n    reason: {message: m}\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(cli, ["policy", "check", str(f)])
    assert r.exit_code == 2
    assert f"{f}:5:" in r.output and "unknown signal 'nudeness'" in r.output


def test_shipped_cases_pass():
    r = run("policy", "test", "default")
    assert r.exit_code == 0, r.output
    # every shipped case passes (the count grows as cases are added: no pinned number)
    m = re.search(r"(\d+)/(\d+) cases pass under gardefou-ncii@1", r.output)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) >= 20, r.output
    # drawings (photo_likelihood < 0.5) are not real people (photo_likelihood)
    assert "PASS  explicit painting of a nude figure (photo_likelihood 0.08): allow" in r.output


def test_mismatch_exit_3(tmp_path):
    f = tmp_path / "cases.jsonl"
    f.write_text(
        json.dumps(
            {
                "name": "wrong",
                "signals": {},
                "context": {"bank.victim_match": True},
                "expect": "allow",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    r = run("policy", "test", str(f), "--json")
    assert r.exit_code == 3
    out = json.loads(r.output)
    assert out["failed"] == 1 and out["results"][0]["action"] == "remove"


def test_bad_cases(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("- {name: a, expect: nuke}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="expect 'nuke' is not an action"):
        load_cases(f)
    f.write_text("{}\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="non-empty list"):
        load_cases(f)


def test_show():
    r = run("policy", "show")
    assert "victim_bank_match" in r.output and "remove_escalate" in r.output


def test_explain_and_standing(tmp_path):
    from gardefou import testing as T
    from gardefou.decide import Services, decide_event, rules_intent
    from gardefou.store import connect

    db_path = tmp_path / "g.db"
    db = connect(db_path)
    img = tmp_path / "a.png"
    from PIL import Image

    Image.new("RGB", (32, 32), (9, 9, 9)).save(img)

    def extract(media, names):
        sig = T.signal_set(T.nudity("explicit", 0.95), T.faces(1))
        return {k: v for k, v in sig.items() if k in names}

    s = Services(db, extract=extract, intent=rules_intent, base_dir=tmp_path)
    decide_event({"id": "e1", "author": "acct", "media": ["a.png"]}, s)
    db.close()
    r = run("--db", str(db_path), "policy", "explain", "e1")
    assert r.exit_code == 0, r.output
    assert "e1: remove under gardefou-ncii@1 (case 1)" in r.output
    assert "MATCH     explicit_real_person_high -> remove" in r.output
    assert "dsa     decision_ground: DECISION_GROUND_ILLEGAL_CONTENT" in r.output
    r = run("--db", str(db_path), "policy", "explain", "e1", "--json")
    assert json.loads(r.output)["decision"]["action"] == "remove"
    r = CliRunner().invoke(cli, ["--db", str(db_path), "policy", "explain", "nope"])
    assert r.exit_code == 1 and "no decision stored" in r.output
    r = run("--db", str(db_path), "policy", "standing", "acct")
    assert "acct: 1.00 points; in force: nothing; next: rate_limit at 2" in r.output


def test_retention(tmp_path):
    from gardefou.store import connect
    from gardefou.thread import ThreadPost, ThreadStore

    db = connect(tmp_path / "g.db")
    ThreadStore(db).put(ThreadPost("old", "a", None, created_at="2020-01-01T00:00:00+00:00"))
    ThreadStore(db).put(ThreadPost("new", "a", None, created_at="2999-01-01T00:00:00+00:00"))
    db.close()
    r = run("--db", str(tmp_path / "g.db"), "policy", "retention", "--thread-days", "30", "--json")
    assert json.loads(r.output)["thread_posts_deleted"] == 1
