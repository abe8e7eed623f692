"""HMA compatibility: request/response pairs from HMA's own API tests (OpenMediaMatch
tests/test_api.py, test_api_banks.py, test_match_api.py, utils.py) replayed against gardefou."""

from __future__ import annotations

import json
import time

import pytest

from tests.web_support import make_web

SPECIMEN1 = "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318"
SPECIMEN2 = "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318"


@pytest.fixture
def web(tmp_path, monkeypatch):
    monkeypatch.setenv("GARDEFOU_HMA_API", "1")
    w = make_web(tmp_path)
    assert w.app.state.hma_ready.wait(30)
    w.client.headers["X-API-Key"] = w.keys["admin"]
    return w


@pytest.fixture
def image(fixtures):
    return (fixtures / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg").read_bytes()


def create_bank(web, name: str) -> None:  # HMA tests/utils.py create_bank
    r = web.client.post("/c/banks", json={"name": name})
    assert r.status_code == 201
    assert r.json() == {"matching_enabled_ratio": 1.0, "name": name}


def add_image(web, bank: str, image: bytes) -> dict:
    r = web.client.post(f"/c/bank/{bank}/content", files={"photo": ("a.jpg", image)})
    assert r.status_code == 200, r.text
    return r.json()


def test_mode_is_off_unless_enabled(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("GARDEFOU_HMA_API", raising=False)
    w = make_web(tmp_path)
    assert w.client.get("/m/lookup", headers=w.h("admin")).status_code == 404
    assert w.client.get("/status/live").status_code == 404


def test_status_and_live(web) -> None:  # test_status_response, test_status_live_always_alive
    r = web.client.get("/status")
    assert (r.status_code, r.text) == (200, "I-AM-ALIVE")
    web.app.state.hma_ready.clear()  # as before the index is loaded
    r = web.client.get("/status")
    assert (r.status_code, r.text) == (503, "INDEX-NOT-LOADED")
    assert web.client.get("/status/live").text == "I-AM-ALIVE"
    r = web.client.get(f"/m/lookup?signal_type=pdq&signal={SPECIMEN1}")
    assert r.status_code == 503 and r.json() == {"message": "index not yet ready"}


def test_compare(web) -> None:  # test_compare_hashes
    r = web.client.post("/m/compare", json={"pdq": [SPECIMEN1, SPECIMEN2]})
    assert r.json() == {"pdq": [True, {"distance": 9}]}
    for bad in (
        ["banana"],
        {"pdq": "banana"},
        {"pdq": []},
        {"pdq": ["banana", "banana"]},
        {"pdq": [SPECIMEN1, SPECIMEN2, SPECIMEN1]},
    ):
        r = web.client.post("/m/compare", json=bad)
        assert r.status_code == 400 and "message" in r.json()
    # HMA's own texts for a body that is not a JSON object, per endpoint family
    for body in (b"[1]", b"{not json"):
        r = web.client.post("/m/compare", content=body)
        assert r.json() == {"message": "Request input was not a dict"}
        r = web.client.post("/c/banks", content=body)
        assert r.json() == {"message": "this endpoint expects a json object payload"}


def test_banks_index_create_update_delete(web) -> None:  # test_api_banks.py
    assert web.client.get("/c/banks").json() == []
    for bad in ("01_TEST_BANK", "my_test_bank"):
        assert web.client.post("/c/banks", json={"name": bad}).status_code == 400
    create_bank(web, "MY_TEST_BANK_01")
    assert web.client.get("/c/banks").json() == [
        {"matching_enabled_ratio": 1.0, "name": "MY_TEST_BANK_01"}
    ]
    assert web.client.post("/c/banks", json={"name": "MY_TEST_BANK_01"}).status_code == 403
    create_bank(web, "MY_TEST_BANK")
    r = web.client.post("/c/banks", json={"name": "COOP_ORG_BANK", "enabled_ratio": "0.5"})
    assert r.json() == {"name": "COOP_ORG_BANK", "matching_enabled_ratio": 0.5}  # as Coop sends
    assert web.client.put("/c/bank/MY_TEST_BANK", json={"name": "1_invalid"}).status_code == 400
    r = web.client.put("/c/bank/MY_TEST_BANK", json={"name": "MY_TEST_BANK_RENAMED"})
    assert r.status_code == 200 and r.json()["name"] == "MY_TEST_BANK_RENAMED"
    r = web.client.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled": False})
    assert r.json()["matching_enabled_ratio"] == 0
    r = web.client.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": 0.5})
    assert r.json()["matching_enabled_ratio"] == 0.5
    assert web.client.get("/c/bank/MY_TEST_BANK_RENAMED").json() == {
        "name": "MY_TEST_BANK_RENAMED",
        "matching_enabled_ratio": 0.5,
    }
    assert web.client.get("/c/bank/NOPE").status_code == 404
    assert web.client.delete("/c/bank/MY_TEST_BANK_01").json() == {"message": "Done"}
    assert web.client.delete("/c/bank/MY_TEST_BANK_01").status_code == 200  # already gone


def test_content_add_get_update_delete_and_lookup(web, image) -> None:
    create_bank(web, "NEW_BANK")
    added = add_image(web, "NEW_BANK", image)
    assert set(added) == {"id", "signals"} and len(added["signals"]["pdq"]) == 64
    cid, pdq = added["id"], added["signals"]["pdq"]
    # test_bank_get_content / _with_signals
    r = web.client.get(f"/c/bank/NEW_BANK/content/{cid}")
    assert r.json() == {
        "id": cid,
        "disable_until_ts": 1,
        "original_media_uri": None,
        "bank": {"name": "NEW_BANK", "matching_enabled_ratio": 1.0},
    }
    r = web.client.get(f"/c/bank/NEW_BANK/content/{cid}?include_signals=true")
    assert r.json()["signals"] == {"pdq": pdq}
    assert web.client.get("/c/bank/NOPE/content/1").status_code == 404
    assert web.client.get(f"/c/bank/NEW_BANK/content/{cid + 99}").status_code == 404
    # the hash posted as-is matches (test_banks_add_hash_index, test_match_api lookups)
    assert web.client.get(f"/m/raw_lookup?signal_type=pdq&signal={pdq}").json() == {
        "matches": [cid]
    }
    r = web.client.get(f"/m/raw_lookup?signal_type=pdq&signal={pdq}&include_distance=true")
    assert r.json() == {"matches": [{"bank_content_id": cid, "distance": "0"}]}
    r = web.client.get(f"/m/lookup?signal_type=pdq&signal={pdq}")
    assert r.json() == {"NEW_BANK": [{"bank_content_id": cid, "distance": "0"}]}
    r = web.client.post("/m/lookup", files={"photo": ("a.jpg", image)})
    assert r.json() == {"pdq": {"NEW_BANK": [{"bank_content_id": cid, "distance": "0"}]}}
    assert web.client.post("/h/hash", files={"photo": ("a.jpg", image)}).json() == {"pdq": pdq}
    # test_bank_update_content(_400): disabled until next year -> no match
    next_year = int(time.time()) + 365 * 86_400
    r = web.client.put(f"/c/bank/NEW_BANK/content/{cid}", json={"disable_until_ts": next_year})
    assert r.status_code == 200 and r.json()["disable_until_ts"] == next_year
    assert web.client.get(f"/m/lookup?signal_type=pdq&signal={pdq}").json() == {}
    bad = web.client.put(f"/c/bank/NEW_BANK/content/{cid}", json={"disable_until_ts": 9999999999})
    assert bad.status_code == 400
    web.client.put(f"/c/bank/NEW_BANK/content/{cid}", json={"disable_until_ts": 1})
    assert web.client.get(f"/m/lookup?signal_type=pdq&signal={pdq}").json() != {}
    # test_banks_delete_content
    assert web.client.delete(f"/c/bank/NEW_BANK/content/{cid}").json() == {"deleted": 1}
    assert web.client.get(f"/m/lookup?signal_type=pdq&signal={pdq}").json() == {}


def test_metadata_validation_and_signal_add(web, image) -> None:  # test_banks_add_metadata
    create_bank(web, "NEW_BANK")
    files = {"photo": ("a.jpg", image)}
    r = web.client.post(
        "/c/bank/NEW_BANK/content", files=files, data={"metadata": '{"invalid_metadata": 5}'}
    )
    assert r.status_code == 400
    meta = {"content_id": "1197433091", "json": {"asdf": {}}}
    r = web.client.post(
        "/c/bank/NEW_BANK/content", files=files, data={"metadata": json.dumps(meta)}
    )
    assert r.status_code == 200
    got = web.client.get(f"/c/bank/NEW_BANK/content/{r.json()['id']}").json()
    assert got["metadata"] == meta
    r = web.client.post("/c/bank/NEW_BANK/signal", json={"pdq": SPECIMEN1})
    assert r.json()["signals"] == {"pdq": SPECIMEN1}
    assert web.client.post("/c/bank/NEW_BANK/signal", json={"tmk": "x"}).status_code == 400


def test_errors_are_hma_shaped(web) -> None:
    r = web.client.get("/m/lookup?signal_type=pdq&signal=banana")
    assert r.status_code == 400 and r.json()["message"].startswith("invalid signal")
    r = web.client.get(f"/m/lookup?signal_type=nope&signal={SPECIMEN1}")
    assert r.json() == {"message": "No such SignalType 'nope'"}
    assert web.client.get("/m/lookup").status_code == 400
    assert web.client.get("/m/index/status").json()["pdq"]["present"] is True
    assert web.client.get("/m/index/status?signal_type=x").status_code == 400


def test_url_refused_unless_operator_opts_in(web) -> None:  # HMA answers 403 without hashing
    for path in ("/h/hash?url=http://127.0.0.1/x.jpg", "/m/lookup?url=http://127.0.0.1/x.jpg"):
        r = web.client.get(path)
        assert r.status_code == 403 and "GARDEFOU_HMA_ALLOW_URL" in r.json()["message"]


def test_auth_key_or_trusted_proxy(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GARDEFOU_HMA_API", "1")
    w = make_web(tmp_path)
    assert w.client.get("/c/banks").status_code == 401
    assert w.client.get("/c/banks", headers=w.h("public")).status_code == 403
    assert w.client.get("/c/banks", headers=w.h("platform")).status_code == 200
    r = w.client.post("/c/banks", json={"name": "B"}, headers=w.h("platform"))
    assert r.status_code == 403
    bearer = {"Authorization": f"Bearer {w.keys['admin']}"}
    assert w.client.post("/c/banks", json={"name": "B"}, headers=bearer).status_code == 201
    monkeypatch.setenv("GARDEFOU_HMA_TRUSTED_PROXIES", "testclient")
    w2 = make_web(tmp_path / "b")
    assert w2.client.get("/c/banks").status_code == 200  # no key behind the trusted proxy


def test_exchanges_read_only_unless_enabled(web, monkeypatch, tmp_path) -> None:
    assert web.client.get("/c/exchanges").json() == []
    body = {"bank": "STOPNCII", "api": "stop_ncii", "api_json": {}}
    assert web.client.post("/c/exchanges", json=body).status_code == 403
    from gardefou.exchanges import ExchangeService

    svc = web.app.state.services
    ExchangeService(svc.banks()).add("partner", kind="file", bank="partner", url="/x")
    assert web.client.get("/c/exchanges").json() == ["partner"]
    assert web.client.get("/c/exchange/partner").json() == {
        "name": "partner",
        "api": "file",
        "enabled": True,
        "bank": "partner",
    }
    assert web.client.get("/c/exchanges/api/file").json() == {
        "supports_authentification": False,
        "has_set_authentification": False,
    }
    r = web.client.post("/c/exchanges/api/stop_ncii", json={"credential_json": {"k": "v"}})
    assert r.status_code == 403 and "never stores" in r.json()["message"]
    status = web.client.get("/c/exchange/partner/status").json()
    assert set(status) == {"last_fetch_time", "checkpoint_time", "success"}
    assert web.client.get("/c/exchange/NOPE/status").status_code == 404
    monkeypatch.setenv("GARDEFOU_HMA_API", "1")
    monkeypatch.setenv("GARDEFOU_HMA_EXCHANGES_WRITE", "1")
    w2 = make_web(tmp_path / "w2")
    r = w2.client.post("/c/exchanges", json=body, headers=w2.h("admin"))
    assert r.status_code == 201 and r.json() == {"message": "Created successfully"}
