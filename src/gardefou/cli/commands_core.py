"""Core subcommands: hash, scan, demo, signals."""

from __future__ import annotations

import sys
import time
from importlib import resources
from pathlib import Path

import click

from gardefou.cli.group import EXIT_INPUT, EXIT_OK, cli, emit_json, open_store
from gardefou.cli.options import int_option, listen_options
from gardefou.errors import GardefouError
from gardefou.media import Limits, load_media
from gardefou.scan import ScanRecord, iter_files, scan_file
from gardefou.signals import available_signals, signal_names
from gardefou.signals.pdq_core import pdq_dihedral, pdq_hash


@cli.command("hash")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--dihedral", is_flag=True, help="Also print the 8 rotation/flip hashes.")
def hash_cmd(file: str, as_json: bool, dihedral: bool) -> None:
    """PDQ hash (bit-exact with the reference), quality, MD5 and SHA-256 of FILE ('-' = stdin)."""
    source: str | bytes = sys.stdin.buffer.read() if file == "-" else file
    media = load_media(source, label="<stdin>" if file == "-" else None)
    hex_hash, quality = pdq_hash(media.rgb())
    out: dict[str, object] = {
        "pdq": hex_hash,
        "quality": quality,
        "md5": media.md5,
        "sha256": media.sha256,
        "format": media.format,
        "width": media.width,
        "height": media.height,
    }
    if dihedral:
        out["dihedral"] = pdq_dihedral(media.rgb())[0]
    if as_json:
        emit_json(out)
    else:
        click.echo(f"{hex_hash} {quality} {file}")


def _row(record: ScanRecord, verbose: bool) -> str:
    if record.error is not None:
        return f"{record.path}\tERROR {record.error.code}: {record.error}"
    assert record.media is not None
    m = record.media
    parts = [record.path, f"{m.format} {m.width}x{m.height}"]
    for r in record.results:
        if not r.available:
            # the reason says what to install or fix; one line, so the table stays a table
            reason = " ".join(r.explanation.split()) or "no reason given"
            parts.append(f"{r.name}=UNAVAILABLE ({reason})")
        elif r.name == "pdq":
            parts.append(f"pdq={r.value} q={r.details.get('quality')}")
        elif r.name in ("crypto_hash", "pdq_dihedral"):
            continue
        else:
            parts.append(
                f"{r.name}={r.value if isinstance(r.value, str | int | float) else r.explanation}"
            )
    if verbose:
        parts.append(" ".join(f"{k}:{v:.1f}ms" for k, v in record.timings_ms.items()))
    return "\t".join(parts)


@cli.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per file.")
@click.option("--store", is_flag=True, help="Save results into the store (see --db).")
@click.option(
    "--signals",
    "signals_spec",
    default=None,
    metavar="NAMES",
    help="Comma-separated signal names, or 'all' [default: hashes only; see `gardefou signals`].",
)
@click.option("--verbose", "-v", is_flag=True, help="Show time per signal.")
@int_option(
    "--max-megapixels",
    default=100,
    help="Refuse images larger than this many megapixels, before decoding.",
)
@int_option(
    "--max-bytes", default=50 * 1024 * 1024, help="Refuse files larger than this many bytes."
)
@int_option("--max-frames", default=1000, help="Refuse animations with more frames than this.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr [default: on a terminal with more than 20 files].",
)
@click.pass_context
def scan_cmd(
    ctx: click.Context,
    paths: tuple[str, ...],
    as_json: bool,
    store: bool,
    signals_spec: str | None,
    verbose: bool,
    max_megapixels: int,
    max_bytes: int,
    max_frames: int,
    progress: bool | None,
) -> None:
    """Scan PATHS, files and folders (recursively). A bad file never stops the scan.

    Exit status: 0 when every file scanned, 1 when any file was rejected, 2 on usage errors.
    """
    names = signal_names(signals_spec)
    limits = Limits(
        max_bytes=max_bytes, max_pixels=max_megapixels * 1_000_000, max_frames=max_frames
    )
    repo = None
    if store:
        from gardefou.store import MediaRepository

        repo = MediaRepository(open_store(ctx))
    files = list(iter_files(paths))
    show_progress = progress if progress is not None else (sys.stderr.isatty() and len(files) > 20)
    n_ok = n_err = 0
    start = time.perf_counter()
    with click.progressbar(
        files, label="scanning", file=sys.stderr, hidden=not show_progress
    ) as bar:
        for path in bar:
            record = scan_file(path, names, limits)
            if record.ok:
                n_ok += 1
                if repo is not None and record.media is not None:
                    repo.save_scan(record.media, record.results)
            else:
                n_err += 1
                if repo is not None and record.error is not None:
                    repo.save_error(record.path, record.error)
            if as_json:
                emit_json(record.to_dict(timings=verbose))
            else:
                click.echo(_row(record, verbose))
    elapsed = time.perf_counter() - start
    click.echo(
        f"scanned {n_ok} file(s), {n_err} rejected, in {elapsed:.2f}s"
        + (f"; stored in {repo.db.url}" if repo else ""),
        err=True,
    )
    sys.exit(EXIT_INPUT if n_err else EXIT_OK)


