"""Archive backfills: rescan stored items after a bank or a model changes.

Items are image files under the given paths. Each is decoded, run through the signals, and its
media row and signal results upserted (keyed by SHA-256 and signal version, so a rescan replaces
rather than duplicates). Progress is recorded per (run id, item) in ``backfill_items``: rerunning
with the same ``--run-id`` skips what is done, so an interrupted backfill resumes.

Two runners share the per-batch function: a plain loop in this process, and Ray actors (each
loads the models once; fractional ``num_cpus`` lets several share a small machine) that also run
on a multi-node cluster (``ray start --head`` then ``ray start --address``). The driver reads
the bytes and writes the results, so workers need no store access and no shared filesystem;
at most ``2 x actors`` batches are in flight (backpressure on the driver's reads).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gardefou import clock
from gardefou.errors import GardefouError, PipelineError
from gardefou.media import Limits
from gardefou.progress import ProgressFn
from gardefou.store.db import Database


@dataclass(frozen=True)
class BackfillConfig:
    db_url: str
    signals: list[str]
    run_id: str | None = None
    batch: int = 16
    actors: int = 2
    cpus_per_actor: float = 0.5
    ray_address: str | None = None
    limits: Limits = field(default_factory=Limits)
    #: migrate a store that is behind (True) or refuse it (False, ``--no-migrate``); None
    #: follows GARDEFOU_AUTO_MIGRATE. Only the driver opens the store (Ray actors never do).
    auto_migrate: bool | None = None


def scan_batch(
    items: Sequence[tuple[str, bytes]], signals: Sequence[str], limits: Limits
) -> list[dict[str, Any]]:
    """Decode and run signals on (key, bytes) items; plain dicts out (cheap to ship back)."""
    from gardefou.media import load_media
    from gardefou.scan import run_signals

    out: list[dict[str, Any]] = []
    for key, data in items:
        try:
            media = load_media(data, limits, label=key)
        except GardefouError as exc:
            out.append({"key": key, "status": "error", "detail": f"{exc.code}: {exc}"})
            continue
        results = run_signals(media, list(signals))
        out.append(
            {
                "key": key,
                "status": "done",
                "detail": "",
                "media": {
                    "sha256": media.sha256,
                    "md5": media.md5,
                    "format": media.format,
                    "width": media.width,
                    "height": media.height,
                    "frames": media.frames,
                    "byte_size": len(data),
                },
                "results": [
                    {
                        "name": r.name,
                        "version": r.version,
                        "available": r.available,
                        "score": r.score,
                        "value": r.value,
                        "details": dict(r.details),
                        "explanation": r.explanation,
                    }
                    for r in results
                ],
            }
        )
    return out


class _Scanner:
    """A Ray actor: signals (and their models) load once per actor."""

    def __init__(self, signals: list[str], limits: Limits) -> None:
        from gardefou.signals import get_signal

        self.signals, self.limits = signals, limits
        for name in signals:
            get_signal(name)

    def scan(self, items: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        return scan_batch(items, self.signals, self.limits)


def write_results(db: Database, run_id: str, rows: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Upsert media and signal results and mark items done, in one transaction per batch."""
    done = errors = 0
    now = clock.now("milliseconds")
    with db.transaction():
        for row in rows:
            sha = None
            if row["status"] == "done":
                m = row["media"]
                sha = m["sha256"]
                pdq = next(
                    (r for r in row["results"] if r["name"] == "pdq" and r["available"]), None
                )
                db.execute(
                    "INSERT INTO media (sha256, md5, pdq, pdq_quality, format, width, height,"
                    " frames, byte_size, first_seen, last_source) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (sha256) DO UPDATE SET last_source = excluded.last_source,"
                    " pdq = COALESCE(excluded.pdq, media.pdq),"
                    " pdq_quality = COALESCE(excluded.pdq_quality, media.pdq_quality)",
                    (
                        sha,
                        m["md5"],
                        pdq["value"] if pdq else None,
                        pdq["details"].get("quality") if pdq else None,
                        m["format"],
                        m["width"],
                        m["height"],
                        m["frames"],
                        m["byte_size"],
                        now,
                        row["key"],
                    ),
                )
                for r in row["results"]:
                    db.execute(
                        "INSERT INTO signal_results (sha256, name, version, available, score,"
                        " value_json, explanation, created_at) VALUES (?,?,?,?,?,?,?,?)"
                        " ON CONFLICT (sha256, name, version) DO UPDATE SET"
                        " available = excluded.available, score = excluded.score,"
                        " value_json = excluded.value_json, explanation = excluded.explanation",
                        (
                            sha,
                            r["name"],
                            r["version"],
                            int(r["available"]),
                            r["score"],
                            json.dumps({"value": r["value"], "details": r["details"]}, default=str),
                            r["explanation"],
                            now,
                        ),
                    )
                done += 1
            else:
                errors += 1
            db.execute(
                "INSERT INTO backfill_items (run_id, item_key, sha256, status, detail, finished_at)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT (run_id, item_key) DO UPDATE SET"
                " sha256 = excluded.sha256, status = excluded.status, detail = excluded.detail,"
                " finished_at = excluded.finished_at",
                (run_id, row["key"], sha, row["status"], row["detail"][:2000], time.time()),
            )
    return done, errors


