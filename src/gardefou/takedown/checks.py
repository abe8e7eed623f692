"""Validation of a takedown request: the Act's four elements, bounds, and clean text."""

from __future__ import annotations

import re

from gardefou.errors import HashFormatError, TakedownError
from gardefou.signals.pdq_core import hex_to_bytes
from gardefou.takedown.models import REGULATORS, Kind, NewRequest

MAX_HASHES = 64
MAX_LOCATIONS = 64
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


#: clips per request, and frame hashes per clip (a 10-minute clip hashed once a second: 600)
MAX_VIDEOS = 16
MAX_VIDEO_FRAMES = 2000


def check_video_hash(vpdq: str, md5: str, what: str) -> None:
    """Raise HashFormatError / TakedownError naming a malformed clip hash."""
    from gardefou.signals.vpdq import parse_signal_str

    if not vpdq.strip() and not md5.strip():
        raise TakedownError(f"{what}: give its vPDQ hash list, its MD5, or both")
    if md5 and not re.fullmatch(r"[0-9a-fA-F]{32}", md5):
        raise HashFormatError(f"{what}: MD5 {md5[:80]!r} is not 32 hexadecimal digits")
    if vpdq.strip():
        features = parse_signal_str(vpdq)  # raises HashFormatError quoting the bad feature
        if not features or len(features) > MAX_VIDEO_FRAMES:
            raise TakedownError(
                f"{what}: {len(features)} frame hashes (1 to {MAX_VIDEO_FRAMES}); hash the clip "
                "once a second"
            )


def validate(req: NewRequest) -> None:
    """Raise TakedownError naming the first missing or malformed element."""
    if not req.signature.name.strip():
        raise TakedownError(
            "signature missing: type your full name as your electronic signature "
            "(or the name of the person authorized to act for you)"
        )
    if req.signature.on_behalf and not req.signature.authority.strip():
        raise TakedownError(
            "signature on behalf of someone else: say on what basis you act for them "
            "(for example 'parent' or 'legal representative')"
        )
    if not req.hashes and not req.locations and not req.videos:
        raise TakedownError(
            "identification of the depiction missing: add at least one image hash "
            "(computed in your browser) or one link or post id where it appears"
        )
    if len(req.hashes) > MAX_HASHES or len(req.locations) > MAX_LOCATIONS:
        raise TakedownError(
            f"too many items: {len(req.hashes)} hashes and {len(req.locations)} locations "
            f"(limit {MAX_HASHES} each); file several requests"
        )
    if len(req.videos) > MAX_VIDEOS:
        raise TakedownError(
            f"too many videos: {len(req.videos)} (limit {MAX_VIDEOS}); file several requests"
        )
    for n, v in enumerate(req.videos, start=1):
        check_video_hash(v.vpdq, v.md5, f"video {n}")
    for h in req.hashes:
        hex_to_bytes(h.pdq)  # raises HashFormatError quoting the value
        if not 0 <= h.quality <= 100:
            raise TakedownError(f"hash quality {h.quality!r} must be between 0 and 100")
    for loc in req.locations:
        if not loc.strip() or len(loc) > 2048:
            raise TakedownError(f"location {loc[:80]!r} must be a link or id of 1-2048 characters")
    if req.kind is Kind.TAKE_IT_DOWN and not req.good_faith_statement.strip():
        raise TakedownError(
            "good-faith statement missing: state that you believe in good faith that the "
            "depiction was published without consent"
        )
    if not req.contact.any():
        raise TakedownError("contact information missing: give an email, a phone or an address")
    if req.contact.email and not _EMAIL.fullmatch(req.contact.email.strip()):
        raise TakedownError(f"email {req.contact.email[:80]!r} is not an email address")
    if req.kind is Kind.REGULATOR_NOTICE:
        if req.issuer not in REGULATORS:
            raise TakedownError(
                f"issuer {req.issuer!r} unknown; use one of {', '.join(sorted(REGULATORS))}"
            )
        if not req.issuer_reference.strip():
            raise TakedownError("a regulator's notice needs its reference number")
    if req.lang not in ("en", "fr"):
        raise TakedownError(f"language {req.lang!r} unsupported; use 'en' or 'fr'")
    _refuse_nul(req)


def _refuse_nul(req: NewRequest) -> None:
    """NUL is no character of any name, link or statement, and PostgreSQL text cannot store
    it: refuse it with the field's name instead of failing at the database."""
    fields = {
        "signature.name": req.signature.name,
        "signature.authority": req.signature.authority,
        "description": req.description,
        "good_faith_statement": req.good_faith_statement,
        "contact.email": req.contact.email,
        "contact.phone": req.contact.phone,
        "contact.postal": req.contact.postal,
        "issuer": req.issuer,
        "issuer_reference": req.issuer_reference,
        **{f"locations[{i}]": loc for i, loc in enumerate(req.locations)},
    }
    for name, value in fields.items():
        if "\x00" in value:
            raise TakedownError(
                f"{name} contains a NUL character (\\x00) at position {value.index(chr(0))}; "
                "remove it and send the request again"
            )
