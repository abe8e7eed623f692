"""/v1/ingest with hostile lines: each bad line is dead-lettered with a typed reason, the batch
answers 200 with one result per line, and every good line is decided (none lost)."""

from __future__ import annotations

import json
import warnings

import pytest

from tests.web_support import make_web

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

BAD = {
    "deep": (b'{"id": "deep1", "x": ' + b"[" * 1500 + b"]" * 1500 + b"}", "invalid_json"),
    "surrogate_text": (b'{"id": "sur1", "text": "\\ud800 x"}', "invalid_text"),
    "surrogate_id": (b'{"id": "\\ud800", "text": "x"}', "invalid_text"),
    "id_list": (b'{"id": [1, 2], "text": "x"}', "invalid_event"),
    "long_text": (json.dumps({"id": "long1", "text": "a" * 200_000}).encode(), "field_too_long"),
    "bad_utf8": (b'{"id": "u1", "text": "\xed\xa0\x80"}', "invalid_text"),
}


@pytest.fixture
def web(tmp_path, db_url):
    w = make_web(tmp_path, db_url)
    w.client = TestClient(w.app, raise_server_exceptions=False)
    yield w
    w.app.state.services.db.close()


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_line_is_dead_lettered_and_the_batch_survives(web, name: str) -> None:
    line, code = BAD[name]
    good = [json.dumps({"id": f"{name}-g{i}", "text": "hi"}).encode() for i in (1, 2)]
    body = b"\n".join([good[0], line, good[1]])
    r = web.client.post(
        "/v1/ingest", content=body, headers={**web.h("platform"), "content-type": "x-ndjson"}
    )
    assert r.status_code == 200, r.text
    outcomes = r.json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["decided", "dead_letter", "decided"], outcomes
    assert outcomes[1]["reason_code"] == code, outcomes[1]
    db = web.app.state.services.db
    rows = db.query("SELECT reason_code, reason, payload_bytes FROM dead_letters")
    assert [(row["reason_code"], row["payload_bytes"]) for row in rows] == [(code, len(line))]
    decided = db.query("SELECT event_id FROM pipeline_events ORDER BY event_id")
    assert [d["event_id"] for d in decided] == [f"{name}-g1", f"{name}-g2"]
    if name == "long_text":
        assert "200000" in rows[0]["reason"] and "100000" in rows[0]["reason"]


def test_unreadable_ids_in_two_batches_are_two_dead_letters(web) -> None:
    """A line without a usable id is keyed by its origin; two batches must not share one."""
    for _ in range(2):
        r = web.client.post("/v1/ingest", content=b'{"id": [1]}', headers=web.h("platform"))
        assert r.status_code == 200 and r.json()["outcomes"][0]["status"] == "dead_letter"
    db = web.app.state.services.db
    assert db.query_one("SELECT COUNT(*) AS n FROM dead_letters")["n"] == 2


def test_media_paths_are_not_read_from_http_ingest(web, tmp_path) -> None:
    """A path in an event sent over HTTP named a file on the server (its existence and type
    came back in the dead letter's reason)."""
    secret = tmp_path / "server-side.png"
    secret.write_bytes(b"not for you")
    lines = [
        json.dumps({"id": "p1", "media": [str(secret)]}).encode(),
        json.dumps({"id": "p2", "media": [{"path": "/etc/hostname"}]}).encode(),
    ]
    r = web.client.post("/v1/ingest", content=b"\n".join(lines), headers=web.h("platform"))
    assert r.status_code == 200, r.text
    for outcome in r.json()["outcomes"]:
        assert outcome["status"] == "dead_letter" and outcome["reason_code"] == "invalid_event"
        assert "not read" in outcome["reason"] and "image" not in outcome["reason"].split(":")[0]
