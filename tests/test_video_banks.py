"""Video banks: index matching as the reference defines it, thresholds per bank, MD5, cropped
variants, ThreatExchange lines, the JSON Lines store, and frames against image banks."""

from __future__ import annotations

import io
import random

import pytest

from gardefou.banks import BankService
from gardefou.banks.formats import parse
from gardefou.banks.video import VideoIndex, match_frames
from gardefou.banks.video_formats import export_te, import_te, load, parse_te, save
from gardefou.errors import BankError, ConfigError, NotFoundError
from gardefou.signals.vpdq import VideoHashes, VpdqFeature, match_percent
from tests.bank_support import flip, rand_hex


def clip(rng: random.Random, n: int = 10, quality: int = 100) -> list[VpdqFeature]:
    return [VpdqFeature(rand_hex(rng), quality, float(i), i * 30) for i in range(n)]


def noisy(features: list[VpdqFeature], bits: int, rng: random.Random) -> list[VpdqFeature]:
    return [VpdqFeature(flip(f.pdq_hex, bits, rng), f.quality, f.timestamp) for f in features]


def test_index_agrees_with_brute_force_both_ways() -> None:
    rng = random.Random(1)
    idx = VideoIndex()
    idx.create_bank("ncii", query_pct=0.0)
    videos = [clip(rng) for _ in range(50)]
    for v in videos:
        idx.add("ncii", v)
    # a query sharing 6 of video 7's 10 frames (noisy) plus 4 frames of its own
    query = noisy(videos[7][:6], 10, rng) + clip(rng, 4)
    got = {m.entry_id: (m.query_pct, m.entry_pct) for m in idx.match(query)}
    want = {
        i + 1: match_percent(query, v)
        for i, v in enumerate(videos)
        if match_percent(query, v)[0] > 0
    }
    assert got == want
    assert got[8] == (60.0, 60.0)


def test_thresholds_per_bank_and_negative_banks() -> None:
    rng = random.Random(2)
    idx = VideoIndex()
    idx.create_bank("strict", query_pct=90.0, entry_pct=50.0)
    idx.create_bank("loose", query_pct=50.0, distance=20)
    idx.create_bank("benign", negative=True, query_pct=50.0)
    v = clip(rng)
    a = idx.add("strict", v)
    b = idx.add("loose", v)
    c = idx.add("benign", v)
    query = noisy(v[:7], 10, rng) + clip(rng, 3)  # 70 % of the query, 70 % of the entry
    ids = {m.entry_id: m for m in idx.match(query)}
    assert a.id not in ids and b.id in ids and c.id in ids
    assert ids[b.id].actionable and not ids[c.id].actionable
    far = noisy(v, 25, rng)  # beyond loose's distance 20, within the default 31
    assert b.id not in {m.entry_id for m in idx.match(far)}
    assert idx.match(query, banks=["loose"])[0].entry_id == b.id
    with pytest.raises(NotFoundError, match="'nope'"):
        idx.match(query, banks=["nope"])
    with pytest.raises(ConfigError, match="query_pct 120"):
        idx.create_bank("bad", query_pct=120.0)
    with pytest.raises(NotFoundError, match="no-such"):
        idx.add("no-such", v)


def test_quality_filter_and_dedupe_follow_the_reference() -> None:
    rng = random.Random(3)
    idx = VideoIndex()
    idx.create_bank("b", query_pct=0.0)
    v = clip(rng, 4)
    e = idx.add("b", v + [v[0]] * 6 + clip(rng, 4, quality=20))  # repeats and flat frames
    m = idx.match(v[:2])[0]
    assert m.entry_id == e.id and (m.query_pct, m.entry_pct) == (100.0, 50.0)
    with pytest.raises(BankError, match="too uniform"):
        idx.add("b", clip(rng, 3, quality=10))


