"""Pipeline subcommands: run, stream (push/work/status), backfill, metrics, dead-letters."""

from __future__ import annotations

import multiprocessing as mp
import socket
import sys
from typing import Any

import click

from gardefou.cli.group import EXIT_INPUT, EXIT_OK, cli, emit_json, open_store
from gardefou.cli.options import int_option, limit_option
from gardefou.cli.pipeline_options import (
    DECIDER_OPT,
    GROUP_OPT,
    MAX_EVENT_OPT,
    REDIS_OPT,
    STREAM_OPT,
    SUMMARY_JSON_OPT,
)
from gardefou.cli.progress import Progress, progress_options
from gardefou.errors import ConfigError


def _db_url(ctx: click.Context) -> str:
    from gardefou.store.db import default_db_path

    return str(ctx.obj.get("db") or default_db_path())


def _auto_migrate() -> bool:
    """This command's migration choice (``--no-migrate``, else GARDEFOU_AUTO_MIGRATE), resolved
    here and handed to the workers in their config: a spawned process starts without the
    context in which ``--no-migrate`` was set."""
    from gardefou.store.schema import auto_migrate

    return auto_migrate()


def _print_summary(summary: dict[str, Any], as_json: bool, where: str) -> None:
    if as_json:
        emit_json(summary)
        return
    click.echo(
        f"{summary['events']} event(s) in {summary['elapsed_s']}s "
        f"({summary['events_per_s']}/s): {summary['by_status']}"
    )
    if summary["actions"]:
        click.echo(
            "decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["actions"].items()))
        )
    if summary["dead_letters"]:
        click.echo(
            "dead letters: " + ", ".join(f"{k} {v}" for k, v in summary["dead_letters"].items())
        )
    if summary["p50_ms"] is not None:
        click.echo(f"latency p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms; store {where}")


@cli.command("run")
@click.argument("sources", nargs=-1, required=True)
@int_option("--workers", "-w", default=1, help="Worker processes.")
@int_option("--queue-size", default=None, help="[default: 2 x workers]")
@DECIDER_OPT
@MAX_EVENT_OPT
@SUMMARY_JSON_OPT
@click.option("--each", is_flag=True, help="Also print one JSON line per event outcome.")
@click.pass_context
def run_cmd(
    ctx: click.Context,
    sources: tuple[str, ...],
    workers: int,
    queue_size: int | None,
    decider: str | None,
    max_event_bytes: int,
    as_json: bool,
    each: bool,
) -> None:
    """Decide every event in SOURCES, JSONL files or folders ('-' = stdin), with a local
    worker pool.

    Exit status 0 when every event was decided (or already was), 1 when any went to the dead
    letters.
    """
    from gardefou.pipeline.runners import WorkerConfig, run_pool
    from gardefou.pipeline.sources import iter_jsonl, jsonl_files

    jsonl_files(sources)  # fail fast on a missing path
    url = _db_url(ctx)
    cfg = WorkerConfig(
        db_url=url,
        decider=decider,
        max_event_bytes=max_event_bytes,
        auto_migrate=_auto_migrate(),
    )
    summary = run_pool(
        iter_jsonl(sources),
        cfg,
        workers=workers,
        queue_size=queue_size,
        on_outcome=(lambda o: emit_json(o.to_dict())) if each else None,
    )
    _print_summary(summary.to_dict(), as_json, url)
    sys.exit(EXIT_INPUT if summary.counts.get("dead_letter") else EXIT_OK)


@cli.group("stream")
def stream_group() -> None:
    """Redis Streams: push events, run consumer-group workers, show status."""


@stream_group.command("push")
@click.argument("sources", nargs=-1, required=True)
@REDIS_OPT
@STREAM_OPT
@GROUP_OPT
@int_option(
    "--max-backlog",
    default=10_000,
    help="Wait while the group has more unacknowledged messages than this.",
)
def stream_push(
    sources: tuple[str, ...], redis_url: str, stream: str, group: str, max_backlog: int
) -> None:
    """Append the JSONL events of SOURCES (files, folders, '-' = stdin) to the stream, with
    backpressure."""
    from gardefou.pipeline.sources import iter_jsonl
    from gardefou.pipeline.streams import RedisStream

    rs = RedisStream(redis_url, stream, group)
    pushed, waits = rs.push_source(iter_jsonl(sources), max_backlog=max_backlog)
    click.echo(f"pushed {pushed} event(s) to {stream} ({waits} backpressure waits)")


