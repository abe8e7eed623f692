"""Bank import and export: gardefou CSV, ThreatExchange signal files, HMA bank-content JSON.

Formats (``fmt``):

``csv``  A header row naming the columns; ``pdq_hex`` (or ``pdq``/``hash``) is required, the
         others optional: ``quality`` (default 100), ``md5``, ``sha256``, ``source``, ``case_id``,
         ``note``, ``enabled`` (1/0/true/false), ``extra_pdq`` (space-separated crop hashes).
         A file without a header whose first cell is a PDQ hash is read as the reference PDQ
         hasher's output, ``hash,quality,filename`` (the file name becomes the note).
``te``   python-threatexchange's local signal file: one ``pdq <hex>`` per line (or a bare hex);
         blank lines and ``#`` comments are skipped. It carries no quality: rows get 100.
``hma``  HMA-style bank content as a JSON array or JSON Lines: objects with
         ``{"signals": {"pdq": hex}, "enabled": bool}`` (``disable_until_ts`` 0/1 is read too)
         plus optional ``id``, ``quality``, ``metadata`` {``source``, ``case_id``, ``note``}.

Imports are all or nothing: every row is validated first and the first bad one raises
BankError naming its line; then all rows go in one transaction. Rows below quality 50 are
dropped (and listed in the report); hashes already in the bank are skipped as duplicates.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gardefou.banks.models import MIN_QUALITY, ImportReport
from gardefou.banks.service import BankService, normalize_pdq
from gardefou.errors import BankError, GardefouError

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
_ALIASES = {"pdq": "pdq_hex", "hash": "pdq_hex", "signal_value": "pdq_hex"}
_TRUE = {"1", "true", "yes", "y", "t", ""}
_FALSE = {"0", "false", "no", "n", "f"}


def detect_format(path: str | Path, text: str) -> str:
    suffix = Path(str(path)).suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return "hma"
    if suffix == ".csv":
        return "csv"
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return "hma"
    first = text.lstrip().split("\n", 1)[0]
    return "csv" if "," in first else "te"


def _bool(value: Any, line: int) -> bool:
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise BankError(f"line {line}: enabled value {value!r} is not 1/0/true/false")


def _row(line: int, pdq: Any, quality: Any = 100, **extra: Any) -> dict[str, Any]:
    if not isinstance(pdq, str) or not pdq.strip():
        raise BankError(f"line {line}: no PDQ hash (expected 64 hex digits)")
    try:
        q = int(str(quality).strip()) if quality not in (None, "") else 100
    except ValueError:
        raise BankError(f"line {line}: quality {quality!r} is not an integer 0-100") from None
    if not 0 <= q <= 100:
        raise BankError(f"line {line}: quality {q} is outside 0-100")
    try:
        row: dict[str, Any] = {
            "line": line,
            "pdq": normalize_pdq(pdq),
            "quality": q,
            "extra_pdq": [normalize_pdq(h) for h in str(extra.pop("extra_pdq", "") or "").split()],
        }
    except GardefouError as exc:
        raise BankError(f"line {line}: {exc}") from None
    for key in ("md5", "sha256", "source", "case_id", "note"):
        value = extra.get(key)
        row[key] = str(value).strip() if value not in (None, "") else None
    for key, length in (("md5", 32), ("sha256", 64)):
        v: str | None = row[key]
        if v is not None and (
            len(v) != length or any(c not in "0123456789abcdefABCDEF" for c in v)
        ):
            raise BankError(f"line {line}: {key} {v[:80]!r} is not {length} hex digits")
    row["enabled"] = _bool(extra.get("enabled", True), line)
    return row


def _parse_csv(text: str) -> Iterator[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            cells = [c.strip().lower() for c in row]
            if len(cells[0]) == 64 and all(c in "0123456789abcdef" for c in cells[0]):
                header = ["pdq_hex", "quality", "note"]  # the reference hasher's output
            else:
                header = [_ALIASES.get(c, c) for c in cells]
                if "pdq_hex" not in header:
                    raise BankError(
                        f"line {line}: CSV header {row!r} has no pdq_hex column; "
                        f"columns are {', '.join(CSV_COLUMNS)}"
                    )
                continue
        if len(row) > len(header):
            raise BankError(f"line {line}: {len(row)} cells but the header has {len(header)}")
        named = dict(zip(header, row, strict=False))
        named.pop("entry_id", None)
        named.pop("added_at", None)
        known = {k: v for k, v in named.items() if k in CSV_COLUMNS}
        yield _row(line, known.pop("pdq_hex", None), known.pop("quality", 100), **known)


def _parse_te(text: str) -> Iterator[dict[str, Any]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        kind, _, value = s.partition(" ")
        if not value:
            kind, value = "pdq", kind
        if kind.lower() in ("vpdq", "video_md5"):
            continue  # video lines: gardefou.banks.video_formats imports them into video banks
        if kind.lower() != "pdq":
            raise BankError(f"line {line}: signal type {kind!r} is not supported; only pdq")
        yield _row(line, value.strip())


def _parse_hma(text: str) -> Iterator[dict[str, Any]]:
    items: list[tuple[int, Any]] = []
    if text.lstrip().startswith("["):  # one JSON array: "line" is the item's 1-based position
        try:
            items = [(i + 1, obj) for i, obj in enumerate(json.loads(text))]
        except json.JSONDecodeError as exc:
            raise BankError(f"line {exc.lineno}: invalid JSON ({exc.msg})") from None
    else:  # JSON Lines
        for n, s in enumerate(text.splitlines(), start=1):
            if not s.strip():
                continue
            try:
                items.append((n, json.loads(s)))
            except json.JSONDecodeError as exc:
                raise BankError(f"line {n}: invalid JSON ({exc.msg})") from None
    for line, obj in items:
        if not isinstance(obj, dict):
            raise BankError(f"line {line}: expected a JSON object, got {type(obj).__name__}")
        signals = obj.get("signals") or {}
        meta = obj.get("metadata") or {}
        enabled = obj.get("enabled", True)
        if "disable_until_ts" in obj:
            enabled = obj["disable_until_ts"] != 0
        yield _row(
            line,
            signals.get("pdq"),
            obj.get("quality", 100),
            md5=signals.get("md5"),
            source=meta.get("source"),
            case_id=meta.get("case_id"),
            note=meta.get("note"),
            enabled=enabled,
            extra_pdq=" ".join(meta.get("extra_pdq", [])),
        )


def parse(text: str, fmt: str) -> list[dict[str, Any]]:
    """Validate every row; BankError names the first bad line."""
    parsers = {"csv": _parse_csv, "te": _parse_te, "hma": _parse_hma}
    if fmt not in parsers:
        raise BankError(f"import format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    return list(parsers[fmt](text))


def import_file(
    service: BankService,
    bank: str,
    path: str | Path,
    fmt: str = "auto",
    *,
    actor: str | None = None,
    reason: str = "",
    source: str = "",
) -> ImportReport:
    """Import a file into ``bank``: all rows or none."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankError(f"cannot read import file {str(path)!r}: {exc}") from None
    return import_text(
        service,
        bank,
        text,
        detect_format(path, text) if fmt == "auto" else fmt,
        actor=actor,
        reason=reason,
        source=source or f"import:{Path(path).name}",
    )


