"""Clusters in the review queue (issue 21): copies that share a parent post or a near-identical
PDQ hash are one queue item with one decision, each case still recorded with its own DSA
statement; an exception can be split out."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gardefou import testing as T
from tests.test_web_cases import png
from tests.web_support import web_deciding_with

BASE = "f" * 64
RULE = "explicit_real_person_review"


def near(bits: int) -> str:
    """BASE with its first ``bits`` bits flipped."""
    n = int(BASE, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{n:064x}"


# image name -> (color, PDQ hash, role)
IMAGES = {
    "parent": ((10, 10, 10), "0" * 64, "parent"),
    "a": ((200, 0, 0), near(0), "edit"),
    "b": ((0, 200, 0), near(5), "edit"),  # 5 bits from a: the same picture
    "c": ((0, 0, 200), near(100), "edit"),  # 100 bits: another picture
    "d": ((200, 200, 0), "a" * 64, "edit"),
    "e": ((0, 200, 200), "5" * 64, "edit"),
}
DATA = {k: png(color) for k, (color, _, _) in IMAGES.items()}


class Fake:
    def __init__(self) -> None:
        self.by_sha = {hashlib.sha256(DATA[k]).hexdigest(): k for k in IMAGES}

    def __call__(self, media, names):
        k = self.by_sha[media.sha256]
        _, pdq, role = IMAGES[k]
        if role == "parent":
            sig = [T.nudity("none", 0.97), T.faces(1), T.identity([T.person_embedding(1)])]
        else:  # explicit at low confidence, another face: review
            sig = [T.nudity("explicit", 0.55), T.faces(1), T.identity([T.person_embedding(2)])]
        r = T.signal_set(*sig, T.pdq_dihedral(pdq))
        return {n: v for n, v in r.items() if n in names}


@pytest.fixture
def web(tmp_path, db_url):
    yield from web_deciding_with(tmp_path, db_url, Fake())


def post(web, eid: str, image: str, reply_to: str | None = None) -> int | None:
    body = {"id": eid, "kind": "post", "author": "u-" + eid, "text": "",
            "media": [{"b64": base64.b64encode(DATA[image]).decode()}]}  # fmt: skip
    if reply_to:
        body["reply_to"] = reply_to
    r = web.client.post("/v1/decisions", json=body, headers=web.h("platform"))
    assert r.status_code == 200, r.text
    return r.json()["case_id"]


def clusters(web) -> list[dict]:
    r = web.client.get("/v1/cases/clusters", headers=web.h("moderator"))
    assert r.status_code == 200, r.text
    return r.json()


def decide_cluster(web, cluster_id: int, case_ids: list, rule_id: str | None = None):
    """A moderator removes ``case_ids`` of the cluster in one decision (the raw response)."""
    body = {"action": "remove", "case_ids": case_ids}
    if rule_id is not None:
        body["rule_id"] = rule_id
    return web.client.post(
        f"/v1/cases/clusters/{cluster_id}/decisions", json=body, headers=web.h("moderator")
    )


def test_parent_and_near_pdq_group_copies_far_ones_stay_apart(web) -> None:
    post(web, "p1", "parent")
    c1 = post(web, "r1", "d", reply_to="p1")  # same parent
    c2 = post(web, "r2", "e", reply_to="p1")
    c3 = post(web, "x1", "a")  # PDQ 5 bits from x2
    c4 = post(web, "x2", "b")
    c5 = post(web, "x3", "c")  # far from everything
    got = {tuple(c["case_ids"]): c for c in clusters(web)}
    assert set(got) == {(c1, c2), (c3, c4), (c5,)}
    assert got[(c1, c2)]["shared"] == ["parent"] and got[(c3, c4)]["shared"] == ["pdq"]
    assert got[(c1, c2)]["count"] == 2
    assert (
        web.client.get("/v1/cases/clusters", headers=web.h("moderator")).headers["X-Total-Count"]
        == "3"
    )


def test_one_decision_per_cluster_each_case_its_own_statement(web) -> None:
    post(web, "p1", "parent")
    ids = [post(web, f"r{i}", img, reply_to="p1") for i, img in enumerate("ade")]
    (cl,) = clusters(web)
    r = decide_cluster(web, cl["id"], ids, RULE)
    assert r.status_code == 200, r.text
    assert [c["status"] for c in r.json()["decided"]] == ["actioned"] * 3
    db = web.app.state.services.db
    for case_id in ids:
        rows = db.query(
            "SELECT actor, dsa_json FROM case_actions WHERE case_id = ? AND kind = 'review'",
            (case_id,),
        )
        assert len(rows) == 1 and '"decision_ground"' in rows[0]["dsa_json"]
        assert (
            db.query("SELECT id FROM review_media WHERE event_id = ?", (f"r{ids.index(case_id)}",))
            == []
        )
    assert clusters(web) == []


def test_an_exception_is_split_out_and_decided_alone(web) -> None:
    post(web, "p1", "parent")
    ids = [post(web, f"r{i}", img, reply_to="p1") for i, img in enumerate("ade")]
    (cl,) = clusters(web)
    r = decide_cluster(web, cl["id"], ids[:2], RULE)
    assert r.status_code == 200 and r.json()["split_out"] == [ids[2]]
    assert [c["case_ids"] for c in clusters(web)] == [[ids[2]]]
    # a newcomer sharing the parent does not swallow the exception
    new = post(web, "r9", "c", reply_to="p1")
    assert sorted(c["count"] for c in clusters(web)) == [1, 1]
    assert {c["case_ids"][0] for c in clusters(web)} == {ids[2], new}


def test_cluster_decision_refuses_cases_outside_the_cluster(web) -> None:
    post(web, "p1", "parent")
    ids = [post(web, f"r{i}", img, reply_to="p1") for i, img in enumerate("ad")]
    other = post(web, "x3", "c")
    cl = next(c for c in clusters(web) if c["count"] == 2)
    r = decide_cluster(web, cl["id"], [*ids, other])
    assert r.status_code in (400, 422) and str(other) in r.text


def test_statement_preview_and_thread_pair(web) -> None:
    post(web, "p1", "parent")
    case_id = post(web, "r1", "d", reply_to="p1")
    h = web.h("moderator")
    r = web.client.get(
        f"/v1/cases/{case_id}/statement?action=remove&rule_id=explicit_real_person_review",
        headers=h,
    )
    assert r.status_code == 200 and r.json()["statement"]["decision_ground"], r.text
    r = web.client.get(f"/v1/cases/{case_id}/statement?action=allow", headers=h)
    assert r.json()["statement"] is None
    view = web.client.get(f"/v1/cases/{case_id}", headers=h).json()
    assert view["thread"]["parent"] == "p1"
    assert view["thread"]["reply_levels"] == ["explicit"]
    assert view["thread"]["parent_levels"] == ["none"]
    assert [m["role"] for m in view["media"]] == ["media", "parent"]
    assert all(f["means"] for f in view["facts"])


def test_queue_is_sorted_by_deadline_then_severity(web) -> None:
    from gardefou.web.routers.cases import _deadline  # noqa: F401 - the order's key

    post(web, "x1", "a")
    post(web, "x3", "c")
    q = web.client.get("/v1/cases", headers=web.h("moderator")).json()
    keys = [(c["deadline_at"], -c["severity"]) for c in q]
    assert keys == sorted(keys)


def test_bank_entry_and_consent_template_group_cases(tmp_path) -> None:
    """Exact keys (a victim-bank entry, a consent template) group transitively; a different
    proposed action (an escalation) is never grouped with a plain review."""
    from types import SimpleNamespace

    from gardefou.cases.clusters import clusters as group
    from gardefou.decision import Action
    from gardefou.store import connect

    db = connect(tmp_path / "k.db")
    keys = {1: [("bank", "7")], 2: [("bank", "7"), ("consent", "3")], 3: [("consent", "3")],
            4: [("bank", "7")], 5: [("bank", "8")]}  # fmt: skip
    for case_id, ks in keys.items():
        for kind, value in ks:
            db.execute(
                "INSERT INTO case_keys (case_id, kind, value) VALUES (?,?,?)",
                (case_id, kind, value),
            )
    cases = [
        SimpleNamespace(id=i, status="pending_review", severity=20,
                        action=Action.REMOVE_ESCALATE if i == 4 else Action.REVIEW)
        for i in keys
    ]  # fmt: skip
    got = sorted(c.case_ids for c in group(db, cases, lambda c: 0.0))
    assert got == [[1, 2, 3], [4], [5]]
    db.close()


def test_bank_entries_are_recorded_from_the_decision_not_looked_up_again() -> None:
    from gardefou.decide import bank_facts

    class Banks:
        def match(self, value, quality=None):
            return [{"entry_id": 12, "bank": "victims", "source": "submission", "distance": 3}]

    services = type("S", (), {"banks": Banks(), "victim_banks": None})()
    facts = bank_facts(services, {"pdq_dihedral": T.pdq_dihedral("0" * 64)})
    assert facts["bank.entries"] == ["12"]


def test_near_components_are_exact() -> None:
    """The vectorized grouping gives the components a pairwise comparison gives."""
    import itertools
    import random

    from gardefou.cases.clusters import _near_components

    rng = random.Random(7)
    bases = [rng.getrandbits(256) for _ in range(6)]
    items = []
    for i in range(240):
        h = bases[i % 6]
        for _ in range(rng.randint(0, 40)):
            h ^= 1 << rng.randrange(256)
        items.append((i + 1, f"{h:064x}"))
    parent = {i: i for i, _ in items}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for (i, a), (j, b) in itertools.combinations(items, 2):
        if bin(int(a, 16) ^ int(b, 16)).count("1") <= 31:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    assert dict(_near_components(items, 31)) == {i: find(i) for i, _ in items}
