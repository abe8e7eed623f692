"""The `gardefou` command group, its exit codes and its JSON output: the leaf every
``commands_*`` module imports (``main.py`` imports the command modules, never the reverse).

Exit codes (all subcommands):
  0  success (scan: every file scanned)
  1  some inputs were rejected (scan: at least one file had an error; match: no match is NOT 1)
  2  usage or configuration error (bad option, unknown signal, unreadable policy)
  3  a verification failed (evidence verify, policy test mismatches)
  4  evidence verify: the bundle is intact but its authenticity was not checked (no pinned
     --key and no --checkpoint saved earlier: it may have been re-signed with another key)
doctor exits by severity (0 ok, 1 warnings, 2 errors); db status 0 current, 1 migrations
pending, 2 the store is newer than this gardefou.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gardefou import __version__
from gardefou.errors import GardefouError

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_VERIFY, EXIT_UNAUTHENTICATED = 0, 1, 2, 3, 4


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str))


_UNSET: Any = object()


def open_store(ctx: click.Context, url: Any = _UNSET, *, migrate: bool | None = None) -> Any:
    """The store named by the root ``--db`` (the default store when none was given; ``url``
    names another), opened and migrated as ``connect`` does: the one way every command
    reaches the store. The connection closes when the command ends, however it ends: a
    PostgreSQL connection left open holds a server slot until the process exits, and a
    command run in-process (tests, ``ctx.invoke``) would otherwise leak one per run."""
    from gardefou.store import connect

    root = ctx.find_root()
    target = (root.obj or {}).get("db") if url is _UNSET else url
    db = connect(target, migrate=migrate)
    root.call_on_close(db.close)
    return db


class GardefouGroup(click.Group):
    """Maps the project's exception tree to exit codes with one clear line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GardefouError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=GardefouGroup)
@click.version_option(__version__, prog_name="gardefou")
@click.option(
    "--db",
    envvar="GARDEFOU_DB",
    default=None,
    metavar="URL|PATH",
    help="Store: a SQLite path or postgresql:// URL "
    "[default: $XDG_DATA_HOME/gardefou/gardefou.db].",
)
@click.option(
    "--no-migrate",
    is_flag=True,
    default=None,
    help="Refuse a store whose schema is behind instead of migrating it (also "
    "GARDEFOU_AUTO_MIGRATE=0); `gardefou db upgrade` migrates.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="GARDEFOU_LOG_FORMAT",
    default=None,
    help="Log lines as text (default) or one JSON object a line.",
)
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, no_migrate: bool | None, log_format: str | None
) -> None:
    """gardefou: stop sexualized deepfakes of real people."""
    from gardefou.ops.logs import configure
    from gardefou.store.schema import migrate_on_open

    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    ctx.obj["log_format"] = log_format or "text"
    configure(ctx.obj["log_format"])
    if no_migrate:  # scoped to this command: reset when it ends
        ctx.obj["no_migrate"] = True
        ctx.with_resource(migrate_on_open(False))