def import_text(
    service: BankService,
    bank: str,
    text: str,
    fmt: str,
    *,
    actor: str | None = None,
    reason: str = "",
    source: str = "",
) -> ImportReport:
    rows = parse(text, fmt)
    b = service.get_bank(bank)
    existing = {
        r["pdq"]
        for r in service.db.query(
            "SELECT pdq FROM bank_entries WHERE bank_id = ? AND removed_at IS NULL", (b.id,)
        )
    }
    keep, low, dup = [], [], 0
    for r in rows:
        if r["quality"] < MIN_QUALITY:
            low.append(r["line"])
        elif r["pdq"] in existing:
            dup += 1
        else:
            existing.add(r["pdq"])
            keep.append(r)
    service.add_entries(b, keep, actor=actor, reason=reason, source=source)
    return ImportReport(
        bank=b.name, added=len(keep), dropped_low_quality=tuple(low), duplicates=dup
    )


def export_bank(service: BankService, bank: str, out: IO[str], fmt: str = "csv") -> int:
    """Write every live entry (enabled or not) of ``bank``; returns the number written."""
    if fmt not in FORMATS:
        raise BankError(f"export format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    entries = service.list_entries(bank)
    if fmt == "csv":
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
    else:
        for e in entries:
            signals = {"pdq": e.pdq} | ({"md5": e.md5} if e.md5 else {})
            meta = {
                "source": e.source,
                "case_id": e.case_id,
                "note": e.note,
                "extra_pdq": list(e.extra_pdq),
            }
            out.write(
                json.dumps(
                    {
                        "id": e.id,
                        "enabled": e.enabled,
                        "quality": e.quality,
                        "signals": signals,
                        "metadata": meta,
                    },
                    sort_keys=True,
                )
                + "\n"
            )
    return len(entries)
