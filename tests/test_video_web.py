"""Clips through the web API: /v1/scan, /v1/decisions and /v1/ingest take MP4/MOV/WebM/MKV
where they take images, under the service's video limits, with one hostile clip per route."""

from __future__ import annotations

import base64
import json
import warnings

import pytest

pytest.importorskip("av")

from tests.video_support import mkv, synthetic_clip
from tests.web_support import make_web

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
    context = " ".join(t["detail"] for t in d["rule_trace"] if t["rule"] == "context")
    assert "video.md5=" in context and "video.vpdq_sha256=" in context, context
    assert "video.deciding_frames=" in context


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
