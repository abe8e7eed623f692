"""Video banks in the store: entries in tables (SQLite and PostgreSQL), every process's index
following the others' writes, the one-time import of the JSON Lines file of earlier versions,
and two processes adding at once without losing an entry."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time

import pytest

from gardefou.banks.video import VideoIndex
from gardefou.banks.video_formats import save
from gardefou.banks.video_store import VideoBankStore
from gardefou.errors import BankError, ConfigError, NotFoundError
from gardefou.signals.vpdq import VpdqFeature
from gardefou.store import connect
from tests.test_video_banks import clip, noisy


def test_entries_round_trip_and_match(tmp_db) -> None:
    rng = random.Random(1)
    store = VideoBankStore(tmp_db)
    store.create_bank("victims", query_pct=70.0)
    with pytest.raises(BankError, match="already exists"):
        store.create_bank("victims")
    with pytest.raises(ConfigError, match="distance 99"):
        store.create_bank("bad", distance=99)
    v, c = clip(rng), clip(rng)
    e = store.add("victims", v, cropped=c, md5="D" * 32, case_id="T-9", note="victim upload")
    assert e.md5 == "d" * 32 and e.id >= 1
    [back] = store.entries("victims")
    assert back.features == tuple(v) and back.cropped == tuple(c) and back.case_id == "T-9"
    assert store.banks()["victims"].query_pct == 70.0
    [m] = store.match(noisy(v, 8, rng))
    assert (m.entry_id, m.case_id) == (e.id, "T-9")
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        store.add("nope", v)
    with pytest.raises(BankError, match="too uniform"):
        store.add("victims", clip(rng, quality=10))
    assert len(store) == 1


def test_each_process_index_follows_the_tables(db_url) -> None:
    """Two stores on one database (two workers): an add or a removal by one is seen by the
    other's next search, without a restart."""
    rng = random.Random(2)
    a, b = VideoBankStore(connect(db_url)), VideoBankStore(connect(db_url))
    a.ensure_bank("victim-videos")
    first, second = clip(rng), clip(rng)
    assert b.match(first) == []  # b's index is built now, empty
    e1 = a.add("victim-videos", first)
    e2 = a.add("victim-videos", second)
    assert [m.entry_id for m in b.match(first)] == [e1.id]
    a.remove(e1.id)
    assert b.match(first) == []
    assert [m.entry_id for m in b.match(second)] == [e2.id]
    with pytest.raises(NotFoundError, match=f"video entry {e1.id} does not exist"):
        b.remove(e1.id)
    a.db.close()
    b.db.close()


def test_submission_state_confirms_or_removes(tmp_db) -> None:
    rng = random.Random(3)
    store = VideoBankStore(tmp_db)
    store.ensure_bank("victim-videos")
    v, w = clip(rng), clip(rng)
    store.add("victim-videos", v, source="submission", case_id="S-1", note="pending")
    store.add("victim-videos", w, source="submission", case_id="S-2", note="pending")
    assert [m.confirmed for m in store.match(v)] == [False]
    assert store.set_submission_state("s-1", "confirmed") == 1
    assert [(m.confirmed, m.actionable) for m in store.match(v)] == [(True, True)]
    assert store.set_submission_state("S-2", "withdrawn") == 1
    assert store.match(w) == []
    assert store.set_submission_state("S-404", "confirmed") == 0


def test_json_lines_store_is_imported_once(tmp_db, tmp_path) -> None:
    rng = random.Random(4)
    old = VideoIndex()
    old.create_bank("victim-videos", query_pct=60.0)
    old.create_bank("known-benign", negative=True)
    v = clip(rng)
    old.add("victim-videos", v, cropped=clip(rng), md5="a" * 32, case_id="T-1", source="takedown")
    old.add("known-benign", clip(rng))
    path = tmp_path / "video-banks.jsonl"
    save(old, path)
    store = VideoBankStore(tmp_db)
    assert store.import_jsonl(path) == 2
    assert store.import_jsonl(path) == 0  # once: the file's digest is recorded
    assert VideoBankStore(tmp_db).import_jsonl(path) == 0
    assert store.import_jsonl(tmp_path / "missing.jsonl") == 0
    banks = store.banks()
    assert banks["victim-videos"].query_pct == 60.0 and banks["known-benign"].negative
    [m] = store.match(v)
    assert (m.bank, m.case_id, m.source) == ("victim-videos", "T-1", "takedown")
    assert len(store) == 2
    # a damaged file is refused naming its line, and nothing of it is written
    bad = tmp_path / "bad.jsonl"
    bad.write_text(path.read_text() + "{oops\n")
    with pytest.raises(BankError, match=r"bad.jsonl:5: not a video bank record"):
        store.import_jsonl(bad)
    assert len(store) == 2


ADDER = textwrap.dedent(
    """
    import os, random, sys, time
    from gardefou.banks.video_store import VideoBankStore
    from gardefou.signals.vpdq import VpdqFeature
    from gardefou.store import connect

    url, seed, n, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    store = VideoBankStore(connect(url))
    rng = random.Random(seed)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    for i in range(n):
        frames = [VpdqFeature(f"{rng.getrandbits(256):064x}", 100, float(k)) for k in range(5)]
        store.add("victim-videos", frames, case_id=f"P{seed}-{i}", source="takedown")
    print("done", flush=True)
    """
)


def test_two_processes_adding_at_once_lose_nothing(db_url, tmp_path) -> None:
    """The JSON Lines store lost one of two simultaneous takedowns (the last replace won); in
    the tables both processes keep every entry, and a third process's index finds them all."""
    store = VideoBankStore(connect(db_url))
    store.ensure_bank("victim-videos")
    n, go = 40, tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, db_url, str(seed), str(n), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for seed in (1, 2)
    ]
    for p in procs:  # both connected and waiting: then they start adding in the same instant
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    go.touch()
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    cases = sorted(e.case_id or "" for e in store.entries("victim-videos"))
    assert cases == sorted(f"P{s}-{i}" for s in (1, 2) for i in range(n))
    assert len(store.index()) == 2 * n
    rng = random.Random(2)  # the second writer's first clip, found by the third process
    frames = [VpdqFeature(f"{rng.getrandbits(256):064x}", 100, float(k)) for k in range(5)]
    assert [m.case_id for m in store.match(frames)] == ["P2-0"]
    store.db.close()


def test_index_from_the_table_scales() -> None:
    """20k clips of 15 distinct frame hashes in the table (300k index rows): the index is built
    from the table in one pass and a query stays one radius search."""
    import numpy as np

    from gardefou.signals.pdq_core import words_to_hexes

    db = connect(":memory:")
    store = VideoBankStore(db)
    store.ensure_bank("big")
    words = np.random.default_rng(8).integers(0, 2**63, (20_000 * 15, 4), dtype=np.uint64)
    hexes = words_to_hexes(words)

    def video(i: int) -> list[VpdqFeature]:
        return [VpdqFeature(h, 100, float(k)) for k, h in enumerate(hexes[i * 15 : i * 15 + 15])]

    store.add_many("big", [{"features": video(i)} for i in range(20_000)])
    t = time.perf_counter()
    store.index().build()
    build = time.perf_counter() - t
    t = time.perf_counter()
    found = store.match(noisy(video(12345), 8, random.Random(9)))
    query = time.perf_counter() - t
    assert [m.entry_id for m in found] == [12346]
    assert query < 2.0, query
    assert build < 120, build
