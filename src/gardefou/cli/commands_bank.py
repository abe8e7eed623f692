"""`gardefou bank ...` (banks, entries, import/export, submissions) and `gardefou match`."""

from __future__ import annotations

import getpass
import os
import re
from typing import Any

import click

from gardefou.cli.group import cli, emit_json, open_store
from gardefou.cli.options import file_option, float_option, int_option
from gardefou.cli.progress import Progress, progress_options

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def _actor() -> str:
    try:
        return os.environ.get("GARDEFOU_ACTOR") or f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _service(ctx: click.Context) -> Any:
    from gardefou.banks import BankService

    root = ctx.find_root()
    if "bank_service" not in root.obj:
        root.obj["bank_service"] = BankService(open_store(ctx), actor=_actor())
        # its store closes with the command: a context object reused by a caller must not
        # hand the next command a service over a closed connection
        root.call_on_close(lambda: root.obj.pop("bank_service", None))
    return root.obj["bank_service"]


reason_opt = click.option("--reason", default="", help="Why (kept in the audit trail).")
json_opt = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _threshold_opt(default: int | None) -> Any:
    """``--threshold`` of `bank create` (31) and `bank set` (None: unchanged)."""
    return int_option(
        "--threshold",
        default=default,
        help="Largest PDQ distance that counts as a match.",
        low=0,
        high=128,
    )


@cli.group("bank")
def bank_group() -> None:
    """Hash banks: create, add, import, export, list, withdraw, enable/disable entries."""


@bank_group.command("create")
@click.argument("name")
@_threshold_opt(31)
@click.option("--negative", is_flag=True, help="Known-benign bank: its matches suppress others.")
@float_option(
    "--enable-ratio",
    default=1.0,
    help="Fraction of entries live (deterministic by hash), for gradual rollout.",
    high=1,
)
@click.option(
    "--description", default="", help="What the bank holds and where its hashes come from."
)
@reason_opt
@click.pass_context
def create_cmd(
    ctx: click.Context,
    name: str,
    threshold: int,
    negative: bool,
    enable_ratio: float,
    description: str,
    reason: str,
) -> None:
    """Create bank NAME."""
    b = _service(ctx).create_bank(
        name,
        threshold=threshold,
        negative=negative,
        enable_ratio=enable_ratio,
        description=description,
        reason=reason,
    )
    click.echo(
        f"created bank {b.name} (id {b.id}, threshold {b.threshold}"
        + (", negative" if b.negative else "")
        + ")"
    )