@cli.command("signals")
def signals_cmd() -> None:
    """List registered signals."""
    for name, target in sorted(available_signals().items()):
        click.echo(f"{name}\t{target}")


@cli.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the demo store [default: ./gardefou-demo].",
)
@click.option(
    "--samples",
    is_flag=True,
    help="Only hash the bundled sample folder (good and bad files) into the store.",
)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="Then serve the review console on the demo store (Ctrl-C stops it).",
)
@listen_options("Address for --serve.", 8080, "Port for --serve.")
@click.pass_context
def demo_cmd(
    ctx: click.Context, out: str | None, samples: bool, serve: bool, host: str, port: int
) -> None:
    """The main job on the embedded default: a bundled stream of posts and reply threads runs
    through the whole pipeline (intake, signals, banks, thread context, policy, cases) into a
    SQLite store, the decisions are printed with their reasons, and the review console is
    served on that store (``--no-serve``: print and exit)."""
    folder = Path(out or "gardefou-demo")
    if samples:
        _scan_samples(ctx, folder)
        return
    from gardefou.pipeline.demo import run_demo

    run_demo(folder)
    if not serve:
        return
    from gardefou.cli.commands_web import serve as serve_cmd

    click.echo(
        f"\nreview console: http://{host}:{port}/console (sign in with the admin key printed "
        "below; media stay blurred until revealed). Ctrl-C stops; `gardefou demo --no-serve` "
        "only prints.",
        err=True,
    )
    ctx.invoke(
        serve_cmd,
        host=host,
        port=port,
        db_opt=str(folder / "gardefou.db"),
        workers=1,
        max_upload_mb=20.0,
    )


def _scan_samples(ctx: click.Context, folder: Path) -> None:
    from gardefou.store import MediaRepository

    folder.mkdir(parents=True, exist_ok=True)
    repo = MediaRepository(open_store(ctx, folder / "gardefou.db"))
    samples = resources.files("gardefou.data") / "samples"
    with resources.as_file(samples) as sample_dir:
        for path in iter_files([sample_dir]):
            record = scan_file(path, signal_names(None))
            label = path.name
            if record.ok and record.media is not None:
                repo.save_scan(record.media, record.results)
                pdq = next(r for r in record.results if r.name == "pdq")
                click.echo(
                    f"  ok       {label:28} pdq {str(pdq.value)[:16]}… quality "
                    f"{pdq.details.get('quality')}"
                )
            elif record.error is not None:
                repo.save_error(label, record.error)
                click.echo(f"  rejected {label:28} {record.error.code}")
    summary = repo.summary()
    click.echo(f"store {repo.db.url}: {summary['media']} media, {summary['errors']} rejected files")


__all__ = ["GardefouError"]
