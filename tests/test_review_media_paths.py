"""Every path that opens a case a person must check keeps the images the moderator needs (the
case's own and the parent post's), encrypted at rest, until the case is decided (issue 21).
Before: only the HTTP routes kept images; `gardefou run`, `stream work` and the demo left the
moderator "hashes only", and no path kept the parent's photo."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gardefou import testing as T
from gardefou.cases.review_media import purge_review_media
from gardefou.decide import PlatformDecider, services_for
from gardefou.pipeline.core import Processor
from gardefou.pipeline.runners import run_inline
from gardefou.pipeline.sources import iter_jsonl
from gardefou.store import connect
from tests.test_web_cases import IMAGES
from tests.test_web_cases import Fake as _WebFake

BOB = T.person_embedding(2)


class Fake(_WebFake):
    """The reply's image shows another person, explicit at low confidence: review (a same-person
    edit would be removed automatically, with no person to show it to)."""

    def __init__(self) -> None:
        import hashlib

        super().__init__()
        review = [T.nudity("explicit", 0.55), T.faces(1), T.identity([BOB])]
        self.by_sha[hashlib.sha256(IMAGES["review"]).hexdigest()] = review


def _decider() -> PlatformDecider:
    return PlatformDecider(lambda db: services_for(db, extract=Fake()))


def _events() -> list[dict]:
    b64 = {k: base64.b64encode(v).decode() for k, v in IMAGES.items()}
    return [
        {"id": "p1", "kind": "post", "author": "alice", "text": "",
         "media": [{"b64": b64["benign"]}]},
        {"id": "r1", "kind": "post", "author": "bob", "reply_to": "p1", "text": "",
         "media": [{"b64": b64["review"]}]},
    ]  # fmt: skip


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in _events()), encoding="utf-8")
    return path


def assert_kept(db, event_id: str = "r1") -> None:
    case = db.query_one("SELECT id, status FROM cases WHERE event_id = ?", (event_id,))
    assert case is not None and case["status"] == "pending_review"
    rows = db.query(
        "SELECT role, encrypted, data FROM review_media WHERE event_id = ? ORDER BY role",
        (event_id,),
    )
    assert [(r["role"], r["encrypted"]) for r in rows] == [("media", 1), ("parent", 1)]
    for r in rows:  # encrypted at rest: neither original is stored in the clear
        assert IMAGES["review"] not in bytes(r["data"]) and IMAGES["benign"] not in bytes(r["data"])


def assert_purged_on_decision(db) -> None:
    from gardefou.cases import CaseStore
    from gardefou.policy import load_default_policy

    case = db.query_one("SELECT id FROM cases WHERE event_id = 'r1'")
    CaseStore(db, load_default_policy()).review(int(case["id"]), "mod-a", "allow")
    assert db.query("SELECT id FROM review_media WHERE event_id = 'r1'") == []


def test_run_inline_keeps_media_and_parent(tmp_path: Path, db_url: str) -> None:
    """`gardefou run` (the inline runner)."""
    db = connect(db_url)
    summary = run_inline(iter_jsonl([_write(tmp_path)]), Processor(db, _decider()))
    assert summary.counts == {"decided": 2}
    assert_kept(db)
    assert_purged_on_decision(db)
    db.close()


def test_stream_worker_keeps_media_and_parent(tmp_path: Path, tmp_db, redis_url: str) -> None:
    """`gardefou stream work`."""
    import uuid

    from gardefou.pipeline.streams import RedisStream, StreamWorker

    rs = RedisStream(redis_url, f"gardefou:test:{uuid.uuid4().hex[:10]}", "deciders")
    try:
        rs.push_source(iter_jsonl([_write(tmp_path)]))
        worker = StreamWorker(rs, Processor(tmp_db, _decider()), consumer="c1", block_ms=50)
        assert worker.run(until_idle=True).counts == {"decided": 2}
    finally:
        rs.delete()
        rs.close()
    assert_kept(tmp_db)


def test_http_ingest_keeps_media_and_parent(tmp_path: Path, db_url: str) -> None:
    """POST /v1/ingest (JSON Lines through the pipeline)."""
    from gardefou.pipeline.sources import IngestHandler
    from tests.web_support import make_web

    w = make_web(tmp_path, db_url)
    svc = w.app.state.services
    svc.provide("ingest", IngestHandler(processor=Processor(svc.db, _decider())))
    body = "".join(json.dumps(e) + "\n" for e in _events())
    r = w.client.post("/v1/ingest", content=body, headers=w.h("platform"))
    assert r.status_code == 200, r.text
    assert_kept(svc.db)
    case_id = svc.db.query_one("SELECT id FROM cases WHERE event_id = 'r1'")["id"]
    view = w.client.get(f"/v1/cases/{case_id}", headers=w.h("moderator")).json()
    assert [m["role"] for m in view["media"]] == ["media", "parent"]
    assert view["thread"]["parent"] == "p1"
    for m in view["media"]:  # served decrypted, blurred unless revealed
        got = w.client.get(m["url"], headers=w.h("moderator"))
        assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"
    svc.db.close()


def test_http_decisions_keep_media_encrypted(tmp_path: Path, db_url: str) -> None:
    """POST /v1/decisions (one event)."""
    from tests.web_support import decide_with, make_web

    w = make_web(tmp_path, db_url)
    svc = w.app.state.services
    decide_with(svc, Fake())
    for e in _events():
        assert w.client.post("/v1/decisions", json=e, headers=w.h("platform")).status_code == 200
    assert_kept(svc.db)
    svc.db.close()


def test_demo_keeps_media_for_every_review_case(tmp_path: Path) -> None:
    """`gardefou demo`: its review cases show their image and the parent's."""
    from gardefou.pipeline.demo import run_demo

    run_demo(tmp_path, echo=lambda *_: None)
    db = connect(tmp_path / "gardefou.db")
    pending = db.query("SELECT event_id FROM cases WHERE status = 'pending_review'")
    assert pending
    for row in pending:
        roles = {r["role"] for r in db.query(
            "SELECT role FROM review_media WHERE event_id = ? AND encrypted = 1",
            (row["event_id"],))}  # fmt: skip
        assert roles == {"media", "parent"}, row["event_id"]
    # actioned cases need no person: nothing kept for them
    actioned = db.query("SELECT event_id FROM cases WHERE status = 'actioned'")
    for row in actioned:
        assert not db.query("SELECT id FROM review_media WHERE event_id = ?", (row["event_id"],))
    db.close()


