"""`gardefou db status|upgrade`, and GARDEFOU_AUTO_MIGRATE=0 / --no-migrate: other commands refuse
a store that is behind instead of migrating it (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gardefou.errors import ConfigError, SchemaBehindError, StoreError
from gardefou.store import connect
from gardefou.store import schema as schema_mod


def _cli(args: list[str], **env: str) -> Any:
    from gardefou.cli.main import cli, main  # noqa: F401 - main() registers the subcommands

    for module in ("commands_ops", "commands_bank"):
        __import__(f"gardefou.cli.{module}")
    return CliRunner().invoke(cli, args, env=env or None)


@pytest.fixture
def one_more_migration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gardefou that ships one migration more than the store has (a new release)."""
    shipped = schema_mod.migrations()
    extra = (9990, "probe", "CREATE TABLE probe_t (x INTEGER);")
    monkeypatch.setattr(schema_mod, "migrations", lambda: [*shipped, extra])


def test_status_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    r = _cli(["--db", str(db), "db", "status", "--json"])
    assert r.exit_code == 1, r.output
    out = json.loads(r.output)
    assert out["state"] == "behind" and out["current"] == 0
    assert len(out["pending"]) == len(schema_mod.migrations())
    assert not db.exists()


def test_no_migrate_refuses_then_upgrade_then_works(db_url: str) -> None:
    if not db_url.startswith("postgres"):
        connect(db_url, migrate=False).close()  # an empty store (PostgreSQL: an empty schema)
    r = _cli(["--db", db_url, "--no-migrate", "bank", "list"])
    assert r.exit_code == 2, r.output
    assert "gardefou db upgrade" in r.output and "schema version 0" in r.output
    r = _cli(["--db", db_url, "bank", "list"], GARDEFOU_AUTO_MIGRATE="0")
    assert r.exit_code == 2 and "gardefou db upgrade" in r.output
    assert _cli(["--db", db_url, "db", "status"]).exit_code == 1

    r = _cli(["--db", db_url, "db", "upgrade", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["state"] == "current" and out["applied"][0] == "0001_core"
    assert _cli(["--db", db_url, "db", "status"]).exit_code == 0
    with schema_mod.migrate_on_open(False):
        connect(db_url).close()  # current: opened without complaint
    assert _cli(["--db", db_url, "--no-migrate", "bank", "list"]).exit_code == 0
    again = json.loads(_cli(["--db", db_url, "db", "upgrade", "--json"]).output)
    assert again["applied"] == [], "upgrading a current store is a no-op"


def test_a_new_release_migration_waits_for_db_upgrade(db_url: str, one_more_migration) -> None:
    db = connect(db_url)  # auto-migration on (the default): applied on open
    assert db.has_table("probe_t")
    db.execute("DROP TABLE probe_t")
    db.execute("DELETE FROM schema_version WHERE version = 9990")
    db.close()
    status = json.loads(_cli(["--db", db_url, "db", "status", "--json"]).output)
    assert status["pending"] == [{"version": 9990, "name": "probe"}]
    r = _cli(["--db", db_url, "--no-migrate", "bank", "list"])
    assert r.exit_code == 2 and "9990_probe" in r.output
    with schema_mod.migrate_on_open(False), pytest.raises(SchemaBehindError):
        connect(db_url)
    r = _cli(["--db", db_url, "db", "upgrade"])
    assert r.exit_code == 0 and "applied  9990_probe" in r.output
    with schema_mod.migrate_on_open(False):
        reopened = connect(db_url)
    assert reopened.has_table("probe_t")
    reopened.close()


def test_no_migrate_lasts_one_command(tmp_path: Path) -> None:
    """--no-migrate is scoped to its command: later opens in this process migrate again."""
    assert _cli(["--db", str(tmp_path / "a.db"), "--no-migrate", "bank", "list"]).exit_code == 2
    assert schema_mod.auto_migrate() is True
    assert connect(tmp_path / "b.db").schema_version() == schema_mod.migrations()[-1][0]


def test_store_newer_than_the_code(tmp_path: Path) -> None:
    path = str(tmp_path / "n.db")
    connect(path).execute("INSERT INTO schema_version (version, name) VALUES (9999, 'future')")
    r = _cli(["--db", path, "db", "status"])
    assert r.exit_code == 2 and "ahead" in r.output
    r = _cli(["--db", path, "--no-migrate", "bank", "list"])
    assert r.exit_code == 1 and "newer than this gardefou" in r.output
    with pytest.raises(StoreError, match="newer than this gardefou"):
        connect(path)


def test_bad_auto_migrate_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARDEFOU_AUTO_MIGRATE", "sometimes")
    with pytest.raises(ConfigError, match="GARDEFOU_AUTO_MIGRATE='sometimes'"):
        connect(tmp_path / "c.db")
    monkeypatch.delenv("GARDEFOU_AUTO_MIGRATE")
    assert not connect(tmp_path / "c.db", migrate=False).has_table("schema_version")
