"""Clips through the web API: /v1/scan, /v1/decisions and /v1/ingest take MP4/MOV/WebM/MKV
where they take images, under the service's video limits, with one hostile clip per route."""

from __future__ import annotations

import base64
import hashlib
import json
import warnings

import pytest

pytest.importorskip("av")

from tests.video_support import mkv, synthetic_clip
from tests.web_support import make_web, takedown_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def clip() -> bytes:
    return synthetic_clip(seconds=3.0, fps=10, size=(160, 120))


@pytest.fixture
def web(tmp_path):
    w = make_web(tmp_path, max_video_seconds=5.0)
    w.client = TestClient(w.app, raise_server_exceptions=False)
    yield w
    w.app.state.services.db.close()


def _scan(web, data: bytes, name: str = "clip.mp4"):
    return web.client.post(
        "/v1/scan",
        files={"file": (name, data, "application/octet-stream")},
        headers=web.h("platform"),
    )


def test_scan_a_clip_gives_vpdq_and_file_hashes(web, clip) -> None:
    r = _scan(web, clip)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["kind"] == "video" and out["media"]["format"] == "MP4"
    assert len(out["vpdq"]) == 3  # one hash a second
    assert len(out["media"]["md5"]) == 32 and out["video_matches"] == []


def test_scan_refuses_a_clip_longer_than_the_service_allows(web) -> None:
    long = synthetic_clip(seconds=8.0, fps=5, size=(64, 48))
    r = _scan(web, long)
    assert r.status_code == 413 and r.json()["error"] == "media_too_long", r.text
    assert "8.0 s" in r.json()["message"] and "limit 5 s" in r.json()["message"]


def test_scan_hostile_clip_declaring_huge_frames_is_a_typed_error(web) -> None:
    r = _scan(web, mkv(5000, 5000, 2), "x.mkv")
    assert r.status_code == 413 and r.json()["error"] == "media_too_large", r.text
    assert "5000x5000" in r.text


def _post(web, data: bytes, eid: str):
    event = {"id": eid, "author": "u1", "media": [{"b64": base64.b64encode(data).decode()}]}
    return web.client.post("/v1/decisions", json=event, headers=web.h("platform"))


def test_decision_on_a_clip_is_a_video_decision_with_evidence_facts(web, clip) -> None:
    r = _post(web, clip, "v1")
    assert r.status_code == 200, r.text
    d = r.json()["decision"]
    assert d["dsa_fields"]["content_type"][0] == "CONTENT_TYPE_VIDEO"
    assert "CONTENT_TYPE_IMAGE" not in d["dsa_fields"]["content_type"]
    (trace,) = [t for t in d["rule_trace"] if t["rule"] == "video_evidence"]
    facts = json.loads(trace["detail"])
    assert len(facts["md5"]) == 32 and len(facts["vpdq_sha256"]) == 64, facts
    assert facts["vpdq_frames"] == 3 and facts["frames_scanned"] >= 3
    assert all(isinstance(t, float) for t in facts["deciding_frames"]), facts


