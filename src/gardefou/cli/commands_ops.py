"""`gardefou doctor` (is this installation ready?) and `gardefou db status|upgrade` (explicit
migrations). Exit codes of doctor: 0 every check ok, 1 warnings, 2 errors. `db status` exits 1
when migrations are pending and 2 when the store is newer than this gardefou."""

from __future__ import annotations

import sys

import click

from gardefou.cli.group import cli, emit_json

_json = click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")


def _db(ctx: click.Context) -> str | None:
    db: str | None = (ctx.find_root().obj or {}).get("db")
    return db


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
@click.option(
    "--no-models",
    is_flag=True,
    help="Skip loading the models (each takes seconds and hundreds of MB).",
)
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, no_models: bool) -> None:
    """Check the store, Redis, models, keys and limits. Exit 0 when all is ok, 1 on warnings,
    2 on errors."""
    from gardefou.ops.doctor import SEVERITY, exit_code, run

    checks = run(_db(ctx), models=not no_models)
    code = exit_code(checks)
    worst = next(k for k, v in SEVERITY.items() if v == code)
    if as_json:
        emit_json({"severity": worst, "exit_code": code, "checks": [c.to_dict() for c in checks]})
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            click.echo(f"{c.severity.upper():<8} {c.name:<{width}}  {c.summary}")
        click.echo(f"-> {worst} (exit {code})")
    sys.exit(code)


@cli.group()
def db() -> None:
    """The store's schema: its version, and applying pending migrations. With
    GARDEFOU_AUTO_MIGRATE=0 (or --no-migrate) only `db upgrade` migrates."""


@db.command("status")
@_json
@click.pass_context
def db_status(ctx: click.Context, as_json: bool) -> None:
    """Show the schema version and pending migrations; change nothing. Exit 0 current,
    1 migrations pending, 2 the store is newer than this gardefou."""
    from gardefou.store.db import connect, default_db_path
    from gardefou.store.schema import missing_sqlite_file, status, status_of_missing

    missing = missing_sqlite_file(_db(ctx) or str(default_db_path()))
    if missing is not None:  # report it without creating the file
        st = status_of_missing(missing)
    else:
        store = connect(_db(ctx), migrate=False)
        try:
            st = status(store)
        finally:
            store.close()
    if as_json:
        emit_json(st.to_dict())
    else:
        click.echo(f"store    {st.store} ({st.dialect})")
        click.echo(f"version  {st.current} (this gardefou knows {st.latest}): {st.state}")
        for version, name in st.pending:
            click.echo(f"pending  {version:04d}_{name}")
        for version in st.unknown:
            click.echo(f"unknown  {version:04d} (applied by another gardefou version)")
    sys.exit({"current": 0, "behind": 1, "ahead": 2}[st.state])


@db.command("upgrade")
@_json
@click.pass_context
def db_upgrade(ctx: click.Context, as_json: bool) -> None:
    """Apply every pending migration (each in its own transaction; safe to run from several
    hosts at once) and print the resulting version."""
    from gardefou.store.db import connect
    from gardefou.store.schema import status

    store = connect(_db(ctx), migrate=False)
    try:
        before = status(store)
        store.migrate()
        after = status(store)
    finally:
        store.close()
    applied = [f"{v:04d}_{n}" for v, n in before.pending]
    if as_json:
        emit_json({**after.to_dict(), "applied": applied})
        return
    for name in applied:
        click.echo(f"applied  {name}")
    click.echo(f"store {after.store} at schema version {after.current} ({after.state})")
