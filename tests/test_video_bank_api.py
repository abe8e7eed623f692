"""Video bank entries over /v1/video-banks: list (paginated, hashes and metadata only), read,
remove (moderator or admin, audited, seen by every worker's next match), with the image bank
API's auth, rate limits, typed errors and OpenAPI docs."""

from __future__ import annotations

import json
import random

from gardefou.banks import video_audit
from gardefou.banks.video_store import VideoBankStore
from gardefou.store import connect
from gardefou.web.video import video_store
from tests.test_video_banks import clip, noisy
from tests.web_support import make_web


def _bank(w, rng: random.Random, n: int = 3) -> tuple[VideoBankStore, list]:
    store = video_store(w.app.state.services)
    store.create_bank("partner", query_pct=70.0)
    clips = [clip(rng) for _ in range(n)]
    entries = [
        store.add("partner", c, md5=f"{i:032x}", case_id=f"T-{i}", source="import:te")
        for i, c in enumerate(clips)
    ]
    return store, list(zip(entries, clips, strict=True))


def test_list_pages_through_a_bank_with_hashes_and_metadata_only(tmp_path) -> None:
    w = make_web(tmp_path)
    _, added = _bank(w, random.Random(1))
    c, ids = w.client, [e.id for e, _ in added]
    banks = c.get("/v1/video-banks", headers=w.h("auditor")).json()
    partner = next(b for b in banks if b["name"] == "partner")
    assert partner["query_pct"] == 70.0 and partner["entries"] == 3
    first = c.get("/v1/video-banks/partner/entries?limit=2", headers=w.h("auditor")).json()
    second = c.get("/v1/video-banks/partner/entries?limit=2&offset=2", headers=w.h("moderator"))
    assert [e["id"] for e in first["entries"]] + [e["id"] for e in second.json()["entries"]] == ids
    e = first["entries"][0]
    assert e["frames"] == 10 and e["case_id"] == "T-0" and e["md5"] == "0" * 32
    assert "features" not in e and e["confirmed"] and e["removed_at"] is None
    assert first["stats"] == {"entries": 3, "removed": 0}
    with_frames = c.get("/v1/video-banks/partner/entries?frames=true", headers=w.h("auditor"))
    assert with_frames.json()["entries"][0]["features"][0]["pdq"] == added[0][1][0].pdq_hex
    one = c.get(f"/v1/video-banks/entries/{ids[1]}", headers=w.h("moderator")).json()
    assert one["bank"] == "partner" and len(one["features"]) == 10 and one["cropped"] == []
    assert set(one["features"][0]) == {"pdq", "quality", "timestamp", "frame_number"}
    te = c.get("/v1/video-banks/partner/file", headers=w.h("auditor")).text.splitlines()
    assert len(te) == 6 and te[0].startswith("vpdq ") and te[1] == f"video_md5 {'0' * 32}"


def test_remove_is_audited_and_stops_the_next_match_in_another_worker(tmp_path, db_url) -> None:
    """A second store on the same database is a second worker: its index was built before the
    removal, and its next match no longer finds the entry (SQLite and PostgreSQL)."""
    w = make_web(tmp_path, db=db_url)
    rng = random.Random(2)
    store, [(gone, gone_clip), (kept, kept_clip), _] = _bank(w, rng)
    other = VideoBankStore(connect(db_url))
    try:
        assert [m.entry_id for m in other.match(noisy(gone_clip, 6, rng))] == [gone.id]
        r = w.client.delete(
            f"/v1/video-banks/entries/{gone.id}?reason=wrong+clip", headers=w.h("moderator")
        )
        assert r.status_code == 200 and r.json() == {"id": gone.id, "removed": True}
        assert other.match(noisy(gone_clip, 6, rng)) == []
        assert store.match(gone_clip) == []  # the web's own index too
        assert [m.entry_id for m in other.match(kept_clip)] == [kept.id]
        audit = w.client.get("/v1/video-banks/partner/audit", headers=w.h("auditor")).json()
        assert [(a["action"], a["actor"], a["reason"], a["entry_id"]) for a in audit] == [
            ("entry.remove", "moderator-1", "wrong clip", gone.id)
        ]
        per_entry = w.client.get(f"/v1/video-banks/entries/{gone.id}/audit", headers=w.h("auditor"))
        assert [a["bank"] for a in per_entry.json()] == ["partner"]
        listed = w.client.get("/v1/video-banks/partner/entries", headers=w.h("auditor")).json()
        assert gone.id not in [e["id"] for e in listed["entries"]]
        assert listed["stats"] == {"entries": 2, "removed": 1}
        every = w.client.get(
            "/v1/video-banks/partner/entries?include_removed=true", headers=w.h("auditor")
        ).json()
        assert next(e for e in every["entries"] if e["id"] == gone.id)["removed_at"]
        # removing it again: 404 naming the id (the first removal stands)
        again = w.client.delete(f"/v1/video-banks/entries/{gone.id}", headers=w.h("admin"))
        assert again.status_code == 404 and str(gone.id) in again.json()["message"]
    finally:
        other.db.close()
        w.app.state.services.db.close()


