"""Takedown requests: the TAKE IT DOWN Act's notice-and-removal request, and regulators' notices.

A valid request under the Act (Pub. L. 119-12, sec. 3(a)(1)(B)) has exactly four elements, and
gardefou asks for nothing more (no ID document, no copy of the image):

1. a physical or electronic signature of the identifiable individual or of a person authorized
   to act on their behalf;
2. an identification of, and information reasonably sufficient to locate, the intimate visual
   depiction (here: PDQ hashes computed in the person's own browser, plus links or post ids);
3. a brief statement of the good-faith belief that the depiction is not consensual, with any
   relevant information;
4. information sufficient to contact the person (or the authorized person).

The platform must remove the depiction, and make reasonable efforts to remove known identical
copies, as soon as possible and within 48 hours. A regulator's removal notice (for example from
Australia's eSafety Commissioner, 24 hours under the Online Safety Act 2021) is tracked the same
way with its own deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

HOUR = 3600.0


class Kind(StrEnum):
    TAKE_IT_DOWN = "take_it_down"
    REGULATOR_NOTICE = "regulator_notice"


class Status(StrEnum):
    RECEIVED = "received"  # valid request, clock running
    IN_REVIEW = "in_review"  # a moderator has opened it
    REMOVED = "removed"  # depiction and known copies removed
    REJECTED = "rejected"  # not actionable (reason given to the person)
    WITHDRAWN = "withdrawn"  # withdrawn by the person


OPEN = (Status.RECEIVED, Status.IN_REVIEW)

#: Removal deadlines in hours, per kind and (for notices) per issuer.
DEADLINE_HOURS: dict[str, float] = {
    "take_it_down": 48.0,
    "esafety_au": 24.0,
    "regulator_default": 24.0,
}

#: Alert this long before a deadline: a quarter of the window (12 h of 48 h, 6 h of 24 h).
ALERT_FRACTION = 0.25

REGULATORS: dict[str, str] = {
    "esafety_au": "eSafety Commissioner (Australia)",
    "arcom_fr": "Arcom (France)",
    "ofcom_uk": "Ofcom (United Kingdom)",
    "cnam_ie": "Coimisiún na Meán (Ireland)",
    "other": "Other regulator",
}


@dataclass(frozen=True)
class Signature:
    name: str  # typed full name: an electronic signature
    on_behalf: bool = False  # signed by a person authorized to act for the individual
    authority: str = ""  # when on_behalf: the basis (parent, legal representative, ...)


@dataclass(frozen=True)
class DepictionHash:
    pdq: str
    quality: int


@dataclass(frozen=True)
class VideoHash:
    """A clip: its vPDQ hash list (python-threatexchange's VPDQ signal string, a JSON list of
    ``hex,quality,timestamp``) and/or the file's MD5, both computed where the clip is."""

    vpdq: str = ""
    md5: str = ""


@dataclass(frozen=True)
class Contact:
    email: str = ""
    phone: str = ""
    postal: str = ""

    def any(self) -> bool:
        return bool(self.email.strip() or self.phone.strip() or self.postal.strip())


@dataclass(frozen=True)
class NewRequest:
    """What a person (or a regulator) submits. Validated by TakedownService.submit."""

    kind: Kind
    signature: Signature
    hashes: tuple[DepictionHash, ...]
    locations: tuple[str, ...]
    description: str
    good_faith_statement: str
    contact: Contact
    lang: str = "en"
    issuer: str = ""  # regulator key (REGULATORS) for notices
    issuer_reference: str = ""  # the regulator's own notice number
    videos: tuple[VideoHash, ...] = ()


