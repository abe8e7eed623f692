"""`gardefou evidence ...`: preserve, hold, export and verify evidence.

Keys: ``--keys DIR`` / $GARDEFOU_EVIDENCE_KEYS (default ``evidence-keys/`` beside the database),
made once with ``gardefou evidence keygen``. Encrypted blobs: ``--blobs DIR`` /
$GARDEFOU_EVIDENCE_DIR (default ``evidence-blobs/`` beside the database).
``verify`` needs neither the database nor the keys; it exits 3 on any problem and 4 when the
bundle is intact but nothing tied its key to the platform (no --key, no --checkpoint).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gardefou.cli import evidence_c2sp  # noqa: F401 - registers the C2SP commands
from gardefou.cli.evidence_group import (
    evidence,
    evidence_home,
    open_evidence_store,
    parse_labels,
)
from gardefou.cli.group import EXIT_UNAUTHENTICATED, EXIT_VERIFY, emit_json
from gardefou.cli.options import file_option

# the operator of a read or export, whom the chain of custody names
_custody_actor = click.option(
    "--actor", required=True, help="Operator id recorded in the chain of custody."
)


@evidence.command("keygen")
@click.pass_context
def keygen_cmd(ctx: click.Context) -> None:
    """Create the blob encryption key and the checkpoint signing key (never overwrites)."""
    from gardefou.evidence import EvidenceKeys

    target = ctx.obj["evidence"]["keys"] or evidence_home(ctx) / "evidence-keys"
    keys = EvidenceKeys.generate()
    keys.save(target)
    emit_json(
        {
            "keys": str(target),
            "key_id": keys.signer.verifier.key_id,
            "public_key": str(Path(target) / "signing.pub.pem"),
            "warning": "back up blob.key: without it preserved evidence cannot be read",
        }
    )


@evidence.command("append")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--kind", default="media", show_default=True,
              help="What is kept: media, request, decision, report, ...")  # fmt: skip
@click.option("--actor", required=True, help="Who preserves it (an operator id, not a name).")
@click.option("--reason", required=True, help="Why (case, order or request reference).")
@click.option("--account", default=None, help="Opaque account id the content belongs to.")
@click.option("--bank", default=None, help="Hash bank the content matched, if any.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="Extra label.")
@click.option("--checkpoint/--no-checkpoint", default=True, show_default=True,
              help="Sign a checkpoint after appending.")  # fmt: skip
@click.pass_context
def append_cmd(ctx: click.Context, files: tuple[str, ...], kind: str, actor: str, reason: str,
               account: str | None, bank: str | None, labels: tuple[str, ...],
               checkpoint: bool) -> None:  # fmt: skip
    """Preserve FILES ('-' = stdin): encrypt, log, print one receipt (with proof) per file."""
    store = open_evidence_store(ctx)
    extra = parse_labels(labels)
    for f in files:
        data = sys.stdin.buffer.read() if f == "-" else Path(f).read_bytes()
        r = store.preserve(data, kind, actor, reason, account=account, bank=bank, labels=extra)
        emit_json({"file": f, **r.to_dict()})
    if checkpoint:
        cp = store.log.checkpoint()
        click.echo(cp.serialize(), err=True, nl=False)


@evidence.command("checkpoint")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gardefou", "c2sp"]),
    default="gardefou",
    show_default=True,
    help="gardefou: the log's own note (with its time); c2sp: a C2SP tlog-checkpoint that "
    "standard transparency-log witnesses check (origin, size, root; key name = --origin).",
)
@click.pass_context
def checkpoint_cmd(ctx: click.Context, fmt: str) -> None:
    """Sign a checkpoint of the log now and print it (publish it somewhere others can see)."""
    store = open_evidence_store(ctx)
    cp = store.log.checkpoint()
    if fmt == "c2sp":
        from gardefou.evidence.c2sp import sign_checkpoint

        click.echo(sign_checkpoint(store.keys.signer, cp.origin, cp.tree_size, cp.root), nl=False)
    else:
        click.echo(cp.serialize(), nl=False)


@evidence.command("status")
@click.pass_context
def status_cmd(ctx: click.Context) -> None:
    """Log size, current root, checkpoints and active holds."""
    store = open_evidence_store(ctx)
    cps = store.log.checkpoints()
    emit_json({"entries": store.log.size, "root": store.log.tree.root().hex(),
               "checkpoints": len(cps), "last_checkpoint": cps[-1].tree_size if cps else None,
               "active_holds": [h.name for h in store.active_holds()],
               "key_id": store.keys.signer.verifier.key_id})  # fmt: skip


@evidence.command("check")
@click.pass_context
def check_cmd(ctx: click.Context) -> None:
    """Recompute the stored log and every checkpoint; exit 3 if anything does not match."""
    from gardefou.errors import ProofError

    store = open_evidence_store(ctx)
    try:
        emit_json({"ok": True, **store.log.verify()})
    except ProofError as exc:
        emit_json({"ok": False, "problem": str(exc)})
        sys.exit(EXIT_VERIFY)


@evidence.command("get")
@click.argument("sha256")
@_custody_actor
@click.option(
    "--reason",
    required=True,
    help="Why (case, order or request reference), recorded in the chain of custody.",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write the decrypted content to.",
)
@click.pass_context
def get_cmd(ctx: click.Context, sha256: str, actor: str, reason: str, out: str) -> None:
    """Write the preserved content whose SHA-256 is SHA256 to OUT; the access is recorded in
    the chain of custody."""
    Path(out).write_bytes(open_evidence_store(ctx).access(sha256, actor, reason))
    emit_json({"sha256": sha256, "out": out})


@evidence.command("export")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--hold", default=None, help="Export only what this legal hold covers.")
@click.option("--no-blobs", is_flag=True, help="Leave the preserved content out.")
@_custody_actor
@click.option(
    "--reason",
    required=True,
    help="Why (order or request reference), recorded in the chain of custody.",
)
@click.pass_context
def export_cmd(ctx: click.Context, out: str, hold: str | None, no_blobs: bool, actor: str,
               reason: str) -> None:  # fmt: skip
    """Write a self-contained, signed bundle to the new folder OUT."""
    from gardefou.evidence import export_bundle

    emit_json(export_bundle(open_evidence_store(ctx), out, actor, reason, hold=hold,
                            include_blobs=not no_blobs))  # fmt: skip


@evidence.command("verify")
@click.argument("bundle", type=click.Path(file_okay=False))
@file_option(
    "--key", "key", help="The platform's published public key (PEM) to pin; strongly advised."
)
@file_option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    help="A checkpoint you saved earlier; the bundle must be consistent with it.",
)
def verify_cmd(bundle: str, key: str | None, checkpoints: tuple[str, ...]) -> None:
    """Check BUNDLE offline (no database, no secret key). Exit 0 if intact and signed by a
    trusted key (--key, or the key of a --checkpoint you saved earlier); 3 if anything is wrong;
    4 if intact but its authenticity could not be checked (neither --key nor --checkpoint)."""
    from gardefou.evidence import verify_bundle
    from gardefou.evidence.bundle import NOT_AUTHENTICATED

    published = [Path(c).read_text(encoding="utf-8") for c in checkpoints]
    report = verify_bundle(bundle, Path(key).read_bytes() if key else None, published)
    emit_json(report.to_dict())
    if not report.intact:
        for problem in report.problems:
            click.echo(f"FAIL {problem}", err=True)
        sys.exit(EXIT_VERIFY)
    if not report.authenticated:
        click.echo(
            f"NOT VERIFIED: the bundle is intact, but {NOT_AUTHENTICATED}. It is signed by key "
            f"{report.facts.get('key_id')}: compare it with the platform's published key.",
            err=True,
        )
        sys.exit(EXIT_UNAUTHENTICATED)


@evidence.group("hold")
def hold_group() -> None:
    """Legal holds: block deletion of what they cover (by account, bank, kind, time, labels)."""


@hold_group.command("place")
@click.argument("name")
@click.option("--reason", required=True, help="Order or request reference.")
@click.option("--by", "by", required=True, help="Operator id placing the hold.")
@click.option("--account", default=None, help="Hold what was preserved for this opaque account id.")
@click.option("--bank", default=None, help="Hold what matched this hash bank.")
@click.option(
    "--kind", default=None, help="Hold this kind of evidence only (media, request, decision, ...)."
)
@click.option("--from", "time_from", default=None, help="Preserved at or after (ISO date).")
@click.option("--to", "time_to", default=None, help="Preserved before (ISO date).")
@click.option("--match", "match", multiple=True, metavar="KEY=VALUE", help="Label to match.")
@click.pass_context
def hold_place(ctx: click.Context, name: str, reason: str, by: str, account: str | None,
               bank: str | None, kind: str | None, time_from: str | None, time_to: str | None,
               match: tuple[str, ...]) -> None:  # fmt: skip
    """Place hold NAME."""
    from gardefou.evidence import Hold

    store = open_evidence_store(ctx)
    hold = Hold(name, reason, by, account, bank, kind, time_from, time_to, parse_labels(match))
    r = store.place_hold(hold)
    emit_json({"hold": name, "covers": len(store.held_blobs(name)), "seq": r.seq})


@hold_group.command("release")
@click.argument("name")
@click.option("--reason", required=True, help="Why the hold ends (order or request reference).")
@click.option("--by", "by", required=True, help="Operator id releasing the hold.")
@click.pass_context
def hold_release(ctx: click.Context, name: str, reason: str, by: str) -> None:
    """Release hold NAME (its history stays in the log)."""
    r = open_evidence_store(ctx).release_hold(name, by, reason)
    emit_json({"released": name, "seq": r.seq})


@hold_group.command("list")
@click.option("--all", "include_released", is_flag=True, help="Include released holds.")
@click.pass_context
def hold_list(ctx: click.Context, include_released: bool) -> None:
    """List holds as JSON lines."""
    for row in open_evidence_store(ctx).holds(include_released):
        emit_json(row)


@evidence.command("purge")
@click.option(
    "--actor",
    default="retention",
    show_default=True,
    help="Operator or job id recorded for each deletion.",
)
@click.pass_context
def purge_cmd(ctx: click.Context, actor: str) -> None:
    """Delete content past its retention date unless a legal hold covers it."""
    emit_json(open_evidence_store(ctx).purge_expired(actor=actor))


@evidence.command("preserve-store")
@click.option("--actor", required=True, help="Operator or job id recorded in the custody chain.")
@click.option(
    "--reason",
    default="routine preservation",
    show_default=True,
    help="Why, recorded in the chain of custody.",
)
@click.pass_context
def preserve_store_cmd(ctx: click.Context, actor: str, reason: str) -> None:
    """Preserve every case (decision, history, appeals) and takedown request as evidence; new
    versions only, so it is safe to run on a schedule."""
    from gardefou.decide.record import decisions_by_event
    from gardefou.evidence.from_store import preserve_cases, preserve_takedowns

    store = open_evidence_store(ctx)
    cases = preserve_cases(store, actor, reason, decisions_by_event(store.db))
    takedowns = preserve_takedowns(store, actor, reason)
    cp = store.log.checkpoint()
    emit_json({"cases": cases, "takedowns": takedowns, "entries": cp.tree_size,
               "root": cp.root.hex()})  # fmt: skip
