"""Bank export in the three import formats (see ``gardefou.banks.formats``): every live entry,
enabled or not, and in te and hma the kept signals of types gardefou does not match yet, so an
export imports again without loss."""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from gardefou.banks import other_signals
from gardefou.banks.service import BankService
from gardefou.errors import BankError

__all__ = ["CSV_COLUMNS", "FORMATS", "export_bank"]

FORMATS = ("csv", "te", "hma")
CSV_COLUMNS = (
    "pdq_hex",
    "quality",
    "md5",
    "sha256",
    "source",
    "case_id",
    "note",
    "enabled",
    "extra_pdq",
    "entry_id",
    "added_at",
)


def export_bank(service: BankService, bank: str, out: IO[str], fmt: str = "csv") -> int:
    """Write every live entry (enabled or not) of ``bank``, and in te and hma the kept signals
    of other types; returns the number of rows written."""
    if fmt not in FORMATS:
        raise BankError(f"export format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    entries = service.list_entries(bank)
    others = other_signals.list_rows(service.db, service.get_bank(bank).id)
    if fmt == "csv":  # CSV has a PDQ column only: other signal types go out as te or hma
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for e in entries:
            writer.writerow(
                [
                    e.pdq,
                    e.quality,
                    e.md5 or "",
                    e.sha256 or "",
                    e.source,
                    e.case_id or "",
                    e.note,
                    int(e.enabled),
                    " ".join(e.extra_pdq),
                    e.id,
                    e.added_at,
                ]
            )
    elif fmt == "te":
        for e in entries:
            out.write(f"pdq {e.pdq}\n")
        for o in others:
            out.write(f"{o['signal_type']} {o['value']}\n")
    else:
        for e in entries:
            signals = {"pdq": e.pdq} | ({"md5": e.md5} if e.md5 else {})
            out.write(_hma_line(e.id, e.enabled, e.disabled_until, signals, e.metadata, e) + "\n")
        for o in others:
            out.write(
                _hma_line(
                    None,
                    bool(o["enabled"]),
                    o["disabled_until"],
                    {o["signal_type"]: o["value"]},
                    o["metadata"],
                    o,
                )
                + "\n"
            )
    return len(entries) + (len(others) if fmt != "csv" else 0)


def _hma_line(
    entry_id: int | None,
    enabled: bool,
    until: float | None,
    signals: dict[str, str],
    kept: dict[str, Any],
    src: Any,
) -> str:
    get = src.get if isinstance(src, dict) else (lambda k: getattr(src, k))
    meta = {k: v for k, v in kept.items() if k not in ("hma_id", "original_media_uri")}
    meta.update({"source": get("source"), "case_id": get("case_id"), "note": get("note")})
    if get("content_id"):
        meta["content_id"] = get("content_id")
    if not isinstance(src, dict):
        meta["extra_pdq"] = list(src.extra_pdq)
    obj: dict[str, Any] = {
        "enabled": enabled,
        "disable_until_ts": (0 if not enabled else int(until) if until else 1),
        "signals": signals,
        "metadata": meta,
        "note": get("note") or "",
    }
    if entry_id is not None:
        obj["id"] = entry_id
        obj["quality"] = src.quality
    return json.dumps(obj, sort_keys=True)
