"""The embedded store: migrations, versioning, idempotent writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gardefou.errors import StoreError
from gardefou.media import load_media
from gardefou.scan import run_signals
from gardefou.store import MediaRepository, connect
from gardefou.store.db import migrations
from tests.test_media import GOOD


def test_fresh_database_is_migrated_to_latest(tmp_path: Path) -> None:
    db = connect(tmp_path / "a.db")
    assert db.schema_version() == migrations()[-1][0]
    assert connect(tmp_path / "a.db").schema_version() == db.schema_version(), "re-open is a no-op"


def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = connect(tmp_path / "b.db")
    db.execute("INSERT INTO schema_version (version, name) VALUES (?, ?)", (9999, "future"))
    with pytest.raises(StoreError, match="newer than this gardefou"):
        connect(tmp_path / "b.db")


def test_rescan_is_idempotent(tmp_db) -> None:
    repo = MediaRepository(tmp_db)
    media = load_media(GOOD["jpeg"]())
    results = run_signals(media, ["crypto_hash", "pdq"])
    repo.save_scan(media, results)
    repo.save_scan(media, results)
    assert repo.summary()["media"] == 1
    rows = tmp_db.query("SELECT name FROM signal_results WHERE sha256 = ?", (media.sha256,))
    assert sorted(r["name"] for r in rows) == ["crypto_hash", "pdq"]
    assert repo.get(media.sha256)["pdq"] == results[1].value


def test_transaction_rolls_back(tmp_db) -> None:
    with pytest.raises(RuntimeError), tmp_db.transaction():
        tmp_db.execute(
            "INSERT INTO scan_errors (source, error_type, message, created_at) "
            "VALUES ('x', 'E', 'm', 'now')"
        )
        raise RuntimeError("boom")
    assert tmp_db.query_one("SELECT COUNT(*) AS n FROM scan_errors")["n"] == 0


def test_concurrent_first_open_migrates_once(db_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def open_and_close(_: int) -> int:
        db = connect(db_url)
        try:
            return db.schema_version()
        finally:
            db.close()

    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(open_and_close, range(4)))
    assert set(versions) == {migrations()[-1][0]}


def test_missing_lower_migration_is_applied_later(tmp_path: Path) -> None:
    """A migration numbered below the highest applied one (it landed later) still runs."""
    db = connect(tmp_path / "c.db")
    first = migrations()[0]
    db.execute("DELETE FROM schema_version WHERE version = ?", (first[0],))
    for table in ("signal_results", "scan_errors", "media"):
        db.execute(f"DROP TABLE {table}")
    db.close()
    db = connect(tmp_path / "c.db")
    assert first[0] in {r["version"] for r in db.query("SELECT version FROM schema_version")}
    assert db.query_one("SELECT COUNT(*) AS n FROM media")["n"] == 0
    db.close()
