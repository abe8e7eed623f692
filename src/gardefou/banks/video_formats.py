"""Video bank files: ThreatExchange signal lines, gardefou's own JSON Lines store, and the
JSON view of one entry that the web API and the CLI print.

``te``  python-threatexchange's signal lines, one per line: ``vpdq <signal>`` where the signal
        is its VPDQ string (a JSON list of ``"hex,quality,timestamp"``), and ``video_md5 <hex>``
        (an exact-file entry). Blank lines and ``#`` comments are skipped; ``pdq`` lines belong
        to image banks (``banks.formats``) and are skipped here, as video lines are there.
``jsonl`` every bank (with its thresholds) and entry (both variants, file hashes, provenance),
        one JSON object per line: what ``gardefou video`` keeps between runs.

Imports are all or nothing: every line is validated first; the first bad one raises BankError
naming its line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from gardefou.banks.video import VideoIndex
from gardefou.errors import BankError, GardefouError
from gardefou.signals.vpdq import VpdqFeature, parse_signal_str, to_signal_str

#: the signal types of video lines (``banks.formats`` skips them in image imports)
VIDEO_SIGNAL_TYPES = frozenset({"vpdq", "video_md5"})
_HEX = set("0123456789abcdef")


def parse_te(text: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        kind, _, value = s.partition(" ")
        kind, value = kind.lower(), value.strip()
        if kind == "pdq":
            continue
        if kind not in VIDEO_SIGNAL_TYPES:
            raise BankError(
                f"line {line}: signal type {kind[:40]!r} is not a video type; expected vpdq or "
                "video_md5"
            )
        if kind == "video_md5":
            md5 = value.lower()
            if len(md5) != 32 or not set(md5) <= _HEX:
                raise BankError(f"line {line}: video_md5 {value[:80]!r} is not 32 hex digits")
            rows.append({"line": line, "md5": md5, "features": []})
            continue
        try:
            features = parse_signal_str(value)
        except GardefouError as exc:
            raise BankError(f"line {line}: {exc}") from None
        if not features:
            raise BankError(f"line {line}: vpdq signal has no frame hash")
        rows.append({"line": line, "md5": None, "features": features})
    return rows


def import_te(
    index: Any, bank: str, text: str, *, source: str = "import:te"
) -> tuple[int, list[int]]:
    """Add every line's entry to ``bank`` of a ``VideoIndex`` or a ``VideoBankStore`` (which
    writes them in one transaction); returns (added, lines skipped as too uniform)."""
    rows = parse_te(text)
    b = index.bank(bank)
    uniform = [
        r["line"]
        for r in rows
        if r["features"] and not any(f.quality >= b.quality for f in r["features"])
    ]
    keep = [
        {"features": r["features"], "md5": r["md5"], "source": source}
        for r in rows
        if r["line"] not in uniform
    ]
    if hasattr(index, "add_many"):  # a VideoBankStore
        return len(index.add_many(bank, keep)), uniform
    for r in keep:
        index.add(bank, **r)
    return len(keep), uniform


def export_te(index: Any, bank: str, out: IO[str]) -> int:
    """Write ``bank`` of a ``VideoIndex`` or a ``VideoBankStore`` as signal lines."""
    index.bank(bank)
    n = 0
    entries = index.entries(bank) if callable(index.entries) else index.entries.values()
    for e in sorted(entries, key=lambda e: e.id):
        if e.bank != bank:
            continue
        if e.features:
            out.write(f"vpdq {to_signal_str(e.features)}\n")
        if e.md5:
            out.write(f"video_md5 {e.md5}\n")
        n += 1
    return n


def entry_view(row: dict[str, Any], frames: bool) -> dict[str, Any]:
    """A stored entry row (``VideoBankStore.entry_rows``) as the web API and the CLI show it:
    hashes and metadata; ``frames``: with the frame hash lists, else only their sizes."""
    features, cropped = json.loads(row["features"]), json.loads(row["cropped"] or "[]")
    out = {
        "id": int(row["id"]),
        "bank": row["bank"],
        "md5": row["md5"],
        "sha256": row["sha256"],
        "source": row["source"] or "",
        "case_id": row["case_id"],
        "note": row["note"] or "",
        "frames": len(features),
        "cropped_frames": len(cropped),
        "added_at": row["added_at"],
        "removed_at": row["removed_at"],
        # an anonymous submission nobody confirmed sends its matches to review, never removal
        "confirmed": not (row["source"] == "submission" and row["note"] != "confirmed"),
    }
    if frames:
        keys = ("pdq", "quality", "timestamp", "frame_number")
        out["features"] = [dict(zip(keys, f, strict=True)) for f in features]
        out["cropped"] = [dict(zip(keys, f, strict=True)) for f in cropped]
    return out


# ----- gardefou's JSON Lines store --------------------------------------------------------------


def _features(items: list[list[Any]]) -> list[VpdqFeature]:
    return [VpdqFeature(str(h), int(q), float(t), int(n)) for h, q, t, n in items]


def _rows(features: tuple[VpdqFeature, ...]) -> list[list[Any]]:
    return [[f.pdq_hex, f.quality, f.timestamp, f.frame_number] for f in features]


def save(index: VideoIndex, path: str | Path) -> None:
    """Write every bank and entry; the file is replaced atomically."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for b in index.banks.values():
            out.write(json.dumps({"bank": b.__dict__}, sort_keys=True) + "\n")
        for e in sorted(index.entries.values(), key=lambda e: e.id):
            row = {
                "entry": {
                    "bank": e.bank,
                    "features": [
                        [f.pdq_hex, f.quality, f.timestamp, f.frame_number] for f in e.features
                    ],
                    "cropped": [
                        [f.pdq_hex, f.quality, f.timestamp, f.frame_number] for f in e.cropped
                    ],
                    "md5": e.md5,
                    "sha256": e.sha256,
                    "source": e.source,
                    "case_id": e.case_id,
                    "note": e.note,
                }
            }
            out.write(json.dumps(row, sort_keys=True) + "\n")
    tmp.replace(path)


def load(path: str | Path) -> VideoIndex:
    """Read a store written by ``save`` (a missing file is an empty store)."""
    index = VideoIndex()
    path = Path(path)
    if not path.exists():
        return index
    for line, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            if "bank" in obj:
                spec = dict(obj["bank"])
                index.create_bank(spec.pop("name"), **spec)
            else:
                e = obj["entry"]
                index.add(
                    e["bank"],
                    _features(e["features"]),
                    cropped=_features(e.get("cropped", [])),
                    md5=e.get("md5"),
                    sha256=e.get("sha256"),
                    source=e.get("source", ""),
                    case_id=e.get("case_id"),
                    note=e.get("note", ""),
                )
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
            raise BankError(f"{path}:{line}: not a video bank record ({exc})") from None
    return index


__all__ = [
    "VIDEO_SIGNAL_TYPES",
    "entry_view",
    "export_te",
    "import_te",
    "load",
    "parse_te",
    "save",
]
