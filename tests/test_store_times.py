"""Epoch times keep sub-second precision on SQLite and PostgreSQL (PostgreSQL's REAL is 4 bytes;
migration 0008 makes every REAL column DOUBLE PRECISION there)."""

from __future__ import annotations

import time

import pytest


def test_ledger_times_keep_milliseconds(tmp_db):
    now = time.time()
    tmp_db.execute(
        "INSERT INTO pipeline_events (event_id, kind, action, decision_json, origin, worker,"
        " deliveries, received_at, decided_at, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
        ("t1", "post", "allow", "{}", "test", "w", 1, now - 0.123, now, 123.456),
    )
    row = tmp_db.query_one(
        "SELECT received_at, decided_at, latency_ms FROM pipeline_events WHERE event_id = ?",
        ("t1",),
    )
    # PostgreSQL's 4-byte REAL rounded epoch seconds to ~1-2 minutes before migration 0008
    assert float(row["decided_at"]) == pytest.approx(now, abs=1e-3)
    assert float(row["decided_at"]) - float(row["received_at"]) == pytest.approx(0.123, abs=1e-3)
    assert float(row["latency_ms"]) == pytest.approx(123.456, abs=1e-3)


def test_pg_token_comments_the_line_out_on_sqlite(tmp_path):
    from gardefou.store import connect

    db = connect(str(tmp_path / "x.db"))
    assert db.schema_version() >= 8
    assert db.query_one("SELECT name FROM schema_version WHERE version = 8")["name"] == (
        "double_precision"
    )


def test_no_four_byte_float_column_is_left_on_postgres(tmp_db):
    if tmp_db.dialect != "postgres":
        pytest.skip("SQLite's REAL is 8 bytes")
    rows = tmp_db.query(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND data_type = 'real'"
    )
    assert [dict(r) for r in rows] == []
