"""`gardefou guard`, `gardefou guard-output`, `gardefou guard-label`: the generator guardrail.

Exit code 0 whenever a decision was made (read it from the output or --json); 1 when an input
was rejected (empty or oversized prompt, corrupt image); 2 on a usage error.
"""

from __future__ import annotations

import sys

import click

from gardefou.cli.group import cli, emit_json, open_store
from gardefou.cli.options import file_option
from gardefou.decision import Decision


def _print(decision: Decision, as_json: bool) -> None:
    if as_json:
        emit_json(decision.to_dict())
        return
    click.echo(str(decision.action).upper())
    for r in decision.reasons:
        click.echo(f"  {r.code}: {r.message}")
    if decision.unavailable:
        click.echo(f"  unavailable signals: {', '.join(decision.unavailable)}")


def _guard(ctx: click.Context, strict: bool, audit: bool, retain_days: int) -> object:
    from gardefou.guard import Guard, GuardConfig

    log = None
    if audit:
        from gardefou.guard.audit import AuditLog

        log = AuditLog(open_store(ctx), retain_days)
    return Guard(GuardConfig(refuse_fictional_sexual=strict), audit=log)


_json = click.option(
    "--json", "as_json", is_flag=True, help="Print the Decision as one JSON object."
)
_strict = click.option(
    "--strict", is_flag=True, help="Also refuse sexual content with no real person (adult fiction)."
)
_audit = click.option(
    "--audit", is_flag=True, help="Record refusals in the store (guard_audit table; see --db)."
)
_retain = click.option(
    "--retain-prompt-days",
    "retain_days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Keep prompt text in the audit for N days (0 = hash only).",
)


@cli.command("guard")
@click.argument("prompt")
@click.option(
    "--image",
    "images",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Input image the request applies to (repeatable).",
)
@click.option(
    "--history",
    multiple=True,
    metavar="TEXT",
    help="An earlier request of the same conversation, oldest first (repeatable).",
)
@_json
@_strict
@_audit
@_retain
@click.pass_context
def guard_cmd(
    ctx: click.Context,
    prompt: str,
    images: tuple[str, ...],
    history: tuple[str, ...],
    as_json: bool,
    strict: bool,
    audit: bool,
    retain_days: int,
) -> None:
    """Check a generation/edit request before generating. PROMPT '-' reads it from stdin."""
    from gardefou.guard import Context

    text: str | bytes = sys.stdin.buffer.read() if prompt == "-" else prompt
    g = _guard(ctx, strict, audit, retain_days)
    decision = g.check_request(text, images=list(images), context=Context(history))  # type: ignore[attr-defined]
    _print(decision, as_json)


@cli.command("guard-output")
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--request", "request", default=None, help="The request text that produced it.")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="An input image of the edit (repeatable).",
)
@_json
@_strict
@_audit
@_retain
@click.pass_context
def guard_output_cmd(ctx: click.Context, output: str, request: str | None,
                     inputs: tuple[str, ...], as_json: bool, strict: bool, audit: bool,
                     retain_days: int) -> None:  # fmt: skip
    """Check OUTPUT, a generated image or clip, before returning it (same person as an input,
    sexualized?); a clip's sampled frames are checked one by one."""
    from gardefou.guard.video import check_output_media

    g = _guard(ctx, strict, audit, retain_days)
    _print(check_output_media(g, output, request, list(inputs)), as_json)


@cli.command("guard-label")
@click.argument("source", type=click.Path(dir_okay=False, exists=True))
@click.argument("dest", type=click.Path(dir_okay=False))
@file_option("--cert", required=True, help="PEM certificate chain of the signing key (leaf first).")
@file_option("--key", required=True, help="PEM private key (Ed25519, EC P-256/384/521 or RSA).")
@click.option(
    "--alg", default=None, help="es256|es384|es512|ps256|ed25519 [default: the key's own]"
)
@click.option(
    "--generator",
    default="gardefou-labelled generator",
    show_default=True,
    help="Name of the generator recorded in the manifest.",
)
def guard_label_cmd(source: str, dest: str, cert: str, key: str, alg: str | None,
                    generator: str) -> None:  # fmt: skip
    """Write DEST = SOURCE with a signed C2PA manifest (trainedAlgorithmicMedia)."""
    from gardefou.guard.label import LabelConfig, label_file

    info = label_file(source, dest, LabelConfig.from_files(cert, key, alg, generator))
    emit_json(info)
