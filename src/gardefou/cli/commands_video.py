"""`gardefou video ...`: hash (vPDQ), match two videos, scan (signals + decision), video banks.

Video banks are tables of the ``--db`` store, as image banks are. The JSON Lines file of
earlier versions (``--store``, ``$GARDEFOU_VIDEO_BANKS``, default
``$XDG_DATA_HOME/gardefou/video-banks.jsonl``) is imported into it once when it exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from gardefou.cli.group import EXIT_INPUT, cli, emit_json, open_store
from gardefou.cli.options import float_option, int_option
from gardefou.errors import GardefouError


def _default_store() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "gardefou" / "video-banks.jsonl")


store_opt = click.option(
    "--store",
    envvar="GARDEFOU_VIDEO_BANKS",
    default=_default_store,
    show_default="$XDG_DATA_HOME/gardefou/video-banks.jsonl",
    help="JSON Lines video bank file of an earlier version, imported once into --db.",
)
every_opt = click.option(
    "--every",
    "seconds_per_hash",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Seconds between hashed frames (0: every frame), as the reference's seconds_per_hash.",
)
# the matching thresholds of `video match` and of a video bank
distance_opt = int_option(
    "--distance",
    default=31,
    help="Largest PDQ distance between two frame hashes that counts as a match.",
    low=0,
    high=64,
)
quality_opt = int_option(
    "--quality",
    default=50,
    help="Frames whose PDQ quality is below this are ignored.",
    low=0,
    high=100,
)


def _size(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        w, h = (int(x) for x in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not WIDTHxHEIGHT (e.g. 128x128)") from None
    if w <= 0 or h <= 0:
        raise click.BadParameter(f"{value!r}: width and height must be positive")
    return w, h


@cli.group("video")
def video_group() -> None:
    """Videos: vPDQ hashes, matching, scanning, video banks."""


@video_group.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@every_opt
@click.option("--size", help="Downsample frames to WIDTHxHEIGHT before hashing (e.g. 128x128).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["lines", "te", "json", "request"]),
    default="json",
    show_default=True,
    help="lines: the reference CLI's frame,quality,hex,timestamp; te: ThreatExchange "
    "vpdq/video_md5 lines; json: one object per file; request: the {vpdq, md5} item of the "
    "videos list of POST /v1/takedown and /v1/submissions (only hashes leave the machine; "
    "use --every 0 so trimmed copies match).",
)
def video_hash(files: tuple[str, ...], seconds_per_hash: float, size: str | None, fmt: str) -> None:
    """vPDQ hash (and MD5/SHA-256) of each video in FILES."""
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import to_reference_lines, to_signal_str, video_hashes

    failed = False
    for path in files:
        try:
            video = load_video(path)
            h = video_hashes(video, seconds_per_hash, _size(size), crop_bars=fmt == "json")
        except GardefouError as exc:
            failed = True
            if fmt == "json":
                emit_json({"path": path, "error": exc.to_dict()})
            else:
                click.echo(f"error: {exc}", err=True)
            continue
        if fmt == "lines":
            click.echo(to_reference_lines(h.features), nl=False)
        elif fmt == "te":
            click.echo(f"vpdq {to_signal_str(h.features)}")
            click.echo(f"video_md5 {h.md5}")
        elif fmt == "request":
            emit_json({"vpdq": to_signal_str(h.features), "md5": h.md5})
        else:
            emit_json(
                {
                    "path": path,
                    "md5": h.md5,
                    "sha256": h.sha256,
                    "duration": video.duration,
                    "vpdq": [f.compact() for f in h.features],
                    "vpdq_cropped": [f.compact() for f in h.cropped],
                }
            )
    if failed:
        sys.exit(EXIT_INPUT)


@video_group.command("match")
@click.argument("a", type=click.Path(dir_okay=False))
@click.argument("b", type=click.Path(dir_okay=False))
@every_opt
@distance_opt
@quality_opt
def video_match(a: str, b: str, seconds_per_hash: float, distance: int, quality: int) -> None:
    """Share of the distinct frame hashes of video A found in video B, and of B's in A."""
    from gardefou.banks.video import match_hashes
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import video_hashes

    ha, hb = (video_hashes(load_video(p), seconds_per_hash) for p in (a, b))
    pa, pb, cropped = match_hashes(ha, hb, distance, quality)
    emit_json(
        {
            "a": a,
            "b": b,
            "a_pct": round(pa, 2),
            "b_pct": round(pb, 2),
            "cropped": cropped,
            "same_file": ha.md5 == hb.md5,
        }
    )


@video_group.command("scan")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--signals",
    default="nudity,faces,age,identity,provenance",
    show_default=True,
    help="Comma-separated signals run on the sampled frames (see `gardefou signals`).",
)
@float_option("--every", default=1.0, help="Seconds between the frames the signals see.", low=0.05)
@float_option(
    "--scene",
    default=0.25,
    help="Also scan frames that differ this much (0-1) from the last scanned one.",
    high=1,
)
@store_opt
@click.option(
    "--image-banks/--no-image-banks",
    default=False,
    help="Also match every frame against the image banks of --db.",
)
@click.pass_context
def video_scan(
    ctx: click.Context,
    files: tuple[str, ...],
    signals: str,
    every: float,
    scene: float,
    store: str,
    image_banks: bool,
) -> None:
    """Scan the videos FILES: vPDQ, signals on sampled frames, bank matches and the policy
    decision."""
    from gardefou.decide.video import decide_video
    from gardefou.media.video import load_video
    from gardefou.media.video_scan import scan_video

    names = [s.strip() for s in signals.split(",") if s.strip()]
    index = _store(ctx, store)
    banks: Any = None
    if image_banks:
        from gardefou.cli.commands_bank import _service

        banks = _service(ctx)
    failed = False
    for path in files:
        try:
            scan = scan_video(load_video(path), names, every=every, scene=scene)
            out = decide_video(scan, video_index=index, image_banks=banks)
        except GardefouError as exc:
            failed = True
            emit_json({"path": path, "error": exc.to_dict()})
            continue
        emit_json({"path": path, **scan.to_dict(), **out.to_dict()})
    if failed:
        sys.exit(EXIT_INPUT)


