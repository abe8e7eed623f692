"""A reply clip decided before its parent photo is known is re-judged, when the photo arrives,
through the video path: its stored vPDQ against the video banks, the thread facts against the
photo's person, and CONTENT_TYPE_VIDEO. Signals are recorded values (gardefou.testing); the
images are colour squares and the clip a benign synthetic one."""

from __future__ import annotations

import hashlib

import pytest

pytest.importorskip("av")

from PIL import Image

from gardefou import testing as T
from gardefou.banks.video import VideoIndex
from gardefou.decide import Services, decide_event, get_decision, rules_intent
from gardefou.decision import Action
from gardefou.media.video import load_video
from gardefou.media.video_rejudge import CLIP_FACTS, is_clip
from gardefou.policy import load_default_policy
from gardefou.signals.vpdq import hash_video
from tests.video_support import synthetic_clip

ALICE = T.person_embedding(1)
PORTRAIT = [T.nudity("none", 0.97), T.faces(1), T.identity([ALICE])]
#: every frame of the reply clip: Alice, suggestive
EDIT = [T.nudity("suggestive", 0.82), T.faces(1), T.identity([T.jitter(ALICE, 0.25)])]


def post(id, author, media=(), text="", reply_to=None):
    return {"id": id, "kind": "post", "author": author, "text": text, "media": list(media),
            "reply_to": reply_to, "created_at": "2026-01-05T10:00:00Z"}  # fmt: skip


@pytest.fixture
def folder(tmp_path):
    Image.new("RGB", (64, 64), (40, 90, 200)).save(tmp_path / "portrait.png")
    (tmp_path / "reply.mp4").write_bytes(synthetic_clip(seconds=3.0, fps=10, size=(160, 120)))
    return tmp_path


def services(db, folder, video_index=None) -> Services:
    portrait = hashlib.sha256((folder / "portrait.png").read_bytes()).hexdigest()

    def extract(media, names):
        results = T.signal_set(*(PORTRAIT if media.sha256 == portrait else EDIT))
        return {k: v for k, v in results.items() if k in names}

    return Services(
        db,
        policy=load_default_policy(signals={*T.POLICY_SIGNALS, "pdq_dihedral"}),
        extract=extract,
        base_dir=folder,
        banks=None,
        intent=rules_intent,
        video_index=video_index,
    )


def test_reply_clip_is_rejudged_as_a_video_when_the_photo_arrives(tmp_db, folder) -> None:
    svc = services(tmp_db, folder, VideoIndex())
    first = decide_event(post("r1", "stalker", ["reply.mp4"], "", "p1"), svc)
    assert first.decision.action == Action.ALLOW  # nothing in the thread is known yet
    [stored] = svc.threads.get("r1").media
    assert is_clip(stored) and "vpdq" in stored.signals[CLIP_FACTS]["value"]
    decide_event(post("p1", "alice", ["portrait.png"]), svc)
    after = get_decision(tmp_db, "r1").decision
    assert after.action == Action.REMOVE
    assert after.reasons[0].code == "sexualized_edit_of_real_person"
    assert after.dsa_fields["content_type"][0] == "CONTENT_TYPE_VIDEO"
    assert "CONTENT_TYPE_IMAGE" not in after.dsa_fields["content_type"]
    context = after.rule_trace[0].detail
    assert "re-evaluated when p1 arrived" in context


def test_rejudged_clip_matches_the_video_banks_by_its_stored_vpdq(tmp_db, folder) -> None:
    """The clip was banked (a takedown) after its first decision: the re-judgement finds it in
    the victim video bank from the hashes the thread store kept (the clip itself is gone)."""
    index = VideoIndex()
    index.create_bank("victim-videos")
    svc = services(tmp_db, folder, index)
    decide_event(post("r2", "stalker", ["reply.mp4"], "", "p2"), svc)
    clip = load_video((folder / "reply.mp4").read_bytes())
    index.add("victim-videos", hash_video(clip, 0), case_id="T-1", source="takedown")
    decide_event(post("p2", "bob", []), svc)  # a text post: no photo to compare with
    after = get_decision(tmp_db, "r2").decision
    assert after.action == Action.REMOVE, after.to_dict()
    assert "bank.victim_match=True" in after.rule_trace[0].detail
    assert after.dsa_fields["content_type"][0] == "CONTENT_TYPE_VIDEO"


def test_every_entry_point_matches_clips_against_the_store_video_banks(tmp_db, folder) -> None:
    """``services_for`` (pipeline workers, the ingest route) gives the store's video banks to
    the decision: a banked clip re-uploaded through the pipeline is a victim match."""
    from gardefou.banks.video_store import VICTIM_VIDEO_BANK, VideoBankStore
    from gardefou.decide import services_for

    store = VideoBankStore(tmp_db)
    store.ensure_bank(VICTIM_VIDEO_BANK)
    clip = load_video((folder / "reply.mp4").read_bytes())
    store.add(VICTIM_VIDEO_BANK, hash_video(clip, 0), case_id="T-2", source="takedown")
    base = services(tmp_db, folder)
    svc = services_for(
        tmp_db, banks=None, policy=base.policy, extract=base.extract, base_dir=folder,
        intent=rules_intent,
    )  # fmt: skip
    d = decide_event(post("u1", "someone", ["reply.mp4"]), svc).decision
    assert d.action == Action.REMOVE and "bank.victim_match=True" in d.rule_trace[0].detail
