"""Cases: review queue, second review, appeals, strikes with decay, sanctions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gardefou import testing as T
from gardefou.cases import ACTIONED, APPEALED, CLOSED, PENDING_REVIEW, SECOND_REVIEW, CaseStore
from gardefou.cases import accountability as acc
from gardefou.decision import Action
from gardefou.errors import ConfigError, ForbiddenError
from gardefou.policy import evaluate, load_default_policy

SIGNALS = {*T.POLICY_SIGNALS, "pdq_dihedral"}
REAL = T.faces(1)


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 5, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def policy():
    return load_default_policy(signals=SIGNALS)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_db, policy, clock):
    return CaseStore(tmp_db, policy, exempt_accounts=frozenset({"imgbot"}), clock=clock)


def removal(policy):
    return evaluate(
        policy,
        T.signal_set(T.nudity("suggestive", 0.8), REAL),
        {"thread.sexualized_edit": True, "thread.same_person_score": 0.9},
    )


def review(policy):
    return evaluate(policy, T.signal_set(T.nudity("explicit", 0.6), REAL), {})


def test_allow_opens_no_case(store, policy):
    assert store.open("e0", "post", evaluate(policy, T.signal_set(), {}), poster="u") is None


def test_auto_removal_case_and_strike(store, policy):
    case = store.open("e1", "post", removal(policy), poster="troll", content_date="2026-01-05")
    assert case.status == ACTIONED and case.action == Action.REMOVE
    assert case.rules[0] == "sexualized_edit" and case.synthetic
    assert case.dsa_fields["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert store.open("e1", "post", removal(policy), poster="troll").id == case.id  # idempotent
    assert [(s.account, s.role, s.weight) for s in store.strikes("troll")] == [
        ("troll", "poster", 1.0)
    ]
    assert store.history(case.id)[0].kind == "auto"


def test_requester_same_consequences_and_exempt_bot(store, policy):
    store.open("e2", "post", removal(policy), poster="imgbot", requester="troll")
    assert store.strikes("imgbot") == []
    assert [(s.role, s.weight) for s in store.strikes("troll")] == [("requester", 1.0)]


def test_review_queue_order_and_review(store, policy):
    store.open("low", "post", review(policy), poster="a")
    minor = evaluate(policy, T.signal_set(T.nudity("suggestive"), REAL, T.age(True)), {})
    store.open("minor", "post", minor, poster="b")
    q = store.queue()
    assert [c.event_id for c in q] == ["minor", "low"]  # escalations first
    assert q[1].status == PENDING_REVIEW and store.strikes("a") == []  # review: no strike yet
    c = store.review(q[1].id, "mod-a", "remove", note="confirmed")
    assert c.status == ACTIONED and c.action == Action.REMOVE
    assert c.dsa_fields["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert c.dsa_fields["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert len(store.strikes("a")) == 1
    with pytest.raises(ConfigError, match="not pending_review"):
        store.review(c.id, "mod-a", "allow")


def test_review_allow_closes(store, policy):
    case = store.open("e3", "post", review(policy), poster="a")
    c = store.review(case.id, "mod-a", "allow")
    assert c.status == CLOSED and c.dsa_fields == {} and store.strikes("a") == []


def test_escalation_needs_second_reviewer(store, policy):
    case = store.open("e4", "post", review(policy), poster="a")
    c = store.review(case.id, "mod-a", "remove_escalate")
    assert c.status == SECOND_REVIEW and c.action == Action.REMOVE_ESCALATE
    with pytest.raises(ForbiddenError, match="another person"):
        store.second_review(case.id, "mod-a", "remove_escalate")
    c = store.second_review(case.id, "mod-b", "remove")
    assert c.status == ACTIONED and c.action == Action.REMOVE
    assert [a.kind for a in store.history(case.id)] == ["auto", "review", "second_review"]


def test_appeal_reversal_removes_strike_and_lifts_sanction(store, policy, clock):
    cases = []
    for i in range(2):
        cases.append(store.open(f"r{i}", "post", removal(policy), poster="troll"))
    st = store.standing("troll")
    assert st.points == 2 and st.restrictions == ("rate_limit",)
    assert st.next_sanction == "no_image_edit"
    with pytest.raises(ForbiddenError):
        store.appeal(cases[0].id, "someone-else", "x")
    ap = store.appeal(cases[0].id, "troll", "that is me, I consented")
    assert store.get(cases[0].id).status == APPEALED
    with pytest.raises(ConfigError, match="open appeal"):
        store.appeal(cases[0].id, "troll", "again")
    c = store.decide_appeal(ap.id, "mod-c", "allow", note="consent shown")
    assert c.status == CLOSED and c.action == Action.ALLOW
    assert store.get_appeal(ap.id).status == "reversed"
    st = store.standing("troll")
    assert st.points == 1 and st.restrictions == ()
    assert len(store.strikes("troll", include_reversed=True)) == 2


def test_appeal_upheld_keeps_strike(store, policy):
    case = store.open("u1", "post", removal(policy), poster="troll")
    ap = store.appeal(case.id, "troll")
    c = store.decide_appeal(ap.id, "mod-c", "remove")
    assert c.status == ACTIONED and store.get_appeal(ap.id).status == "upheld"
    assert store.points("troll") == 1


def test_appeal_decided_by_someone_else(store, policy):
    case = store.open("u2", "post", review(policy), poster="troll")
    store.review(case.id, "mod-a", "remove")
    ap = store.appeal(case.id, "troll")
    with pytest.raises(ForbiddenError, match="decided by someone else"):
        store.decide_appeal(ap.id, "mod-a", "allow")


def test_decay_and_sanction_ladder(store, policy, clock):
    for i in range(5):
        store.open(f"d{i}", "post", removal(policy), poster="spammer")
    st = store.standing("spammer")
    assert st.points == 5
    assert set(st.restrictions) == {"rate_limit", "no_image_edit", "suspend"}
    rec = next(s for s in st.sanctions if s.sanction == "suspend")
    f = store.sanction_dsa_fields(rec)
    assert f["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert f["end_date_account_restriction"] == "2026-04-05"
    assert "decision_visibility" not in f and f["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    clock.t += timedelta(days=90)  # one half-life
    assert store.points("spammer") == pytest.approx(2.5)
    clock.t += timedelta(days=1)  # rate_limit (7 d) and no_image_edit (30 d) have ended
    assert store.standing("spammer").restrictions == ()


def test_escalation_weighs_more(store, policy):
    minor = evaluate(policy, T.signal_set(T.nudity("suggestive"), REAL, T.age(True)), {})
    store.open("m1", "post", minor, poster="x")
    assert store.points("x") == 3


def test_pure_accountability_math(policy):
    a = policy.accountability
    assert acc.strike_weight(a, Action.REMOVE, acc.REQUESTER) == 1.0
    assert acc.strike_weight(a, Action.REVIEW, acc.POSTER) == 0.0
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert acc.points([(1.0, t0), (2.0, t0)], t0 + timedelta(days=180), 90) == 0.75
    assert [s.name for s in acc.due_sanctions(a, 3.2)] == ["rate_limit", "no_image_edit"]
    assert acc.next_sanction(a, 9) is None


def test_review_must_decide(store, policy):
    case = store.open("e9", "post", review(policy), poster="a")
    with pytest.raises(ConfigError, match="'review' is not a decision"):
        store.review(case.id, "mod-a", "review")
    with pytest.raises(ConfigError, match="unknown action 'delete'"):
        store.review(case.id, "mod-a", "delete")
    assert store.get(case.id).status == PENDING_REVIEW
