"""Every command that opens the store closes it when it ends, on SQLite and PostgreSQL.

A connection a command forgets stays open until the process exits: harmless for one
`gardefou bank list` in a shell, but a PostgreSQL server slot held per run for anything that
runs the commands in-process (tests, ``ctx.invoke``, a long-lived wrapper). Counted two ways:
every ``Database`` the command made must be closed, and on PostgreSQL the server itself must
show no connection left for the test's schema (pg_stat_activity).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gardefou.cli.main import COMMAND_MODULES, cli
from gardefou.store import db as store_db

for _module in COMMAND_MODULES:  # registers the subcommands, as main() does
    importlib.import_module(_module)

HASH = "f" * 64

#: commands that open the store, each a different way in (bank service, report readers,
#: pipeline ledger, evidence store, policy lookups, review media, guard audit log)
COMMANDS = [
    ["bank", "create", "victims"],
    ["bank", "list"],
    ["bank", "add", "victims", HASH],
    ["bank", "entries", "victims"],
    ["report", "dsa", "--since", "2026-01-01", "--until", "2026-01-02", "--out", "{tmp}/s.json"],
    ["dead-letters"],
    ["metrics"],
    ["cases", "purge"],
    ["takedown", "alerts"],
    ["apikey", "list"],
    ["consent", "count"],
]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[store_db.Database]:
    """Every Database made while the test runs; each is marked when closed."""
    made: list[store_db.Database] = []
    init, close = store_db.Database.__init__, store_db.Database.close

    def tracking_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        self._test_closed = False
        made.append(self)

    def tracking_close(self):  # type: ignore[no-untyped-def]
        self._test_closed = True
        close(self)

    monkeypatch.setattr(store_db.Database, "__init__", tracking_init)
    monkeypatch.setattr(store_db.Database, "close", tracking_close)
    return made


def _pg_connections(url: str) -> int:
    import psycopg

    app = re.search(r"application_name=([\w-]+)", url)
    assert app is not None, url
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND pid <> "
            "pg_backend_pid()",
            (app.group(1),),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_every_command_closes_the_store(
    db_url: str, opened: list[store_db.Database], tmp_path: Path
) -> None:
    runner = CliRunner()
    for args in COMMANDS:
        before = len(opened)
        args = [a.format(tmp=tmp_path) for a in args]
        result = runner.invoke(cli, ["--db", db_url, *args], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.output)
        mine = opened[before:]
        assert mine, f"{args} opened no store: the table is stale"
        left = [d for d in mine if not d._test_closed]  # type: ignore[attr-defined]
        assert not left, f"`gardefou {' '.join(args)}` left {len(left)} connection(s) open"
        if db_url.startswith("postgresql://"):
            assert _pg_connections(db_url) == 0, args


def test_a_failing_command_closes_the_store_too(
    db_url: str, opened: list[store_db.Database]
) -> None:
    result = CliRunner().invoke(cli, ["--db", db_url, "bank", "entries", "no-such-bank"])
    assert result.exit_code != 0
    assert opened and all(d._test_closed for d in opened)  # type: ignore[attr-defined]
    if db_url.startswith("postgresql://"):
        assert _pg_connections(db_url) == 0


def test_a_reused_context_object_gets_a_fresh_store(tmp_path: Path) -> None:
    """A caller that passes the same ``obj`` to several commands: the bank service cached in
    it is dropped with its closed store, not handed to the next command."""
    obj: dict = {}
    runner = CliRunner()
    db = str(tmp_path / "g.db")
    for args in (["bank", "create", "victims"], ["bank", "list"]):
        result = runner.invoke(cli, ["--db", db, *args], obj=obj, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "victims" in result.output
