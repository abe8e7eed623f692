"""Decisions, cases (queue order, blurred media, reveal counting, review, four-eyes second review,
appeals), guard and reports endpoints, with the decision layer's recorded signal fakes."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from gardefou import testing as T
from tests.web_support import web_deciding_with

ALICE = T.person_embedding(1)
EXPLICIT_LOW = [T.nudity("explicit", 0.55), T.faces(1), T.identity([ALICE])]  # -> review
MINOR = [T.nudity("suggestive", 0.9), T.faces(1), T.age(True), T.identity([ALICE])]  # escalate
BENIGN = [T.nudity("none", 0.97), T.faces(1), T.identity([ALICE])]


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), color).save(buf, "PNG")
    return buf.getvalue()


IMAGES = {"review": png((200, 30, 30)), "minor": png((30, 200, 30)), "benign": png((30, 30, 200))}


class Fake:
    def __init__(self) -> None:
        import hashlib

        table = {"review": EXPLICIT_LOW, "minor": MINOR, "benign": BENIGN}
        self.by_sha = {hashlib.sha256(IMAGES[k]).hexdigest(): v for k, v in table.items()}

    def __call__(self, media, names):
        r = T.signal_set(*self.by_sha[media.sha256])
        r.setdefault("pdq_dihedral", T.pdq_dihedral("0" * 64))
        return {k: v for k, v in r.items() if k in names}


@pytest.fixture
def web(tmp_path, db_url):
    yield from web_deciding_with(tmp_path, db_url, Fake())


def event(eid: str, image: str, author: str = "poster1") -> dict:
    return {
        "id": eid,
        "kind": "post",
        "author": author,
        "text": "",
        "media": [{"b64": base64.b64encode(IMAGES[image]).decode()}],
    }


def test_decisions_open_cases_and_queue_order(web) -> None:
    c = web.client
    r = c.post("/v1/decisions", json=event("e1", "review"), headers=web.h("platform"))
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["action"] == "review" and r.json()["case_id"]
    assert (
        c.post("/v1/decisions", json=event("e2", "minor"), headers=web.h("platform")).json()[
            "decision"
        ]["action"]
        == "remove_escalate"
    )
    benign = c.post("/v1/decisions", json=event("e3", "benign"), headers=web.h("platform")).json()
    assert benign["decision"]["action"] == "allow" and benign["case_id"] is None
    again = c.post("/v1/decisions", json=event("e1", "review"), headers=web.h("platform")).json()
    assert again["created"] is False
    assert (
        c.post("/v1/decisions", json=event("e4", "review"), headers=web.h("moderator")).status_code
        == 403
    )
    assert c.get("/v1/decisions/e1", headers=web.h("auditor")).json()["decision"]["action"] == (
        "review"
    )
    assert c.get("/v1/decisions/nope", headers=web.h("auditor")).status_code == 404
    queue = c.get("/v1/cases", headers=web.h("moderator")).json()
    assert [q["event_id"] for q in queue] == ["e2", "e1"]  # most severe first
    assert queue[0]["deadline_at"] < queue[1]["deadline_at"]
    assert c.get("/v1/cases", headers=web.h("platform")).status_code == 403


def test_case_detail_media_blurred_until_revealed(web) -> None:
    c = web.client
    case_id = c.post("/v1/decisions", json=event("e1", "review"), headers=web.h("platform")).json()[
        "case_id"
    ]
    d = c.get(f"/v1/cases/{case_id}", headers=web.h("moderator")).json()
    assert d["decision"]["reasons"][0]["code"] == "sexualized_real_person"
    assert any(t["matched"] for t in d["decision"]["rule_trace"])
    assert d["dsa_options"][0]["suggested"] and d["dsa_options"][0]["category"]
    assert len(d["media"]) == 1
    blurred = c.get(d["media"][0]["url"], headers=web.h("moderator"))
    assert blurred.status_code == 200 and blurred.headers["cache-control"] == "no-store"
    img = Image.open(io.BytesIO(blurred.content)).convert("RGB")
    r, g, b = img.getpixel((24, 24))
    assert abs(r - g) < 8 and abs(g - b) < 8  # grey: the red image is not shown in colour
    me = c.get("/v1/me", headers=web.h("moderator")).json()["exposure"]
    assert me["media_revealed"] == 0
    shown = c.get(d["media"][0]["url"] + "?reveal=true", headers=web.h("moderator"))
    r, g, b = Image.open(io.BytesIO(shown.content)).convert("RGB").getpixel((24, 24))
    assert r > 150 and g < 80
    assert c.get("/v1/me", headers=web.h("moderator")).json()["exposure"]["media_revealed"] == 1
    assert c.get(f"/v1/cases/{case_id}/media/5", headers=web.h("moderator")).status_code == 404
    assert c.get(d["media"][0]["url"], headers=web.h("platform")).status_code == 403


def test_review_second_review_and_appeal(web) -> None:
    from tests.web_support import ADMIN_KEY

    c = web.client
    other = c.post(
        "/v1/keys",
        json={"name": "moderator-2", "role": "moderator"},
        headers={"X-API-Key": ADMIN_KEY},
    ).json()["key"]
    h2 = {"X-API-Key": other}
    mod = web.h("moderator")

    def decide(case: int, headers: dict, action: str, **extra: str):
        body = {"action": action, **extra}
        return c.post(f"/v1/cases/{case}/decisions", json=body, headers=headers)

    case_id = c.post("/v1/decisions", json=event("e1", "review"), headers=web.h("platform")).json()[
        "case_id"
    ]
    r = decide(case_id, web.h("auditor"), "remove")
    assert r.status_code == 403
    r = decide(case_id, mod, "remove", note="clear")
    assert r.status_code == 200 and r.json()["status"] == "actioned"
    r = decide(case_id, mod, "remove")
    assert r.status_code == 400  # nothing awaits a decision
    r = c.post(
        f"/v1/cases/{case_id}/appeals",
        json={"appellant": "poster1", "statement": "me"},
        headers=web.h("platform"),
    )
    assert r.status_code == 201 and r.json()["status"] == "open"
    r = decide(case_id, mod, "allow")
    assert r.status_code == 403  # the first reviewer cannot decide the appeal
    r = decide(case_id, h2, "allow", note="consented")
    assert r.json()["status"] == "closed"
    assert c.get(f"/v1/cases/{case_id}", headers=web.h("auditor")).json()["media"] == []

    esc = c.post("/v1/decisions", json=event("e2", "minor"), headers=web.h("platform")).json()[
        "case_id"
    ]
    r = decide(esc, mod, "remove_escalate")
    assert r.json()["status"] == "second_review"
    r = decide(esc, mod, "remove_escalate")
    assert r.status_code == 403  # four eyes
    r = decide(esc, h2, "remove_escalate")
    assert r.json()["status"] == "actioned"
    third = c.post("/v1/decisions", json=event("e5", "review"), headers=web.h("platform")).json()[
        "case_id"
    ]
    r = c.post(
        f"/v1/cases/{third}/second-review", json={"note": "unsure"}, headers=web.h("moderator")
    )
    assert r.json()["status"] == "second_review"
    assert c.get("/v1/cases/999", headers=web.h("moderator")).status_code == 404
    bad = c.post(f"/v1/cases/{third}/decisions", json={"action": "explode"}, headers=h2)
    assert bad.status_code == 422


def test_guard_endpoints(web) -> None:
    from gardefou.guard import Guard, GuardConfig

    web.app.state.services.provide("guard", Guard(GuardConfig(use_semantic=False)))
    c = web.client
    r = c.post("/v1/guard/request", json={"prompt": "make the sky blue"}, headers=web.h("platform"))
    assert r.status_code == 200 and r.json()["action"] in ("allow", "label")
    assert (
        c.post("/v1/guard/request", json={"prompt": "  "}, headers=web.h("platform")).status_code
        == 422
    )
    r = c.post(
        "/v1/guard/request", json={"prompt": "x", "images": ["@@@"]}, headers=web.h("platform")
    )
    assert r.status_code == 422 and "base64" in r.json()["message"]
    assert (
        c.post("/v1/guard/request", json={"prompt": "x"}, headers=web.h("moderator")).status_code
        == 403
    )
    r = c.post(
        "/v1/guard/output",
        json={"output": base64.b64encode(b"not an image").decode()},
        headers=web.h("platform"),
    )
    assert r.status_code == 415


def test_reports(web, monkeypatch) -> None:
    c = web.client
    c.post("/v1/decisions", json=event("evt-private-42", "minor"), headers=web.h("platform"))
    r = c.get("/v1/reports/transparency", headers=web.h("auditor"))
    assert r.status_code == 200 and "summary" in r.json()
    assert c.get("/v1/reports/transparency", headers=web.h("platform")).status_code == 403
    assert (
        c.get("/v1/reports/transparency?start=yesterday", headers=web.h("auditor")).status_code
        == 422
    )
    monkeypatch.delenv("GARDEFOU_PUID_SECRET", raising=False)
    assert c.get("/v1/reports/dsa", headers=web.h("auditor")).status_code == 400
    monkeypatch.setenv("GARDEFOU_PUID_SECRET", "s3cret-of-sixteen-bytes")
    r = c.get("/v1/reports/dsa", headers=web.h("auditor"))
    assert r.status_code == 200, r.text
    statements = r.json()["statements"]
    assert statements and "evt-private-42" not in str(statements)
    assert "poster1" not in str(statements)


def test_ingest_json_lines_through_the_pipeline(web) -> None:
    from gardefou.pipeline.deciders import default_decider  # noqa: F401 - needs the pipeline

    svc = web.app.state.services
    from gardefou.decide import PlatformDecider
    from gardefou.decide import Services as DecideServices
    from gardefou.pipeline.core import Processor
    from gardefou.pipeline.sources import IngestHandler

    decider = PlatformDecider(lambda db: DecideServices(db, extract=Fake()))
    svc.provide("ingest", IngestHandler(processor=Processor(svc.db, decider)))
    import json

    lines = "\n".join(json.dumps(event(f"i{i}", "review")) for i in range(2)) + "\nnot json\n"
    r = web.client.post(
        "/v1/ingest",
        content=lines.encode(),
        headers={**web.h("platform"), "content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    statuses = [o["status"] for o in r.json()["outcomes"]]
    assert statuses[:2] == ["decided", "decided"] and statuses[2] != "decided"
    assert (
        web.client.post("/v1/ingest", content=b"{}", headers=web.h("moderator")).status_code == 403
    )
    assert web.client.post("/v1/ingest", content=b"", headers=web.h("platform")).status_code == 400
    queue = web.client.get("/v1/cases", headers=web.h("moderator")).json()
    assert {q["event_id"] for q in queue} == {"i0", "i1"}
    detail = web.client.get(f"/v1/cases/{queue[0]['id']}", headers=web.h("moderator")).json()
    assert len(detail["media"]) == 1  # kept (blurred in the console) while the case is open