def test_decision_on_a_truncated_clip_is_refused(web, clip) -> None:
    r = _post(web, clip[: len(clip) // 2], "v2")
    assert r.status_code == 422 and r.json()["error"] == "media_corrupt", r.text


def test_ingest_decides_a_clip_and_dead_letters_a_hostile_one(web, clip) -> None:
    good = {"id": "i1", "author": "u1", "media": [{"b64": base64.b64encode(clip).decode()}]}
    bad = {
        "id": "i2",
        "author": "u1",
        "media": [{"b64": base64.b64encode(mkv(64, 64, 10**5)).decode()}],
    }
    body = (json.dumps(good) + "\n" + json.dumps(bad)).encode()
    r = web.client.post(
        "/v1/ingest", content=body, headers={**web.h("platform"), "content-type": "x-ndjson"}
    )
    assert r.status_code == 200, r.text
    outcomes = r.json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["decided", "dead_letter"], outcomes
    assert outcomes[1]["reason_code"].startswith("media_"), outcomes[1]
    got = web.client.get("/v1/decisions/i1", headers=web.h("platform")).json()
    assert got["decision"]["dsa_fields"]["content_type"][0] == "CONTENT_TYPE_VIDEO"


def _video_takedown(web, clip: bytes, **over):
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import hash_video, to_signal_str

    video = load_video(clip)
    body = takedown_body(
        hashes=[], videos=[{"vpdq": to_signal_str(hash_video(video, 0)), "md5": video.md5}]
    )
    body.update(over)
    return web.client.post("/v1/takedown", json=body)


def test_accepted_takedown_banks_the_clip_and_its_reupload_matches(web, clip, tmp_path) -> None:
    r = _video_takedown(web, clip)
    assert r.status_code == 201, r.text
    rid = web.client.get("/v1/takedown/requests", headers=web.h("moderator")).json()[0]["id"]
    staff = web.client.get(f"/v1/takedown/requests/{rid}", headers=web.h("moderator")).json()
    assert staff["videos"] == 1 and staff["video_list"][0]["vpdq_frames"] == 30
    r = web.client.post(f"/v1/takedown/requests/{rid}/accept", json={}, headers=web.h("moderator"))
    assert r.status_code == 200, r.text
    assert "1 hashes banked" in r.json()["history"][-1]["note"] or r.json()["status"] == "removed"
    # banked in the database's tables, not in a file next to it
    assert not (tmp_path / "web.db.video-banks.jsonl").exists()
    db = web.app.state.services.db
    assert db.query_one("SELECT COUNT(*) AS n FROM video_bank_entries")["n"] == 1
    # a re-encode at another bitrate is not the same file: it matches by vPDQ
    from tests.video_support import reencode

    copy = reencode(clip, bitrate=200_000)
    scanned = _scan(web, copy).json()
    assert [m["bank"] for m in scanned["video_matches"]] == ["victim-videos"], scanned
    d = _post(web, copy, "reupload").json()["decision"]
    context = " ".join(t["detail"] for t in d["rule_trace"] if t["rule"] == "context")
    assert "bank.victim_match=True" in context, context
    assert d["action"] != "allow"
    # the case's evidence keeps the clip's hashes and deciding frame times, never its pixels
    from gardefou.decide.record import decisions_by_event
    from gardefou.evidence import EvidenceKeys, EvidenceStore
    from gardefou.evidence.from_store import preserve_cases

    store = EvidenceStore(db, tmp_path / "blobs", EvidenceKeys.generate())
    assert preserve_cases(store, "job", "test", decisions_by_event(store.db)) >= 1
    blob = db.query_one("SELECT sha256 FROM evidence_blobs WHERE kind = 'decision'")
    record = json.loads(store.blobs.get(blob["sha256"]))
    (video,) = record["videos"]
    assert video["md5"] == hashlib.md5(copy).hexdigest()
    assert video["sha256"] == hashlib.sha256(copy).hexdigest()
    assert video["deciding_frames"] and video["vpdq_frames"] == 3
    assert set(video) <= {"item", "md5", "sha256", "vpdq_sha256", "vpdq_frames", "duration",
                          "frames_scanned", "deciding_frames"}  # fmt: skip


def test_takedown_with_a_malformed_video_hash_is_refused(web, clip) -> None:
    body = takedown_body(hashes=[], videos=[{"vpdq": '["zz,100,0.0"]'}])
    r = web.client.post("/v1/takedown", json=body)
    assert r.status_code == 422 and "zz" in r.text, r.text


def test_takedown_service_without_a_video_bank_refuses_to_accept_a_clip(tmp_db) -> None:
    """Fail closed: accepting would close the request without banking the clip."""
    from gardefou.errors import TakedownError
    from gardefou.takedown import (
        Contact,
        Kind,
        NewRequest,
        Signature,
        TakedownService,
        VideoHash,
    )

    svc = TakedownService(tmp_db)
    req = NewRequest(
        Kind.TAKE_IT_DOWN,
        Signature("Jane Example"),
        (),
        (),
        "a clip of me",
        "I believe in good faith this was published without my consent.",
        Contact(email="jane@example.org"),
        videos=(VideoHash(md5="0" * 32),),
    )
    case, pin = svc.submit(req)
    rid = svc.lookup(case, pin).id
    with pytest.raises(TakedownError, match="no video bank"):
        svc.accept(rid, "mod")
    assert str(svc.get(rid).status) != "removed"


def _context(d: dict) -> str:
    return " ".join(t["detail"] for t in d["rule_trace"] if t["rule"] == "context")


def test_hash_only_submission_of_a_clip_is_review_only_until_confirmed(web, clip) -> None:
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import hash_video, to_signal_str

    video = load_video(clip)
    body = {"videos": [{"vpdq": to_signal_str(hash_video(video, 0)), "md5": video.md5}]}
    r = web.client.post("/v1/submissions", json=body)
    assert r.status_code == 201 and r.json()["videos"] == 1, r.text
    case, pin = r.json()["case_number"], r.json()["pin"]
    # anonymous and unconfirmed: the same file goes to review, never to an automated removal
    posted = _post(web, clip, "sub-1").json()
    d = posted["decision"]
    # a case awaiting a person keeps a few key frames (blurred in the console, like images)
    view = web.client.get(f"/v1/cases/{posted['case_id']}", headers=web.h("moderator")).json()
    assert 1 <= len(view["media"]) <= 4, view["media"]
    # each key frame carries its time in the clip: the console shows them as a strip
    times = [m["frame_at"] for m in view["media"]]
    assert all(t is not None and 0.0 <= t < 3.0 for t in times) and times == sorted(times), times
    assert len(set(times)) == len(times)
    got = web.client.get(view["media"][0]["url"], headers=web.h("moderator"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("image/")
    # the statement a moderator's removal would give names a video, not an image
    r = web.client.get(
        f"/v1/cases/{posted['case_id']}/statement?action=remove", headers=web.h("moderator")
    )
    kinds = r.json()["statement"]["content_type"]
    assert kinds[0] == "CONTENT_TYPE_VIDEO" and "CONTENT_TYPE_IMAGE" not in kinds, r.json()
    assert "bank.unconfirmed_match=True" in _context(d), _context(d)
    assert "bank.match=True" not in _context(d) and d["action"] not in ("remove", "block")
    scanned = _scan(web, clip).json()["video_matches"]
    assert [m["confirmed"] for m in scanned] == [False]
    r = web.client.post(f"/v1/submissions/{case}/confirm", json={}, headers=web.h("moderator"))
    assert r.status_code == 200, r.text
    d = _post(web, clip, "sub-2").json()["decision"]
    assert "bank.victim_match=True" in _context(d), _context(d)
    # withdrawn: its clip stops matching at once
    r = web.client.post("/v1/submissions/withdraw", json={"case_number": case, "pin": pin})
    assert r.status_code == 200, r.text
    assert _scan(web, clip).json()["video_matches"] == []


def test_submission_with_a_malformed_clip_hash_is_refused_before_anything_is_stored(web) -> None:
    r = web.client.post("/v1/submissions", json={"videos": [{"md5": "", "vpdq": "[1"}]})
    assert r.status_code == 422, r.text
    r = web.client.post("/v1/submissions", json={"hashes": [], "videos": []})
    assert r.status_code in (400, 422), r.text
    db = web.app.state.services.db
    assert db.query_one("SELECT COUNT(*) AS n FROM bank_submissions")["n"] == 0


def test_generation_with_a_clip_output_and_an_image_input_is_decided(web, clip) -> None:
    """A generated clip is judged (its inputs are the parent images); both content types."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buf, "PNG")
    event = {
        "id": "g1",
        "kind": "generation",
        "requester": "u2",
        "request": "animate this landscape",
        "input_media": [{"b64": base64.b64encode(buf.getvalue()).decode()}],
        "output_media": [{"b64": base64.b64encode(clip).decode()}],
    }
    r = web.client.post("/v1/decisions", json=event, headers=web.h("platform"))
    assert r.status_code == 200, r.text
    d = r.json()["decision"]
    assert d["dsa_fields"]["content_type"][0] == "CONTENT_TYPE_VIDEO", d["dsa_fields"]
    assert any(t["rule"] == "video_evidence" for t in d["rule_trace"])


def test_an_earlier_json_lines_video_store_is_imported_once(tmp_path, clip) -> None:
    """A service upgraded from the JSON Lines store keeps matching its banked clips: the file
    next to the database is imported into the tables when the video banks are first needed."""
    from gardefou.banks.video import VideoIndex
    from gardefou.banks.video_formats import save
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import hash_video

    old = VideoIndex()
    old.create_bank("victim-videos")
    old.add("victim-videos", hash_video(load_video(clip), 0), case_id="T-OLD", source="takedown")
    save(old, tmp_path / "web.db.video-banks.jsonl")
    w = make_web(tmp_path, max_video_seconds=5.0)
    w.client = TestClient(w.app, raise_server_exceptions=False)
    try:
        out = _scan(w, clip).json()
        assert [m["case_id"] for m in out["video_matches"]] == ["T-OLD"], out
        db = w.app.state.services.db
        assert db.query_one("SELECT COUNT(*) AS n FROM video_bank_imports")["n"] == 1
    finally:
        w.app.state.services.db.close()
