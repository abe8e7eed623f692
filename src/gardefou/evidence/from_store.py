"""Preserve what the rest of gardefou decided: cases (with their decision and history) and
takedown requests (with their clock and removals), as evidence blobs in the Merkle log.

Run it on a schedule (``gardefou evidence preserve-store``) or after each decision. Each record
is canonical JSON, so preserving an unchanged case again is a no-op, and a case that changed
(reviewed, appealed, reversed) is preserved again as a new version: the log then shows every
state it went through. Takedown requests are kept without the requester's contact details and
PIN hash (they are not needed to prove what was asked and when it was done).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from gardefou.decision import trace_evidence
from gardefou.evidence.store import EvidenceStore


def _keep(store: EvidenceStore, record: dict[str, Any], kind: str, actor: str, reason: str,
          account: str | None, labels: dict[str, str]) -> bool:  # fmt: skip
    data = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str).encode()
    sha = hashlib.sha256(data).hexdigest()
    row = store.db.query_one("SELECT deleted_at FROM evidence_blobs WHERE sha256 = ?", (sha,))
    if row is not None:
        return False  # this exact version is already preserved (or was deleted on purpose)
    store.preserve(data, kind, actor, reason, account=account, labels=labels)
    return True


def preserve_cases(
    store: EvidenceStore, actor: str, reason: str, decisions: Mapping[str, Mapping[str, Any]]
) -> int:
    """Preserve every case's current state; return how many new versions were kept.

    ``decisions``: each event's stored decision as recorded, by event id
    (``gardefou.decide.record.decisions_by_event``): the decision layer owns that table and
    sits above this package, so the caller reads it and hands it over."""
    db = store.db
    if not db.has_table("cases"):
        return 0
    history: dict[int, list[dict[str, Any]]] = {}
    for r in db.query("SELECT * FROM case_actions ORDER BY id"):
        history.setdefault(int(r["case_id"]), []).append(
            {k: r[k] for k in ("kind", "actor", "action", "note", "created_at")}
        )
    appeals: dict[int, list[dict[str, Any]]] = {}
    for r in db.query("SELECT * FROM appeals ORDER BY id"):
        appeals.setdefault(int(r["case_id"]), []).append(
            {
                k: r[k]
                for k in ("status", "decided_by", "outcome_action", "created_at", "decided_at")
            }
        )
    kept = 0
    for c in db.query("SELECT * FROM cases ORDER BY id"):
        d = decisions.get(c["event_id"])
        record = {
            "type": "case", "case_id": c["id"], "event_id": c["event_id"], "kind": c["kind"],
            "status": c["status"], "action": c["action"], "auto_action": c["auto_action"],
            "policy": c["policy"], "categories": json.loads(c["categories"]),
            "rules": json.loads(c["rules_json"]), "dsa_fields": json.loads(c["dsa_json"]),
            "poster": c["poster"], "requester": c["requester"], "synthetic": bool(c["synthetic"]),
            "content_date": c["content_date"], "created_at": c["created_at"],
            "decision": dict(d) if d is not None else None,
            "history": history.get(int(c["id"]), []), "appeals": appeals.get(int(c["id"]), []),
        }  # fmt: skip
        if d is not None:
            videos = trace_evidence(record["decision"])
            if videos:  # a clip's hashes and deciding frame times (never its pixels)
                record["videos"] = videos
        labels = {"case": str(c["id"]), "event": c["event_id"]}
        kept += _keep(store, record, "decision", actor, reason, c["poster"], labels)
    return kept


def preserve_takedowns(store: EvidenceStore, actor: str, reason: str) -> int:
    """Preserve every takedown request's current state (minus contact details and PIN)."""
    db = store.db
    if not db.has_table("takedown_requests"):
        return 0
    kept = 0
    skip = {"pin_hash", "contact_json"}
    for r in db.query("SELECT * FROM takedown_requests ORDER BY id"):
        rid = r["id"]
        record = {"type": "takedown", **{k: v for k, v in r.items() if k not in skip}}
        record["items"] = db.query("SELECT item_type, value, quality FROM takedown_items "
                                   "WHERE request_id = ? ORDER BY id", (rid,))  # fmt: skip
        record["events"] = db.query("SELECT at, actor, status, note FROM takedown_events "
                                    "WHERE request_id = ? ORDER BY id", (rid,))  # fmt: skip
        record["removals"] = db.query("SELECT sha256, distance, removed_at FROM "
                                      "takedown_removals WHERE request_id = ? ORDER BY id",
                                      (rid,))  # fmt: skip
        labels = {"takedown": r["case_number"]}
        kept += _keep(store, record, "request", actor, reason, None, labels)
    return kept
