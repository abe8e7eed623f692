"""`gardefou bank submit|withdraw|submissions|confirm|reject`: hash-only submissions by people
depicted, withdrawn with their PIN, reviewed by moderators.

A submission's hashes only send matching content to review until a moderator confirms it;
rejecting or withdrawing it stops its hashes matching at once (docs/banks.md)."""

from __future__ import annotations

import click

from gardefou.cli.commands_bank import _actor, _service, bank_group, json_opt, reason_opt
from gardefou.cli.main import emit_json


@bank_group.command("submit")
@click.argument("name")
@click.argument("hashes", nargs=-1, required=True)
@click.option("--note", default="")
@click.option(
    "--confirmed",
    is_flag=True,
    help="A moderator has checked it: matches act at once (default: pending review).",
)
@json_opt
@click.pass_context
def submit_cmd(
    ctx: click.Context,
    name: str,
    hashes: tuple[str, ...],
    note: str,
    confirmed: bool,
    as_json: bool,
) -> None:
    """Hash-only submission by a person depicted: HEX or HEX:QUALITY items. Prints the case
    number and the PIN needed to withdraw (shown once). Its matches go to review until it is
    confirmed (`gardefou bank confirm CASE`)."""
    items: list[str | tuple[str, int]] = []
    for h in hashes:
        hex_part, _, q = h.partition(":")
        items.append((hex_part, int(q)) if q else hex_part)
    case, pin = _service(ctx).submit_hashes(
        name, items, note=note, confirmed=confirmed, actor=_actor()
    )
    if as_json:
        emit_json({"case_number": case, "pin": pin})
    else:
        click.echo(f"case {case}\nPIN  {pin}  (keep it: it is needed to withdraw)")


@bank_group.command("withdraw")
@click.argument("case_number")
@click.option("--pin", prompt=True, hide_input=True, help="The PIN given at submission.")
@reason_opt
@click.pass_context
def withdraw_cmd(ctx: click.Context, case_number: str, pin: str, reason: str) -> None:
    """Withdraw a submission: its hashes stop matching at once."""
    n = _service(ctx).withdraw_submission(case_number, pin, reason=reason)
    click.echo(f"withdrew {case_number}: {n} hash(es) no longer match")


@bank_group.command("submissions")
@click.option(
    "--status",
    type=click.Choice(["pending", "confirmed", "rejected", "withdrawn", "all"]),
    default="pending",
    show_default=True,
)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@json_opt
@click.pass_context
def submissions_cmd(ctx: click.Context, status: str, limit: int, as_json: bool) -> None:
    """Hash-only submissions, oldest first (default: those waiting for review)."""
    subs = _service(ctx).list_submissions(None if status == "all" else status, limit=limit)
    if as_json:
        emit_json([s.to_dict() for s in subs])
        return
    if not subs:
        click.echo(f"no {'' if status == 'all' else status + ' '}submissions")
    for s in subs:
        click.echo(f"{s.case_number}\t{s.status}\t{len(s.entry_ids)} hash(es)\t{s.created_at}")


def _review(
    ctx: click.Context, case_number: str, confirm: bool, reason: str, as_json: bool
) -> None:
    sub = _service(ctx).review_submission(
        case_number, confirm=confirm, actor=_actor(), reason=reason
    )
    if as_json:
        emit_json(sub.to_dict())
    elif confirm:
        click.echo(f"confirmed {sub.case_number}: its {len(sub.entry_ids)} hash(es) now remove")
    else:
        click.echo(f"rejected {sub.case_number}: its {len(sub.entry_ids)} hash(es) no longer match")


@bank_group.command("confirm")
@click.argument("case_number")
@reason_opt
@json_opt
@click.pass_context
def confirm_cmd(ctx: click.Context, case_number: str, reason: str, as_json: bool) -> None:
    """Confirm a submission after checking a matched image: its matches then remove."""
    _review(ctx, case_number, True, reason, as_json)


@bank_group.command("reject")
@click.argument("case_number")
@reason_opt
@json_opt
@click.pass_context
def reject_cmd(ctx: click.Context, case_number: str, reason: str, as_json: bool) -> None:
    """Reject a submission (e.g. the matched image is not intimate): its hashes stop matching."""
    _review(ctx, case_number, False, reason, as_json)
