"""NCMEC exchange against a fake NCMEC v2 XML API (python-threatexchange's NCMECHashAPI):
full sync, deletions by tombstone, resume mid-range, expired paging, auth and bad XML, and the
CLI end to end."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("threatexchange")

import gardefou.cli.commands_exchange  # noqa: F401 - registers the commands
from gardefou.banks import BankService
from gardefou.cli.main import cli
from gardefou.errors import ExchangeAuthError, ExchangeError
from gardefou.exchanges import ExchangeService
from gardefou.testing.fake_ncmec import FakeNCMEC
from gardefou.testing.fake_stopncii import fake_pdq

ENV = "GARDEFOU_EXCHANGE_NCMEC_CREDENTIALS"


@pytest.fixture
def fake():
    f = FakeNCMEC(350)
    f.url = f.start()
    yield f
    f.stop()


@pytest.fixture
def svc(tmp_db, fake, monkeypatch) -> ExchangeService:
    monkeypatch.setenv(ENV, fake.credentials)
    ex = ExchangeService(BankService(tmp_db, index_dir=False))
    ex.add("ncmec", kind="ncmec", bank="ncmec", url=fake.url, config={"lag": 0})
    return ex


def live(svc: ExchangeService) -> set[str]:
    return {e.pdq for e in svc.banks.list_entries("ncmec")}


def test_full_sync_then_tombstones_withdraw(svc: ExchangeService, fake) -> None:
    r = svc.fetch("ncmec")
    assert r.complete and r.pages == 4 and live(svc) == fake.live_pdqs()
    assert r.other_kept == {"md5": 350, "ncmec_pdna": 70}
    fake.delete("E5")
    r = svc.fetch("ncmec")
    assert r.withdrawn == 3  # its pdq, md5 and pdna
    assert svc.banks.match(fake_pdq(5, "ncmec")) == [] and live(svc) == fake.live_pdqs()


def test_resume_mid_range_and_expired_paging(svc: ExchangeService, fake) -> None:
    svc.fetch("ncmec", max_pages=1)
    cp = svc.get("ncmec").checkpoint
    assert cp["next"].startswith("/v2/entries?") and "window_end" in cp
    svc.fetch("ncmec", max_pages=1)  # resumes from the stored next page
    assert len(live(svc)) == 200
    fake.injected.append((400, b"<error>paging expired</error>"))
    r = svc.fetch("ncmec")  # the range restarts; pages already stored change nothing
    assert r.complete and r.unchanged > 0 and live(svc) == fake.live_pdqs()


def test_auth_and_malformed_xml(svc: ExchangeService, fake, monkeypatch) -> None:
    fake.injected.append((200, b"<queryResult><images maxTimestamp='x'><image/>"))
    with pytest.raises(ExchangeError, match="malformed"):
        svc.fetch("ncmec", max_attempts=1)
    assert svc.get("ncmec").checkpoint == {} and live(svc) == set()
    monkeypatch.setenv(ENV, "esp:wrong")
    with pytest.raises(ExchangeAuthError, match="HTTP 401"):
        svc.fetch("ncmec")
    monkeypatch.setenv(ENV, "no-colon")
    with pytest.raises(ExchangeAuthError, match="username:password"):
        svc.fetch("ncmec")


def test_cli_add_fetch_status_remove(tmp_path, fake, monkeypatch) -> None:
    monkeypatch.setenv(ENV, fake.credentials)
    db = str(tmp_path / "g.db")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--db", db, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    added = json.loads(run("exchange", "add", "ncmec", "--kind", "ncmec", "--url", fake.url))
    assert added["credentials"] == f"env:{ENV}" and "secret" not in json.dumps(added)
    report = json.loads(run("exchange", "fetch", "ncmec").splitlines()[-1])
    assert report["added"] == 770 and report["complete"]
    status = json.loads(run("exchange", "status", "ncmec"))
    assert status["bank_entries"]["entries"] == 350
    assert [json.loads(x)["name"] for x in run("exchange", "list").splitlines()] == ["ncmec"]
    out = json.loads(run("exchange", "remove", "ncmec", "--remove-entries"))
    assert out["entries_removed"] == 350
