"""Random sequences of reviews, second reviews and appeals keep strikes and sanctions
consistent with the actions in force (hypothesis; in-memory SQLite, fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from gardefou import testing as T
from gardefou.cases import CaseStore
from gardefou.decision import Action
from gardefou.errors import ConfigError, ForbiddenError
from gardefou.policy import evaluate, load_default_policy
from gardefou.policy.dsa import ACTION_VISIBILITY
from gardefou.store import connect

POLICY = load_default_policy(signals={*T.POLICY_SIGNALS})
NOW = datetime(2026, 1, 5, tzinfo=UTC)
DECISIONS = [
    evaluate(POLICY, T.signal_set(T.nudity("explicit", 0.6), T.faces(1)), {}),  # review
    evaluate(POLICY, T.signal_set(T.nudity("explicit", 0.95), T.faces(1)), {}),  # remove
    evaluate(POLICY, T.signal_set(T.nudity("suggestive"), T.faces(1), T.age(True)), {}),  # esc.
]
ACTIONS = ["allow", "remove", "remove_escalate", "label"]
PEOPLE = ["mod-a", "mod-b", "mod-c", "u0", "u1"]
op = st.tuples(
    st.sampled_from(["review", "second", "ask_second", "appeal", "decide_appeal"]),
    st.integers(0, 3),
    st.sampled_from(ACTIONS),
    st.sampled_from(PEOPLE),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=4), st.lists(op, max_size=14))
def test_strikes_follow_the_action_in_force(kinds, ops):
    db = connect(":memory:")
    store = CaseStore(db, POLICY, clock=lambda: NOW)
    cases = [
        store.open(f"e{i}", "post", DECISIONS[k], poster=f"u{i % 2}", requester="req")
        for i, k in enumerate(kinds)
    ]
    for name, idx, action, who in ops:
        case = cases[idx % len(cases)]
        try:
            if name == "review":
                store.review(case.id, who, action)
            elif name == "second":
                store.second_review(case.id, who, action)
            elif name == "ask_second":
                store.request_second_review(case.id, who)
            elif name == "appeal":
                store.appeal(case.id, who, "not me")
            else:
                open_appeals = [a for a in store.appeals(case.id) if a.status == "open"]
                if open_appeals:
                    store.decide_appeal(open_appeals[0].id, who, action)
        except (ConfigError, ForbiddenError):
            pass  # refused transitions must leave everything as it was
    for c in cases:
        c = store.get(c.id)
        active = {(s.account, s.role) for s in db_strikes(db, c.id)}
        weighted = POLICY.accountability.weights.get(c.action, 0) > 0
        if c.action in ACTION_VISIBILITY and weighted:
            assert active == {(c.poster, "poster"), ("req", "requester")}, c
        else:
            assert active == set(), c
    for account in ("u0", "u1", "req"):
        pts = store.points(account)
        expected = sum(s.weight for s in store.strikes(account))
        assert abs(pts - expected) < 1e-9
        in_force = set(store.standing(account).restrictions)
        assert in_force == {s.name for s in POLICY.accountability.sanctions if pts >= s.points}
    db.close()


def db_strikes(db, case_id):
    from gardefou.cases import Strike

    rows = db.query("SELECT * FROM strikes WHERE case_id = ? AND reversed_at IS NULL", (case_id,))
    return [Strike(**r) for r in rows]


def test_refusal_leaves_no_trace():
    db = connect(":memory:")
    store = CaseStore(db, POLICY, clock=lambda: NOW)
    c = store.open("e", "post", DECISIONS[1], poster="u0")
    before = len(store.history(c.id))
    try:
        store.review(c.id, "mod-a", Action.ALLOW)  # not pending: refused
    except ConfigError:
        pass
    assert len(store.history(c.id)) == before and store.get(c.id).action == Action.REMOVE
