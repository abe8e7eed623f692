"""`gardefou bank entries|enable|disable|remove|audit|reindex` and `gardefou match`: the
entries of a bank once they are in (listing, switching off, removing, the audit trail, the
on-disk index) and matching against them. Bank-level commands (create, set, import, export,
add, submit) are in ``commands_bank``; moderators' review of submissions in
``commands_submissions``."""

from __future__ import annotations

import sys

import click

# the root group and the JSON printer come through commands_bank, whichever module defines them
from gardefou.cli.commands_bank import (
    _HEX64,
    _service,
    bank_group,
    cli,
    emit_json,
    json_opt,
    reason_opt,
)
from gardefou.cli.options import limit_option


@bank_group.command("entries")
@click.argument("name")
@limit_option("entries")
@click.option(
    "--offset", type=click.IntRange(0), default=0, help="Skip this many entries first (for paging)."
)
@json_opt
@click.pass_context
def entries_cmd(ctx: click.Context, name: str, limit: int, offset: int, as_json: bool) -> None:
    """List entries of bank NAME."""
    entries = _service(ctx).list_entries(name, limit=limit, offset=offset)
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    for e in entries:
        click.echo(
            f"{e.id}\t{e.pdq}\tq={e.quality}\t{'enabled' if e.enabled else 'DISABLED'}\t"
            f"{e.source}\t{e.case_id or ''}\t{e.note}"
        )


def _toggle(ctx: click.Context, entry_ids: tuple[int, ...], enabled: bool, reason: str) -> None:
    svc = _service(ctx)
    for entry_id in entry_ids:
        svc.set_enabled(entry_id, enabled, reason=reason)
        click.echo(f"entry {entry_id} {'enabled' if enabled else 'disabled'}")


@bank_group.command("enable")
@click.argument("entry_ids", nargs=-1, type=int, required=True)
@reason_opt
@click.pass_context
def enable_cmd(ctx: click.Context, entry_ids: tuple[int, ...], reason: str) -> None:
    """Enable entries ENTRY_IDS."""
    _toggle(ctx, entry_ids, True, reason)


@bank_group.command("disable")
@click.argument("entry_ids", nargs=-1, type=int, required=True)
@reason_opt
@click.pass_context
def disable_cmd(ctx: click.Context, entry_ids: tuple[int, ...], reason: str) -> None:
    """Disable entries ENTRY_IDS (they stop matching; reversible)."""
    _toggle(ctx, entry_ids, False, reason)


@bank_group.command("remove")
@click.argument("entry_ids", nargs=-1, type=int, required=True)
@reason_opt
@click.pass_context
def remove_cmd(ctx: click.Context, entry_ids: tuple[int, ...], reason: str) -> None:
    """Remove entries ENTRY_IDS for good (rows stay for the audit trail)."""
    svc = _service(ctx)
    for entry_id in entry_ids:
        svc.remove_entry(entry_id, reason=reason)
        click.echo(f"entry {entry_id} removed")


@bank_group.command("audit")
@click.argument("name", required=False)
@click.option(
    "--entry", "entry_id", type=int, default=None, help="Only the changes to this entry id."
)
@limit_option("lines")
@click.pass_context
def audit_cmd(ctx: click.Context, name: str | None, entry_id: int | None, limit: int) -> None:
    """Audit trail of bank NAME (JSON Lines, newest first): who changed what, when and why."""
    for row in _service(ctx).audit_log(name, entry_id, limit):
        emit_json(row)


@bank_group.command("reindex")
@click.pass_context
def reindex_cmd(ctx: click.Context) -> None:
    """Rebuild the on-disk index from the table (after restoring a database backup)."""
    n = _service(ctx).reindex()
    click.echo(f"index rebuilt: {n} hash rows")


@cli.command("match")
@click.argument("target")
@json_opt
@click.option("--bank", "banks", multiple=True, help="Only these banks (repeatable).")
@click.option("--no-dihedral", is_flag=True, help="Do not match rotated/mirrored copies.")
@click.option(
    "--no-trim", is_flag=True, help="Do not also hash the content inside borders/bars/banners."
)
@click.option("--all", "show_all", is_flag=True, help="Also list suppressed/negative matches.")
@click.pass_context
def match_cmd(
    ctx: click.Context,
    target: str,
    as_json: bool,
    banks: tuple[str, ...],
    no_dihedral: bool,
    no_trim: bool,
    show_all: bool,
) -> None:
    """Match TARGET (an image FILE or a PDQ HEX) against the banks. JSON: a list of
    {bank, entry_id, distance, ...}; exit status 0 whether or not anything matched."""
    svc = _service(ctx)
    only = list(banks) or None
    if _HEX64.fullmatch(target.strip()):
        matches = svc.match(target.strip(), banks=only)
    else:
        from gardefou.banks.robust import query_hashes
        from gardefou.media import load_media

        media = load_media(sys.stdin.buffer.read() if target == "-" else target)
        hashes, quality = query_hashes(media.rgb(), dihedral=not no_dihedral, trim=not no_trim)
        matches = svc.match(hashes, quality=quality, md5=media.md5, sha256=media.sha256, banks=only)
    shown = matches if show_all else [m for m in matches if m.actionable or m.needs_review]
    if as_json:
        emit_json([m.to_dict() for m in shown])
        return
    if not shown:
        click.echo("no match")
    for m in shown:
        click.echo(
            f"{m.bank}\tentry {m.entry_id}\tdistance {m.distance}/{m.threshold}\t"
            f"via {m.query}"
            + (f"\t{m.reason}" if m.reason else "")
            + (f"\tunconfirmed submission {m.case_id}: review only" if m.needs_review else "")
        )
