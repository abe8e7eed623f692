"""Signals on sampled frames, aggregated per video, and the video decision (recorded signal
values from gardefou.testing: no model runs and no imagery beyond benign synthetic clips)."""

from __future__ import annotations

import struct

import pytest

pytest.importorskip("av")

from gardefou import testing as fakes
from gardefou.banks.video import VideoIndex
from gardefou.decide.video import decide_video
from gardefou.errors import SignalError
from gardefou.media.video import load_video
from gardefou.media.video_scan import (
    C2PA_UUID,
    decode_for_scan,
    mp4_has_c2pa,
    scan_video,
)
from gardefou.signals.vpdq import hash_video
from tests.video_support import synthetic_clip


@pytest.fixture(scope="module")
def video():
    return load_video(synthetic_clip(seconds=6.0, seed=4), label="clip.mp4")


def at(media) -> float:
    return float(media.source.rsplit("@", 1)[1].rstrip("s"))


def by_time(results: dict[float, object], default: object):
    """A fake signal answering per frame timestamp."""
    return fakes.FakeSignal(lambda media: results.get(at(media), default))


def signals(nudity=None, faces=None, age=None, identity=None, provenance=None):
    return {
        "nudity": nudity or fakes.FakeSignal(fakes.nudity("none", 0.9)),
        "faces": faces or fakes.FakeSignal(fakes.faces(1)),
        "age": age or fakes.FakeSignal(fakes.age(False)),
        "identity": identity or fakes.FakeSignal(fakes.identity([fakes.person_embedding(1)])),
        "provenance": provenance or fakes.FakeSignal(fakes.provenance(None)),
    }


def test_one_pass_gives_reference_vpdq_and_signal_frames(video) -> None:
    hashes, frames = decode_for_scan(video, every=1.0, scene=None)
    assert hashes.features == hash_video(video)  # the same features as the hash-only path
    assert [t for t, _ in frames] == pytest.approx([0, 1, 2, 3, 4, 5])
    assert frames[2][1].source == "clip.mp4@2.000s" and frames[2][1].width == 320


def test_worst_frame_decides_and_is_named(video) -> None:
    nudity = by_time(
        {3.0: fakes.nudity("explicit", 0.8), 5.0: fakes.nudity("explicit", 0.7)},
        fakes.nudity("none", 0.95),
    )
    scan = scan_video(video, signals(nudity=nudity), scene=None)
    r = scan.results["nudity"]
    assert r.value == "explicit" and r.score == 0.8
    assert r.explanation.startswith("at 3.0s of 6 frames") and "also at 5.0s" in r.explanation
    assert r.details["frame_timestamp"] == 3.0
    out = decide_video(scan)
    assert not out.decision.allowed
    assert out.decision.dsa_fields["content_type"][0] == "CONTENT_TYPE_VIDEO"
    assert "CONTENT_TYPE_IMAGE" not in out.decision.dsa_fields["content_type"]


def test_benign_video_is_allowed_as_video(video) -> None:
    scan = scan_video(video, signals(faces=fakes.FakeSignal(fakes.faces(0))), scene=None)
    out = decide_video(scan)
    assert out.decision.allowed
    assert "CONTENT_TYPE_VIDEO" in out.decision.dsa_fields.get("content_type", [])


def test_unavailable_or_failing_on_one_frame_never_allows(video) -> None:
    nudity = by_time({2.0: fakes.nudity(available=False)}, fakes.nudity("none"))
    scan = scan_video(video, signals(nudity=nudity), scene=None)
    assert not scan.results["nudity"].available
    assert "2.0s" in scan.results["nudity"].explanation
    assert not decide_video(scan).decision.allowed
    broken = fakes.FakeSignal(error=SignalError("model crashed"))
    scan = scan_video(video, signals(nudity=broken), scene=None)
    assert "failed on the frame at 0.0s" in scan.results["nudity"].explanation
    assert not decide_video(scan).decision.allowed


def test_identity_keeps_every_frames_faces(video) -> None:
    emb = fakes.person_embedding
    ident = by_time({4.0: fakes.identity([emb(7), emb(8)])}, fakes.identity([emb(1)]))
    r = scan_video(video, signals(identity=ident), scene=None).results["identity"]
    assert len(r.value) == 7 and {f["t"] for f in r.value} == {0.0, 1.0, 2.0, 3.0, 4.0, 5.0}
    assert r.details["count"] == 2 and r.details["frame_timestamp"] == 4.0


def test_video_bank_match_reaches_the_policy(video) -> None:
    idx = VideoIndex()
    idx.create_bank("victim-videos")
    idx.add("victim-videos", hash_video(video), source="victim", case_id="T-17")
    scan = scan_video(video, signals(), scene=None)
    out = decide_video(scan, video_index=idx)
    assert out.context["bank.match"] is True and out.context["bank.victim_match"] is True
    assert out.video_matches[0].case_id == "T-17"
    assert not out.decision.allowed


