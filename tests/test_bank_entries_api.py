"""Bank management over /v1: entries, bank settings, import/export, kept signals, audit."""

from __future__ import annotations

import json
import random
import time

from tests.bank_support import rand_hex
from tests.web_support import make_web


def test_entries_import_export_update_delete_and_audit(tmp_path) -> None:
    w = make_web(tmp_path)
    c, admin, mod = w.client, w.h("admin"), w.h("moderator")
    assert c.post("/v1/banks", json={"name": "ncii"}, headers=admin).status_code == 201
    rng = random.Random(1)
    a, b = rand_hex(rng), rand_hex(rng)
    text = f"pdq {a}\npdq {b}\nvideo_md5 {'d' * 32}\n"
    r = c.post("/v1/bank-files/ncii?format=te&reason=partner+file", content=text, headers=mod)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2 and r.json()["other_signals"] == {"video_md5": 1}
    listed = c.get("/v1/banks/ncii/entries", headers=w.h("auditor")).json()
    assert [e["pdq"] for e in listed["entries"]] == [a, b] and listed["stats"]["entries"] == 2
    first = listed["entries"][0]["id"]
    got = c.get(f"/v1/banks/entries/{first}", headers=mod).json()
    assert got["pdq"] == a and got["exchange"] is None and got["source"].startswith("api:")
    # disabled until tomorrow: no match; cleared: matches again
    later = time.time() + 86_400
    r = c.patch(
        f"/v1/banks/entries/{first}",
        json={"disabled_until": later, "note": "checking", "reason": "appeal"},
        headers=mod,
    )
    assert r.status_code == 200 and r.json()["disabled_until"] == later
    assert c.post("/v1/match", json={"pdq": [a]}, headers=w.h("platform")).json() == []
    c.patch(f"/v1/banks/entries/{first}", json={"clear_disabled_until": True}, headers=mod)
    assert len(c.post("/v1/match", json={"pdq": [a]}, headers=w.h("platform")).json()) == 1
    assert c.delete(f"/v1/banks/entries/{first}?reason=wrong", headers=mod).json()["removed"]
    assert c.post("/v1/match", json={"pdq": [a]}, headers=w.h("platform")).json() == []
    # export: te and hma carry the kept video hash; csv the PDQ rows
    te = c.get("/v1/bank-files/ncii?format=te", headers=mod).text
    assert te.splitlines() == [f"pdq {b}", f"video_md5 {'d' * 32}"]
    hma = [
        json.loads(x)
        for x in c.get("/v1/bank-files/ncii?format=hma", headers=mod).text.splitlines()
    ]
    assert {next(iter(x["signals"])) for x in hma} == {"pdq", "video_md5"}
    kept = c.get("/v1/banks/ncii/signals", headers=mod).json()
    assert kept["counts"] == {"video_md5": 1}
    audit = c.get("/v1/banks/ncii/audit", headers=w.h("auditor")).json()
    actions = [row["action"] for row in audit]
    assert actions[:4] == ["entry.remove", "entry.update", "entry.update", "entry.import"]
    assert audit[0]["actor"] == "moderator-1" and audit[0]["reason"] == "wrong"
    per_entry = c.get(f"/v1/banks/entries/{first}/audit", headers=mod).json()
    assert [row["action"] for row in per_entry] == ["entry.remove", "entry.update", "entry.update"]
    # bank settings and delete: admin only
    assert c.patch("/v1/banks/ncii", json={"threshold": 20}, headers=mod).status_code == 403
    assert (
        c.patch("/v1/banks/ncii", json={"threshold": 20}, headers=admin).json()["threshold"] == 20
    )
    assert c.delete("/v1/banks/ncii", headers=admin).json()["entries_removed"] == 1
    assert c.get("/v1/banks/ncii/entries", headers=mod).status_code == 404


def test_bad_import_names_its_line_and_stores_nothing(tmp_path) -> None:
    w = make_web(tmp_path)
    c = w.client
    c.post("/v1/banks", json={"name": "ncii"}, headers=w.h("admin"))
    r = c.post("/v1/bank-files/ncii?format=te", content="pdq zz\n", headers=w.h("moderator"))
    assert r.status_code == 400 and "line 1" in r.json()["message"]
    assert c.post("/v1/bank-files/ncii", content="x", headers=w.h("auditor")).status_code == 403
    assert c.get("/v1/banks/ncii/entries", headers=w.h("moderator")).json()["entries"] == []
