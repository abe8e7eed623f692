"""Preserving cases and takedown requests from the store: versions, idempotence, holds by
account, export for a preservation order."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import gardefou.cli.commands_evidence  # noqa: F401 - registers the commands
from gardefou.cli.main import cli
from gardefou.decide.record import decisions_by_event
from gardefou.evidence import EvidenceKeys, EvidenceStore, Hold, export_bundle, verify_bundle
from gardefou.evidence.from_store import preserve_cases, preserve_takedowns
from tests.test_transparency import _populate_store


def test_preserve_cases_and_takedowns(tmp_db, tmp_path: Path) -> None:
    _populate_store(tmp_db)
    store = EvidenceStore(tmp_db, tmp_path / "blobs", EvidenceKeys.generate())
    n_cases = tmp_db.query_one("SELECT COUNT(*) AS n FROM cases")["n"]

    def preserve() -> int:
        return preserve_cases(store, "job", "nightly", decisions_by_event(store.db))

    assert preserve() == n_cases
    assert preserve_takedowns(store, "job", "nightly") == 3
    assert preserve() == 0  # unchanged: nothing new
    before = tmp_db.query_one("SELECT status FROM cases WHERE id = 1")["status"]
    after = "second_review" if before != "second_review" else "closed"
    tmp_db.execute("UPDATE cases SET status = ? WHERE id = 1", (after,))
    assert preserve() == 1  # a new version of case 1

    blob = tmp_db.query_one("SELECT sha256 FROM evidence_blobs WHERE kind = 'request'")
    record = json.loads(store.access(blob["sha256"], "legal", "check"))
    assert record["type"] == "takedown" and "contact_json" not in record
    assert "pin_hash" not in record and record["events"] is not None

    poster = tmp_db.query_one("SELECT poster FROM cases WHERE id = 1")["poster"]
    store.place_hold(Hold("order-1", "preservation order", "legal", account=poster))
    out = tmp_path / "order"
    info = export_bundle(store, out, "legal", "order 1", hold="order-1")
    assert info["blobs"] == 2  # both versions of case 1
    assert verify_bundle(out).intact
    kept = [json.loads(p.read_text()) for p in (out / "blobs").iterdir()]
    assert {k["status"] for k in kept} == {before, after} and all(k["case_id"] == 1 for k in kept)


def test_preserve_store_cli(tmp_path: Path) -> None:
    from gardefou.store import connect

    db = connect(tmp_path / "g.db")
    _populate_store(db)
    db.close()
    base = ["--db", str(tmp_path / "g.db"), "evidence"]
    assert CliRunner().invoke(cli, [*base, "keygen"]).exit_code == 0
    res = CliRunner().invoke(cli, [*base, "preserve-store", "--actor", "job"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["cases"] > 0 and out["takedowns"] == 3
