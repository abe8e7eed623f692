"""`gardefou exchange add|list|fetch|status|remove|feedback|push-feedback`: hash exchanges."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from gardefou.cli.commands_bank import _service
from gardefou.cli.group import cli, emit_json
from gardefou.cli.options import int_option
from gardefou.errors import GardefouError


def _exchanges(ctx: click.Context) -> Any:
    from gardefou.exchanges import ExchangeService

    return ExchangeService(_service(ctx))


@cli.group("exchange")
def exchange_group() -> None:
    """Hash exchanges (StopNCII, snapshot files) feeding banks; see docs/exchanges.md."""


@exchange_group.command("add")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["stopncii", "ncmec", "threatexchange", "file"]),
    required=True,
    help="Exchange API.",
)
@click.option(
    "--bank",
    default=None,
    help="Bank it feeds (created when missing) [default: victim-NAME for stopncii, NAME else].",
)
@click.option("--url", default="", help="API base URL (default: the exchange's), or file path.")
@click.option(
    "--credentials",
    default=None,
    metavar="env:VAR|file:PATH",
    help="Where the secret is read at each use "
    "[default: env:GARDEFOU_EXCHANGE_<NAME>_CREDENTIALS].",
)
@int_option(
    "--page-size",
    default=800,
    help="Records asked for per page; each page is committed with its checkpoint.",
    high=10000,
)
@click.option(
    "--environment",
    default="",
    help="NCMEC environment (python-threatexchange's NCMECEnvironment name) [default: Industry].",
)
@click.option("--privacy-group", default=None, type=int, help="ThreatExchange privacy group id.")
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    kind: str,
    bank: str | None,
    url: str,
    credentials: str | None,
    page_size: int,
    environment: str,
    privacy_group: int | None,
) -> None:
    """Configure exchange NAME; print it as JSON (the secret is never stored nor printed)."""
    default_bank = f"victim-{name}" if kind == "stopncii" else name
    ex = _exchanges(ctx).add(
        name,
        kind=kind,
        bank=bank or default_bank,
        url=url,
        credentials=credentials,
        config={"page_size": page_size}
        | ({"environment": environment} if environment else {})
        | ({"privacy_group": privacy_group} if privacy_group is not None else {}),
        actor=_service(ctx).actor,
    )
    emit_json(ex.to_dict())


@exchange_group.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Configured exchanges, one JSON object a line."""
    for ex in _exchanges(ctx).list():
        emit_json(ex.to_dict())


@exchange_group.command("status")
@click.argument("name")
@click.pass_context
def status(ctx: click.Context, name: str) -> None:
    """Exchange NAME: checkpoint, last fetch, counts by status and signal type, feedback queue."""
    emit_json(_exchanges(ctx).status(name))


@exchange_group.command("fetch")
@click.argument("names", nargs=-1)
@int_option("--max-pages", default=None, help="Stop after N pages.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.pass_context
def fetch(ctx: click.Context, names: tuple[str, ...], max_pages: int | None, quiet: bool) -> None:
    """Fetch from the checkpoint of each exchange in NAMES (all exchanges when none is named).
    Safe to kill and run again: nothing is lost or stored twice."""
    svc = _exchanges(ctx)
    last = [0.0]

    def progress(r: Any) -> None:
        if quiet or time.monotonic() - last[0] < 1.0:
            return
        last[0] = time.monotonic()
        rate = (r.added + r.unchanged + r.withdrawn) / max(r.seconds, 1e-9)
        click.echo(
            f"{r.exchange}: {r.pages} pages, +{r.added} -{r.withdrawn} "
            f"(exchange time {r.progress_time}), {rate:,.0f} records/s",
            err=True,
        )

    todo = list(names) or [e.name for e in svc.list() if e.enabled]
    failed = False
    for name in todo:
        if len(todo) == 1:  # one exchange: its error is the command's error (exit code)
            emit_json(svc.fetch(name, max_pages=max_pages, progress=progress).to_dict())
            continue
        try:  # several: one failing exchange does not stop the others
            emit_json(svc.fetch(name, max_pages=max_pages, progress=progress).to_dict())
        except GardefouError as exc:
            failed = True
            emit_json({"exchange": name, "error": str(exc), "type": type(exc).__name__})
    if failed:
        sys.exit(1)


@exchange_group.command("remove")
@click.argument("name")
@click.option(
    "--remove-entries", is_flag=True, help="Also remove every entry this exchange brought."
)
@click.pass_context
def remove(ctx: click.Context, name: str, remove_entries: bool) -> None:
    """Stop syncing exchange NAME (its entries stay in the bank unless --remove-entries)."""
    n = _exchanges(ctx).remove(name, keep_entries=not remove_entries, actor=_service(ctx).actor)
    emit_json({"exchange": name, "removed": True, "entries_removed": n})


@exchange_group.command("feedback")
@click.argument("entry_id", type=int)
@click.argument("verdict", type=click.Choice(["seen", "blocked", "not_blocked"]))
@click.option("--tag", "tags", multiple=True, help="Free-form tag sent with the feedback.")
@click.pass_context
def feedback(ctx: click.Context, entry_id: int, verdict: str, tags: tuple[str, ...]) -> None:
    """Queue VERDICT on bank entry ENTRY_ID for the exchange it came from (sent by
    push-feedback)."""
    fid = _exchanges(ctx).queue_feedback(entry_id, verdict, tags)
    emit_json({"entry_id": entry_id, "verdict": verdict, "queued": fid is not None, "id": fid})
    if fid is None:
        click.echo("entry came from no exchange that takes feedback", err=True)
        sys.exit(1)


@exchange_group.command("push-feedback")
@click.pass_context
def push_feedback(ctx: click.Context) -> None:
    """Send the feedback that is due; failures are rescheduled (Retry-After, backoff)."""
    emit_json(_exchanges(ctx).push_feedback())
