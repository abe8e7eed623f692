"""The web service against hostile media: the service's own (lower) limits, a bounded number of
decodes at a time (503 beyond), review thumbnails stored once and served without decoding the
original, and photo uploads to /v1/decisions measured against the media limit."""

from __future__ import annotations

import base64
import json
import time

import pytest

from gardefou import testing as T
from tests import hostile_media as hm
from tests.web_support import make_web

REVIEW = [
    T.nudity("explicit", 0.55),
    T.faces(1),
    T.identity([T.person_embedding(1)]),
    T.pdq_dihedral("0" * 64),
]


def review_everything(media, names):  # every image opens a case awaiting review
    return {k: v for k, v in T.signal_set(*REVIEW).items() if k in names}


@pytest.fixture
def web(tmp_path, db_url):
    from gardefou.decide import Services as DecideServices

    w = make_web(tmp_path, db_url, max_decodes=1, decode_wait_s=0.2)
    svc = w.app.state.services
    decide = DecideServices(
        svc.db, extract=review_everything, banks=svc.banks(), limits=svc.settings.media_limits()
    )
    svc.provide("decide", decide)
    yield w
    svc.db.close()


def scan(web, data: bytes, name: str = "x.bin"):
    return web.client.post("/v1/scan", files={"file": (name, data)}, headers=web.h("platform"))


@pytest.mark.parametrize("name", sorted(hm.CORPUS))
def test_scan_refuses_hostile_media_quickly(web, name: str) -> None:
    data = hm.CORPUS[name]()
    start = time.process_time()
    r = scan(web, data, name)
    seconds = time.process_time() - start
    assert seconds < 2.0, f"{name}: {seconds:.2f} s of CPU"
    assert r.status_code in (200, 413, 415, 422), r.text
    hostile = ("gif_", "png_rgba_10000", "png_bomb", "apng", "webp", "tiff_", "jpeg_declares")
    if name.startswith(hostile):
        assert r.status_code == 413 and r.json()["error"] == "media_too_large", r.text


def test_service_pixel_limit_is_lower_than_the_cli(web) -> None:
    """16 MP by default: the 389 KB 10000x10000 RGBA PNG (1.4 GB decoded) is refused from its
    header; 4000x4000 is accepted, 4100x4100 is not."""
    r = scan(web, hm.png_rgba_blank())
    assert r.status_code == 413 and "limit 16 MP" in r.json()["message"]
    assert scan(web, hm.png_rgba_blank(4_000, 4_000)).status_code == 200
    assert scan(web, hm.png_rgba_blank(4_100, 4_100)).status_code == 413


def test_pixel_limit_from_the_environment(monkeypatch, tmp_path) -> None:
    from gardefou.web import Settings

    monkeypatch.setenv("GARDEFOU_MAX_IMAGE_MP", "1.5")
    monkeypatch.setenv("GARDEFOU_MAX_DECODES", "3")
    settings = Settings.from_env(db=str(tmp_path / "s.db"))
    assert settings.max_image_pixels == 1_500_000 and settings.max_decodes == 3
    assert settings.media_limits().max_pixels == 1_500_000
    monkeypatch.setenv("GARDEFOU_DECODE_WAIT_S", "soon")
    from gardefou.errors import ConfigError

    with pytest.raises(ConfigError, match="GARDEFOU_DECODE_WAIT_S='soon'"):
        Settings.from_env()


def test_decodes_beyond_the_slots_get_503(web) -> None:
    from gardefou.web.media import decode_gate

    gate = decode_gate(web.app.state.services)
    with gate.hold():  # the one slot is taken by another request
        start = time.monotonic()
        r = scan(web, hm.benign_jpeg())
        waited = time.monotonic() - start
    assert r.status_code == 503 and r.json()["error"] == "busy", r.text
    assert r.headers["Retry-After"] == "1" and 0.15 < waited < 2.0
    assert scan(web, hm.benign_jpeg()).status_code == 200  # the slot is free again


def event(eid: str, data: bytes) -> dict:
    return {
        "id": eid,
        "kind": "post",
        "author": "p1",
        "media": [{"b64": base64.b64encode(data).decode()}],
    }