# ----- video banks ------------------------------------------------------------------------------


@video_group.group("bank")
def video_bank() -> None:
    """Video banks (vPDQ hash lists with per-bank thresholds)."""


def _store(ctx: click.Context, legacy: str) -> Any:
    """The ``--db`` store's video banks, with the earlier JSON Lines file imported once."""
    from gardefou.banks.video_store import VideoBankStore

    root = ctx.find_root()
    if "video_store" not in root.obj:
        store = VideoBankStore(open_store(ctx))
        store.import_jsonl(legacy)
        root.obj["video_store"] = store
        root.call_on_close(lambda: root.obj.pop("video_store", None))  # its store closes too
    return root.obj["video_store"]


@video_bank.command("create")
@click.argument("name")
@store_opt
@distance_opt
@quality_opt
@float_option(
    "--query-pct",
    default=80.0,
    help="Share of the uploaded video's frames that must match.",
    high=100,
)
@float_option(
    "--entry-pct", default=0.0, help="Share of the banked video's frames that must match.", high=100
)
@click.option("--negative", is_flag=True, help="Known-benign bank.")
@click.pass_context
def bank_create(ctx: click.Context, name: str, store: str, **thresholds: Any) -> None:
    """Create video bank NAME with its matching thresholds."""
    _store(ctx, store).create_bank(name, **thresholds)
    emit_json({"bank": name, **thresholds})


@video_bank.command("add")
@click.argument("name")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@store_opt
@click.option("--case-id", default=None, help="Case or request the entries belong to.")
@click.option("--source", default="cli", help="Where the videos came from (kept with each entry).")
@click.option("--note", default="", help="Free text kept with each entry (no personal data).")
@float_option(
    "--every",
    "seconds_per_hash",
    default=0.0,
    help="Seconds between hashed frames of the banked video; 0 (every frame) lets trimmed "
    "copies, hashed once a second, find their frames (see docs/video.md).",
)
@click.pass_context
def bank_add(
    ctx: click.Context,
    name: str,
    files: tuple[str, ...],
    store: str,
    case_id: str | None,
    source: str,
    note: str,
    seconds_per_hash: float,
) -> None:
    """Hash the videos FILES and add them to bank NAME (only the hashes are kept)."""
    from gardefou.media.video import load_video
    from gardefou.signals.vpdq import video_hashes

    videos = _store(ctx, store)
    videos.bank(name)  # an unknown bank fails before any file is decoded
    for path in files:
        h = video_hashes(load_video(path), seconds_per_hash)
        e = videos.add(
            name,
            h.features,
            cropped=h.cropped,
            md5=h.md5,
            sha256=h.sha256,
            source=source,
            case_id=case_id,
            note=note,
        )
        emit_json({"path": path, "entry_id": e.id, "frames": len(h.features)})


@video_bank.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@store_opt
@click.pass_context
def bank_import(ctx: click.Context, name: str, file: str, store: str) -> None:
    """Import ThreatExchange ``vpdq``/``video_md5`` lines from FILE into bank NAME (all or
    nothing)."""
    from gardefou.banks.video_formats import import_te

    added, uniform = import_te(
        _store(ctx, store),
        name,
        Path(file).read_text(encoding="utf-8-sig"),
        source=f"import:{Path(file).name}",
    )
    emit_json({"bank": name, "added": added, "too_uniform_lines": uniform})


@video_bank.command("export")
@click.argument("name")
@store_opt
@click.pass_context
def bank_export(ctx: click.Context, name: str, store: str) -> None:
    """Write bank NAME as ThreatExchange ``vpdq``/``video_md5`` lines."""
    import io

    from gardefou.banks.video_formats import export_te

    out = io.StringIO()
    export_te(_store(ctx, store), name, out)
    click.echo(out.getvalue(), nl=False)


@video_bank.command("list")
@click.argument("name")
@store_opt
@int_option("--limit", default=1000, help="Entries per page.", low=1)
@int_option("--offset", default=0, help="Entries to skip (id order).", low=0)
@click.option("--removed", is_flag=True, help="Also list removed entries.")
@click.option("--frames", is_flag=True, help="Print each entry's frame hash lists.")
@click.pass_context
def bank_list(
    ctx: click.Context, name: str, store: str, limit: int, offset: int, removed: bool, frames: bool
) -> None:
    """Entries of video bank NAME, one JSON line each (hashes and metadata, as the web API's
    ``GET /v1/video-banks/NAME/entries``)."""
    from gardefou.banks.video_formats import entry_view

    rows = _store(ctx, store).entry_rows(name, limit=limit, offset=offset, include_removed=removed)
    for row in rows:
        emit_json(entry_view(row, frames))


@video_bank.command("remove")
@click.argument("entry_id", type=int)
@store_opt
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@click.pass_context
def bank_remove(ctx: click.Context, entry_id: int, store: str, reason: str) -> None:
    """Remove video entry ENTRY_ID from matching for good (audited; GARDEFOU_ACTOR names you)."""
    from gardefou.cli.commands_bank import _actor

    _store(ctx, store).remove(entry_id, actor=_actor(), reason=reason)
    emit_json({"id": entry_id, "removed": True})
