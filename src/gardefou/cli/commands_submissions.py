"""`gardefou bank submissions|confirm|reject`: moderators review hash-only submissions.

A submission's hashes only send matching content to review until a moderator confirms it;
rejecting it stops its hashes matching at once (docs/banks.md)."""

from __future__ import annotations

import click

from gardefou.cli.commands_bank import _actor, _service, bank_group, json_opt, reason_opt
from gardefou.cli.group import emit_json
from gardefou.cli.options import limit_option


@bank_group.command("submissions")
@click.option(
    "--status",
    type=click.Choice(["pending", "confirmed", "rejected", "withdrawn", "all"]),
    default="pending",
    show_default=True,
    help="Which submissions to list.",
)
@limit_option("submissions")
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
    from gardefou.banks.video_submissions import follow_review

    svc = _service(ctx)
    with svc.db.transaction():  # the submission's clips follow its review in the same commit
        sub = svc.review_submission(case_number, confirm=confirm, actor=_actor(), reason=reason)
        follow_review(svc.db, sub.case_number, "confirmed" if confirm else "rejected")
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
    """Confirm submission CASE_NUMBER after checking a matched image: its matches then
    remove."""
    _review(ctx, case_number, True, reason, as_json)


@bank_group.command("reject")
@click.argument("case_number")
@reason_opt
@json_opt
@click.pass_context
def reject_cmd(ctx: click.Context, case_number: str, reason: str, as_json: bool) -> None:
    """Reject submission CASE_NUMBER (e.g. the matched image is not intimate): its hashes stop
    matching."""
    _review(ctx, case_number, False, reason, as_json)
