"""Exchange sync against a fake StopNCII server that follows the documented API: full and
incremental sync, withdrawals, Retry-After, auth errors, malformed pages, expired tokens,
feedback queueing and retries, snapshot files, credentials never stored."""

from __future__ import annotations

import json
import os
import time

import pytest

pytest.importorskip("threatexchange")

from gardefou.banks import BankService
from gardefou.errors import ConfigError, ExchangeAuthError, ExchangeError
from gardefou.exchanges import ExchangeService, feedback
from gardefou.store import connect
from gardefou.testing.fake_stopncii import FakeStopNCII, fake_pdq

ENV = "GARDEFOU_EXCHANGE_SNCII_CREDENTIALS"


@pytest.fixture
def fake():
    f = FakeStopNCII(1000, video_every=10)
    f.url = f.start()
    yield f
    f.stop()


@pytest.fixture
def svc(tmp_db, tmp_path, fake, monkeypatch) -> ExchangeService:
    monkeypatch.setenv(ENV, fake.credentials)
    ex = ExchangeService(BankService(tmp_db, index_dir=tmp_path / "index"))
    ex.add("sncii", kind="stopncii", bank="victim-sncii", url=fake.url, config={"page_size": 300})
    return ex


def live_pdqs(svc: ExchangeService) -> list[str]:
    return sorted(e.pdq for e in svc.banks.list_entries("victim-sncii"))


def expected(fake: FakeStopNCII) -> tuple[list[str], int]:
    state = fake.state()
    pdq = sorted(v for v, s in state.items() if s == "Active" and len(v) == 64)
    video = sum(1 for v, s in state.items() if s == "Active" and len(v) == 32)
    return pdq, video


def test_full_then_incremental_sync_exact_counts(svc: ExchangeService, fake) -> None:
    r = svc.fetch("sncii")
    pdq, video = expected(fake)
    assert (r.pages, r.added, r.complete) == (4, 1000, True)
    assert r.other_kept == {"video_md5": video} and video == 100
    assert live_pdqs(svc) == pdq
    first = svc.banks.list_entries("victim-sncii")[0]
    assert first.source == "exchange:sncii" and first.quality == 100
    assert svc.provenance([first.id]) == {first.id: "sncii"}
    # incremental: only what changed since the checkpoint is asked for and stored
    fake.add(fake_pdq(5000))
    fake.requests.clear()
    r2 = svc.fetch("sncii")
    assert r2.added == 1 and r2.pages == 1
    assert fake.requests[0]["query"]["startTimestamp"] == str(100 + 999)
    assert live_pdqs(svc) == expected(fake)[0]
    status = svc.status("sncii")
    assert status["signals"]["active"] == {"pdq": 901, "video_md5": 100}
    assert status["bank_other_signals"] == {"video_md5": 100}
    assert "fetch-key" not in json.dumps(status)  # the secret is never stored nor shown


def test_withdrawn_hash_stops_matching_on_the_next_query(svc: ExchangeService, fake, db_url):
    svc.fetch("sncii")
    h = fake_pdq(3)
    other_db = connect(db_url)
    other_process = BankService(other_db, index_dir=False)  # another worker's view
    assert [m.bank for m in svc.banks.match(h)] == ["victim-sncii"]
    assert len(other_process.match(h)) == 1
    fake.add(h, "Withdrawn")
    fake.add(fake_pdq(7), "Deleted")
    r = svc.fetch("sncii")
    assert r.withdrawn == 2
    assert svc.banks.match(h) == [] and other_process.match(h) == []
    assert svc.banks.match(fake_pdq(7)) == []
    fake.add(h, "Active")  # a re-submitted hash comes back, once
    assert svc.fetch("sncii").reactivated == 1
    assert len(svc.banks.match(h)) == 1 and live_pdqs(svc) == expected(fake)[0]
    other_db.close()


def test_retry_after_is_honoured(svc: ExchangeService, fake) -> None:
    fake.inject(429, b'{"message": "slow down"}', {"Retry-After": "1"})
    started = time.monotonic()
    r = svc.fetch("sncii")
    assert time.monotonic() - started >= 1.0
    assert r.added == 1000 and live_pdqs(svc) == expected(fake)[0]


def test_server_errors_back_off_then_give_up_keeping_the_checkpoint(svc, fake) -> None:
    sleeps: list[float] = []
    svc.fetch("sncii", max_pages=1)
    cp = svc.get("sncii").checkpoint
    fake.inject(500, b"hiccup")  # 5xx and 429: the library's session retries them itself
    for _ in range(3):  # a status it does not retry comes back to gardefou's backoff
        fake.inject(408, b"timeout")
    with pytest.raises(ExchangeError, match="gave up after 3 attempts"):
        svc.fetch("sncii", max_attempts=3, backoff=0.5, sleep=sleeps.append)
    assert sleeps == [0.5, 1.0]
    assert svc.get("sncii").checkpoint == cp and "gave up" in svc.get("sncii").last_error
    fake.injected.clear()
    svc.fetch("sncii")
    assert live_pdqs(svc) == expected(fake)[0]