def test_console_serves_stored_thumbnails_without_decoding(web, monkeypatch) -> None:
    c = web.client
    r = c.post("/v1/decisions", json=event("t1", hm.benign_jpeg(1200)), headers=web.h("platform"))
    assert r.status_code == 200, r.text
    case_id = r.json()["case_id"]
    db = web.app.state.services.db
    row = db.query_one(
        "SELECT sha256, encrypted, thumb, thumb_blurred FROM review_media WHERE event_id = 't1'"
    )
    assert row["thumb"] and row["thumb_blurred"], "thumbnails made when the image was kept"
    assert row["encrypted"], "review thumbnails are encrypted at rest like the images"
    from gardefou.store.media_crypto import ReviewCipher

    stored_blurred = ReviewCipher.for_db(db).open(
        row["thumb_blurred"], "t1", row["sha256"] + ":blurred"
    )

    def no_decoding(*args, **kwargs):
        raise AssertionError("the console decoded the original")

    monkeypatch.setattr("gardefou.media.intake.Image.open", no_decoding)
    for reveal in ("false", "true"):
        r = c.get(f"/v1/cases/{case_id}/media/0?reveal={reveal}", headers=web.h("moderator"))
        assert r.status_code == 200 and r.content[:2] == b"\xff\xd8", r.text
    blurred = c.get(f"/v1/cases/{case_id}/media/0", headers=web.h("moderator")).content
    assert blurred == stored_blurred


def test_image_kept_before_thumbnails_gets_them_once(web, monkeypatch) -> None:
    c = web.client
    r = c.post("/v1/decisions", json=event("t2", hm.benign_jpeg()), headers=web.h("platform"))
    case_id = r.json()["case_id"]
    db = web.app.state.services.db
    db.execute("UPDATE review_media SET thumb = NULL, thumb_blurred = NULL")
    assert c.get(f"/v1/cases/{case_id}/media/0", headers=web.h("moderator")).status_code == 200
    row = db.query_one("SELECT thumb, thumb_blurred FROM review_media WHERE event_id = 't2'")
    assert row["thumb"] and row["thumb_blurred"]
    monkeypatch.setattr("gardefou.media.intake.Image.open", lambda *a, **k: 1 / 0)
    assert c.get(f"/v1/cases/{case_id}/media/0", headers=web.h("moderator")).status_code == 200


def test_photo_in_a_decision_gets_the_media_limit(web) -> None:
    """A 593 KB photo inline in /v1/decisions was refused 413 by the 256 KB JSON limit."""
    photo = hm.benign_photo_jpeg(600_000)
    assert len(photo) > 256 * 1024
    r = web.client.post("/v1/decisions", json=event("p1", photo), headers=web.h("platform"))
    assert r.status_code == 200, r.text[:300]
    # multipart: the event as JSON in `event`, the image as a file
    body = {"id": "p2", "kind": "post", "author": "p1"}
    r = web.client.post(
        "/v1/decisions",
        data={"event": json.dumps(body)},
        files={"media": ("photo.jpg", photo, "image/jpeg")},
        headers=web.h("platform"),
    )
    assert r.status_code == 200, r.text[:300]
    assert r.json()["event_id"] == "p2" and r.json()["case_id"] is not None


def test_decision_json_without_its_images_keeps_the_json_limit(web) -> None:
    big = {"id": "j1", "kind": "post", "mentions": ["x" * 2000] * 100, "text": "t" * 99_000}
    r = web.client.post("/v1/decisions", json=big, headers=web.h("platform"))
    assert r.status_code == 413 and "without its images" in r.json()["message"]
    r = web.client.post(
        "/v1/decisions", data={"nope": "1"}, files={"media": ("a.jpg", b"x")},
        headers=web.h("platform"),
    )  # fmt: skip
    assert r.status_code == 422 and "event" in r.json()["message"]
    r = web.client.post("/v1/decisions", content=b"[1]", headers=web.h("platform"))
    assert r.status_code == 422
    r = web.client.post("/v1/decisions", json={"id": "x", "bogus": 1}, headers=web.h("platform"))
    assert r.status_code == 422 and r.json()["error"] == "validation"


def test_guard_output_uses_the_service_limits(web) -> None:
    png = base64.b64encode(hm.png_rgba_blank(6_000, 6_000)).decode()  # 36 MP: under the CLI's
    start = time.process_time()
    r = web.client.post("/v1/guard/output", json={"output": png}, headers=web.h("platform"))
    assert r.status_code == 413 and "limit 16 MP" in r.json()["message"], r.text
    assert time.process_time() - start < 1.0


def test_console_never_decodes_a_hostile_original(web) -> None:
    """A case holding the 23 KB GIF cost 33 s of CPU per console view: the original is refused
    from its header (413) at each view, in milliseconds, and never decoded."""
    from gardefou.store.media import ReviewMedia

    c = web.client
    case_id = c.post(
        "/v1/decisions", json=event("h1", hm.benign_jpeg()), headers=web.h("platform")
    ).json()["case_id"]
    db = web.app.state.services.db
    db.execute("DELETE FROM review_media")
    ReviewMedia(db).keep("h1", hm.gif_canvas_frames(), None, time.time(), time.time() + 3600)
    for _ in range(3):
        start = time.process_time()
        r = c.get(f"/v1/cases/{case_id}/media/0", headers=web.h("moderator"))
        assert r.status_code == 413 and time.process_time() - start < 0.5, r.text