def _stream_worker(cfg: dict[str, Any]) -> dict[str, Any]:
    from gardefou.pipeline.core import Processor
    from gardefou.pipeline.deciders import load_decider
    from gardefou.pipeline.metrics import Metrics, serve_metrics
    from gardefou.pipeline.streams import RedisStream, StreamWorker
    from gardefou.store import connect
    from gardefou.store.schema import migrate_on_open

    with migrate_on_open(cfg.get("auto_migrate")):
        db = connect(cfg["db_url"])
    metrics = Metrics()
    server = serve_metrics(metrics, cfg["metrics_port"]) if cfg.get("metrics_port") else None
    processor = Processor(
        db,
        load_decider(cfg["decider"]),
        max_event_bytes=cfg["max_event_bytes"],
        metrics=metrics,
        worker=cfg["consumer"],
    )
    worker = StreamWorker(
        RedisStream(cfg["redis_url"], cfg["stream"], cfg["group"]),
        processor,
        consumer=cfg["consumer"],
        batch=cfg["batch"],
        block_ms=cfg["block_ms"],
        claim_idle_ms=cfg["claim_idle_ms"],
        max_deliveries=cfg["max_deliveries"],
        metrics=metrics,
    )
    try:
        return worker.run(until_idle=cfg["until_idle"]).to_dict()
    finally:
        if server is not None:
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]
        db.close()


