"""Takedown requests under the US TAKE IT DOWN Act (48 hours) and regulators' removal notices
(Australia's eSafety Commissioner: 24 hours), with the clock, alerts before a breach, and removal
of known copies through the victim bank.

    from gardefou.takedown import TakedownService, NewRequest, Kind, Signature, Contact
    svc = TakedownService(db)
    case_number, pin = svc.submit(NewRequest(Kind.TAKE_IT_DOWN, Signature("A. Person"), ...))

See docs/web.md.
"""

from gardefou.takedown.checks import validate
from gardefou.takedown.models import (
    DEADLINE_HOURS,
    REGULATORS,
    Contact,
    DepictionHash,
    Kind,
    NewRequest,
    Signature,
    Status,
    TakedownRequest,
    VideoHash,
)
from gardefou.takedown.service import TakedownService

__all__ = [
    "DEADLINE_HOURS",
    "REGULATORS",
    "Contact",
    "DepictionHash",
    "Kind",
    "NewRequest",
    "Signature",
    "Status",
    "TakedownRequest",
    "TakedownService",
    "VideoHash",
    "validate",
]
