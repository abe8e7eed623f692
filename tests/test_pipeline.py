"""Pipeline core on SQLite and PostgreSQL (the tmp_db/db_url fixtures run both)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from gardefou.errors import PipelineEventError
from gardefou.pipeline import Envelope, Metrics, PipelineLedger, Processor, parse_event
from gardefou.pipeline.runners import WorkerConfig, run_inline, run_pool
from gardefou.pipeline.sources import IngestHandler, iter_jsonl
from gardefou.store import connect
from gardefou.testing.fake_pipeline import RecordingDecider, benign_jpeg, write_stream


def effects(db) -> dict[str, int]:
    rows = db.query("SELECT event_id, COUNT(*) AS n FROM pipeline_fake_effects GROUP BY event_id")
    return {r["event_id"]: int(r["n"]) for r in rows}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "must be a JSON object"),
        ({"text": "no id"}, "no usable 'id'"),
        ({"id": ""}, "no usable 'id'"),
        ({"id": True}, "no usable 'id'"),
        ({"id": "a", "kind": "story"}, "unknown kind 'story'"),
        ({"id": "a", "media": 3}, "must be a list"),
        ({"id": "a", "media": [{"url": "http://x/y.jpg"}]}, "not fetched"),
        ({"id": "a", "media": [{"b64": "!!"}]}, "not valid base64"),
        ({"id": "a", "media": [42]}, "path string or an object"),
    ],
)
def test_parse_event_rejects_with_reason(payload, message):
    with pytest.raises(PipelineEventError, match=message):
        parse_event(payload)


def test_parse_event_kinds_and_refs():
    ev = parse_event({"id": 7, "input_media": "a.jpg", "output_media": [{"path": "b.jpg"}]})
    assert ev.id == "7" and ev.kind == "generation"
    assert [(r.role, r.path) for r in ev.media_refs] == [("input", "a.jpg"), ("output", "b.jpg")]


def test_inline_decides_each_event_once_and_dead_letters_poison(tmp_db, tmp_path: Path):
    src, expected = write_stream(tmp_path / "s", 40, corrupt_every=10, oversized_every=13)
    proc = Processor(tmp_db, RecordingDecider(), max_event_bytes=64_000, metrics=Metrics())
    summary = run_inline(iter_jsonl([src]), proc)
    n_ok = sum(1 for v in expected.values() if v == "decided")
    assert summary.counts == {"decided": n_ok, "dead_letter": len(expected) - n_ok}
    ledger = PipelineLedger(tmp_db)
    assert ledger.count() == n_ok
    assert effects(tmp_db) == {k: 1 for k, v in expected.items() if v == "decided"}
    dead = {r["event_id"]: r for r in ledger.dead_letters()}
    assert {k: r["reason_code"] for k, r in dead.items()} == {
        k: v for k, v in expected.items() if v != "decided"
    }
    assert all(r["reason"] for r in dead.values())
    too_large = next(r for r in dead.values() if r["reason_code"] == "event_too_large")
    assert "64,000-byte limit" in too_large["reason"] and too_large["payload_bytes"] > 64_000
    # a replay decides nothing twice
    again = run_inline(iter_jsonl([src]), proc)
    assert again.counts.get("duplicate") == n_ok and "decided" not in again.counts
    assert max(effects(tmp_db).values()) == 1
    text = proc.metrics.render()
    assert 'gardefou_pipeline_events_total{action="",status="duplicate"} ' + str(n_ok) in text
    assert 'gardefou_pipeline_dead_letters_total{reason="media_corrupt"}' in text
    assert 'gardefou_pipeline_stage_seconds_bucket{stage="decide",le="+Inf"}' in text


def test_racing_workers_commit_one_decision(db_url: str, tmp_path: Path):
    """Two workers on separate connections decide the same event at once (a stale message
    claimed while its first owner still runs): exactly one decision and one side effect."""
    img = tmp_path / "a.jpg"
    img.write_bytes(benign_jpeg(1))
    raw = json.dumps({"id": "race-1", "text": "REMOVE", "media": [str(img)]}).encode()
    dbs = [connect(db_url) for _ in range(2)]
    barrier = threading.Barrier(2)

    class Slow(RecordingDecider):
        def decide(self, event, media):
            barrier.wait(timeout=10)  # both past the ledger pre-check before either commits
            return super().decide(event, media)

    outs = []
    threads = [
        threading.Thread(
            target=lambda d=d: outs.append(Processor(d, Slow()).process(Envelope(raw, "t")))
        )
        for d in dbs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o.status for o in outs) == ["decided", "duplicate"]
    assert effects(dbs[0]) == {"race-1": 1}
    for d in dbs:
        d.close()


def test_metrics_text_format():
    m = Metrics()
    m.inc("x_total", "Things.", {"k": 'a"b'})
    m.set("depth", 3, "Depth.")
    m.observe("lat_seconds", 0.02, "Latency.", buckets=(0.01, 0.1))
    text = m.render()
    assert '# TYPE gardefou_x_total counter\ngardefou_x_total{k="a\\"b"} 1' in text
    assert "gardefou_depth 3" in text
    assert 'gardefou_lat_seconds_bucket{le="0.01"} 0' in text
    assert 'gardefou_lat_seconds_bucket{le="0.1"} 1' in text
    assert 'gardefou_lat_seconds_bucket{le="+Inf"} 1' in text
    assert "gardefou_lat_seconds_count 1" in text and text.endswith("\n")


def test_ingest_handler_inline(tmp_db):
    h = IngestHandler(processor=Processor(tmp_db, RecordingDecider()))
    status, body, _ = h.handle(b'{"id":"h1","text":"REVIEW"}\n{"id":"h2"}\nnot json\n')
    assert status == 200
    assert [o["status"] for o in body["outcomes"]] == ["decided", "decided", "dead_letter"]
    assert body["outcomes"][0]["action"] == "review"
    assert h.handle(b"")[0] == 400
    assert IngestHandler(processor=h.processor, max_body_bytes=10).handle(b"x" * 11)[0] == 413


def test_pool_runner_two_workers(tmp_path: Path):
    src, expected = write_stream(tmp_path / "s", 30, corrupt_every=10)
    url = str(tmp_path / "pool.db")
    cfg = WorkerConfig(db_url=url, decider="gardefou.testing.fake_pipeline:recording_decider")
    metrics = Metrics()
    summary = run_pool(iter_jsonl([src]), cfg, workers=2, queue_size=2, metrics=metrics)
    assert summary.counts == {"decided": 27, "dead_letter": 3}
    db = connect(url)
    assert effects(db) == {k: 1 for k, v in expected.items() if v == "decided"}
    assert "gardefou_pipeline_queue_depth" in metrics.render()
    assert summary.to_dict()["p99_ms"] is not None


def test_run_cli(tmp_path: Path):
    from click.testing import CliRunner

    from gardefou.cli import commands_pipeline  # noqa: F401
    from gardefou.cli.main import cli

    src, _ = write_stream(tmp_path / "s", 12, corrupt_every=6)
    db = str(tmp_path / "cli.db")
    r = CliRunner().invoke(
        cli,
        [
            "--db",
            db,
            "run",
            str(src),
            "--json",
            "--decider",
            "gardefou.testing.fake_pipeline:recording_decider",
        ],
    )
    assert r.exit_code == 1, r.output  # two dead letters
    assert json.loads(r.output)["by_status"] == {"decided": 10, "dead_letter": 2}
    r = CliRunner().invoke(cli, ["--db", db, "dead-letters"])
    assert [json.loads(ln)["reason_code"] for ln in r.output.splitlines()] == ["media_corrupt"] * 2
    r = CliRunner().invoke(cli, ["--db", db, "metrics"])
    assert 'gardefou_store_decisions{action="remove"} 4' in r.output
    r = CliRunner().invoke(cli, ["--db", db, "run", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_decider_bug_is_dead_lettered_with_where_and_transient_errors_are_retried(tmp_db):
    import sqlite3

    class Buggy(RecordingDecider):
        calls = 0

        def decide(self, event, media):
            Buggy.calls += 1
            if event.id == "bug":
                raise ValueError("boom")
            if event.id == "flaky" and Buggy.calls < 4:
                raise sqlite3.OperationalError("database is locked")
            return super().decide(event, media)

    proc = Processor(tmp_db, Buggy())
    envs = [Envelope(b'{"id":"bug"}', "t:1"), Envelope(b'{"id":"flaky"}', "t:2")]
    summary = run_inline(envs, proc)
    assert summary.counts == {"dead_letter": 1, "decided": 1}
    (row,) = PipelineLedger(tmp_db).dead_letters()
    assert row["reason_code"] == "internal_error"
    assert row["reason"].startswith("ValueError: boom (at test_pipeline.py:")
    assert effects(tmp_db) == {"flaky": 1}