def test_backfill_opens_no_case_and_keeps_nothing(tmp_path: Path) -> None:
    """`gardefou backfill` scans an archive (hashes and signals) and opens no case: it must not
    keep images either."""
    from gardefou.pipeline.backfill import BackfillConfig, run_backfill

    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.png").write_bytes(IMAGES["review"])
    url = str(tmp_path / "bf.db")
    out = run_backfill([folder], BackfillConfig(db_url=url, signals=["pdq"]))
    assert out["done"] == 1
    db = connect(url)
    assert db.query("SELECT id FROM cases") == [] and db.query("SELECT id FROM review_media") == []
    db.close()


def test_parent_hold_expires_and_policy_can_turn_it_off(tmp_path: Path) -> None:
    import dataclasses

    from gardefou.policy import load_default_policy
    from gardefou.policy.model import ReviewMediaPolicy

    db = connect(tmp_path / "p.db")
    run_inline(iter_jsonl([_write(tmp_path)]), Processor(db, _decider()))
    assert db.query("SELECT post_id FROM thread_media ORDER BY post_id")
    purge_review_media(db, now=4_000_000_000.0)  # past every expiry
    assert db.query("SELECT id FROM thread_media") == []
    assert db.query("SELECT id FROM review_media") == []
    db.close()

    policy = dataclasses.replace(load_default_policy(), review_media=ReviewMediaPolicy(("media",)))
    db = connect(tmp_path / "q.db")
    decider = PlatformDecider(lambda d: services_for(d, extract=Fake(), policy=policy))
    run_inline(iter_jsonl([_write(tmp_path)]), Processor(db, decider))
    rows = db.query("SELECT role FROM review_media WHERE event_id = 'r1'")
    assert [r["role"] for r in rows] == ["media"]
    assert db.query("SELECT id FROM thread_media") == []
    db.close()


def test_review_media_policy_is_validated() -> None:
    from gardefou.errors import PolicyError
    from gardefou.policy.loader import default_policy_text, parse_policy

    bad = default_policy_text().replace("  parent_hours: 24", "  parent_hours: -1")
    with pytest.raises(PolicyError, match="parent_hours must be a number >= 0"):
        parse_policy(bad)


