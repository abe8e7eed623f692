"""`gardefou consent`: the consent registry (face templates people ask to have protected)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gardefou.cli.group import cli, emit_json, open_store
from gardefou.cli.options import file_option
from gardefou.errors import ConfigError


def _registry(ctx: click.Context) -> Any:
    from gardefou.consent import ConsentRegistry

    return ConsentRegistry(open_store(ctx))


@cli.group()
def consent() -> None:
    """Protect a person's face: enrol a template (never the photo), check it, withdraw it."""


@consent.command("enroll")
@click.argument("photo", required=False, type=click.Path(exists=True, dir_okay=False))
@file_option(
    "--embedding",
    "embedding_file",
    help="A JSON file with the 128 numbers of an identity embedding computed elsewhere "
    "(instead of PHOTO: the photo then never reaches this machine).",
)
@click.option("--label", default="", help="A note for the operators (no personal data needed).")
@click.option("--owner-account", default=None, help="The person's own account on the platform.")
@click.pass_context
def consent_enroll(
    ctx: click.Context,
    photo: str | None,
    embedding_file: str | None,
    label: str,
    owner_account: str | None,
) -> None:
    """Enrol PHOTO (exactly one face) or --embedding; prints the template id and the
    withdrawal code, shown once. Only the 128 numbers are stored."""
    if (photo is None) == (embedding_file is None):
        raise ConfigError("give either PHOTO or --embedding FILE (one of them)")
    registry = _registry(ctx)
    if photo is not None:
        from gardefou.media import load_media

        enrolled = registry.enroll_from_image(
            load_media(photo), label=label, owner_account=owner_account
        )
    else:
        try:
            raw = json.loads(Path(str(embedding_file)).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"{embedding_file}: not a JSON list of 128 numbers ({exc}); write it as "
                "[0.01, -0.2, ...]"
            ) from None
        if not isinstance(raw, list):
            raise ConfigError(f"{embedding_file}: expected a JSON list of 128 numbers")
        enrolled = registry.enroll(raw, label=label, owner_account=owner_account)
    emit_json(
        {
            "template_id": enrolled.template_id,
            "withdrawal_code": enrolled.withdrawal_code,
            "note": "keep the withdrawal code: it is shown once and stops the protection",
        }
    )


@consent.command("withdraw")
@click.argument("template_id", type=int)
@click.option("--code", required=True, help="The withdrawal code given at enrolment.")
@click.pass_context
def consent_withdraw(ctx: click.Context, template_id: int, code: str) -> None:
    """Stop protecting TEMPLATE_ID and erase its embedding, at once in every process."""
    _registry(ctx).withdraw(template_id, code)
    emit_json({"template_id": template_id, "withdrawn": True})


@consent.command("show")
@click.argument("template_id", type=int)
@click.pass_context
def consent_show(ctx: click.Context, template_id: int) -> None:
    """Template TEMPLATE_ID's label, owner account and dates (never the embedding)."""
    from dataclasses import asdict

    t = _registry(ctx).get(template_id)
    emit_json({**asdict(t), "active": t.active})


@consent.command("count")
@click.pass_context
def consent_count(ctx: click.Context) -> None:
    """How many templates are active."""
    emit_json({"active": _registry(ctx).count()})
