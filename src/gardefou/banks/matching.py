"""From query hashes to Match records: thresholds, disabled rows, rollout, negative banks."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gardefou.banks.core import BankCore
from gardefou.banks.models import MIN_QUALITY, Bank, Match, rollout_bucket
from gardefou.signals.pdq_core import DIHEDRAL_NAMES, hex_to_bytes, hexes_to_words

_IN_BATCH = 500


@dataclass(frozen=True)
class MatchQuery:
    labels: tuple[str, ...]
    pdqs: tuple[str, ...]
    md5: str | None = None
    sha256: str | None = None

    @classmethod
    def parse(
        cls,
        hashes: str | Sequence[str] | Mapping[str, str],
        *,
        quality: int | None,
        md5: str | None,
        sha256: str | None,
    ) -> MatchQuery:
        if isinstance(hashes, str):
            items = [("original", hashes)]
        elif isinstance(hashes, Mapping):
            items = [(str(k), v) for k, v in hashes.items()]
        else:
            names = DIHEDRAL_NAMES if len(hashes) == len(DIHEDRAL_NAMES) else ()
            items = [(names[i] if names else f"hash{i}", h) for i, h in enumerate(hashes)]
        if quality is not None and quality < MIN_QUALITY:
            items = []  # too flat to match anything reliably: only exact digests count
        pdqs = tuple(hex_to_bytes(h).hex() for _, h in items)
        return cls(
            tuple(k for k, _ in items),
            pdqs,
            (md5 or "").lower() or None,
            (sha256 or "").lower() or None,
        )


def _rows_by_id(service: BankCore, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), _IN_BATCH):
        batch = list(ids[i : i + _IN_BATCH])
        marks = ", ".join("?" for _ in batch)
        for row in service.db.query(
            f"SELECT id, bank_id, pdq, source, case_id, enabled, removed_at, disabled_until "
            f"FROM bank_entries "
            f"WHERE id IN ({marks})",
            batch,
        ):
            out[int(row["id"])] = row
    return out


def _unconfirmed_entries(service: BankCore, ids: Sequence[int]) -> set[int]:
    """Which of these entries come from a submission no moderator has confirmed: their matches
    only ever send content to review (docs/banks.md). Read from the table at each query, so a
    confirmation or rejection counts at once in every process."""
    out: set[int] = set()
    for i in range(0, len(ids), _IN_BATCH):
        batch = list(ids[i : i + _IN_BATCH])
        marks = ", ".join("?" for _ in batch)
        for row in service.db.query(
            f"SELECT e.id FROM bank_entries e JOIN bank_submissions s ON s.id = e.submission_id "
            f"WHERE s.status <> 'confirmed' AND e.id IN ({marks})",
            batch,
        ):
            out.add(int(row["id"]))
    return out


def resolve_matches(
    service: BankCore, query: MatchQuery, only_banks: Sequence[str] | None
) -> list[Match]:
    banks = {b.id: b for b in service.list_banks() if b.enabled}
    if only_banks is not None:
        wanted = {service.get_bank(n).id for n in only_banks}
        banks = {i: b for i, b in banks.items() if i in wanted}
    if not banks:
        return []
    best: dict[int, tuple[int, str, str]] = {}  # entry id -> (distance, query label, kind)
    if query.pdqs:
        radius = max(b.threshold for b in banks.values())
        hits = service.index.search(hexes_to_words(query.pdqs), radius)
        for q, k, d in zip(
            hits.query.tolist(), hits.key.tolist(), hits.distance.tolist(), strict=True
        ):
            if k not in best or d < best[k][0]:
                best[k] = (d, query.labels[q], "pdq")
    for kind, digest in (("md5", query.md5), ("sha256", query.sha256)):
        if digest:
            for row in service.db.query(
                f"SELECT id FROM bank_entries WHERE {kind} = ? AND removed_at IS NULL", (digest,)
            ):
                best[int(row["id"])] = (0, kind, kind)
    unconfirmed = _unconfirmed_entries(service, sorted(best))
    rows = _rows_by_id(service, sorted(best))
    matches: list[Match] = []
    for entry_id, (dist, label, kind) in best.items():
        found = rows.get(entry_id)
        if found is None:
            continue
        row = found
        if row["removed_at"] is not None or not row["enabled"]:
            continue
        if row["disabled_until"] is not None and float(row["disabled_until"]) > time.time():
            continue  # disabled until a date (HMA's disable_until_ts): not yet
        bank: Bank | None = banks.get(int(row["bank_id"]))
        if bank is None or dist > bank.threshold:
            continue
        if bank.enable_ratio < 1.0 and rollout_bucket(row["pdq"]) >= bank.enable_ratio:
            continue
        matches.append(
            Match(
                bank=bank.name,
                bank_id=bank.id,
                entry_id=entry_id,
                distance=dist,
                threshold=bank.threshold,
                negative=bank.negative,
                kind=kind,
                query=label,
                source=row["source"],
                case_id=row["case_id"],
                confirmed=entry_id not in unconfirmed,
            )
        )
    return _apply_negative(sorted(matches, key=lambda m: (m.negative, m.distance, m.entry_id)))


def _apply_negative(matches: list[Match]) -> list[Match]:
    negatives = [m for m in matches if m.negative]
    if not negatives:
        return matches
    n = min(negatives, key=lambda m: m.distance)
    why = (
        f"suppressed: the query also matches known-benign bank {n.bank!r} entry {n.entry_id} "
        f"at distance {n.distance} (threshold {n.threshold})"
    )
    out = []
    for m in matches:
        if m.negative:
            out.append(replace(m, reason=f"negative bank {m.bank!r}: known-benign content"))
        else:
            out.append(replace(m, suppressed=True, reason=why))
    return out