@dataclass(frozen=True)
class TakedownRequest:
    id: int
    case_number: str
    kind: Kind
    status: Status
    lang: str
    received_at: float
    deadline_at: float
    closed_at: float | None
    resolution: str
    copies_removed: int
    bank_entries: int
    signature: Signature
    description: str
    good_faith_statement: str
    contact: Contact
    issuer: str
    issuer_reference: str
    verified: bool = False  # a regulator's notice filed with a staff key (not the public form)
    hashes: tuple[DepictionHash, ...] = ()
    locations: tuple[str, ...] = ()
    videos: tuple[VideoHash, ...] = ()
    events: tuple[dict[str, Any], ...] = field(default=())

    @property
    def window_hours(self) -> float:
        return (self.deadline_at - self.received_at) / HOUR

    def clock(self, now: float) -> dict[str, Any]:
        """Where the deadline stands: seconds left, and 'ok' | 'due_soon' | 'breached' | 'met'
        | 'missed' (the last two once closed)."""
        window = self.deadline_at - self.received_at
        if self.closed_at is not None:
            state = "met" if self.closed_at <= self.deadline_at else "missed"
            left = self.deadline_at - self.closed_at
        else:
            left = self.deadline_at - now
            if left < 0:
                state = "breached"
            elif left <= window * ALERT_FRACTION:
                state = "due_soon"
            else:
                state = "ok"
        return {"state": state, "seconds_left": round(left, 1), "deadline_at": self.deadline_at}

    def public_view(self, now: float) -> dict[str, Any]:
        """What the person sees on the status page: no moderator notes, no other people's data."""
        return {
            "case_number": self.case_number,
            "kind": str(self.kind),
            "status": str(self.status),
            "received_at": self.received_at,
            "deadline_at": self.deadline_at,
            "closed_at": self.closed_at,
            "resolution": self.resolution,
            "copies_removed": self.copies_removed,
            "hashes": len(self.hashes),
            "videos": len(self.videos),
            "locations": len(self.locations),
            "clock": self.clock(now),
            "history": [{"at": e["at"], "status": e["status"]} for e in self.events],
        }

    def staff_view(self, now: float) -> dict[str, Any]:
        d = self.public_view(now)
        d.update(
            id=self.id,
            lang=self.lang,
            window_hours=self.window_hours,
            bank_entries=self.bank_entries,
            signature={
                "name": self.signature.name,
                "on_behalf": self.signature.on_behalf,
                "authority": self.signature.authority,
            },
            description=self.description,
            good_faith_statement=self.good_faith_statement,
            contact={
                "email": self.contact.email,
                "phone": self.contact.phone,
                "postal": self.contact.postal,
            },
            issuer=self.issuer,
            issuer_name=REGULATORS.get(self.issuer, self.issuer),
            issuer_reference=self.issuer_reference,
            verified=self.verified,
            hash_list=[{"pdq": h.pdq, "quality": h.quality} for h in self.hashes],
            location_list=list(self.locations),
            video_list=[
                {"md5": v.md5, "vpdq_frames": len(json.loads(v.vpdq)) if v.vpdq else 0}
                for v in self.videos
            ],
            history=[dict(e) for e in self.events],
        )
        return d

    @classmethod
    def from_rows(
        cls, row: dict[str, Any], items: list[dict[str, Any]], events: list[dict[str, Any]]
    ) -> TakedownRequest:
        """A request from its takedown_requests row, its takedown_items and its events."""
        contact = json.loads(row["contact_json"])
        return cls(
            id=int(row["id"]),
            case_number=row["case_number"],
            kind=Kind(row["kind"]),
            status=Status(row["status"]),
            lang=row["lang"],
            received_at=float(row["received_at"]),
            deadline_at=float(row["deadline_at"]),
            closed_at=None if row["closed_at"] is None else float(row["closed_at"]),
            resolution=row["resolution"],
            copies_removed=int(row["copies_removed"]),
            bank_entries=int(row["bank_entries"]),
            signature=Signature(
                row["signature_name"], bool(row["signature_on_behalf"]), row["signature_authority"]
            ),
            description=row["depiction_description"],
            good_faith_statement=row["good_faith_statement"],
            contact=Contact(**contact),
            issuer=row["issuer"],
            issuer_reference=row["issuer_reference"],
            verified=bool(row["verified"]),
            hashes=tuple(
                DepictionHash(i["value"], int(i["quality"]))
                for i in items
                if i["item_type"] == "pdq"
            ),
            locations=tuple(i["value"] for i in items if i["item_type"] == "location"),
            videos=tuple(
                VideoHash(**json.loads(i["value"])) for i in items if i["item_type"] == "video"
            ),
            events=tuple(events),
        )
