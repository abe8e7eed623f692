"""Anonymous submission limits under concurrency: requests from one address racing on
separate connections (as separate web workers do) never get past the limit together.

Before the fix, on PostgreSQL (READ COMMITTED) every racer counted the submissions committed
so far, found room, and inserted: eight racers against a limit of three all got in.
"""

from __future__ import annotations

import random
import threading

import pytest

from gardefou.banks import BankService
from gardefou.banks.review import SubmissionLimits, submitter_key
from gardefou.errors import RateLimitError, StoreError
from gardefou.store import connect

RACERS = 8


def _race(db_url: str, limits: SubmissionLimits, hashes: int, monkeypatch) -> list[str]:
    """RACERS threads, each on its own connection, submit at once from one address; returns
    each one's outcome ("ok" or "limited")."""
    setup = connect(db_url)
    BankService(setup, index_dir=False).create_bank("victims")
    setup.close()
    original = BankService.check_submission_limits

    def slow_check(self, *args, **kwargs):
        # widen the window between the count and the insert, as a loaded server does, so the
        # race shows on every run instead of now and then
        original(self, *args, **kwargs)
        threading.Event().wait(0.05)

    monkeypatch.setattr(BankService, "check_submission_limits", slow_check)
    who = submitter_key("203.0.113.77")
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def racer(i: int) -> None:
        db = connect(db_url)
        try:
            svc = BankService(db, index_dir=False)
            rng = random.Random(i)
            batch = ["".join(rng.choice("0123456789abcdef") for _ in range(64))] * hashes
            barrier.wait()
            try:
                svc.submit_hashes("victims", batch, submitter=who, limits=limits)
                outcomes.append("ok")
            except RateLimitError:
                outcomes.append("limited")
        except Exception as exc:  # noqa: BLE001 - surfaced below: a failed thread fails the test
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    check = connect(db_url)
    stored = check.query_one(
        "SELECT COUNT(*) AS n, SUM(hashes) AS h FROM bank_submissions WHERE submitter = ?",
        (who,),
    )
    check.close()
    assert stored is not None
    assert outcomes.count("ok") == int(stored["n"])
    return outcomes


def test_concurrent_submissions_never_exceed_the_hourly_limit(db_url, monkeypatch) -> None:
    limits = SubmissionLimits(max_hashes=4, per_hour=3, per_day=20, hashes_per_day=200)
    outcomes = _race(db_url, limits, 1, monkeypatch)
    assert outcomes.count("ok") == 3 and outcomes.count("limited") == RACERS - 3


def test_concurrent_submissions_never_exceed_the_daily_hash_limit(db_url, monkeypatch) -> None:
    limits = SubmissionLimits(max_hashes=4, per_hour=50, per_day=50, hashes_per_day=10)
    outcomes = _race(db_url, limits, 4, monkeypatch)  # 4 + 4 fit in 10, a third does not
    assert outcomes.count("ok") == 2 and outcomes.count("limited") == RACERS - 2


def test_the_submitter_lock_needs_a_transaction(tmp_db) -> None:
    """A lock taken outside a transaction would be released at once and guard nothing."""
    with pytest.raises(StoreError, match=r"inside db\.transaction"):
        tmp_db.lock("submitter:x")
    with tmp_db.transaction():
        tmp_db.lock("submitter:x")


@pytest.mark.postgres
def test_the_lock_holds_up_one_address_only(pg_url, monkeypatch) -> None:
    """Requests from different addresses do not wait on each other's lock (PostgreSQL: on
    SQLite every write transaction is serialized anyway)."""
    setup = connect(pg_url)
    BankService(setup, index_dir=False).create_bank("victims")
    setup.close()
    original = BankService.check_submission_limits

    # every racer must be inside its locked section at the same time to pass this second
    # barrier: were different addresses serialized, the first would wait here holding its
    # lock, the others would wait for that lock, and the barrier would break (no timing)
    inside = threading.Barrier(RACERS, timeout=30)

    def meet_inside(self, *args, **kwargs):
        original(self, *args, **kwargs)
        inside.wait()

    monkeypatch.setattr(BankService, "check_submission_limits", meet_inside)
    barrier = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def racer(i: int) -> None:
        db = connect(pg_url)
        try:
            barrier.wait()
            BankService(db, index_dir=False).submit_hashes(
                "victims", ["%064x" % (i + 1)], submitter=submitter_key(f"203.0.113.{i}")
            )
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, f"different addresses were serialized: {errors}"
