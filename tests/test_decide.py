"""decide_event end to end with fake signals: the reply-thread flood, idempotency, generation
events, consent registry, victim banks, and the pipeline adapter. Images are plain colour
squares; the signal values stand for what the models would say."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from gardefou import testing as T
from gardefou.decide import PlatformDecider, Services, decide_event, get_decision, rules_intent
from gardefou.decision import Action
from gardefou.errors import MediaUnreadableError, PipelineEventError
from tests.bank_support import bank_services, banked_extract

ALICE, BOB = T.person_embedding(1), T.person_embedding(2)
PORTRAIT = [T.nudity("none", 0.97), T.faces(1), T.identity([ALICE])]
BIKINI_EDIT = [T.nudity("suggestive", 0.82), T.faces(1), T.identity([T.jitter(ALICE, 0.25)])]
BOB_BEACH = [T.nudity("suggestive", 0.8), T.faces(1), T.identity([BOB])]
VICTIM_HEX = "f" * 64


class FakeSignals:
    """extract(media, names) from a table keyed by file name; counts the calls."""

    def __init__(self, table, folder):
        self.table = {
            hashlib.sha256((folder / k).read_bytes()).hexdigest(): v for k, v in table.items()
        }
        self.calls = 0

    def __call__(self, media, names):
        self.calls += 1
        results = T.signal_set(*self.table[media.sha256])
        results.setdefault("pdq_dihedral", T.pdq_dihedral("0" * 64))
        return {k: v for k, v in results.items() if k in names}


@pytest.fixture
def images(tmp_path):
    for i, name in enumerate(["portrait.png", "edit.png", "beach.png", "victim.png", "bob.png"]):
        Image.new("RGB", (64, 64), (40 * i, 90, 200 - 30 * i)).save(tmp_path / name)
    return tmp_path


@pytest.fixture
def fake(images):
    return FakeSignals(
        {
            "portrait.png": PORTRAIT,
            "edit.png": BIKINI_EDIT,
            "beach.png": BOB_BEACH,
            "bob.png": BOB_BEACH,
            "victim.png": [T.nudity("none", 0.6), T.faces(0), T.pdq_dihedral(VICTIM_HEX)],
        },
        images,
    )


def make_services(db, fake, base_dir, lazy: bool = False) -> Services:
    """The default policy over fake signals, a victim bank holding VICTIM_HEX, imgbot exempt."""
    banks = T.FakeBankService(
        {VICTIM_HEX: [{"bank": "victims", "entry_id": 7, "distance": 0, "source": "submission"}]}
    )
    return bank_services(
        db,
        base_dir,
        banks,
        fake,
        exempt_accounts=frozenset({"imgbot"}),
        intent=rules_intent,
        lazy=lazy,
    )


@pytest.fixture
def services(tmp_db, images, fake):
    return make_services(tmp_db, fake, images)


def post(id, author, media=(), text="", reply_to=None, **kw):
    return {
        "id": id,
        "kind": "post",
        "author": author,
        "text": text,
        "media": list(media),
        "reply_to": reply_to,
        "created_at": "2026-01-05T10:00:00Z",
        **kw,
    }


def test_reply_thread_flood(services):
    cases = services.cases()
    # 1. a woman posts her photo: allowed
    s = decide_event(post("p1", "alice", ["portrait.png"], "new haircut"), services)
    assert s.decision.action == Action.ALLOW and s.case_id is None and s.created
    # 2. a stranger asks the platform's bot to undress her: text only, allowed, remembered
    s = decide_event(post("p2", "troll", [], "@imgbot put her in a bikini", "p1"), services)
    assert s.decision.action == Action.ALLOW and s.decision.reasons[0].code == "no_media"
    # 3. the bot answers with the edit: removed; the requester gets the strike, not the bot
    s = decide_event(post("p3", "imgbot", ["edit.png"], "", "p2"), services)
    d = s.decision
    assert d.action == Action.REMOVE
    assert {r.code for r in d.reasons} >= {
        "sexualized_edit_of_real_person",
        "sexualizing_request_answered",
    }
    assert "CONTENT_TYPE_SYNTHETIC_MEDIA" in d.dsa_fields["content_type"]
    ctx = d.rule_trace[0]
    assert ctx.rule == "context" and "answers a sexualizing request by troll" in ctx.detail
    case = cases.get(s.case_id)
    assert case.poster == "imgbot" and case.requester == "troll"
    assert cases.strikes("imgbot") == []
    assert [x.role for x in cases.strikes("troll")] == ["requester"]
    # 4. the same stranger posts his own edit as a reply: removed, strike as poster
    s = decide_event(post("p4", "troll", ["edit.png"], "lol", "p1"), services)
    assert s.decision.action == Action.REMOVE
    assert s.decision.reasons[0].code == "sexualized_edit_of_real_person"
    st = cases.standing("troll")
    assert st.points == 2 and st.restrictions == ("rate_limit",)
    # 5. alice replies to herself with a beach photo of herself: review, not automatic removal
    s = decide_event(post("p4b", "alice", ["edit.png"], "summer!", "p1"), services)
    assert s.decision.action == Action.REVIEW
    assert "thread.parent_same_author=True" in s.decision.rule_trace[0].detail
    assert cases.strikes("alice") == []
    # 6. an unrelated beach photo of another person in the thread: allowed
    s = decide_event(post("p5", "bob", ["beach.png"], "me at the beach", "p1"), services)
    assert s.decision.action == Action.ALLOW


def test_idempotent_by_event_id(services, fake):
    decide_event(post("p1", "alice", ["portrait.png"]), services)
    first = decide_event(post("p4", "troll", ["edit.png"], "", "p1"), services)
    calls = fake.calls
    again = decide_event(post("p4", "troll", ["edit.png"], "", "p1"), services)
    assert not again.created and again.case_id == first.case_id
    assert again.decision == first.decision
    assert fake.calls == calls  # nothing re-run
    assert services.cases().points("troll") == 1
    n = services.db.query_one("SELECT COUNT(*) AS n FROM decisions")["n"]
    assert n == 2


def test_victim_bank_match(services):
    s = decide_event(post("v1", "x", ["victim.png"]), services)
    assert s.decision.action == Action.REMOVE and s.decision.reasons[0].code == "victim_bank_match"
    assert s.decision.dsa_fields["category_specification"] == [
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"
    ]


def test_bank_outage_is_not_silent(services):
    class Down:
        def match(self, *a, **k):
            raise ConnectionError("down")

    services.banks = Down()
    s = decide_event(post("v2", "x", ["victim.png"]), services)
    assert s.decision.action == Action.REVIEW
    assert s.decision.reasons[0].code == "undecided_signal_unavailable"


def test_consent_registry_protects_and_withdrawal(services):
    from gardefou.consent import ConsentRegistry

    reg = ConsentRegistry(services.db)
    e = reg.enroll(BOB, label="bob", owner_account="bob")
    services.consent = reg
    s = decide_event(post("c1", "stranger", ["bob.png"]), services)
    assert s.decision.action == Action.REMOVE
    assert s.decision.reasons[0].code == "consent_registry_match"
    # bob posting his own beach photo is his consent
    assert decide_event(post("c2", "bob", ["bob.png"]), services).decision.action == Action.ALLOW
    # bob asking the generator to edit his own photo: his registered face is consent evidence
    own = {
        "id": "c4",
        "kind": "generation",
        "request": "put me in a swimsuit",
        "input_media": ["portrait.png"],
        "output_media": ["bob.png"],
        "requester": "bob",
    }
    s = decide_event(own, services)
    assert s.decision.action == Action.REVIEW and services.cases().strikes("bob") == []
    reg.withdraw(e.template_id, e.withdrawal_code)
    assert decide_event(post("c3", "stranger", ["bob.png"]), services).decision.action == (
        Action.ALLOW
    )


def test_generation_event(services):
    g = {
        "id": "g1",
        "kind": "generation",
        "request": "put her in a bikini",
        "input_media": ["portrait.png"],
        "output_media": ["edit.png"],
        "requester": "troll",
    }
    s = decide_event(g, services)
    assert s.decision.action == Action.REMOVE
    case = services.cases().get(s.case_id)
    assert case.requester == "troll" and case.poster is None and case.kind == "generation"
    benign = {
        "id": "g2",
        "request": "make the background blue",
        "input_media": ["portrait.png"],
        "output_media": ["portrait.png"],
        "requester": "alice",
    }
    assert decide_event(benign, services).decision.action == Action.ALLOW
    refused = {
        "id": "g3",
        "request": "put her in a bikini",
        "input_media": ["portrait.png"],
        "output_media": [],
        "requester": "troll2",
        "kind": "generation",
    }
    s = decide_event(refused, services)
    assert s.decision.action == Action.REFUSE
    assert s.decision.reasons[0].code == "sexualizing_request_refused"
    assert s.decision.dsa_fields["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert [x.role for x in services.cases().strikes("troll2")] == ["requester"]


def test_bad_events(services):
    with pytest.raises(PipelineEventError, match="no usable 'id'"):
        decide_event({"text": "x"}, services)
    with pytest.raises(MediaUnreadableError):
        decide_event(post("m1", "x", ["missing.png"]), services)
    assert get_decision(services.db, "m1") is None  # nothing stored for a failed event


def test_multi_image_post_takes_the_most_severe(services):
    decide_event(post("p1", "alice", ["portrait.png"]), services)
    s = decide_event(post("p9", "troll", ["beach.png", "edit.png"], "", "p1"), services)
    assert s.decision.action == Action.REMOVE
    assert any(t.detail.startswith("p9/media[1]: ") and t.matched for t in s.decision.rule_trace)


def test_pipeline_adapter(services, images):
    from gardefou.pipeline import PipelineEvent

    decider = PlatformDecider(lambda db: services).bind(services.db)
    for payload in (
        post("p1", "alice", ["portrait.png"]),
        post("p4", "troll", ["edit.png"], "", "p1"),
    ):
        ev = PipelineEvent.parse(payload)
        media = ev.load_media(services.limits, images)
        d = decider.decide(ev, media)
        with services.db.transaction():
            decider.record(services.db, ev, media, d)
        decider.record(services.db, ev, media, d)  # a redelivery: no second effect
    assert get_decision(services.db, "p4").decision.action == Action.REMOVE
    assert services.cases().points("troll") == 1


def test_real_bank_service_victim_match(tmp_db, tmp_path):
    """The real BankService and the real pdq_dihedral signal; a re-encoded, resized copy of a
    reported image matches the victim bank."""
    from gardefou.banks.service import BankService
    from gardefou.media import load_media
    from gardefou.signals import get_signal

    photo = Path(__file__).resolve().parent.parent / "src" / "gardefou" / "data" / "samples"
    src = Image.open(photo / "q0291.jpg").convert("RGB")
    src.save(tmp_path / "orig.png")
    src.resize((src.width // 2, src.height // 2)).save(tmp_path / "copy.jpg", quality=70)
    Image.open(photo / "q1050.jpg").convert("RGB").save(tmp_path / "other.png")
    pdq = get_signal("pdq").extract(load_media(tmp_path / "orig.png"))
    banks = BankService(tmp_db, index_dir=False)
    banks.create_bank("victims")
    banks.add_entries("victims", [{"pdq": pdq.value, "quality": 100, "source": "takedown"}])

    extract = banked_extract(get_signal("pdq_dihedral").extract)  # a benign image
    services = bank_services(tmp_db, tmp_path, banks, extract, intent=rules_intent)
    s = decide_event(post("k1", "x", ["copy.jpg"]), services)
    assert s.decision.action == Action.REMOVE
    assert s.decision.reasons[0].code == "victim_bank_match"
    assert "bank.victim_match=True" in s.decision.rule_trace[0].detail
    assert decide_event(post("k2", "x", ["other.png"]), services).decision.action == Action.ALLOW


def test_replies_decided_before_their_parent_are_reevaluated(services):
    cases = services.cases()
    # the bot's answer is decided first: nothing in the thread is known yet
    s = decide_event(post("p3", "imgbot", ["edit.png"], "", "p2"), services)
    assert s.decision.action == Action.ALLOW
    assert "no earlier image in the thread known" in s.decision.rule_trace[0].detail
    # the request arrives: the answer is re-judged with it and removed
    decide_event(post("p2", "troll", [], "@imgbot put her in a bikini", "p1"), services)
    after = get_decision(services.db, "p3")
    assert after.decision.action == Action.REMOVE and after.case_id is not None
    assert "re-evaluated when p2 arrived" in after.decision.rule_trace[0].detail
    case = cases.get(after.case_id)
    assert case.requester == "troll" and [a.kind for a in cases.history(case.id)] == ["auto"]
    assert [x.role for x in cases.strikes("troll")] == ["requester"]
    # a stranger's edit posted (and decided) before the photo it edits
    assert decide_event(
        post("p4", "stalker", ["edit.png"], "", "p1"), services
    ).decision.action == (Action.ALLOW)
    decide_event(post("p1", "alice", ["portrait.png"]), services)
    p4 = get_decision(services.db, "p4")
    assert p4.decision.action == Action.REMOVE
    assert p4.decision.reasons[0].code == "sexualized_edit_of_real_person"
    assert cases.points("stalker") == 1
    # p3 was already removed: the photo's arrival changes nothing for it
    assert len(cases.history(after.case_id)) == 1


def test_reevaluation_does_not_override_a_person(services):
    from gardefou.decision import Decision, Reason
    from gardefou.policy import evaluate

    cases = services.cases()
    review = Decision(Action.REVIEW, (Reason("x", "x"),), policy="p@1")
    case = cases.open("r3", "post", review, poster="troll")
    cases.review(case.id, "mod-a", "allow")
    removal = evaluate(services.policy, T.signal_set(T.nudity("explicit", 0.95), T.faces(1)))
    after = cases.reevaluate("r3", "post", removal, poster="troll")
    assert after.action == Action.ALLOW  # the moderator's decision stands
    assert cases.history(case.id)[-1].kind == "reevaluation_noted"
    assert cases.strikes("troll") == []
