"""Bank import and export: gardefou CSV, ThreatExchange signal files, HMA bank-content JSON.

Formats (``fmt``):

``csv``  A header row naming the columns; ``pdq_hex`` (or ``pdq``/``hash``) is required, the
         others optional: ``quality`` (default 100), ``md5``, ``sha256``, ``source``, ``case_id``,
         ``note``, ``enabled`` (1/0/true/false), ``extra_pdq`` (space-separated crop hashes).
         A file without a header whose first cell is a PDQ hash is read as the reference PDQ
         hasher's output, ``hash,quality,filename`` (the file name becomes the note).
``te``   python-threatexchange's local signal file: one ``<signal_type> <value>`` per line (or a
         bare PDQ hex); blank lines and ``#`` comments are skipped. It carries no quality: PDQ
         rows get 100.
``hma``  HMA bank content as a JSON array or JSON Lines: objects with ``{"signals": {type: value},
         "disable_until_ts": n}`` (0 disabled, 1 enabled, any other value: disabled until that
         unix time, as HMA reads it; ``"enabled": bool`` is read too) plus optional ``id``,
         ``note``, ``quality`` and ``metadata`` {``content_id``, ``content_uri``, ``json``,
         ``collab``, and gardefou's ``source``, ``case_id``, ``note``, ``extra_pdq``}. The
         content id, note and metadata are kept on the entry and written back on export.

Signal types gardefou does not match yet (``video_md5``, ``vpdq``, anything else) are kept, not
rejected: stored in ``bank_other_signals``, counted in the report (``other_signals``) and
exported again (te and hma). One such line never fails a file.

Imports are all or nothing: every row is validated first and the first bad one (a malformed PDQ,
quality or JSON) raises BankError naming its line; then all rows go in one transaction. Rows
below quality 50 are dropped (and listed in the report); hashes already in the bank are skipped
as duplicates. Export lives in ``gardefou.banks.export`` (``export_bank`` is re-exported here).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gardefou.banks import other_signals
from gardefou.banks.export import CSV_COLUMNS, FORMATS, export_bank
from gardefou.banks.models import MIN_QUALITY, ImportReport
from gardefou.banks.service import BankService, normalize_pdq
from gardefou.errors import BankError, GardefouError
from gardefou.progress import ProgressFn, reporting

__all__ = ["CSV_COLUMNS", "FORMATS", "detect_format", "export_bank", "import_file", "import_text",
           "parse", "parse_all"]  # fmt: skip

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
    row["disabled_until"] = extra.get("disabled_until")
    row["content_id"] = str(extra["content_id"]) if extra.get("content_id") else None
    row["metadata"] = dict(extra.get("metadata") or {})
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
        signal_type = other_signals.normalize_type(kind, line)
        if signal_type == "pdq":
            yield _row(line, value.strip())
        else:  # kept, not matched: one video hash must not fail the file
            yield other_signals.other_row(line, signal_type, value)


def _hma_items(text: str) -> list[tuple[int, Any]]:
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
    return items


def _hma_enabled(obj: dict[str, Any], line: int) -> tuple[bool, float | None]:
    """HMA's disable_until_ts: 0 disabled, 1 enabled, else disabled until that unix time."""
    if "disable_until_ts" not in obj:
        return _bool(obj.get("enabled", True), line), None
    ts = obj["disable_until_ts"]
    if isinstance(ts, bool) or not isinstance(ts, int | float) or ts < 0:
        raise BankError(f"line {line}: disable_until_ts {ts!r} is not 0, 1 or a unix time")
    if ts == 0:
        return False, None
    return True, (None if ts == 1 else float(ts))


_GARDEFOU_META = ("source", "case_id", "note", "extra_pdq", "content_id")


def _parse_hma(text: str) -> Iterator[dict[str, Any]]:
    for line, obj in _hma_items(text):
        if not isinstance(obj, dict):
            raise BankError(f"line {line}: expected a JSON object, got {type(obj).__name__}")
        signals = obj.get("signals") or {}
        meta = obj.get("metadata") or {}
        if not isinstance(signals, dict) or not isinstance(meta, dict):
            raise BankError(f"line {line}: signals and metadata must be JSON objects")
        if not signals:
            raise BankError(f"line {line}: no PDQ hash nor any other signal in 'signals'")
        enabled, until = _hma_enabled(obj, line)
        kept = {k: v for k, v in meta.items() if k not in _GARDEFOU_META}
        if obj.get("id") is not None:
            kept.setdefault("hma_id", obj["id"])
        if obj.get("original_media_uri"):
            kept.setdefault("original_media_uri", obj["original_media_uri"])
        common = {
            "source": meta.get("source"),
            "case_id": meta.get("case_id"),
            "note": obj.get("note") or meta.get("note"),
            "content_id": meta.get("content_id") or obj.get("content_id"),
            "metadata": kept,
            "enabled": enabled,
            "disabled_until": until,
        }
        for name, value in signals.items():
            signal_type = other_signals.normalize_type(name, line)
            if signal_type in ("pdq", "md5"):
                continue
            yield other_signals.other_row(line, signal_type, value, **common)
        if "pdq" in signals:
            yield _row(
                line,
                signals.get("pdq"),
                obj.get("quality", 100),
                md5=signals.get("md5"),
                extra_pdq=" ".join(meta.get("extra_pdq", [])),
                **common,
            )
        elif "md5" in signals:  # an MD5 with no PDQ: kept like any other type
            yield other_signals.other_row(line, "md5", signals["md5"], **common)


def parse_all(text: str, fmt: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate every row: (PDQ rows, rows of other signal types). BankError names the first
    bad line."""
    parsers = {"csv": _parse_csv, "te": _parse_te, "hma": _parse_hma}
    if fmt not in parsers:
        raise BankError(f"import format {fmt!r} is unknown; use one of {', '.join(FORMATS)}")
    pdq: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for row in parsers[fmt](text):
        (other if "signal_type" in row else pdq).append(row)
    return pdq, other


def parse(text: str, fmt: str) -> list[dict[str, Any]]:
    """The PDQ rows of a file (see parse_all for the other signal types)."""
    return parse_all(text, fmt)[0]


def import_file(
    service: BankService,
    bank: str,
    path: str | Path,
    fmt: str = "auto",
    *,
    actor: str | None = None,
    reason: str = "",
    source: str = "",
    progress: ProgressFn | None = None,
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
        progress=progress,
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
    progress: ProgressFn | None = None,
) -> ImportReport:
    rows, others = parse_all(text, fmt)
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
    known = other_signals.live_keys(service.db, b.id)
    kept: dict[str, int] = {}
    with service.db.transaction():  # entries and kept signals: all or nothing
        written = reporting(keep, progress) if progress else keep  # (rows written, rows to write)
        service.add_entries(b, written, actor=actor, reason=reason, source=source)
        for o in others:
            key = (o["signal_type"], o["value"])
            if key in known:
                dup += 1
                continue
            known.add(key)
            other_signals.insert(service.db, b.id, o, source)
            kept[o["signal_type"]] = kept.get(o["signal_type"], 0) + 1
    return ImportReport(
        bank=b.name,
        added=len(keep),
        dropped_low_quality=tuple(low),
        duplicates=dup,
        other_signals=kept,
    )
