"""Transparency report from plain records and from the store; HTML with plots, CSV beside it."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import gardefou.cli.commands_report  # noqa: F401 - registers the commands
from gardefou.cli.main import cli
from gardefou.reports.transparency import (
    ActionRecord,
    AppealRecord,
    TakedownRecord,
    build_report,
    percentile,
    write_report,
)

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)


def records():
    h = timedelta(hours=1)
    actions = [ActionRecord("ncii", "remove", "proactive", T0, T0 + 0.01 * h) for _ in range(6)]
    actions += [ActionRecord("ncii", "remove", "reported", T0, T0 + 10 * h, automated=False),
                ActionRecord("minor", "remove_escalate", "proactive", T0, T0 + 2 * h, False),
                ActionRecord("synthetic", "label", "proactive", T0, T0)]  # fmt: skip
    tid = "take_it_down"
    takedowns = [TakedownRecord(tid, T0, T0 + 5 * h, "removed", 3),
                 TakedownRecord("take_it_down", T0, T0 + 47 * h, "removed"),
                 TakedownRecord("take_it_down", T0, T0 + 60 * h, "removed"),
                 TakedownRecord("take_it_down", T0, T0 + 1 * h, "rejected"),
                 TakedownRecord("take_it_down", T0, None, "in_review"),
                 TakedownRecord("regulator_notice", T0, T0 + 20 * h, "removed", 0, 24)]  # fmt: skip
    appeals = [AppealRecord(T0, T0 + 24 * h, "upheld"), AppealRecord(T0, T0 + 30 * h, "reversed"),
               AppealRecord(T0, None, "open")]  # fmt: skip
    return actions, takedowns, appeals


def test_percentile() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5


def test_report_numbers(tmp_path: Path) -> None:
    rep = build_report(*records(), now=T0 + timedelta(hours=72))
    cats = {r["category"]: r for r in rep.tables["actions_by_category"]}
    assert cats["ncii"]["total"] == 7 and cats["ncii"]["proactive"] == 6
    assert cats["ncii"]["reported"] == 1 and cats["minor"]["human_decided"] == 1
    assert cats["ncii"]["remove"] == 7 and cats["synthetic"]["label"] == 1
    tta = {r["detection"]: r for r in rep.tables["time_to_action"]}
    assert tta["reported"]["p50_hours"] == 10 and tta["all"]["actions"] == 9
    tid = {r["kind"]: r for r in rep.tables["takedowns"]}["take_it_down"]
    assert (tid["requests"], tid["removed"], tid["removed_within_deadline"]) == (5, 3, 2)
    assert tid["compliance_rate"] == pytest.approx(2 / 3) and tid["open_past_deadline"] == 1
    assert tid["compliance_ci_low"] < 2 / 3 < tid["compliance_ci_high"]
    assert tid["copies_removed"] == 3
    reg = {r["kind"]: r for r in rep.tables["takedowns"]}["regulator_notice"]
    assert reg["removed_within_deadline"] == 1  # 20 h within its own 24 h deadline
    ap = rep.tables["appeals"][0]
    assert (ap["appeals"], ap["decided"], ap["reversed"], ap["reversal_rate"]) == (3, 2, 1, 0.5)

    info = write_report(rep, tmp_path / "out")
    html = (tmp_path / "out" / "index.html").read_text()
    assert "Takedown requests and deadline compliance" in html and "<script" not in html
    for png in info["plots"]:
        assert (tmp_path / "out" / png).stat().st_size > 5000 and png in html
    assert len(info["plots"]) == 3
    with open(tmp_path / "out" / "takedowns.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[1]["kind"] == "take_it_down" and rows[1]["removed_within_deadline"] == "2"


def test_empty_report(tmp_path: Path) -> None:
    info = write_report(build_report([], [], []), tmp_path / "e")
    assert info["plots"] == [] and "No records" in (tmp_path / "e" / "index.html").read_text()


def _populate_store(db) -> None:
    """Real cases (default policy on its own labelled cases), reviews, an appeal reversed, and
    takedown rows."""
    policy_mod = pytest.importorskip("gardefou.policy")
    cases_mod = pytest.importorskip("gardefou.cases")
    policy = policy_mod.load_default_policy()
    clock = [T0]
    store = cases_mod.CaseStore(db, policy, clock=lambda: clock[0])
    raw = yaml.safe_load(resources.files("gardefou.policy").joinpath("default_cases.yaml")
                         .read_text(encoding="utf-8"))["cases"]  # fmt: skip
    opened = []
    for i, case in enumerate(raw):
        d = policy_mod.evaluate(policy, case.get("signals") or {}, case.get("context") or {})
        clock[0] = T0 + timedelta(minutes=i)
        db.execute(
            "INSERT INTO decisions (event_id, kind, actor, action, policy, decision_json, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            (f"ev-{i}", "post", None, d.action.value, d.policy, json.dumps(d.to_dict()),
             clock[0].isoformat(timespec="seconds")),
        )  # fmt: skip
        c = store.open(f"ev-{i}", "post", d, poster=f"acct-{i}", content_date="2026-01-05")
        if c is not None:
            opened.append(c)
    pending = [c for c in opened if c.status == cases_mod.PENDING_REVIEW]
    clock[0] = T0 + timedelta(hours=3)
    for c in pending:
        if c.auto_action.value == "review":
            store.review(c.id, "mod-a", "remove")
    actioned = [c for c in opened if c.auto_action.value == "remove"]
    appeal = store.appeal(actioned[0].id, actioned[0].poster, "it is me")
    clock[0] = T0 + timedelta(hours=30)
    store.decide_appeal(appeal.id, "mod-b", "allow")
    for i, (closed, status) in enumerate([(5, "removed"), (50, "removed"), (None, "received")]):
        received = T0.timestamp()
        db.execute(
            "INSERT INTO takedown_requests (case_number, pin_hash, kind, status, lang, "
            "signature_name, signature_on_behalf, signature_authority, depiction_description, "
            "good_faith_statement, contact_json, issuer, issuer_reference, received_at, "
            "deadline_at, closed_at, resolution, copies_removed, bank_entries) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (f"TD-{i}", "x", "take_it_down", status, "en", "A Person", 0, "", "d", "g", "{}",
             "", "", received, received + 48 * 3600,
             received + closed * 3600 if closed else None, "", 2, 0),
        )  # fmt: skip


def test_store_adapter_and_cli(tmp_db, tmp_path: Path) -> None:
    from gardefou.reports.from_store import transparency_records

    _populate_store(tmp_db)
    actions, takedowns, appeals = transparency_records(tmp_db)
    assert len(takedowns) == 3 and len(appeals) == 1 and appeals[0].status == "reversed"
    assert {a.detection for a in actions} == {"proactive", "reported"}
    assert any(not a.automated for a in actions)  # reviewed cases
    rep = build_report(actions, takedowns, appeals, now=T0 + timedelta(hours=100))
    td = rep.tables["takedowns"][0]
    assert (td["removed"], td["removed_within_deadline"], td["open_past_deadline"]) == (2, 1, 1)
    if tmp_db.dialect == "sqlite":
        out = CliRunner().invoke(cli, ["--db", tmp_db.url, "report", "transparency", "--out",
                                       str(tmp_path / "tr")])  # fmt: skip
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["summary"]["takedown_requests"] == 3
        assert (tmp_path / "tr" / "index.html").exists()


def test_cli_from_records_file(tmp_path: Path) -> None:
    actions, takedowns, appeals = records()

    def ser(objs):
        return [{k: (v.isoformat() if isinstance(v, datetime) else v)
                 for k, v in o.__dict__.items()} for o in objs]  # fmt: skip

    f = tmp_path / "records.json"
    f.write_text(json.dumps({"actions": ser(actions), "takedowns": ser(takedowns),
                             "appeals": ser(appeals)}))  # fmt: skip
    out = CliRunner().invoke(cli, ["report", "transparency", "--from", str(f), "--out",
                                   str(tmp_path / "r")])  # fmt: skip
    assert out.exit_code == 0, out.output
    names = sorted(p.stem for p in (tmp_path / "r").glob("*.csv"))
    assert names == ["actions_by_category", "appeals", "takedowns", "time_to_action"]


def test_cli_output_is_strict_json(tmp_path: Path) -> None:
    f = tmp_path / "empty.json"
    f.write_text("{}")
    out = CliRunner().invoke(cli, ["report", "transparency", "--from", str(f), "--out",
                                   str(tmp_path / "e")])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "NaN" not in out.output and json.loads(out.output)["summary"]["reversal_rate"] is None
    assert "nan" not in (tmp_path / "e" / "appeals.csv").read_text()
