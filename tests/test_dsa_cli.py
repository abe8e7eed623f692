"""`gardefou report dsa`: from a JSONL of decisions and from the store's cases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import gardefou.cli.commands_report  # noqa: F401 - registers the commands
from gardefou.cli.main import cli
from gardefou.reports.dsa import validate
from tests.test_dsa import decision
from tests.test_transparency import _populate_store


def test_report_dsa_from_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "decisions.jsonl"
    with open(src, "w") as fh:
        for i in range(130):
            fh.write(json.dumps({"decision": decision().to_dict(), "id": f"event-{i}",
                                 "content_date": "2026-01-05",
                                 "application_date": "2026-01-05"}) + "\n")  # fmt: skip
        fh.write(json.dumps({"decision": decision().to_dict() | {"action": "allow"},
                             "puid": "gf-allowed", "content_date": "2026-01-05",
                             "application_date": "2026-01-05"}) + "\n")  # fmt: skip
    out = tmp_path / "sor.json"
    res = CliRunner().invoke(cli, ["report", "dsa", "--from", str(src), "--out", str(out),
                                   "--batches", str(tmp_path / "b")],
                             env={"GARDEFOU_PUID_SECRET": "test-secret-0123456789"})  # fmt: skip
    assert res.exit_code == 0, res.output
    statements = json.loads(out.read_text())
    assert isinstance(statements, list) and len(statements) == 130
    assert all(validate(s) == [] for s in statements)
    assert not any("event-" in s["puid"] for s in statements)
    bodies = [json.loads(p.read_text()) for p in sorted((tmp_path / "b").iterdir())]
    assert [len(b["statements"]) for b in bodies] == [100, 30]


def test_report_dsa_rejects_personal_data(tmp_path: Path) -> None:
    src = tmp_path / "d.jsonl"
    d = decision(incompatible_content_explanation="x").to_dict()
    d["dsa_fields"]["illegal_content_explanation"] = "Requested by user @someone_real"
    src.write_text(json.dumps({"decision": d, "puid": "gf-1", "content_date": "2026-01-05",
                               "application_date": "2026-01-05"}) + "\n")  # fmt: skip
    res = CliRunner().invoke(cli, ["report", "dsa", "--from", str(src), "--out",
                                   str(tmp_path / "o.json")])  # fmt: skip
    assert res.exit_code == 2 and "illegal_content_explanation" in res.output
    assert not (tmp_path / "o.json").exists()


def test_report_dsa_from_store(tmp_db, tmp_path: Path, monkeypatch) -> None:
    from gardefou.reports.dsa import statements_from_records
    from gardefou.reports.from_store import dsa_records

    _populate_store(tmp_db)
    records = dsa_records(tmp_db)
    assert records and any(r["human_reviewed"] for r in records)
    statements = list(statements_from_records(records, "store-secret-0123456789"))
    assert len(statements) == len(records)
    for s in statements:
        assert validate(s) == [], s
        assert "acct-" not in json.dumps(s)  # no account ids
    reviewed = [s for s in statements if s["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"]
    assert reviewed
    if tmp_db.dialect == "sqlite":
        monkeypatch.setenv("GARDEFOU_PUID_SECRET", "store-secret-0123456789")
        res = CliRunner().invoke(cli, ["--db", tmp_db.url, "report", "dsa", "--out",
                                       str(tmp_path / "s.json")])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert json.loads((tmp_path / "s.json").read_text()) == statements


def test_sanctions_export_as_account_statements(tmp_db) -> None:
    """Strike sanctions of the default policy (rate limit, no image edit, suspension) export as
    account/service restriction statements the validator accepts."""
    import pytest

    policy_mod = pytest.importorskip("gardefou.policy")
    cases_mod = pytest.importorskip("gardefou.cases")
    from gardefou.reports.dsa import statements_from_records
    from gardefou.reports.from_store import dsa_records

    policy = policy_mod.load_default_policy()
    store = cases_mod.CaseStore(tmp_db, policy)
    d = policy_mod.evaluate(policy, {"nudity": {"value": "none", "score": 0.6}},
                            {"bank.victim_match": True, "bank.min_distance": 10})  # fmt: skip
    assert d.action.value == "remove"
    for i in range(6):
        store.open(f"ev-{i}", "post", d, poster="acct-repeat", content_date="2026-01-05")
    records = dsa_records(tmp_db)
    sanctions = [r for r in records if r["id"].startswith("sanction-")]
    assert len(sanctions) >= 3
    statements = list(statements_from_records(records, "store-secret-0123456789"))
    account = [s for s in statements if "decision_visibility" not in s]
    assert len(account) == len(sanctions)
    assert {s.get("decision_account") for s in account} >= {"DECISION_ACCOUNT_SUSPENDED"}
    assert {s.get("decision_provision") for s in account} >= {
        "DECISION_PROVISION_PARTIAL_SUSPENSION"
    }
    for s in statements:
        assert validate(s) == [], s
        assert "acct-repeat" not in json.dumps(s)


def test_dsa_validate_command(tmp_path: Path) -> None:
    from tests.test_dsa_validator import BASE

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"statements": [BASE, BASE | {"puid": "gf-2"}]}))
    res = CliRunner().invoke(cli, ["report", "dsa-validate", str(good)])
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([BASE, BASE | {"content_date": "05/01/2026",
                                             "decision_facts": "by @someone"}]))  # fmt: skip
    res = CliRunner().invoke(cli, ["report", "dsa-validate", str(bad)])
    assert res.exit_code == 3
    rows = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert {(r["statement"], r["field"]) for r in rows} == {(1, "content_date"),
                                                             (1, "decision_facts")}  # fmt: skip