def test_md5_and_cropped_variants() -> None:
    rng = random.Random(4)
    idx = VideoIndex()
    idx.create_bank("b")
    full, cropped = clip(rng), clip(rng)
    e = idx.add("b", full, cropped=cropped, md5="a" * 32)
    same_file = VideoHashes(clip(rng), [], "a" * 32, "0" * 64, 10.0)
    m = idx.match(same_file)[0]
    assert m.entry_id == e.id and m.md5 and "identical file" in m.explain()
    # a bar-free re-upload matches the entry's cropped variant only
    reupload = VideoHashes(noisy(cropped, 8, rng), [], "b" * 32, "0" * 64, 10.0)
    m = idx.match(reupload)[0]
    assert m.entry_id == e.id and m.cropped and m.query_pct == 100.0
    assert "black bars cropped" in m.explain() and "0.0s~0.0s" in m.explain()
    idx.remove(e.id)
    assert idx.match(reupload) == [] and idx.match(same_file) == []


def test_te_lines_round_trip_and_image_import_skips_them() -> None:
    rng = random.Random(5)
    idx = VideoIndex()
    idx.create_bank("te")
    v = clip(rng, 3)
    text = (
        "# exported\n"
        f"vpdq {__import__('json').dumps([f.compact() for f in v])}\n"
        f"video_md5 {'c' * 32}\n"
        f"pdq {rand_hex(rng)}\n"
    )
    added, uniform = import_te(idx, "te", text)
    assert (added, uniform) == (2, [])
    out = io.StringIO()
    assert export_te(idx, "te", out) == 2
    again = parse_te(out.getvalue())
    assert [f.pdq_hex for f in again[0]["features"]] == [f.pdq_hex for f in v]
    assert again[1]["md5"] == "c" * 32
    # the image bank importer keeps the pdq line and leaves the video lines to this module
    assert [r["line"] for r in parse(text, "te")] == [4]
    with pytest.raises(BankError, match="line 1: video_md5"):
        parse_te("video_md5 xyz")
    with pytest.raises(BankError, match=r"line 2: .*not a video type"):
        parse_te("\nphotodna abc")
    with pytest.raises(BankError, match=r"line 1: vPDQ signal is not JSON"):
        parse_te("vpdq [oops")


def test_store_round_trip(tmp_path) -> None:
    rng = random.Random(6)
    idx = VideoIndex()
    idx.create_bank("b", query_pct=70.0)
    v = clip(rng)
    idx.add("b", v, cropped=clip(rng), md5="d" * 32, case_id="T-9", note="victim upload")
    save(idx, tmp_path / "videos.jsonl")
    back = load(tmp_path / "videos.jsonl")
    assert back.banks["b"].query_pct == 70.0
    assert back.entries[1].case_id == "T-9" and back.entries[1].cropped
    assert back.match(v)[0].entry_id == 1
    assert len(load(tmp_path / "missing.jsonl")) == 0


def test_frames_match_image_banks(tmp_db, tmp_path) -> None:
    """A victim's photo hash (image bank) found inside a clip, with the frame's timestamp."""
    rng = random.Random(7)
    svc = BankService(tmp_db, index_dir=tmp_path / "index", actor="tester")
    svc.create_bank("photos", threshold=31)
    photo = rand_hex(rng)
    svc.add_entry("photos", photo, quality=100, source="victim")
    frames = clip(rng, 5)
    frames[3] = VpdqFeature(flip(photo, 12, rng), 100, 3.0)
    matches = [m for m in match_frames(svc, frames) if m.actionable]
    assert [(m.bank, m.query) for m in matches] == [("photos", "frame@3.000s")]
    assert match_frames(svc, clip(rng, 3, quality=10)) == []


def test_index_scales_to_many_videos() -> None:
    """20k banked clips of 15 distinct frames (300k rows): one query is one radius search."""
    import time

    import numpy as np

    rng = np.random.default_rng(8)
    idx = VideoIndex()
    idx.create_bank("big")
    words = rng.integers(0, 2**63, (20_000 * 15, 4), dtype=np.uint64)
    from gardefou.signals.pdq_core import words_to_hexes

    hexes = words_to_hexes(words)

    def video(i: int) -> list[VpdqFeature]:
        return [VpdqFeature(h, 100, float(k)) for k, h in enumerate(hexes[i * 15 : i * 15 + 15])]

    t = time.perf_counter()
    for i in range(20_000):
        idx.add("big", video(i))
    idx.build()
    build = time.perf_counter() - t
    target = video(12345)
    t = time.perf_counter()
    found = idx.match(noisy(target, 8, random.Random(9)))
    query = time.perf_counter() - t
    assert [m.entry_id for m in found] == [12346]
    assert query < 2.0, query
    assert build < 120, build
