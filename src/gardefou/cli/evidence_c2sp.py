"""`gardefou evidence vkey | verify-checkpoint | witness-request`: the log's checkpoints in the
C2SP formats for transparency-log witnesses (gardefou.evidence.c2sp)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gardefou.cli.evidence_group import evidence, evidence_home, open_evidence_store
from gardefou.cli.group import EXIT_VERIFY, emit_json
from gardefou.cli.options import file_option
from gardefou.errors import ConfigError


@evidence.command("witness-request")
@click.option(
    "--old-size",
    type=click.IntRange(0),
    required=True,
    help="Tree size the witness last cosigned for this log (0 the first time; a witness that "
    "holds another size answers 409 with it).",
)
@click.pass_context
def witness_request_cmd(ctx: click.Context, old_size: int) -> None:
    """Sign a C2SP checkpoint now and print the body of a tlog-witness add-checkpoint request:
    the consistency proof from --old-size to it, then the checkpoint. POST it to the witness
    (e.g. `curl --data-binary @- https://WITNESS/add-checkpoint`)."""
    from gardefou.errors import EvidenceError
    from gardefou.evidence.c2sp import add_checkpoint_body, sign_checkpoint

    store = open_evidence_store(ctx)
    cp = store.log.checkpoint()
    if old_size > cp.tree_size:
        raise EvidenceError(
            f"--old-size {old_size} is beyond the log's {cp.tree_size} entries: the witness "
            "holds a checkpoint of another log or of a rewritten one; do not send this log"
        )
    proof = store.log.tree.consistency_proof(old_size, cp.tree_size)
    note = sign_checkpoint(store.keys.signer, cp.origin, cp.tree_size, cp.root)
    click.echo(add_checkpoint_body(old_size, proof, note), nl=False)


@evidence.command("vkey")
@file_option("--key", "key", help="Public key (PEM) [default: signing.pub.pem in the key folder].")
@click.pass_context
def vkey_cmd(ctx: click.Context, key: str | None) -> None:
    """Print the C2SP verifier key (name+hash+key) that witnesses of this log are given."""
    from gardefou.evidence import Verifier
    from gardefou.evidence.c2sp import verifier_key

    opts = ctx.obj["evidence"]
    path = (
        Path(key)
        if key
        else Path(opts["keys"] or evidence_home(ctx) / "evidence-keys") / ("signing.pub.pem")
    )
    if not path.is_file():
        raise ConfigError(f"public key {path} not found; pass --key PEM or --keys DIR")
    click.echo(verifier_key(opts["origin"], Verifier.from_pem(path.read_bytes()).public_raw))


@evidence.command("verify-checkpoint")
@click.argument("checkpoint", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
@click.option("--vkey", "vkey", help="The log's C2SP verifier key (from `evidence vkey`).")
@file_option("--key", "key", help="The log's public key (PEM); the key name is --origin.")
@click.pass_context
def verify_checkpoint_cmd(
    ctx: click.Context, checkpoint: str, vkey: str | None, key: str | None
) -> None:
    """Check a C2SP CHECKPOINT file ('-' = stdin) offline against the log's key; print its tree
    head as JSON. Cosignatures by other keys (witnesses) are ignored. Exit 3 if it does not
    verify."""
    from gardefou.errors import ProofError
    from gardefou.evidence import Verifier
    from gardefou.evidence.c2sp import open_checkpoint, open_with_verifier_key

    if (vkey is None) == (key is None):
        raise click.UsageError("pass exactly one of --vkey or --key")
    if checkpoint == "-":
        text = sys.stdin.read()
    else:
        text = Path(checkpoint).read_text(encoding="utf-8")
    try:
        if vkey is not None:
            cp = open_with_verifier_key(text, vkey)
        else:
            assert key is not None
            public_raw = Verifier.from_pem(Path(key).read_bytes()).public_raw
            cp = open_checkpoint(text, public_raw, ctx.obj["evidence"]["origin"])
    except ProofError as exc:
        emit_json({"ok": False, "problem": str(exc)})
        sys.exit(EXIT_VERIFY)
    emit_json({"ok": True, "origin": cp.origin, "tree_size": cp.tree_size,
               "root": cp.root.hex(), "extensions": list(cp.extensions)})  # fmt: skip