def test_service_cap_shortens_the_policy_retention(tmp_path: Path) -> None:
    """The web service's ``review_media_days`` caps the policy's ``review_media.days``."""
    db = connect(tmp_path / "cap.db")
    decider = PlatformDecider(lambda d: services_for(d, extract=Fake(), review_media_days=1))
    run_inline(iter_jsonl([_write(tmp_path)]), Processor(db, decider))
    rows = db.query("SELECT stored_at, expires_at FROM review_media WHERE event_id = 'r1'")
    assert rows and all(abs(r["expires_at"] - r["stored_at"] - 86400) < 1 for r in rows)
    db.close()


def test_review_key_file_is_made_once_owner_only_and_checked(tmp_path: Path, monkeypatch) -> None:
    import stat

    from gardefou.errors import ConfigError, EvidenceError
    from gardefou.store.media_crypto import ReviewCipher, load_key

    monkeypatch.delenv("GARDEFOU_REVIEW_MEDIA_KEY", raising=False)
    monkeypatch.delenv("GARDEFOU_EVIDENCE_KEYS", raising=False)
    db = connect(tmp_path / "k.db")
    key = load_key(db)
    path = tmp_path / "evidence-keys" / "review-media.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(db) == key  # read back, never replaced
    sealed = ReviewCipher(key).seal(b"pixels", "r1", "a" * 64)
    assert ReviewCipher(key).open(sealed, "r1", "a" * 64) == b"pixels"
    with pytest.raises(EvidenceError, match="fails authentication"):
        ReviewCipher(key).open(sealed, "r2", "a" * 64)  # moved to another case's row
    with pytest.raises(EvidenceError, match="wrong key"):
        ReviewCipher(bytes(32)).open(sealed, "r1", "a" * 64)
    monkeypatch.setenv("GARDEFOU_REVIEW_MEDIA_KEY", "c2hvcnQ=")
    with pytest.raises(ConfigError, match="not 32 bytes"):
        load_key(db)
    db.close()


def test_review_key_file_is_read_once_and_again_when_it_changes(
    tmp_path: Path, monkeypatch
) -> None:
    """Every held or kept image asks for the key: the file is read once while unchanged (its
    folder resolved once), and read again when it is replaced or damaged (never a stale key)."""
    import base64
    from pathlib import Path as P

    from gardefou.errors import ConfigError
    from gardefou.store.media_crypto import load_key

    monkeypatch.delenv("GARDEFOU_REVIEW_MEDIA_KEY", raising=False)
    monkeypatch.delenv("GARDEFOU_EVIDENCE_KEYS", raising=False)
    db = connect(tmp_path / "k.db")
    key = load_key(db)
    reads: list[str] = []
    real = P.read_text
    monkeypatch.setattr(
        P, "read_text", lambda self, *a, **k: reads.append(str(self)) or real(self, *a, **k)
    )
    assert [load_key(db) for _ in range(5)] == [key] * 5
    assert len(reads) == 1  # the file made by the first call, read once
    path = tmp_path / "evidence-keys" / "review-media.key"
    other = bytes(range(32))
    path.unlink()  # replaced: a new inode, whatever the timestamps
    path.write_text(base64.b64encode(other).decode() + "\n", encoding="ascii")
    assert load_key(db) == other and len(reads) == 2
    path.write_text("broken\n", encoding="ascii")
    with pytest.raises(ConfigError, match="not 32 bytes"):
        load_key(db)
    db.close()


def test_reply_decided_before_its_parent_gets_the_parent_image(tmp_path: Path) -> None:
    """Workers decide concurrently: when the parent is recorded after the reply, the reply's
    open case receives the parent's image (and its cluster key)."""
    path = tmp_path / "late.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in reversed(_events())), encoding="utf-8")
    db = connect(tmp_path / "late.db")
    assert run_inline(iter_jsonl([path]), Processor(db, _decider())).counts == {"decided": 2}
    assert_kept(db)
    case = db.query_one("SELECT id FROM cases WHERE event_id = 'r1'")
    keys = db.query("SELECT kind, value FROM case_keys WHERE case_id = ?", (case["id"],))
    assert ("parent", "p1") in {(k["kind"], k["value"]) for k in keys}
    db.close()
