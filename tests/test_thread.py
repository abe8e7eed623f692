"""Thread context: sexualized edits of a reply parent's person, bot requests (no models)."""

from __future__ import annotations

import pytest

from gardefou import testing as T
from gardefou.decide.intent import request_intent, rules_intent
from gardefou.policy import UNKNOWN
from gardefou.thread import (
    MediaFacts,
    MemoryThreadStore,
    ThreadPost,
    ThreadStore,
    ancestor_media,
    bot_request_facts,
    edit_facts,
)

ALICE, BOB = T.person_embedding(1), T.person_embedding(2)


def mf(level, *embs):
    return MediaFacts(level, 0.9, tuple(tuple(e) for e in embs))


def test_same_person_more_sexualized_is_an_edit():
    f = edit_facts(mf("suggestive", T.jitter(ALICE, 0.2)), [mf("none", ALICE)])
    assert f["thread.parent_same_person"] is True
    assert f["thread.more_sexualized_than_parent"] is True
    assert f["thread.sexualized_edit"] is True
    assert f["thread.same_person_score"] > 0.9


def test_other_person_is_not_an_edit():
    f = edit_facts(mf("suggestive", BOB), [mf("none", ALICE)])
    assert f["thread.parent_same_person"] is False and f["thread.sexualized_edit"] is False


def test_same_level_is_not_an_edit():
    f = edit_facts(mf("suggestive", ALICE), [mf("suggestive", T.jitter(ALICE))])
    assert f["thread.parent_same_person"] is True and f["thread.sexualized_edit"] is False


def test_compared_with_the_matching_parent_image():
    # parent has a beach photo of Bob (suggestive) and a portrait of Alice (none)
    parents = [mf("suggestive", BOB), mf("none", ALICE)]
    f = edit_facts(mf("suggestive", T.jitter(ALICE)), parents)
    assert f["thread.sexualized_edit"] is True


def test_unknown_level_with_same_person_is_unknown():
    f = edit_facts(mf(None, ALICE), [mf("none", ALICE)])
    assert f["thread.sexualized_edit"] is UNKNOWN
    f = edit_facts(mf(None, BOB), [mf("none", ALICE)])
    assert f["thread.sexualized_edit"] is False


def test_no_parents_no_facts():
    assert edit_facts(mf("explicit", ALICE), []) == {}


def test_media_facts_from_signals_roundtrip():
    sig = T.signal_set(T.nudity("explicit", 0.8), T.identity([ALICE]))
    m = MediaFacts.from_signals(sig)
    assert m.level == "explicit" and len(m.embeddings) == 1
    assert MediaFacts.from_dict(m.to_dict()).level == "explicit"
    assert MediaFacts.from_signals({"nudity": T.nudity(available=False)}).level is None


def test_ancestor_media_walks_up_to_the_photo():
    store = MemoryThreadStore(
        [
            ThreadPost("p1", "alice", None, media=(mf("none", ALICE),)),
            ThreadPost(
                "p2",
                "troll",
                "p1",
                mentions=("imgbot",),
                request_sexualizing=True,
                request_score=0.9,
            ),
        ]
    )
    post, media = ancestor_media(store, "p2")
    assert post.post_id == "p1" and media[0].level == "none"
    assert ancestor_media(store, "missing") == (None, ())
    assert ancestor_media(store, None) == (None, ())


def test_ancestor_cycle_and_depth():
    store = MemoryThreadStore([ThreadPost("a", "x", "b"), ThreadPost("b", "y", "a")])
    assert ancestor_media(store, "a") == (None, ())
    chain = [ThreadPost("p0", "x", None, media=(mf("none", ALICE),))]
    chain += [ThreadPost(f"p{i}", "x", f"p{i - 1}") for i in range(1, 6)]
    store = MemoryThreadStore(chain)
    assert ancestor_media(store, "p2")[0].post_id == "p0"
    assert ancestor_media(store, "p5") == (None, ())  # more than MAX_DEPTH posts up


def test_bot_request_needs_the_mention():
    parent = ThreadPost(
        "p2", "troll", "p1", mentions=("imgbot",), request_sexualizing=True, request_score=0.8
    )
    assert bot_request_facts("ImgBot", parent) == {
        "thread.bot_request": True,
        "request.sexualizing": True,
        "request.score": 0.8,
    }
    assert bot_request_facts("otherbot", parent) == {}
    benign = ThreadPost("p2", "u", "p1", mentions=("imgbot",), request_sexualizing=False)
    assert bot_request_facts("imgbot", benign) == {}


@pytest.mark.parametrize(
    ("text", "sexualizing"),
    [
        ("@imgbot put her in a bikini", True),
        ("@imgbot undress her", True),
        ("@imgbot mets-la en maillot de bain", True),
        ("@imgbot remove the background", False),
        ("@imgbot make her dress red", False),
        ("", False),
    ],
)
def test_rules_intent(text, sexualizing):
    assert rules_intent(text).sexualizing is sexualizing


@pytest.mark.slow
def test_request_intent_uses_the_guard_classifier():
    r = request_intent("@imgbot hazle una foto en ropa interior")
    assert r.sexualizing and r.source == "guard.intent"
    assert not request_intent("@imgbot remove the background").sexualizing


def test_fallback_lexicon(monkeypatch):
    import gardefou.decide.intent as th

    monkeypatch.setattr(th, "_guard_rules", lambda text: None)
    r = th.rules_intent("put her in lingerie")
    assert r.sexualizing and r.source == "fallback-lexicon"
    assert not th.rules_intent("remove the background").sexualizing


def test_thread_store_roundtrip(tmp_db):
    s = ThreadStore(tmp_db)
    p = ThreadPost(
        "p1", "alice", None, ("bot",), True, 0.5, (mf("none", ALICE),), "2026-01-05T10:00:00+00:00"
    )
    s.put(p)
    s.put(p)  # idempotent
    got = s.get("p1")
    assert got.mentions == ("bot",) and got.request_sexualizing
    assert got.media[0].embeddings[0] == pytest.approx(ALICE, abs=1e-6)
    from datetime import UTC, datetime

    assert s.purge(datetime(2027, 1, 1, tzinfo=UTC)) == 1 and s.get("p1") is None


def test_compact_facts_keep_hashes_whole_for_rejudging() -> None:
    """A reply re-judged when its parent arrives late still matches the banks: its stored
    compact facts keep the 8 dihedral hashes (about 650 characters), not a None."""
    from gardefou.media import load_media
    from gardefou.scan import run_signals
    from gardefou.thread import compact_signal
    from tests.conftest import FIXTURES

    media = load_media(FIXTURES / "pdq" / "images" / "misc-images" / "wee.jpg")
    for result in run_signals(media, ["pdq", "pdq_dihedral", "crypto_hash"]):
        assert compact_signal(result)["value"] == result.value


def test_thread_store_replies(tmp_db):
    """The children of posts, from the store and its in-memory twin (re-evaluation walks them)."""
    posts = [ThreadPost("p1", "a", None), ThreadPost("p2", "b", "p1"), ThreadPost("p3", "c", "p2")]
    stores = [ThreadStore(tmp_db), MemoryThreadStore()]
    for s in stores:
        for p in posts:
            s.put(p)
        assert s.replies(["p1"]) == ["p2"] and sorted(s.replies(["p1", "p2"])) == ["p2", "p3"]
        assert s.replies([]) == [] and s.replies(["p3"]) == []