@stream_group.command("work")
@REDIS_OPT
@STREAM_OPT
@GROUP_OPT
@click.option(
    "--consumer", default=None, help="Consumer name [default: HOSTNAME-INDEX]; reuse it on restart."
)
@int_option("--workers", "-w", default=1, help="Worker processes, each a consumer of the group.")
@int_option("--batch", default=16, help="Messages read and decided per round trip.")
@int_option("--block-ms", default=1000, help="How long one read waits for new messages.")
@int_option(
    "--claim-idle-ms",
    default=30_000,
    help="Claim messages another consumer left unacknowledged this long.",
)
@int_option(
    "--max-deliveries", default=5, help="Deliveries after which a message goes to the dead letters."
)
@click.option("--until-idle", is_flag=True, help="Exit when the group has nothing left.")
@int_option(
    "--metrics-port",
    default=None,
    help="Serve Prometheus /metrics (worker i on PORT+i).",
    high=65535,
)
@DECIDER_OPT
@MAX_EVENT_OPT
@SUMMARY_JSON_OPT
@click.pass_context
def stream_work(ctx: click.Context, **opts: Any) -> None:
    """Decide events from the stream's consumer group (ack after commit)."""
    open_store(ctx, _db_url(ctx)).close()  # migrate once (or refuse) before workers start
    base = opts["consumer"] or socket.gethostname()
    cfgs = []
    for i in range(opts["workers"]):
        cfg = dict(opts, db_url=_db_url(ctx), auto_migrate=_auto_migrate())
        cfg["consumer"] = base if opts["workers"] == 1 and opts["consumer"] else f"{base}-{i}"
        cfg["metrics_port"] = opts["metrics_port"] + i if opts["metrics_port"] else None
        cfgs.append(cfg)
    if len(cfgs) == 1:
        _print_summary(_stream_worker(cfgs[0]), opts["as_json"], _db_url(ctx))
        return
    # one process per consumer; a worker that dies leaves its messages pending for the others
    # (or its own restart) to claim, and makes this command exit non-zero
    spawn = mp.get_context("spawn")
    results = spawn.Queue()
    procs = [
        spawn.Process(target=_stream_worker_to, args=(c, results), name=c["consumer"]) for c in cfgs
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    while not results.empty():
        _print_summary(results.get(), opts["as_json"], _db_url(ctx))
    failed = [f"{p.name} (exit {p.exitcode})" for p in procs if p.exitcode]
    if failed:
        click.echo(f"error: worker(s) died: {', '.join(failed)}", err=True)
        sys.exit(EXIT_INPUT)


def _stream_worker_to(cfg: dict[str, Any], results: Any) -> None:
    results.put(_stream_worker(cfg))


@stream_group.command("status")
@REDIS_OPT
@STREAM_OPT
@GROUP_OPT
def stream_status(redis_url: str, stream: str, group: str) -> None:
    """Length, backlog, pending messages and consumers of the stream."""
    from gardefou.pipeline.streams import RedisStream

    rs = RedisStream(redis_url, stream, group)
    consumers = [
        {k: (v.decode() if isinstance(v, bytes) else v) for k, v in c.items()}
        for c in rs.r.xinfo_consumers(stream, group)
    ]
    emit_json(
        {
            "stream": stream,
            "group": group,
            "length": int(rs.r.xlen(stream)),
            "backlog": rs.backlog(),
            "pending": rs.pending_count(),
            "consumers": consumers,
        }
    )


@cli.command("metrics")
@click.option(
    "--redis",
    "redis_url",
    envvar="GARDEFOU_REDIS_URL",
    default=None,
    help="Also report this stream's backlog.",
)
@STREAM_OPT
@GROUP_OPT
@click.pass_context
def metrics_cmd(ctx: click.Context, redis_url: str | None, stream: str, group: str) -> None:
    """Print pipeline metrics from the store (and stream) in Prometheus text format."""
    from gardefou.pipeline.ledger import store_metrics

    m = store_metrics(open_store(ctx, _db_url(ctx)))
    if redis_url:
        from gardefou.pipeline.streams import RedisStream

        rs = RedisStream(redis_url, stream, group)
        m.set("stream_backlog", rs.backlog(), "Messages not yet acknowledged by the group.")
        m.set("stream_pending", rs.pending_count(), "Messages delivered, not yet acknowledged.")
    click.echo(m.render(), nl=False)


@cli.command("dead-letters")
@limit_option("events")
@click.pass_context
def dead_letters_cmd(ctx: click.Context, limit: int) -> None:
    """List events set aside as poison, with their reasons (JSON Lines)."""
    from gardefou.pipeline.ledger import PipelineLedger

    for row in PipelineLedger(open_store(ctx, _db_url(ctx))).dead_letters(limit):
        emit_json(row)


@cli.command("backfill")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--runner",
    type=click.Choice(["loop", "ray"]),
    default="loop",
    show_default=True,
    help="loop: in this process; ray: Ray actors (the `scale` extra), locally or on --ray-address.",
)
@click.option(
    "--ray-address", default=None, help="Ray cluster address ('auto' = the local cluster)."
)
@int_option("--actors", default=2, help="Ray actors (--runner ray).")
@click.option(
    "--cpus-per-actor",
    type=float,
    default=0.5,
    show_default=True,
    help="CPUs Ray reserves for each actor (--runner ray).",
)
@int_option(
    "--batch", default=16, help="Images per batch handed to a worker and committed together."
)
@click.option(
    "--signals", "signals_spec", default=None, help="Comma list or 'all' [default: hashes]."
)
@click.option("--run-id", default=None, help="Resume this run (items already done are skipped).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@progress_options
@click.pass_context
def backfill_cmd(
    ctx: click.Context,
    paths: tuple[str, ...],
    runner: str,
    ray_address: str | None,
    actors: int,
    cpus_per_actor: float,
    batch: int,
    signals_spec: str | None,
    run_id: str | None,
    as_json: bool,
    progress: bool | None,
    quiet: bool,
) -> None:
    """Rescan an archive of images (after a bank or model change) into the store. PATHS are
    files or folders (recursively)."""
    from gardefou.pipeline.backfill import BackfillConfig, run_backfill
    from gardefou.signals import signal_names

    if cpus_per_actor <= 0:
        raise ConfigError(f"--cpus-per-actor {cpus_per_actor} must be positive")
    cfg = BackfillConfig(
        db_url=_db_url(ctx),
        signals=signal_names(signals_spec),
        run_id=run_id,
        batch=batch,
        actors=actors,
        cpus_per_actor=cpus_per_actor,
        ray_address=ray_address,
        auto_migrate=_auto_migrate(),
    )
    bar = Progress("backfill", "files", progress, quiet)
    try:
        report = run_backfill(paths, cfg, runner=runner, progress=bar)
    finally:
        bar.close()
    if as_json:
        emit_json(report)
    else:
        click.echo(
            f"backfill {report['run_id']} ({runner}): {report['done']} rescanned, "
            f"{report['skipped']} already done, {report['errors']} rejected in "
            f"{report['elapsed_s']}s ({report['items_per_s']}/s)"
        )
    sys.exit(EXIT_INPUT if report["errors"] else EXIT_OK)
