"""TakedownService: file, track and resolve takedown requests against their deadlines.

Storage is the project's database (migration 0007). The person receives a case number and a PIN
once; only an argon2id hash of the PIN is stored (gardefou.pins), and wrong PINs are counted per
case in the store: a few are free, then the case locks with a doubling backoff. On acceptance
the request's hashes go into the victim bank (so future uploads of the image and of its
near-identical copies match) and every media already seen whose PDQ is within the bank's
threshold is recorded as removed: the count of copies removed is shown to the moderator and to
the person.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from gardefou.errors import AuthError, NotFoundError, TakedownError, TakedownStateError
from gardefou.pins import Attempts, hash_pin, needs_rehash
from gardefou.signals.pdq_core import hex_to_bytes
from gardefou.store.db import Database
from gardefou.takedown.checks import validate
from gardefou.takedown.models import (
    DEADLINE_HOURS,
    HOUR,
    OPEN,
    Kind,
    NewRequest,
    Status,
    TakedownRequest,
)
from gardefou.takedown.removal import MATCH_THRESHOLD, MIN_QUALITY, VICTIM_BANK, RemovalMixin

__all__ = ["MATCH_THRESHOLD", "MIN_QUALITY", "VICTIM_BANK", "TakedownService"]

_CASE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class TakedownService(RemovalMixin):
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], float] = time.time,
        banks: Any = None,
        victim_bank: str = VICTIM_BANK,
        bank_video: Callable[..., int] | None = None,
    ) -> None:
        self.db = db
        #: ``bank_video(features, md5, source=, case_id=) -> entry id``: where an accepted
        #: request's clips go (the web service: ``web.video.bank_video_hashes``, victim bank)
        self.bank_video = bank_video
        self.clock = clock
        self._banks = banks
        self.victim_bank = victim_bank
        self._attempts = Attempts(db, "takedown", clock=clock)

    # -- filing ----------------------------------------------------------------------------------
    def submit(self, req: NewRequest, *, verified: bool = False) -> tuple[str, str]:
        """Validate and record a request; return (case_number, pin). The PIN is shown once.

        A regulator's notice gets the regulator's deadline (24 h) only when ``verified``: it
        came through an authenticated channel (a staff key). Anyone can type "eSafety" into a
        public form, so an unverified notice keeps the ordinary 48 hours and queue place."""
        validate(req)
        now = self.clock()
        verified = verified and req.kind is Kind.REGULATOR_NOTICE
        key = req.issuer if verified else "take_it_down"
        hours = DEADLINE_HOURS.get(key, DEADLINE_HOURS["regulator_default"])
        prefix = "TD" if req.kind is Kind.TAKE_IT_DOWN else "RN"
        case_number = f"{prefix}-" + "".join(secrets.choice(_CASE_ALPHABET) for _ in range(8))
        pin = "".join(secrets.choice("0123456789") for _ in range(8))
        contact = {
            "email": req.contact.email,
            "phone": req.contact.phone,
            "postal": req.contact.postal,
        }
        with self.db.transaction():
            rid = self.db.insert(
                "INSERT INTO takedown_requests (case_number, pin_hash, kind, status, lang, "
                "signature_name, signature_on_behalf, signature_authority, depiction_description,"
                " good_faith_statement, contact_json, issuer, issuer_reference, received_at, "
                "deadline_at, resolution, verified) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    case_number,
                    hash_pin(pin),
                    str(req.kind),
                    str(Status.RECEIVED),
                    req.lang,
                    req.signature.name.strip(),
                    int(req.signature.on_behalf),
                    req.signature.authority.strip(),
                    req.description.strip(),
                    req.good_faith_statement.strip(),
                    json.dumps(contact),
                    req.issuer,
                    req.issuer_reference.strip(),
                    now,
                    now + hours * HOUR,
                    "",
                    int(verified),
                ),
            )
            for h in req.hashes:
                self.db.execute(
                    "INSERT INTO takedown_items (request_id, item_type, value, quality) "
                    "VALUES (?, 'pdq', ?, ?)",
                    (rid, hex_to_bytes(h.pdq).hex(), h.quality),
                )
            for v in req.videos:
                self.db.execute(
                    "INSERT INTO takedown_items (request_id, item_type, value, quality) "
                    "VALUES (?, 'video', ?, NULL)",
                    (rid, json.dumps({"vpdq": v.vpdq, "md5": v.md5.lower()})),
                )
            for loc in req.locations:
                self.db.execute(
                    "INSERT INTO takedown_items (request_id, item_type, value, quality) "
                    "VALUES (?, 'location', ?, NULL)",
                    (rid, loc.strip()),
                )
            self._event(rid, "requester", Status.RECEIVED, "request received")
        return case_number, pin

    # -- reading ---------------------------------------------------------------------------------
    def get(self, request_id: int) -> TakedownRequest:
        row = self.db.query_one("SELECT * FROM takedown_requests WHERE id = ?", (request_id,))
        if row is None:
            raise NotFoundError(f"takedown request {request_id} does not exist")
        return self._load(row)

    def lookup(self, case_number: str, pin: str) -> TakedownRequest:
        """The person's view: case number + PIN. Wrong PIN and unknown case look the same, in
        answer, in time (an unknown case costs one hash check too) and in lockout."""
        wrong = AuthError("case number or PIN is wrong; check both and try again")
        subject, pin = case_number.strip().upper()[:64], pin.strip()
        if "\x00" in subject or "\x00" in pin:
            raise wrong
        self._attempts.check(subject)  # a locked case costs no hash and no row read
        row = self.db.query_one("SELECT * FROM takedown_requests WHERE case_number = ?", (subject,))
        if not self._attempts.verify(subject, pin, row["pin_hash"] if row else None):
            raise wrong
        assert row is not None
        if needs_rehash(row["pin_hash"]):  # a PBKDF2 hash from before: upgrade it now
            self.db.execute(
                "UPDATE takedown_requests SET pin_hash = ? WHERE id = ?", (hash_pin(pin), row["id"])
            )
        return self._load(row)

    def queue(
        self, include_closed: bool = False, limit: int | None = 200, offset: int = 0
    ) -> list[TakedownRequest]:
        """Open requests, the nearest deadline first (breached ones on top): one page of
        ``limit`` from ``offset`` (``limit=None``: all); ``count`` says how many there are."""
        where, params = self._where(include_closed)
        sql = f"SELECT * FROM takedown_requests{where} ORDER BY deadline_at, id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [self._load(r) for r in self.db.query(sql, params)]

    def count(self, include_closed: bool = False) -> int:
        where, params = self._where(include_closed)
        row = self.db.query_one(f"SELECT COUNT(*) AS n FROM takedown_requests{where}", params)
        return int(row["n"]) if row else 0

    @staticmethod
    def _where(include_closed: bool) -> tuple[str, list[Any]]:
        return ("", []) if include_closed else (" WHERE status IN (?, ?)", [str(s) for s in OPEN])

    def alerts(self) -> list[dict[str, Any]]:
        """Open requests that are due soon or already past their deadline (all of them: no
        page limit, since these are the ones that must not be missed)."""
        now = self.clock()
        out = []
        for r in self.queue(limit=None):
            clock = r.clock(now)
            if clock["state"] in ("due_soon", "breached"):
                out.append({"id": r.id, "case_number": r.case_number, "kind": str(r.kind), **clock})
        return out

    def stats(self) -> dict[str, Any]:
        """Compliance figures for the transparency report: closed within the deadline or not."""
        rows = self.db.query(
            "SELECT kind, status, received_at, deadline_at, closed_at FROM takedown_requests"
        )
        now = self.clock()
        out: dict[str, Any] = {
            "total": len(rows),
            "open": 0,
            "removed": 0,
            "rejected": 0,
            "withdrawn": 0,
            "met": 0,
            "missed": 0,
            "breached_open": 0,
        }
        hours = []
        for r in rows:
            if r["status"] in [str(s) for s in OPEN]:
                out["open"] += 1
                out["breached_open"] += int(now > r["deadline_at"])
                continue
            out[r["status"]] = out.get(r["status"], 0) + 1
            if r["status"] == str(Status.REMOVED):
                out["met" if r["closed_at"] <= r["deadline_at"] else "missed"] += 1
                hours.append((r["closed_at"] - r["received_at"]) / HOUR)
        hours.sort()
        out["hours_to_removal_p50"] = hours[len(hours) // 2] if hours else None
        out["hours_to_removal_max"] = hours[-1] if hours else None
        return out

    # -- moderation ------------------------------------------------------------------------------
    def start_review(self, request_id: int, actor: str) -> TakedownRequest:
        r = self.get(request_id)
        if r.status is Status.RECEIVED:
            self._set_status(r.id, Status.IN_REVIEW, actor, "opened by a moderator")
        return self.get(request_id)

    def accept(
        self, request_id: int, actor: str, note: str = "", resolution: str = ""
    ) -> TakedownRequest:
        """Remove: bank the hashes, record the known copies removed, close the request.
        ``resolution`` is what the person reads; ``note`` is internal (staff history only)."""
        r = self.get(request_id)
        self._require_open(r, "accept")
        if r.videos and self.bank_video is None:
            raise TakedownError(
                f"request {r.case_number} holds {len(r.videos)} video hash(es) and this service "
                "has no video bank: give TakedownService a bank_video (the web service does)"
            )
        entries = self._bank_hashes(r, actor) + self._bank_videos(r)
        copies = self._remove_known_copies(r)
        now = self.clock()
        with self.db.transaction():
            self.db.execute(
                "UPDATE takedown_requests SET status = ?, closed_at = ?, resolution = ?, "
                "copies_removed = ?, bank_entries = ? WHERE id = ?",
                (str(Status.REMOVED), now, resolution.strip() or "removed", copies, entries, r.id),
            )
            self._event(
                r.id,
                actor,
                Status.REMOVED,
                f"removed; {copies} known copies removed; {entries} hashes banked"
                + (f"; note: {note.strip()}" if note.strip() else ""),
            )
        return self.get(request_id)

    def reject(self, request_id: int, actor: str, reason: str) -> TakedownRequest:
        if not reason.strip():
            raise TakedownError("a rejection needs a reason the person can read and act on")
        r = self.get(request_id)
        self._require_open(r, "reject")
        self._close(r.id, Status.REJECTED, actor, reason.strip())
        return self.get(request_id)

    def withdraw(self, case_number: str, pin: str) -> TakedownRequest:
        r = self.lookup(case_number, pin)
        self._require_open(r, "withdraw")
        self._close(r.id, Status.WITHDRAWN, "requester", "withdrawn by the requester")
        return self.get(r.id)

    # -- internals -------------------------------------------------------------------------------
    def _require_open(self, r: TakedownRequest, action: str) -> None:
        if r.status not in OPEN:
            raise TakedownStateError(
                f"cannot {action} request {r.case_number}: it is already {r.status}"
            )

    def _close(self, rid: int, status: Status, actor: str, note: str) -> None:
        with self.db.transaction():
            self.db.execute(
                "UPDATE takedown_requests SET status = ?, closed_at = ?, resolution = ? "
                "WHERE id = ?",
                (str(status), self.clock(), note, rid),
            )
            self._event(rid, actor, status, note)

    def _set_status(self, rid: int, status: Status, actor: str, note: str) -> None:
        with self.db.transaction():
            self.db.execute(
                "UPDATE takedown_requests SET status = ? WHERE id = ?", (str(status), rid)
            )
            self._event(rid, actor, status, note)

    def _event(self, rid: int, actor: str, status: Status, note: str) -> None:
        self.db.execute(
            "INSERT INTO takedown_events (request_id, at, actor, status, note) VALUES (?,?,?,?,?)",
            (rid, self.clock(), actor, str(status), note),
        )

    def _load(self, row: dict[str, Any]) -> TakedownRequest:
        items = self.db.query(
            "SELECT item_type, value, quality FROM takedown_items WHERE request_id = ? ORDER BY id",
            (row["id"],),
        )
        events = self.db.query(
            "SELECT at, actor, status, note FROM takedown_events WHERE request_id = ? ORDER BY id",
            (row["id"],),
        )
        return TakedownRequest.from_rows(row, items, events)
