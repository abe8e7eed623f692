"""ThreatExchange (Graph API threat_updates) against a fake server: full sync, deletions,
resume mid-range without storing the token, 429 with Retry-After, OAuth errors."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("threatexchange")

from gardefou.banks import BankService
from gardefou.errors import ConfigError, ExchangeAuthError
from gardefou.exchanges import ExchangeService
from gardefou.testing.fake_threatexchange import FakeThreatExchange

ENV = "GARDEFOU_EXCHANGE_TE_CREDENTIALS"


@pytest.fixture
def fake():
    f = FakeThreatExchange(260)
    f.start()
    yield f
    f.stop()


@pytest.fixture
def svc(tmp_db, fake, monkeypatch) -> ExchangeService:
    monkeypatch.setenv(ENV, fake.token)
    ex = ExchangeService(BankService(tmp_db, index_dir=False))
    ex.add("te", kind="threatexchange", bank="te", url=fake.url,
           config={"privacy_group": fake.group, "lag": 0})  # fmt: skip
    return ex


def live(svc: ExchangeService) -> set[str]:
    return {e.pdq for e in svc.banks.list_entries("te")}


def test_sync_deletions_and_token_never_stored(svc: ExchangeService, fake) -> None:
    svc.fetch("te", max_pages=1)
    cp = svc.get("te").checkpoint
    assert "next" in cp and "access_token" not in cp["next"]
    assert fake.token not in json.dumps(svc.status("te"))
    r = svc.fetch("te")  # resumes from the stored page, token added back
    assert r.complete and live(svc) == fake.live_pdqs()
    assert svc.status("te")["bank_other_signals"] == {"md5": 65}
    fake.delete(0)
    assert svc.fetch("te").withdrawn == 1 and live(svc) == fake.live_pdqs()


def test_retry_after_and_oauth_errors(svc: ExchangeService, fake, monkeypatch) -> None:
    fake.injected.append((429, b'{"error": {"code": 4}}', {"Retry-After": "2"}))
    sleeps: list[float] = []
    r = svc.fetch("te", sleep=sleeps.append)
    assert sleeps == [2.0] and r.retries == 1 and live(svc) == fake.live_pdqs()
    monkeypatch.setenv(ENV, "1234567890|" + "b" * 24)
    with pytest.raises(ExchangeAuthError, match="HTTP 400"):
        svc.fetch("te")
    monkeypatch.setenv(ENV, "not-a-token")
    with pytest.raises(ExchangeAuthError, match="APP_ID"):
        svc.fetch("te")


def test_privacy_group_is_required(tmp_db, fake, monkeypatch) -> None:
    monkeypatch.setenv("GARDEFOU_EXCHANGE_X_CREDENTIALS", fake.token)
    ex = ExchangeService(BankService(tmp_db, index_dir=False))
    ex.add("x", kind="threatexchange", bank="x", url=fake.url)
    with pytest.raises(ConfigError, match="privacy-group"):
        ex.fetch("x")
