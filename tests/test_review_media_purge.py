"""Review images are kept only while a person must see them: deleted when the case is actioned
or closed, and purged on a schedule (serve, pipeline workers, `gardefou cases purge`), not
only when someone happens to open a case."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from gardefou.cases.review_media import PurgeSchedule, purge_review_media
from tests.test_web_cases import Fake, event
from tests.web_support import make_web, web_deciding_with


@pytest.fixture
def web(tmp_path, db_url):
    yield from web_deciding_with(tmp_path, db_url, Fake())


def _kept(db) -> list[str]:
    return [r["event_id"] for r in db.query("SELECT event_id FROM review_media ORDER BY id")]


def _row(db, event_id: str, expires_at: float, sha: str = "a" * 64) -> None:
    db.execute(
        "INSERT INTO review_media (event_id, sha256, data, stored_at, expires_at) "
        "VALUES (?,?,?,?,?)",
        (event_id, sha, b"x", time.time(), expires_at),
    )


def test_actioned_case_image_is_deleted_at_once(web) -> None:
    """Before: the unblurred original of an actioned case stayed revealable for 30 days."""
    c = web.client
    case_id = c.post("/v1/decisions", json=event("e1", "review"), headers=web.h("platform")).json()[
        "case_id"
    ]
    url = c.get(f"/v1/cases/{case_id}", headers=web.h("moderator")).json()["media"][0]["url"]
    assert c.get(url + "?reveal=true", headers=web.h("moderator")).status_code == 200
    r = c.post(
        f"/v1/cases/{case_id}/decisions",
        json={"action": "remove", "note": "confirmed"},
        headers=web.h("moderator"),
    )
    assert r.status_code == 200 and r.json()["status"] == "actioned", r.text
    assert _kept(web.app.state.services.db) == []
    assert c.get(url + "?reveal=true", headers=web.h("moderator")).status_code == 404


def test_purge_keeps_only_what_a_person_still_needs(web) -> None:
    c, db = web.client, web.app.state.services.db
    c.post("/v1/decisions", json=event("e1", "review"), headers=web.h("platform"))
    c.post("/v1/decisions", json=event("e2", "minor"), headers=web.h("platform"))  # 4 eyes
    db.execute("UPDATE cases SET status = 'actioned' WHERE event_id = 'e2'")  # e.g. by an import
    now = time.time()
    _row(db, "e1", now - 1, sha="b" * 64)  # pending case, expired
    _row(db, "e2", now + 3600)  # actioned case: not needed
    _row(db, "gone", now + 3600)  # no case at all
    assert sorted(_kept(db)) == ["e1", "e1", "e2", "e2", "gone"]
    assert purge_review_media(db, now) == 4
    assert _kept(db) == ["e1"]


def test_serve_purges_at_start_up(tmp_path, db_url) -> None:
    w = make_web(tmp_path, db_url)
    db = w.app.state.services.db
    _row(db, "orphan", time.time() + 3600)
    with TestClient(w.app):  # runs the lifespan: one purge before serving
        assert _kept(db) == []
    db.close()


def test_schedule_is_throttled_and_never_raises(tmp_db, caplog) -> None:
    t = [100.0]
    schedule = PurgeSchedule(interval=60, clock=lambda: t[0])
    _row(tmp_db, "orphan", time.time() + 3600)
    assert schedule.maybe(tmp_db) == 1
    _row(tmp_db, "orphan2", time.time() + 3600)
    assert schedule.maybe(tmp_db) is None  # within the interval
    t[0] += 61
    assert schedule.maybe(tmp_db) == 1

    class Broken:
        def execute(self, *a):
            raise RuntimeError("database is locked")

    t[0] += 61
    with caplog.at_level("WARNING"):
        assert schedule.maybe(Broken()) is None
    assert "database is locked" in caplog.text


def test_pipeline_workers_purge(tmp_db, tmp_path) -> None:
    from PIL import Image

    from gardefou import testing as T
    from gardefou.decide import PlatformDecider, Services
    from gardefou.media import Limits
    from gardefou.pipeline import PipelineEvent

    def extract(media, names):
        return {k: v for k, v in T.signal_set().items() if k in names}

    Image.new("RGB", (32, 32), (1, 2, 3)).save(tmp_path / "a.png")
    _row(tmp_db, "orphan", time.time() + 3600)
    decider = PlatformDecider(lambda db: Services(db, extract=extract, base_dir=tmp_path))
    ev = PipelineEvent.parse({"id": "p1", "author": "x", "media": [str(tmp_path / "a.png")]})
    decider.decide_with(tmp_db, ev, ev.load_media(Limits()))
    assert _kept(tmp_db) == []


def test_cli_cases_purge(tmp_path) -> None:
    import gardefou.cli.commands_cases  # noqa: F401 - registers the commands
    from gardefou.cli.main import cli
    from gardefou.store import connect

    path = str(tmp_path / "g.db")
    db = connect(path)
    _row(db, "orphan", time.time() + 3600)
    db.close()
    out = CliRunner().invoke(cli, ["--db", path, "cases", "purge"], obj={})
    assert out.exit_code == 0 and json.loads(out.output) == {"deleted": 1}