def test_roles_unknown_ids_and_banks_are_typed_errors(tmp_path) -> None:
    w = make_web(tmp_path)
    _, [(e, _), *_] = _bank(w, random.Random(3))
    c = w.client
    for role in ("auditor", "platform"):
        r = c.delete(f"/v1/video-banks/entries/{e.id}", headers=w.h(role))
        assert r.status_code == 403 and "moderator" in r.json()["message"], r.text
    for role in ("platform", "public"):
        r = c.get("/v1/video-banks/partner/entries", headers=w.h(role))
        assert r.status_code == 403 and "auditor" in r.json()["message"]
    assert c.get("/v1/video-banks/partner/entries").status_code == 401
    assert c.delete(f"/v1/video-banks/entries/{e.id}").status_code == 401
    missing = c.get("/v1/video-banks/entries/987654", headers=w.h("moderator"))
    assert missing.status_code == 404 and "video entry 987654" in missing.json()["message"]
    gone = c.delete("/v1/video-banks/entries/987654", headers=w.h("moderator"))
    assert gone.status_code == 404 and "987654" in gone.json()["message"]
    nobank = c.get("/v1/video-banks/nope/entries", headers=w.h("moderator"))
    assert nobank.status_code == 404 and "'nope'" in nobank.json()["message"]
    assert "partner" in nobank.json()["message"]  # names the banks that exist
    assert c.get("/v1/video-banks/nope/audit", headers=w.h("auditor")).status_code == 404
    huge = c.get(f"/v1/video-banks/entries/{2**64}", headers=w.h("moderator"))
    assert huge.status_code == 422
    assert (
        c.get("/v1/video-banks/partner/entries?limit=0", headers=w.h("auditor")).status_code == 422
    )
    assert c.get(f"/v1/video-banks/entries/{e.id}", headers=w.h("moderator")).status_code == 200


def test_reads_are_rate_limited_like_every_keyed_route(tmp_path) -> None:
    w = make_web(tmp_path, rates={"auditor": 2})
    _bank(w, random.Random(4), n=1)
    codes = [
        w.client.get("/v1/video-banks/partner/entries", headers=w.h("auditor")).status_code
        for _ in range(3)
    ]
    assert codes[:2] == [200, 200] and codes[2] == 429


def test_openapi_documents_the_video_bank_routes(tmp_path) -> None:
    spec = make_web(tmp_path).client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"get"} <= set(paths["/v1/video-banks/{name}/entries"])
    assert {"get", "delete"} <= set(paths["/v1/video-banks/entries/{entry_id}"])
    assert paths["/v1/video-banks/entries/{entry_id}"]["delete"]["tags"] == ["video banks"]
    assert "/v1/video-banks/{name}/audit" in paths and "/v1/video-banks" in paths
    assert "/v1/video-banks/{name}/file" in paths


def test_a_submission_review_removal_is_audited_too(tmp_path) -> None:
    """Rejecting a hash-only submission removes its clips; the trail says by what."""
    w = make_web(tmp_path)
    store = video_store(w.app.state.services)
    e = store.add(
        "victim-videos", clip(random.Random(5)), source="submission", case_id="S-1", note="pending"
    )
    listed = w.client.get("/v1/video-banks/victim-videos/entries", headers=w.h("moderator"))
    assert listed.json()["entries"][0]["confirmed"] is False
    assert store.set_submission_state("s-1", "rejected") == 1
    [row] = w.client.get(f"/v1/video-banks/entries/{e.id}/audit", headers=w.h("auditor")).json()
    assert (row["actor"], row["reason"]) == ("system", "submission S-1 rejected")


def test_the_cli_lists_and_removes_entries_with_an_audit_row(tmp_path, monkeypatch) -> None:
    """`gardefou video bank list|remove`: the same view and the same audited removal."""
    from click.testing import CliRunner

    import gardefou.cli.commands_video  # noqa: F401  (registers the commands)
    from gardefou.cli.main import cli

    db = str(tmp_path / "cli.db")
    store = VideoBankStore(connect(db))
    store.create_bank("partner")
    a, b = (store.add("partner", clip(random.Random(i)), case_id=f"T-{i}") for i in (6, 7))
    store.db.close()
    monkeypatch.setenv("GARDEFOU_ACTOR", "alice")
    legacy = ("--store", str(tmp_path / "none.jsonl"))

    def run(*args: str) -> list[dict]:
        result = CliRunner().invoke(cli, ["--db", db, "video", "bank", *args, *legacy])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]

    listed = run("list", "partner")
    assert [(e["id"], e["case_id"], e["frames"]) for e in listed] == [
        (a.id, "T-6", 10),
        (b.id, "T-7", 10),
    ]
    assert run("remove", str(a.id), "--reason", "duplicate") == [{"id": a.id, "removed": True}]
    assert [e["id"] for e in run("list", "partner")] == [b.id]
    assert [e["id"] for e in run("list", "partner", "--removed", "--limit", "1")] == [a.id]
    again = VideoBankStore(connect(db))
    try:
        [row] = video_audit.rows(again.db, entry_id=a.id)
        assert (row["actor"], row["reason"], row["bank"]) == ("alice", "duplicate", "partner")
        assert again.match(clip(random.Random(6))) == []
    finally:
        again.db.close()


def test_bank_names_the_api_uses_as_path_words_are_refused(tmp_path) -> None:
    """A bank named 'entries' could not be reached by its own routes (`/v1/banks/entries/{id}`
    wins): refused at creation and rename, for image and video banks; a bad video bank name is
    refused too (video banks had no name check)."""
    import pytest

    from gardefou.banks.admin import BankAdmin
    from gardefou.banks.video_store import VideoBankStore
    from gardefou.errors import BankError
    from gardefou.store import connect

    db = connect(tmp_path / "names.db")
    try:
        admin = BankAdmin(db)
        for name in ("entries", "Entries"):
            with pytest.raises(BankError, match="reserved"):
                admin.create_bank(name)
        admin.create_bank("victims")
        with pytest.raises(BankError, match="reserved"):
            admin.rename_bank("victims", "entries")
        videos = VideoBankStore(db)
        for name in ("entries", "a/b", "", "x" * 65):
            with pytest.raises(BankError):
                videos.create_bank(name)
            with pytest.raises(BankError):
                videos.ensure_bank(name)
        assert videos.create_bank("clips").name == "clips"
    finally:
        db.close()
