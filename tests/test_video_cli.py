"""`gardefou video ...` commands."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("av")

from click.testing import CliRunner

import gardefou.cli.commands_bank  # registers the commands
import gardefou.cli.commands_submissions
import gardefou.cli.commands_video  # noqa: F401
from gardefou.cli.main import cli
from tests.video_support import mkv, reencode, synthetic_clip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("videos")
    clip = synthetic_clip(seconds=4.0, seed=5)
    paths = {
        "clip": tmp / "clip.mp4",
        "small": tmp / "small.mp4",
        "other": tmp / "other.webm",
        "bad": tmp / "bad.mkv",
    }
    paths["clip"].write_bytes(clip)
    paths["small"].write_bytes(reencode(clip, scale=0.5))
    paths["other"].write_bytes(
        synthetic_clip(seconds=4.0, seed=6, container="webm", codec="libvpx-vp9")
    )
    paths["bad"].write_bytes(mkv(100_000, 100_000, 2, payload=b"\x00" * 8))
    return paths


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_hash_formats(files) -> None:
    code, out = run("video", "hash", str(files["clip"]))
    obj = json.loads(out)
    assert code == 0 and len(obj["vpdq"]) == 4 and len(obj["md5"]) == 32
    code, out = run("video", "hash", str(files["clip"]), "--format", "lines", "--every", "0")
    assert code == 0 and len(out.splitlines()) == 60 and out.startswith("0,100,")
    code, out = run("video", "hash", str(files["clip"]), "--format", "te")
    assert out.splitlines()[0].startswith('vpdq ["') and out.splitlines()[1].startswith(
        "video_md5 "
    )


def test_hostile_file_is_a_typed_error_and_exit_1(files) -> None:
    code, out = run("video", "hash", str(files["bad"]), str(files["clip"]))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert lines[0]["error"]["error"] == "media_corrupt" and "vpdq" in lines[1]


def test_match_and_bank_round_trip(files, tmp_path) -> None:
    code, out = run("video", "match", str(files["clip"]), str(files["small"]))
    assert code == 0 and json.loads(out)["a_pct"] >= 50  # 3 of 4 frames at half size
    code, out = run("video", "match", str(files["clip"]), str(files["other"]))
    assert json.loads(out)["a_pct"] == 0
    db = ("--db", str(tmp_path / "g.db"))
    store = ("--store", str(tmp_path / "absent.jsonl"))
    assert run(*db, "video", "bank", "create", "reported", *store)[0] == 0
    code, out = run(*db, "video", "bank", "add", "reported", str(files["clip"]), *store)
    assert code == 0 and json.loads(out)["entry_id"] == 1
    code, exported = run(*db, "video", "bank", "export", "reported", *store)
    te = tmp_path / "bank.te"
    te.write_text(exported)
    assert run(*db, "video", "bank", "create", "copy", *store)[0] == 0
    code, out = run(*db, "video", "bank", "import", "copy", str(te), *store)
    assert json.loads(out)["added"] == 2  # the vpdq line and the video_md5 line


def test_bank_commands_use_the_database_and_import_the_old_file_once(files, tmp_path) -> None:
    """The banks live in --db's tables; a JSON Lines store of an earlier version is imported
    into them once, and the entries added afterwards are kept beside it."""
    from gardefou.banks.video import VideoIndex
    from gardefou.banks.video_formats import save
    from gardefou.banks.video_store import VideoBankStore
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import hash_video
    from gardefou.store import connect

    old = VideoIndex()
    old.create_bank("reported")
    old.add("reported", hash_video(load_video(files["other"]), 0), case_id="T-OLD")
    save(old, tmp_path / "old.jsonl")
    args = ("--db", str(tmp_path / "g.db"))
    legacy = ("--store", str(tmp_path / "old.jsonl"))
    code, out = run(*args, "video", "bank", "add", "reported", str(files["clip"]), *legacy)
    assert code == 0, out
    code, out = run(*args, "video", "bank", "add", "reported", str(files["small"]), *legacy)
    assert code == 0, out
    store = VideoBankStore(connect(tmp_path / "g.db"))
    assert [e.case_id for e in store.entries("reported")] == ["T-OLD", None, None]
    code, out = run(*args, "video", "scan", str(files["other"]), "--signals", "", *legacy)
    assert code == 0, out
    assert [m["entry_id"] for m in json.loads(out)["video_matches"]] == [1], out
    store.db.close()


def test_submission_of_a_clip_from_the_cli_stores_only_hashes_and_follows_review(
    files, tmp_path
) -> None:
    """`gardefou bank submit --video` hashes the clip here: the store gets its vPDQ and MD5 in
    the victim video bank, pending (a match is review only) until `bank confirm`; a withdrawn
    submission's clip stops matching."""
    from gardefou.banks.video_store import VideoBankStore
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import parse_signal_str, video_hashes
    from gardefou.store import connect

    db = ("--db", str(tmp_path / "g.db"))
    assert run(*db, "bank", "create", "victims")[0] == 0
    code, out = run(*db, "bank", "submit", "victims", "--video", str(files["clip"]), "--json")
    assert code == 0, out
    sub = json.loads(out)
    assert sub["videos"] == 1 and sub["hashes"] == 0
    store = VideoBankStore(connect(tmp_path / "g.db"))
    [entry] = store.entries("victim-videos")
    clip_bytes = files["clip"].read_bytes()
    assert entry.md5 == load_video(clip_bytes).md5 and entry.case_id == sub["case_number"]
    assert (entry.source, entry.note) == ("submission", "pending")
    query = video_hashes(load_video(files["small"]), 1.0)
    assert [(m.confirmed, m.case_id) for m in store.match(query)] == [(False, sub["case_number"])]
    assert run(*db, "bank", "confirm", sub["case_number"])[0] == 0
    assert [m.confirmed for m in store.match(query)] == [True]
    # the request item for the API: the same hashes, computed here
    code, out = run("video", "hash", str(files["clip"]), "--every", "0", "--format", "request")
    item = json.loads(out)
    assert set(item) == {"vpdq", "md5"} and item["md5"] == entry.md5
    assert parse_signal_str(item["vpdq"])[0].pdq_hex == entry.features[0].pdq_hex
    # a second submission, withdrawn with its PIN: its clip no longer matches
    code, out = run(*db, "bank", "submit", "victims", "--video", str(files["other"]), "--json")
    other = json.loads(out)
    code, out = run(*db, "bank", "withdraw", other["case_number"], "--pin", other["pin"])
    assert code == 0 and "1 hash(es)" in out, out
    assert store.match(video_hashes(load_video(files["other"]), 1.0)) == []
    # nothing without a hash or a clip; a hostile clip is a typed error, and nothing is kept
    assert run(*db, "bank", "submit", "victims")[0] != 0
    code, _ = run(*db, "bank", "submit", "victims", "--video", str(files["bad"]))
    assert code != 0
    assert len(store) == 1
    store.db.close()
