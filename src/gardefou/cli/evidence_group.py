"""The `gardefou evidence` group, its options and how its commands open the evidence store: a
leaf that commands_evidence.py and evidence_c2sp.py both register on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gardefou.cli.group import cli, open_store
from gardefou.errors import ConfigError


def evidence_home(ctx: click.Context) -> Path:
    from gardefou.store.db import default_db_path

    db = ctx.obj.get("db") if ctx.obj else None
    if db and not str(db).startswith(("postgres://", "postgresql://")):
        return Path(str(db).removeprefix("sqlite:///")).resolve().parent
    return default_db_path().parent


def open_evidence_store(ctx: click.Context) -> Any:
    from gardefou.evidence import EvidenceKeys, EvidenceStore

    opts = ctx.obj["evidence"]
    keys = EvidenceKeys.load(opts["keys"] or evidence_home(ctx) / "evidence-keys")
    blobs = opts["blobs"] or evidence_home(ctx) / "evidence-blobs"
    return EvidenceStore(open_store(ctx), blobs, keys, origin=opts["origin"])


def parse_labels(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"label {pair!r} is not KEY=VALUE")
        k, v = pair.split("=", 1)
        out[k] = v
    return out


@cli.group("evidence")
@click.option("--keys", envvar="GARDEFOU_EVIDENCE_KEYS", type=click.Path(file_okay=False),
              help="Key folder [default: evidence-keys/ beside the database].")  # fmt: skip
@click.option(
    "--blobs",
    envvar="GARDEFOU_EVIDENCE_DIR",
    type=click.Path(file_okay=False),
    help="Encrypted blob folder [default: evidence-blobs/ beside the database].",
)
@click.option(
    "--origin",
    envvar="GARDEFOU_EVIDENCE_ORIGIN",
    default="gardefou",
    show_default=True,
    help="Log name written into every signed checkpoint (e.g. your platform domain).",
)
@click.pass_context
def evidence(ctx: click.Context, keys: str | None, blobs: str | None, origin: str) -> None:
    """Preserved evidence: append-only Merkle log, legal holds, offline-verifiable bundles."""
    ctx.ensure_object(dict)
    ctx.obj["evidence"] = {"keys": keys, "blobs": blobs, "origin": origin}
