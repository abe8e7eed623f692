"""The bundled demo: a reply-thread stream through the whole pipeline on the embedded store.

``run_demo(out_dir)`` creates a SQLite store in ``out_dir``, loads the demo victim bank (hashes
only), replays ``gardefou/data/demo/events.jsonl`` in-process through the same Processor the
runners use (default platform decider: signals, banks, thread context, policy, cases), and prints
one line per event and a summary. Returns the summary as a dict.
"""

from __future__ import annotations

import json
import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import click

from gardefou.pipeline.core import Outcome, Processor
from gardefou.pipeline.deciders import default_decider
from gardefou.pipeline.ledger import PipelineLedger
from gardefou.pipeline.metrics import Metrics
from gardefou.pipeline.runners import run_inline
from gardefou.pipeline.sources import iter_jsonl
from gardefou.store import connect


def _load_bank(db: Any, spec: dict[str, Any]) -> int:
    from gardefou.banks.service import BankService

    banks = BankService(db)
    if db.query_one("SELECT id FROM banks WHERE name = ?", (spec["bank"],)) is None:
        banks.create_bank(spec["bank"], description=spec["description"], reason="demo set-up")
    n = 0
    for e in spec["entries"]:
        if db.query_one("SELECT id FROM bank_entries WHERE pdq = ?", (e["pdq"],)) is None:
            banks.add_entry(spec["bank"], e["pdq"], e["quality"], source=e["source"],
                            note=e["note"], reason="demo set-up")  # fmt: skip
            n += 1
    return n


def _line(out: Outcome, event: dict[str, Any]) -> str:
    who = event.get("author") or event.get("requester") or "?"
    what = event.get("text") or event.get("request") or ""
    tag = out.action if out.status == "decided" else out.status.replace("_", " ")
    extra = f" ({out.reason_code})" if out.reason_code else ""
    return f"  {out.event_id or '?':8} {tag:16} @{who:9} {what[:44]!r}{extra}"


def run_demo(out_dir: str | os.PathLike[str], echo: Any = click.echo, fresh: bool = True
             ) -> dict[str, Any]:  # fmt: skip
    """Replay the demo stream into ``out_dir/gardefou.db``; print and return the summary."""
    out = Path(out_dir)
    if fresh and out.exists():
        for name in ("gardefou.db", "gardefou.db-wal", "gardefou.db-shm"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "bank-index", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    db = connect(out / "gardefou.db")
    demo = resources.files("gardefou.data") / "demo"
    with resources.as_file(demo) as folder:
        spec = json.loads((folder / "victim_bank.json").read_text(encoding="utf-8"))
        _load_bank(db, spec)
        events = {}
        for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            events[obj["id"]] = obj
        echo(
            f"demo stream: {sum(1 for _ in iter_jsonl([folder]))} events; store {db.url} "
            "(the first event loads the models)"
        )
        metrics = Metrics()
        processor = Processor(db, default_decider(), metrics=metrics)

        def show(o: Outcome) -> None:
            echo(_line(o, events.get(o.event_id or "", {})))

        summary = run_inline(iter_jsonl([folder / "events.jsonl"]), processor, show)
    ledger = PipelineLedger(db)
    result = summary.to_dict()
    result["store"] = db.url
    result["dead_letter_reasons"] = [
        f"{r['event_id'] or r['origin']}: {r['reason_code']}" for r in ledger.dead_letters()
    ]
    cases = db.query_one("SELECT COUNT(*) AS n FROM cases") if _has(db, "cases") else None
    result["cases"] = int(cases["n"]) if cases else 0
    echo(
        f"decided {summary.counts.get('decided', 0)}, duplicates ignored "
        f"{summary.counts.get('duplicate', 0)}, dead letters {summary.counts.get('dead_letter', 0)}"
    )
    echo("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.actions.items())))
    echo(f"cases opened for review or action: {result['cases']}")
    echo("why (first reason of each decision that was not 'allow'):")
    for eid in sorted(events):
        decision = ledger.decision(eid)
        if decision is not None and not decision.allowed and decision.reasons:
            echo(f"  {eid}: {decision.action} - {decision.reasons[0].message}")
    db.close()
    return result


def _has(db: Any, table: str) -> bool:
    try:
        db.query_one(f"SELECT 1 AS one FROM {table} LIMIT 1")
        return True
    except Exception:  # noqa: BLE001 - the table belongs to an optional layer
        return False