def _batches(paths: list[Path], size: int) -> Iterable[list[tuple[str, bytes]]]:
    for i in range(0, len(paths), size):
        chunk = []
        for p in paths[i : i + size]:
            try:
                chunk.append((str(p), p.read_bytes()))
            except OSError as exc:
                chunk.append((str(p), f"unreadable: {exc}".encode()))
        yield chunk


def run_backfill(
    paths: Iterable[str | Path],
    cfg: BackfillConfig,
    runner: str = "loop",
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    """Scan every file under ``paths`` not already done in this run into the store.

    ``progress(done, total)`` is called as batches are written (done counts this call's files,
    rejected ones included; total is what was left to do)."""
    from gardefou.store import connect
    from gardefou.store.schema import migrate_on_open

    if runner not in ("loop", "ray"):
        raise PipelineError(f"unknown backfill runner {runner!r}; use 'loop' or 'ray'")
    with migrate_on_open(cfg.auto_migrate):
        db = connect(cfg.db_url)
    try:
        return _backfill(db, paths, cfg, runner, progress)
    finally:
        db.close()  # a failing run (store error, Ray down, Ctrl-C) leaves no connection open


def _backfill(
    db: Any,
    paths: Iterable[str | Path],
    cfg: BackfillConfig,
    runner: str,
    progress: ProgressFn | None,
) -> dict[str, Any]:
    from gardefou.scan import iter_files

    run_id = cfg.run_id or f"bf-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    items = [p for p in iter_files(paths) if p.is_file()]
    rows = db.query(
        "SELECT item_key FROM backfill_items WHERE run_id = ? AND status = 'done'", (run_id,)
    )
    finished = {r["item_key"] for r in rows}
    todo = [p for p in items if str(p) not in finished]
    report = progress or (lambda done, total: None)
    report(0, len(todo))
    start = time.perf_counter()
    if runner == "loop":
        done = errors = 0
        for chunk in _batches(todo, cfg.batch):
            d, e = write_results(db, run_id, scan_batch(chunk, cfg.signals, cfg.limits))
            done, errors = done + d, errors + e
            report(done + errors, len(todo))
    else:
        done, errors, start = _run_ray(db, run_id, todo, cfg, report)
    elapsed = time.perf_counter() - start
    return {
        "run_id": run_id,
        "runner": runner,
        "items": len(items),
        "done": done,
        "errors": errors,
        "skipped": len(items) - len(todo),
        "elapsed_s": round(elapsed, 3),
        "items_per_s": round((done + errors) / elapsed, 2) if elapsed else 0.0,
    }


def _run_ray(
    db: Database,
    run_id: str,
    todo: list[Path],
    cfg: BackfillConfig,
    report: ProgressFn,
) -> tuple[int, int, float]:
    if (
        cfg.ray_address
        and "RAY_AUTH_MODE" not in os.environ
        and (Path.home() / ".ray" / "auth_token").exists()
    ):
        # clusters started by `ray start` authenticate with this token by default; Ray reads
        # the mode once, when it is first imported
        os.environ["RAY_AUTH_MODE"] = "token"
    try:
        import ray
    except ImportError:
        raise PipelineError(
            "the Ray runner needs ray; install it with `pip install 'gardefou[scale]'`"
        ) from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=cfg.ray_address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,
        )
    try:
        actor_cls: Any = ray.remote(num_cpus=cfg.cpus_per_actor)(_Scanner)
        actors: list[Any] = [actor_cls.remote(cfg.signals, cfg.limits) for _ in range(cfg.actors)]
        ray.get([a.__ray_ready__.remote() for a in actors])  # models loaded before the clock
        start = time.perf_counter()
        done = errors = 0
        in_flight: dict[Any, int] = {}
        free = list(range(len(actors))) * 2  # two batches queued per actor at most
        batches = iter(_batches(todo, cfg.batch))
        exhausted = False
        while True:
            while free and not exhausted:
                chunk = next(batches, None)
                if chunk is None:
                    exhausted = True
                    break
                i = free.pop()
                in_flight[actors[i].scan.remote(chunk)] = i
            if not in_flight:
                break
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                free.append(in_flight.pop(ref))
                d, e = write_results(db, run_id, ray.get(ref))
                done, errors = done + d, errors + e
                report(done + errors, len(todo))
        return done, errors, start
    finally:
        if started_here:
            ray.shutdown()
