"""`gardefou cases purge`: delete the review images no moderator needs any more.

``gardefou serve`` and the pipeline workers purge on a schedule as well; this is for a cron
job, or after changing ``review_media_days``."""

from __future__ import annotations

import click

from gardefou.cli.group import cli, emit_json, open_store


@cli.group("cases")
def cases_group() -> None:
    """Review cases."""


@cases_group.command("purge")
@click.pass_context
def purge_cmd(ctx: click.Context) -> None:
    """Delete kept review images whose case was actioned or closed, or that expired. Prints
    {"deleted": N}."""
    from gardefou.cases.review_media import purge_review_media

    emit_json({"deleted": purge_review_media(open_store(ctx))})