def test_auth_error_is_typed_and_not_retried(svc: ExchangeService, fake, monkeypatch) -> None:
    monkeypatch.setenv(ENV, "wrong,sub-key")
    sleeps: list[float] = []
    with pytest.raises(ExchangeAuthError, match="HTTP 401"):
        svc.fetch("sncii", sleep=sleeps.append)
    assert sleeps == [] and svc.get("sncii").checkpoint == {}
    monkeypatch.delenv(ENV)
    with pytest.raises(ExchangeAuthError, match=ENV):
        svc.fetch("sncii")


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b'{"hashRecords": []}', b"[1, 2]", b'{"hasMoreRecords": "yes"}'],
)
def test_malformed_page_stores_nothing_of_it(svc: ExchangeService, fake, body: bytes) -> None:
    svc.fetch("sncii", max_pages=2)
    assert len(live_pdqs(svc)) + 60 == 600  # 600 records, 60 of them video
    cp = svc.get("sncii").checkpoint
    fake.inject(200, body)
    with pytest.raises(ExchangeError, match="malformed"):
        svc.fetch("sncii", max_attempts=1)
    assert svc.get("sncii").checkpoint == cp and len(live_pdqs(svc)) == 540
    r = svc.fetch("sncii")
    assert r.added == 400 and live_pdqs(svc) == expected(fake)[0]


def test_malformed_records_are_counted_not_fatal(svc: ExchangeService, fake) -> None:
    fake.n = 0
    fake.extra += [
        {"signalType": "ImagePDQ", "hashValue": "zz", "hashStatus": "Active"},
        {"signalType": "ImagePDQ", "hashStatus": "Active"},
        {"lastModtimestamp": 1, "signalType": "VideoPDQ", "hashValue": "abc", "hashStatus": "X"},
        {"lastModtimestamp": 2, "signalType": "ImagePDQ", "hashValue": fake_pdq(1),
         "hashStatus": "Active"},
    ]  # fmt: skip
    r = svc.fetch("sncii")
    assert r.malformed == 2 and r.added == 2
    assert r.other_kept == {"stopncii_videopdq": 1}  # an unknown type: kept, not dropped


def test_expired_page_token_restarts_the_run(svc: ExchangeService, fake) -> None:
    svc.fetch("sncii", max_pages=1)
    assert svc.get("sncii").checkpoint["page_token"] == "300"
    fake.inject(400, b'{"message": "page token expired"}')
    r = svc.fetch("sncii")
    assert r.complete and live_pdqs(svc) == expected(fake)[0]
    assert r.unchanged == 300  # page one seen again: nothing stored twice


def test_feedback_is_queued_retried_and_sent(svc: ExchangeService, fake) -> None:
    svc.fetch("sncii")
    entry = svc.banks.match(fake_pdq(1))[0].entry_id
    assert feedback.record_matches(svc.db, [entry, 10**9]) == 1  # unknown id: skipped, no raise
    assert svc.queue_feedback(entry, "blocked", ["reviewed"]) is not None
    fake.inject(503, b"busy", {"Retry-After": "120"})
    clock = [1000.0]
    out = svc.push_feedback(clock=lambda: clock[0])
    assert out == {"sent": 0, "rescheduled": 2, "failed": 0}
    assert svc.push_feedback(clock=lambda: clock[0] + 60)["sent"] == 0  # not due yet
    out = svc.push_feedback(clock=lambda: clock[0] + 121)
    assert out["sent"] == 2
    assert [f["feedbackValue"] for f in fake.feedback] == ["Blocked"]  # the latest opinion
    assert fake.feedback[0]["tags"] == ["reviewed"]
    assert svc.status("sncii")["feedback"] == {"sent": 2}
    with pytest.raises(ConfigError, match="verdict"):
        svc.queue_feedback(entry, "maybe")


def test_credentials_are_references_and_secret_files_must_be_private(
    tmp_db, tmp_path, fake
) -> None:
    ex = ExchangeService(BankService(tmp_db, index_dir=False))
    with pytest.raises(ConfigError, match="must be a reference"):
        ex.add("x", kind="stopncii", bank="b", credentials="fetch-key,sub-key")
    secret = tmp_path / "keys"
    secret.write_text(fake.credentials)
    os.chmod(secret, 0o644)
    ex.add("x", kind="stopncii", bank="victim-x", url=fake.url, credentials=f"file:{secret}")
    with pytest.raises(ExchangeAuthError, match="chmod 600"):
        ex.fetch("x")
    os.chmod(secret, 0o600)
    assert ex.fetch("x").added == 1000


def test_file_snapshot_exchange_withdraws_what_disappears(tmp_db, tmp_path) -> None:
    ex = ExchangeService(BankService(tmp_db, index_dir=False))
    path = tmp_path / "signals.txt"
    path.write_text("".join(f"pdq {fake_pdq(i)}\n" for i in range(5)) + "video_md5 " + "a" * 32)
    ex.add("partner", kind="file", bank="partner", url=str(path))
    r = ex.fetch("partner")
    assert r.added == 6 and r.other_kept == {"video_md5": 1}
    assert ex.fetch("partner").pages == 1  # unchanged file: nothing to do
    path.write_text("".join(f"pdq {fake_pdq(i)}\n" for i in range(1, 6)))
    r = ex.fetch("partner")
    assert (r.added, r.withdrawn) == (1, 2)
    assert ex.banks.match(fake_pdq(0)) == [] and len(ex.banks.match(fake_pdq(5))) == 1
    assert ex.status("partner")["bank_other_signals"] == {}


def test_remove_keeps_or_removes_entries(svc: ExchangeService) -> None:
    svc.fetch("sncii")
    assert svc.remove("sncii", keep_entries=False) == 900
    assert svc.banks.match(fake_pdq(0)) == [] and svc.list() == []


def test_public_surface() -> None:
    import gardefou.exchanges as ex

    assert sorted(ex.__all__) == ["Exchange", "ExchangeService", "FetchReport", "KINDS"]
    assert ex.KINDS == ("stopncii", "ncmec", "threatexchange", "file")