@bank_group.command("list")
@json_opt
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List banks with their settings and entry counts."""
    svc = _service(ctx)
    rows = [b.to_dict() | svc.bank_stats(b) for b in svc.list_banks()]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        flags = ",".join(
            f for f, on in (("negative", r["negative"]), ("disabled", not r["enabled"])) if on
        )
        click.echo(
            f"{r['name']}\tthreshold={r['threshold']}\tratio={r['enable_ratio']:g}\t"
            f"entries={r['entries']} ({r['enabled_entries']} enabled)\t{flags}"
        )


@bank_group.command("set")
@click.argument("name")
@_threshold_opt(None)
@click.option(
    "--enable-ratio",
    type=click.FloatRange(0, 1),
    default=None,
    help="Share of traffic the bank acts on (0-1), for a gradual rollout.",
)
@click.option(
    "--negative/--positive",
    default=None,
    help="Negative: known-benign content whose matches suppress others; --positive undoes it.",
)
@click.option("--enabled/--disabled", "enabled", default=None, help="Turn the whole bank on/off.")
@click.option(
    "--description", default=None, help="What the bank holds and where its hashes come from."
)
@reason_opt
@click.pass_context
def set_cmd(ctx: click.Context, name: str, reason: str, **changes: Any) -> None:
    """Change the settings of bank NAME."""
    b = _service(ctx).update_bank(name, reason=reason, **changes)
    emit_json(b.to_dict())


@bank_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@reason_opt
@click.pass_context
def rename_cmd(ctx: click.Context, name: str, new_name: str, reason: str) -> None:
    """Rename bank NAME to NEW_NAME."""
    _service(ctx).rename_bank(name, new_name, reason=reason)
    click.echo(f"renamed {name} -> {new_name}")


@bank_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@reason_opt
@click.pass_context
def delete_cmd(ctx: click.Context, name: str, yes: bool, reason: str) -> None:
    """Delete bank NAME: its entries stop matching (rows stay for the audit trail)."""
    if not yes:
        click.confirm(f"delete bank {name} and stop matching all its entries?", abort=True)
    n = _service(ctx).delete_bank(name, reason=reason)
    click.echo(f"deleted bank {name}; {n} entries removed from matching")


@bank_group.command("add")
@click.argument("name")
@click.argument("hash_or_file")
@int_option(
    "--quality",
    default=None,
    help="PDQ quality of a hex hash [default: 100; computed for a file].",
    low=0,
    high=100,
)
@click.option(
    "--md5", default=None, help="MD5 of the original file, matched exactly next to the PDQ hash."
)
@click.option(
    "--sha256",
    default=None,
    help="SHA-256 of the original file, matched exactly next to the PDQ hash.",
)
@click.option(
    "--source", default="cli", help="Where the hash came from (recorded in the audit trail)."
)
@click.option("--case-id", default=None, help="Case or request the entry belongs to.")
@click.option("--note", default="", help="Free text kept with the entry (no personal data).")
@click.option(
    "--crop-resilient",
    is_flag=True,
    help="For a FILE: also store hashes of it with flat borders peeled off and of its "
    "central 90%/80% crops.",
)
@reason_opt
@json_opt
@click.pass_context
def add_cmd(
    ctx: click.Context,
    name: str,
    hash_or_file: str,
    quality: int | None,
    md5: str | None,
    sha256: str | None,
    source: str,
    case_id: str | None,
    note: str,
    crop_resilient: bool,
    reason: str,
    as_json: bool,
) -> None:
    """Add HASH_OR_FILE to bank NAME: a PDQ hash (64 hex digits) or an image file (hashed
    here; never stored)."""
    extra: list[str] = []
    if _HEX64.fullmatch(hash_or_file.strip()):
        pdq, q = hash_or_file.strip(), 100 if quality is None else quality
    else:
        from gardefou.banks.robust import crop_variants
        from gardefou.media import load_media
        from gardefou.signals.pdq_core import pdq_hash

        media = load_media(hash_or_file)
        pdq, q = pdq_hash(media.rgb())
        md5, sha256 = md5 or media.md5, sha256 or media.sha256
        if crop_resilient:
            extra = crop_variants(media.rgb())
    e = _service(ctx).add_entry(
        name,
        pdq,
        q,
        md5=md5,
        sha256=sha256,
        source=source,
        case_id=case_id,
        note=note,
        extra_pdq=extra,
        reason=reason,
    )
    if as_json:
        emit_json(e.to_dict())
    else:
        click.echo(f"added entry {e.id} to {name}: {e.pdq} q={e.quality}")


@bank_group.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv", "te", "hma"]),
    default="auto",
    show_default=True,
    help="csv: gardefou CSV; te: ThreatExchange signal file "
    "('pdq <hex>' lines); hma: HMA bank-content JSON.",
)
@reason_opt
@progress_options
@click.pass_context
def import_cmd(
    ctx: click.Context,
    name: str,
    file: str,
    fmt: str,
    reason: str,
    progress: bool | None,
    quiet: bool,
) -> None:
    """Import FILE into bank NAME: every row or none (a bad row names its line)."""
    from gardefou.banks.formats import import_file

    svc = _service(ctx)
    bar = Progress(f"bank import {name}", "rows", progress, quiet)
    try:
        report = import_file(svc, name, file, fmt, reason=reason, progress=bar)
    finally:
        bar.close()
    svc.index.refresh()  # fold the new rows into the on-disk index now, not on first query
    emit_json(report.to_dict())


@bank_group.command("export")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "te", "hma"]),
    default="csv",
    show_default=True,
    help="csv: gardefou's columns; te: ThreatExchange hash lines; hma: HMA bank export.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default="-",
    help="File to write ('-' = stdout).",
)
@click.pass_context
def export_cmd(ctx: click.Context, name: str, fmt: str, output: str) -> None:
    """Export bank NAME (live entries, enabled or not)."""
    from gardefou.banks.formats import export_bank

    with click.open_file(output, "w", encoding="utf-8") as out:
        n = export_bank(_service(ctx), name, out, fmt)
    click.echo(f"exported {n} entries from {name}", err=True)


@bank_group.command("submit")
@click.argument("name")
@click.argument("hashes", nargs=-1)
@file_option(
    "--video",
    "videos",
    multiple=True,
    help="A clip (repeatable): its vPDQ (every frame) and MD5 are computed here and only they "
    "are stored, in the victim-videos bank.",
)
@click.option("--note", default="", help="Free text kept with the submission (no personal data).")
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
    videos: tuple[str, ...],
    note: str,
    confirmed: bool,
    as_json: bool,
) -> None:
    """Hash-only submission to bank NAME by a person depicted: HASHES are HEX or HEX:QUALITY
    items, and/or --video clips. Prints the case number and the PIN needed to withdraw (shown
    once). Its matches go to review until it is confirmed (`gardefou bank confirm CASE`)."""
    from gardefou.banks.video_submissions import submit_with_clips

    items: list[str | tuple[str, int]] = []
    for h in hashes:
        hex_part, _, q = h.partition(":")
        items.append((hex_part, int(q)) if q else hex_part)
    clips = _hash_clips(videos)
    case, pin = submit_with_clips(
        _service(ctx), name, items, clips, note=note, confirmed=confirmed, actor=_actor()
    )
    if as_json:
        emit_json({"case_number": case, "pin": pin, "hashes": len(items), "videos": len(clips)})
    else:
        click.echo(f"case {case}\nPIN  {pin}  (keep it: it is needed to withdraw)")


def _hash_clips(paths: tuple[str, ...]) -> list[Any]:
    """Each clip's hashes, computed here (the clip itself is never stored): every frame, as
    victim video entries are banked (docs/video.md)."""
    if not paths:
        return []
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import video_hashes

    return [video_hashes(load_video(p), 0.0) for p in paths]


@bank_group.command("withdraw")
@click.argument("case_number")
@click.option("--pin", prompt=True, hide_input=True, help="The PIN given at submission.")
@reason_opt
@click.pass_context
def withdraw_cmd(ctx: click.Context, case_number: str, pin: str, reason: str) -> None:
    """Withdraw submission CASE_NUMBER: its hashes (and clips) stop matching at once."""
    from gardefou.banks.video_submissions import follow_review

    svc = _service(ctx)
    with svc.db.transaction():
        n = svc.withdraw_submission(case_number, pin, reason=reason)
        n += follow_review(svc.db, case_number, "withdrawn")
    click.echo(f"withdrew {case_number}: {n} hash(es) no longer match")
