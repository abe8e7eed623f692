"""Incremental fetch: each page's entries, withdrawals and checkpoint commit in one transaction.

Why a kill -9 at any point loses nothing and duplicates nothing: the checkpoint only moves in
the transaction that stores the page it covers. Killed before the commit, the page is fetched
again from the old checkpoint; killed after, the next run starts past it. Applying a page is
also idempotent (``exchange_signals`` is unique per exchange, type and value), so a page seen
twice (an expired page token restarting a run) changes nothing the second time.

A withdrawn or deleted hash sets ``removed_at`` on its bank entry in that same transaction;
matching checks the table for every hit, so it stops matching on the next query in every
process (and the in-process index drops it at once).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gardefou.banks import other_signals
from gardefou.banks.records import normalize_pdq
from gardefou.banks.service import BankService
from gardefou.clock import now
from gardefou.errors import ExchangeAuthError, ExchangeError, GardefouError
from gardefou.exchanges import store
from gardefou.exchanges.clients import Client, Page, Record, make_client
from gardefou.exchanges.credentials import resolve

log = logging.getLogger(__name__)
_IN = 500
MAX_DELAY = 300.0  # seconds: a Retry-After beyond this is capped (and the run keeps going)


@dataclass
class FetchReport:
    exchange: str
    bank: str
    pages: int = 0
    added: int = 0
    reactivated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    other_kept: dict[str, int] = field(default_factory=dict)
    malformed: int = 0
    retries: int = 0
    complete: bool = False
    progress_time: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def client_for(ex: store.Exchange) -> Client:
    secret = resolve(ex.credentials) if ex.kind != "file" else None
    return make_client(ex.kind, ex.url, secret, ex.config)


def fetch(
    banks: BankService,
    name: str,
    *,
    client: Client | None = None,
    max_pages: int | None = None,
    max_attempts: int = 5,
    backoff: float = 1.0,
    progress: Callable[[FetchReport], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchReport:
    """Fetch from the checkpoint until the exchange has nothing more (or ``max_pages``)."""
    db = banks.db
    ex = store.get(db, name)
    bank = banks.get_bank(ex.bank_id)
    report = FetchReport(ex.name, bank.name)
    started = time.perf_counter()
    store.mark_attempt(db, ex.id)
    try:
        client = client or client_for(ex)
    except GardefouError as exc:
        store.mark_attempt(db, ex.id, str(exc))
        raise
    checkpoint = dict(ex.checkpoint)
    attempts = 0
    while True:
        try:
            page = client.fetch_page(checkpoint)
        except ExchangeAuthError as exc:
            store.mark_attempt(db, ex.id, str(exc))
            raise
        except ExchangeError as exc:
            restart = getattr(client, "restart_run", None)
            if exc.status in (400, 404, 410) and restart and restart(checkpoint) != checkpoint:
                log.warning(
                    "%s: page cursor refused (HTTP %s); restarting the run", name, exc.status
                )
                checkpoint = restart(checkpoint)
                continue
            attempts += 1
            if attempts >= max_attempts:
                final = ExchangeError(
                    f"exchange {name!r}: {exc} (gave up after {attempts} attempts; the "
                    f"checkpoint is kept, run `gardefou exchange fetch {name}` again)"
                )
                store.mark_attempt(db, ex.id, str(final))
                raise final from None
            delay = (
                exc.retry_after if exc.retry_after is not None else backoff * 2 ** (attempts - 1)
            )
            report.retries += 1
            log.warning("%s: %s; retrying in %.1fs", name, exc, min(delay, MAX_DELAY))
            sleep(min(delay, MAX_DELAY))
            continue
        attempts = 0
        apply_page(banks, ex, page, report)
        checkpoint = page.checkpoint
        report.pages += 1
        report.progress_time = page.progress_time or report.progress_time
        report.seconds = time.perf_counter() - started
        if progress is not None:
            progress(report)
        if not page.more:
            report.complete = True
            break
        if max_pages is not None and report.pages >= max_pages:
            break
    report.seconds = time.perf_counter() - started
    return report


def _existing(db: Any, exchange_id: int, records: list[Record]) -> dict[tuple[str, str], dict]:
    values = sorted({r.value for r in records})
    found: dict[tuple[str, str], dict] = {}
    for i in range(0, len(values), _IN):
        batch = values[i : i + _IN]
        marks = ", ".join("?" for _ in batch)
        for row in db.query(
            f"SELECT * FROM exchange_signals WHERE exchange_id = ? AND value IN ({marks})",
            (exchange_id, *batch),
        ):
            found[(row["signal_type"], row["value"])] = row
    return found


def _normalized(rec: Record) -> Record | None:
    if rec.signal_type != "pdq" or (rec.withdrawn and not rec.value):
        return rec
    try:
        return Record("pdq", normalize_pdq(rec.value), rec.withdrawn, rec.metadata, rec.ref)
    except GardefouError:
        return None


def apply_page(banks: BankService, ex: store.Exchange, page: Page, report: FetchReport) -> None:
    """Store one page and its checkpoint in one transaction."""
    db = banks.db
    source = f"exchange:{ex.name}"
    latest: dict[tuple[str, str], Record] = {}  # a page may carry a value twice: last wins
    for r in page.records:
        n = _normalized(r)
        if n is None:
            report.malformed += 1
        else:
            key = (n.signal_type, n.value) if n.value else ("#ref", str(n.ref))
            latest.pop(key, None)
            latest[key] = n
    report.malformed += page.malformed
    removed: list[int] = []
    added = withdrawn = 0
    stamp = now()
    with db.transaction():
        by_ref = [r for r in latest.values() if r.withdrawn and not r.value and r.ref]
        for rec in by_ref:  # withdrawn by the exchange's id, without the hashes
            for hit in db.query(
                "SELECT * FROM exchange_signals WHERE exchange_id = ? AND ref = ? AND "
                "status = 'active'",
                (ex.id, rec.ref),
            ):
                removed += _withdraw(db, hit, stamp)
                db.execute(
                    "UPDATE exchange_signals SET status = 'withdrawn', updated_at = ? WHERE id = ?",
                    (stamp, hit["id"]),
                )
                withdrawn += 1
            del latest[("#ref", str(rec.ref))]
        seen = _existing(db, ex.id, list(latest.values()))
        fresh: list[tuple[Record, str]] = []  # active now, not active in the bank (+ metadata)
        touch: list[tuple[str, str, int]] = []  # unchanged: newer metadata only
        unseen: list[tuple[Any, ...]] = []  # withdrawn before we ever saw them
        for key, rec in latest.items():
            row = seen.get(key)
            meta = json.dumps(rec.metadata, sort_keys=True, default=str)
            active = row is not None and row["status"] == "active"
            if rec.withdrawn and active:
                assert row is not None
                removed += _withdraw(db, row, stamp)
                db.execute(
                    "UPDATE exchange_signals SET status = 'withdrawn', metadata = ?, "
                    "updated_at = ? WHERE id = ?",
                    (meta, stamp, row["id"]),
                )
                withdrawn += 1
            elif rec.withdrawn and row is None:  # remember it, store no hash
                unseen.append((ex.id, rec.signal_type, rec.value, rec.ref, meta, stamp))
            elif rec.withdrawn:
                continue  # withdrawn and already withdrawn
            elif active:
                assert row is not None
                if row["metadata"] != meta:
                    touch.append((meta, stamp, row["id"]))
                report.unchanged += 1
            else:
                fresh.append((rec, meta))
                report.reactivated += row is not None
                report.added += row is None
        pdqs = [r.value for r, _ in fresh if r.signal_type == "pdq"]
        entry_ids = dict(
            zip(pdqs, banks._insert_entries_bulk(ex.bank_id, pdqs, source, {"exchange": ex.name}),
                strict=True)
        )  # fmt: skip
        upserts = []
        for rec, meta in fresh:
            entry_id = entry_ids.get(rec.value) if rec.signal_type == "pdq" else None
            other_id = None
            if rec.signal_type != "pdq":
                other = {"signal_type": rec.signal_type, "value": rec.value,
                         "metadata": {"exchange": ex.name}}  # fmt: skip
                other_id = other_signals.insert(db, ex.bank_id, other, source)
                report.other_kept[rec.signal_type] = report.other_kept.get(rec.signal_type, 0) + 1
            upserts.append(
                (ex.id, rec.signal_type, rec.value, rec.ref, entry_id, other_id, meta, stamp)
            )
        added = len(fresh)
        if upserts:
            db.executemany(
                "INSERT INTO exchange_signals (exchange_id, signal_type, value, status, ref, "
                "entry_id, other_id, metadata, updated_at) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, "
                "?) ON CONFLICT (exchange_id, signal_type, value) DO UPDATE SET status = 'active', "
                "ref = excluded.ref, entry_id = excluded.entry_id, other_id = excluded.other_id, "
                "metadata = excluded.metadata, updated_at = excluded.updated_at",
                upserts,
            )
        if unseen:
            db.executemany(
                "INSERT INTO exchange_signals (exchange_id, signal_type, value, status, ref, "
                "metadata, updated_at) VALUES (?, ?, ?, 'withdrawn', ?, ?, ?)",
                unseen,
            )
        if touch:
            db.executemany(
                "UPDATE exchange_signals SET metadata = ?, updated_at = ? WHERE id = ?", touch
            )
        if page.snapshot:  # a full snapshot: what is missing was withdrawn
            gone, missing = _withdraw_missing(db, ex.id, set(latest))
            removed += gone
            withdrawn += missing
        report.withdrawn += withdrawn
        store.save_checkpoint(db, ex.id, page.checkpoint)
        banks._audit(
            "exchange.fetch",
            actor=source,
            bank_id=ex.bank_id,
            records=len(page.records),
            added=added,
            withdrawn=withdrawn,
            checkpoint=page.checkpoint,
        )
    if removed and banks._live is not None:  # a fetch-only process never builds the index
        banks._live.remove(removed)


def _withdraw(db: Any, row: dict, stamp: str) -> list[int]:
    if row.get("entry_id"):
        db.execute(
            "UPDATE bank_entries SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            (stamp, row["entry_id"]),
        )
        return [int(row["entry_id"])]
    if row.get("other_id"):
        other_signals.remove(db, [int(row["other_id"])])
    return []


def _withdraw_missing(
    db: Any, exchange_id: int, present: set[tuple[str, str]]
) -> tuple[list[int], int]:
    stamp = now()
    removed: list[int] = []
    n = 0
    for row in db.query(
        "SELECT * FROM exchange_signals WHERE exchange_id = ? AND status = 'active'",
        (exchange_id,),
    ):
        if (row["signal_type"], row["value"]) in present:
            continue
        removed += _withdraw(db, row, stamp)
        n += 1
        db.execute(
            "UPDATE exchange_signals SET status = 'withdrawn', updated_at = ? WHERE id = ?",
            (stamp, row["id"]),
        )
    return removed, n
