"""Redis Streams consumer groups: ack after commit, crash recovery, poison isolation.

Needs GARDEFOU_TEST_REDIS_URL (``eval "$(scripts/start-services.sh)"``); the store side runs on
SQLite and, when GARDEFOU_TEST_PG_URL is set, PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from gardefou.pipeline import Metrics, PipelineLedger, Processor
from gardefou.pipeline.metrics import serve_metrics
from gardefou.pipeline.sources import IngestHandler, iter_jsonl
from gardefou.pipeline.streams import RedisStream, StreamWorker
from gardefou.store import connect
from gardefou.testing.fake_pipeline import RecordingDecider, write_stream
from gardefou.testing.faults import CRASH_EXIT_CODE

pytestmark = pytest.mark.redis


@pytest.fixture
def stream(redis_url: str):
    rs = RedisStream(redis_url, f"gardefou:test:{uuid.uuid4().hex[:10]}", "deciders")
    yield rs
    rs.delete()
    rs.close()


def stream_args(stream: RedisStream) -> list[str]:
    """The CLI options that name ``stream`` (its Redis, stream key and consumer group)."""
    return ["--redis", stream.url, "--stream", stream.stream, "--group", stream.group]


def effects(db) -> dict[str, int]:
    rows = db.query("SELECT event_id, COUNT(*) AS n FROM pipeline_fake_effects GROUP BY event_id")
    return {r["event_id"]: int(r["n"]) for r in rows}


def test_workers_starting_together_all_get_the_effects_table(db_url: str):
    """Regression: the fake decider created its table inside the first event's transaction, and
    two workers starting together on PostgreSQL lost one event to the catalog's unique
    violation (dead-lettered as internal_error, so the crash test counted 299 of 300)."""
    import threading

    n = 4
    barrier, errors = threading.Barrier(n), []

    def start() -> None:
        db = connect(db_url)
        try:
            barrier.wait()
            Processor(db, RecordingDecider())  # binds: creates the table
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))
        finally:
            db.close()

    threads = [threading.Thread(target=start) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = connect(db_url)
    assert effects(db) == {}
    db.close()


def test_poison_events_flow_to_dead_letters(stream: RedisStream, tmp_db, tmp_path: Path):
    """5% corrupt media and some oversized events: the stream keeps flowing, every good event is
    decided once, every bad one is in the dead-letter store with its reason, nothing is left
    pending."""
    src, expected = write_stream(tmp_path / "s", 200, corrupt_every=20, oversized_every=45)
    pushed, _ = stream.push_source(iter_jsonl([src]))
    assert pushed == 200
    worker = StreamWorker(
        stream,
        Processor(tmp_db, RecordingDecider(), max_event_bytes=64_000),
        consumer="c1",
        block_ms=50,
        metrics=Metrics(),
    )
    summary = worker.run(until_idle=True)
    good = {k for k, v in expected.items() if v == "decided"}
    assert summary.counts == {"decided": len(good), "dead_letter": 200 - len(good)}
    assert sum(v == "media_corrupt" for v in expected.values()) == 10  # 5%
    assert effects(tmp_db) == dict.fromkeys(good, 1)
    dead = {r["event_id"]: r["reason_code"] for r in PipelineLedger(tmp_db).dead_letters(500)}
    assert dead == {k: v for k, v in expected.items() if v != "decided"}
    assert stream.pending_count() == 0 and stream.backlog() == 0
    assert "gardefou_stream_backlog 0" in worker.metrics.render()


def test_redelivered_poison_is_dead_lettered_after_max_deliveries(stream: RedisStream, tmp_db):
    stream.r.xadd(stream.stream, {"event": b'{"id":"p1","text":"hi"}', "received_at": b"0"})
    stream.r.xreadgroup(stream.group, "ghost", {stream.stream: ">"}, count=1)
    msg_id = stream.r.xpending_range(stream.stream, stream.group, "-", "+", 1)[0]["message_id"]
    for _ in range(3):  # three more deliveries that never got acknowledged
        stream.r.xclaim(stream.stream, stream.group, "ghost", 0, [msg_id])
    worker = StreamWorker(
        stream,
        Processor(tmp_db, RecordingDecider()),
        "c1",
        block_ms=50,
        claim_idle_ms=1,
        max_deliveries=3,
    )
    time.sleep(0.01)
    summary = worker.run(until_idle=True)
    assert summary.counts == {"dead_letter": 1}
    (row,) = PipelineLedger(tmp_db).dead_letters()
    assert row["reason_code"] == "retries_exhausted" and "delivered 5 times" in row["reason"]
    assert stream.pending_count() == 0


def test_ingest_handler_stream_backpressure(stream: RedisStream):
    h = IngestHandler(stream=stream, max_backlog=3)
    status, body, _ = h.handle(b'{"id":"a"}\n{"id":"b"}\n')
    assert status == 202 and body["accepted"] == 2
    status, body, headers = h.handle(b'{"id":"c"}\n{"id":"d"}\n')
    assert status == 429 and headers["Retry-After"] and "backlog is 2" in body["message"]


def test_metrics_endpoint():
    m = Metrics()
    m.inc("hits_total", "Hits.")
    server = serve_metrics(m, 0)
    port = server.server_address[1]  # type: ignore[attr-defined]
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            assert "gardefou_hits_total 1" in resp.read().decode()
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]


def _worker(
    db_url: str,
    stream: RedisStream,
    consumer: str,
    claim_ms: int,
    until_idle: bool = True,
    crash_after: int | None = None,
) -> subprocess.Popen:
    env = dict(os.environ, GARDEFOU_FAKE_DECIDE_MS="8")
    until = ["--until-idle"] if until_idle else []
    fault = (
        f"from gardefou.testing.faults import install_crash_after_commits; "
        f"install_crash_after_commits({crash_after}); "
        if crash_after
        else ""
    )
    cmd = [
        sys.executable,
        "-c",
        f"{fault}from gardefou.cli.main import main; main()",
        "--db",
        db_url,
        "stream",
        "work",
        *stream_args(stream),
        "--consumer",
        consumer,
        *until,
        "--batch",
        "8",
        "--block-ms",
        "100",
        "--claim-idle-ms",
        str(claim_ms),
        "--json",
        "--decider",
        "gardefou.testing.fake_pipeline:recording_decider",
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_kill_9_mid_batch_then_restart_decides_each_event_exactly_once(
    stream: RedisStream, db_url: str, tmp_path: Path
):
    """Acceptance: kill -9 a worker mid-batch and restart: every event decided exactly once in the
    store (side effects included), none lost, none duplicated."""
    n = 300
    src, _ = write_stream(tmp_path / "s", n)
    assert stream.push_source(iter_jsonl([src]))[0] == n
    db = connect(db_url)
    ledger = PipelineLedger(db)
    # w0 dies right after committing its 25th decision, before acknowledging the batch;
    # w1 is killed with SIGKILL at an arbitrary point once 120 events are decided.
    # (no claiming between them in this phase: w0's unacknowledged batch stays w0's)
    w0 = _worker(db_url, stream, "w0", claim_ms=60_000, crash_after=25)
    w1 = _worker(db_url, stream, "w1", claim_ms=60_000)
    deadline = time.time() + 120
    while ledger.count() < 120 and time.time() < deadline:
        time.sleep(0.02)
    os.kill(w1.pid, signal.SIGKILL)
    err0 = w0.communicate(timeout=120)[1]
    assert w0.returncode == CRASH_EXIT_CODE, err0
    w1.communicate(timeout=30)
    assert w1.returncode == -signal.SIGKILL
    assert stream.pending_count() > 0  # messages taken but never acknowledged
    decided_before = ledger.count()
    assert decided_before < n
    # restart w0 under its name (re-reads its own pending history) and a fresh w2 (claims w1's
    # stale messages after --claim-idle-ms)
    w0b = _worker(db_url, stream, "w0", claim_ms=1500)
    w2 = _worker(db_url, stream, "w2", claim_ms=1500)
    outs = [p.communicate(timeout=180) for p in (w0b, w2)]
    assert [p.returncode for p in (w0b, w2)] == [0, 0], outs
    assert ledger.count() == n
    counts = effects(db)
    assert len(counts) == n and set(counts.values()) == {1}, "an event's effects ran twice or never"
    assert ledger.dead_letters() == []
    assert stream.pending_count() == 0 and stream.backlog() == 0
    # the committed-but-unacknowledged messages came back and were recognised, not re-decided
    import json

    restarted = [json.loads(o[0].splitlines()[-1]) for o in outs]
    assert sum(r["by_status"].get("duplicate", 0) for r in restarted) >= 1
    assert sum(r["by_status"].get("decided", 0) for r in restarted) == n - decided_before
    db.close()


def test_stream_cli_push_work_status_metrics(stream: RedisStream, tmp_path: Path):
    import json

    from click.testing import CliRunner

    from gardefou.cli import commands_pipeline  # noqa: F401
    from gardefou.cli.main import cli

    src, _ = write_stream(tmp_path / "s", 12, corrupt_every=6)
    db = str(tmp_path / "cli.db")
    common = stream_args(stream)
    r = CliRunner().invoke(cli, ["stream", "push", str(src), *common])
    assert r.exit_code == 0 and "pushed 12 event(s)" in r.output, r.output
    status = json.loads(CliRunner().invoke(cli, ["stream", "status", *common]).output)
    assert status["length"] == 12 and status["backlog"] == 12
    r = CliRunner().invoke(
        cli,
        [
            "--db",
            db,
            "stream",
            "work",
            *common,
            "--until-idle",
            "--json",
            "--block-ms",
            "50",
            "--decider",
            "gardefou.testing.fake_pipeline:recording_decider",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["by_status"] == {"decided": 10, "dead_letter": 2}
    r = CliRunner().invoke(
        cli,
        [
            "--db",
            db,
            "metrics",
            *stream_args(stream),
        ],
    )
    assert "gardefou_stream_backlog 0" in r.output
    assert 'gardefou_store_dead_letters{reason="media_corrupt"} 2' in r.output


def test_sigterm_stops_a_worker_cleanly(stream: RedisStream, tmp_path: Path):
    import json

    src, _ = write_stream(tmp_path / "s", 400)
    stream.push_source(iter_jsonl([src]))
    db_url = str(tmp_path / "t.db")
    db = connect(db_url)
    w = _worker(db_url, stream, "t0", claim_ms=60_000, until_idle=False)  # runs until told
    deadline = time.time() + 60
    while PipelineLedger(db).count() < 20 and time.time() < deadline:
        time.sleep(0.02)
    w.send_signal(signal.SIGTERM)
    out, err = w.communicate(timeout=30)
    assert w.returncode == 0, err
    decided = json.loads(out.splitlines()[-1])["by_status"]["decided"]
    # everything it decided is acknowledged; what it had not started stays for the next worker
    assert PipelineLedger(db).count() == decided < 400
    assert stream.backlog() == 400 - decided
    db.close()
