"""kill -9 in the middle of `gardefou exchange fetch`, again and again, then resume: exactly
the exchange's set in the bank, nothing lost, nothing twice, withdrawals applied."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("threatexchange")

from gardefou.banks import BankService
from gardefou.exchanges import ExchangeService
from gardefou.store import connect
from gardefou.testing.fake_stopncii import FakeStopNCII, fake_pdq

SRC = str(Path(__file__).resolve().parent.parent / "src")


def test_kill_9_mid_fetch_then_resume_exact_counts(tmp_path) -> None:
    # a page every 0.1 s at least: a full fetch takes ~4 s, so every round is cut mid-fetch even
    # on a fast machine (with 0.02 s the fetch could finish before the first kill)
    fake = FakeStopNCII(6000, video_every=7, delay=0.1)
    url = fake.start()
    db_path = str(tmp_path / "g.db")
    svc = ExchangeService(BankService(connect(db_path), index_dir=tmp_path / "idx"))
    svc.add("sncii", kind="stopncii", bank="victim-sncii", url=url, config={"page_size": 150})
    env = {
        **os.environ,
        "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "GARDEFOU_EXCHANGE_SNCII_CREDENTIALS": fake.credentials,
        "GARDEFOU_BANK_INDEX_DIR": str(tmp_path / "idx"),
    }
    main = "from gardefou.cli.main import main; main()"
    cmd = [sys.executable, "-c", main, "--db", db_path, "exchange", "fetch"]
    rng = random.Random(16)
    kills = 0
    try:
        for round_ in range(4):
            proc = subprocess.Popen([*cmd, "--quiet"], env=env, stdout=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.8, 2.0))  # some pages in, one mid-flight
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            # the exchange moves on meanwhile: withdrawals of seen and unseen hashes
            fake.add(fake_pdq(round_ * 10), "Withdrawn")
            fake.add(fake_pdq(5990 - round_), "Withdrawn")
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    finally:
        fake.stop()
    assert kills >= 2  # the test did interrupt fetches
    state = fake.state()
    want = sorted(v for v, s in state.items() if s == "Active" and len(v) == 64)
    videos = sum(1 for v, s in state.items() if s == "Active" and len(v) == 32)
    db = connect(db_path)
    live = db.query(
        "SELECT pdq, COUNT(*) AS n FROM bank_entries WHERE removed_at IS NULL GROUP BY pdq"
    )
    assert all(r["n"] == 1 for r in live)  # nothing stored twice
    assert sorted(r["pdq"] for r in live) == want  # nothing lost, withdrawals applied
    kept = db.query_one("SELECT COUNT(*) AS n FROM bank_other_signals WHERE removed_at IS NULL")
    assert kept is not None and kept["n"] == videos
    rows = db.query_one("SELECT COUNT(*) AS n FROM exchange_signals")
    assert rows is not None and rows["n"] == len(state)
    after = BankService(db, index_dir=tmp_path / "idx")
    assert after.match(fake_pdq(0)) == [] and len(after.match(fake_pdq(1))) == 1
    db.close()
