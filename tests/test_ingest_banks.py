"""POST /v1/ingest decides with the app's bank service: a hash added through the bank API is
matched by the very next ingest, with no restart, and the app holds one bank index, not one
for the decision endpoints and another for ingest. Signals are recorded fakes (the image's
PDQ hashes are the banked hash); the decision layer and the pipeline run for real."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gardefou import testing as T
from gardefou.decide import services as decide_services_mod
from tests.web_support import make_web

VICTIM = "c3" * 32


def _png() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), (120, 40, 200)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _event(eid: str) -> bytes:
    event = {"id": eid, "kind": "post", "author": "poster1", "media": [{"b64": _png()}]}
    return json.dumps(event).encode()


@pytest.fixture
def web(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    def recorded(media: Any, names: Any, *args: Any, **kwargs: Any) -> list[Any]:
        out = T.signal_set(T.pdq_dihedral(VICTIM))
        return [out[n] for n in names if n in out]

    # every Services' default extraction runs through this (the models are not needed here)
    monkeypatch.setattr(decide_services_mod, "run_signals", recorded)
    w = make_web(tmp_path, db_url)
    yield w
    w.app.state.services.db.close()


def _ingest(web: Any, eid: str) -> str:
    r = web.client.post("/v1/ingest", content=_event(eid), headers=web.h("platform"))
    assert r.status_code == 200, r.text
    [outcome] = r.json()["outcomes"]
    assert outcome["status"] == "decided", outcome
    got = web.client.get(f"/v1/decisions/{eid}", headers=web.h("auditor"))
    assert got.status_code == 200, got.text
    return str(got.json()["decision"]["action"])


def test_a_hash_added_through_the_api_is_matched_by_the_next_ingest(web: Any) -> None:
    # the ingest path is built and its index loaded before the bank exists
    assert _ingest(web, "before") == "allow"
    r = web.client.post("/v1/banks", json={"name": "victims"}, headers=web.h("admin"))
    assert r.status_code == 201, r.text
    entry = {"pdq": VICTIM, "quality": 100, "source": "takedown"}
    r = web.client.post(
        "/v1/banks/victims/entries", json={"entries": [entry]}, headers=web.h("admin")
    )
    assert r.status_code == 201, r.text
    assert _ingest(web, "after") == "remove"


def test_ingest_and_the_decision_endpoints_share_one_bank_index(web: Any) -> None:
    _ingest(web, "e1")
    svc = web.app.state.services
    decider = svc.lazy("ingest", lambda: None).processor.decider
    assert decider.services(svc.db).banks is svc.banks()