def test_bank_outage_is_unknown_not_clean(video) -> None:
    class Down:
        def match(self, *a, **k):
            raise ConnectionError("bank store down")

    scan = scan_video(video, signals(faces=fakes.FakeSignal(fakes.faces(0))), scene=None)
    out = decide_video(scan, video_index=Down())
    assert not out.decision.allowed


def test_c2pa_box_in_mp4() -> None:
    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(body), kind) + body

    plain = box(b"ftyp", b"isom\x00\x00\x02\x00") + box(b"mdat", b"\x00" * 32)
    assert not mp4_has_c2pa(plain)
    assert mp4_has_c2pa(plain + box(b"uuid", C2PA_UUID + b"\x00" * 16))
    assert not mp4_has_c2pa(plain[:12])  # truncated box: no crash, no manifest


def test_reply_clip_sexualizing_the_parent_photos_person(video) -> None:
    """A clip posted in reply to her photo, showing her (any frame) more sexualized."""
    from gardefou.thread import MediaFacts

    parent = MediaFacts("none", 0.9, (tuple(fakes.person_embedding(3)),))
    her = fakes.identity([fakes.jitter(fakes.person_embedding(3), 0.05, seed=1)])
    ident = by_time({4.0: her}, fakes.identity([fakes.person_embedding(9)]))
    nudity = by_time({2.0: fakes.nudity("suggestive", 0.8)}, fakes.nudity("none"))
    scan = scan_video(video, signals(nudity=nudity, identity=ident), scene=None)
    out = decide_video(scan, context={"event.is_reply": True}, parents=[parent])
    assert out.context["thread.parent_same_person"] is True
    assert out.context["thread.sexualized_edit"] is True
    assert not out.decision.allowed
    stranger = MediaFacts("none", 0.9, (tuple(fakes.person_embedding(5)),))
    calm = scan_video(video, signals(identity=ident), scene=None)
    assert decide_video(calm, parents=[stranger]).context["thread.sexualized_edit"] is False


def test_guard_output_check_on_a_generated_clip(video) -> None:
    """The frame at 3 s shows the input photo's person sexualized: the clip is refused, and
    the reason names the frame; a clip with no sexualized frame is allowed."""
    import io

    from PIL import Image

    from gardefou.guard import Guard
    from gardefou.guard.video import check_output_clip

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buf, "PNG")
    photo = buf.getvalue()
    alice = fakes.person_embedding(1)

    def per(input_result, frame_results, default):
        def answer(media):
            if media.data == photo:
                return input_result
            return frame_results.get(at(media), default)

        return fakes.FakeSignal(answer)

    def guard(level_at_3: str) -> Guard:
        return Guard(
            signals={
                "faces": per(fakes.faces(1), {}, fakes.faces(1)),
                "age": per(fakes.age(False), {}, fakes.age(False)),
                "nudity": per(
                    fakes.nudity("none"), {3.0: fakes.nudity(level_at_3, 0.8)}, fakes.nudity()
                ),
                "identity": per(
                    fakes.identity([alice]), {}, fakes.identity([fakes.jitter(alice, 0.05)])
                ),
            }
        )

    refused = check_output_clip(guard("suggestive"), video, "make a clip", [photo], scene=None)
    assert not refused.allowed
    assert refused.reasons[0].message.startswith("at 3.0s: ")
    assert refused.dsa_fields["content_type"][0] == "CONTENT_TYPE_VIDEO"
    allowed = check_output_clip(guard("none"), video, "make a clip", [photo], scene=None)
    assert allowed.allowed


def test_display_rotation_reaches_the_signals_not_vpdq(tmp_path) -> None:
    """A portrait phone clip is coded sideways with a display matrix: the signals see it
    upright (oriented()), vPDQ hashes it as coded, as the reference does."""
    import av
    import numpy as np

    from gardefou.media.video_frames import iter_frames
    from gardefou.media.video_scan import frame_media
    from tests.video_support import scene

    path = tmp_path / "portrait.mp4"
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        s.set_display_rotation(-90)  # turn 90 degrees clockwise to display
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(scene(i / 10, 96, 64), format="rgb24")
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode(None))
    clip = load_video(path)
    first = next(iter(iter_frames(clip)))
    assert first.rotation == 270 and first.rgb.shape == (64, 96, 3)
    media = frame_media(clip, first)
    assert media.exif_orientation == 6 and media.oriented().size == (64, 96)
    upright = np.asarray(media.oriented())
    assert (upright == np.rot90(first.rgb, k=-1)).all()
