"""The requester's accountability at the gateway: sanctions enforced, strikes opened.

Strikes and sanctions are ``CaseStore``'s (the policy's accountability section): a refusal opens
a case with the ``user`` as requester, exactly as a refused bot request in a thread does, and an
appeal that reverses the case removes its strike and lifts what it triggered. The gateway only
reads the sanctions in force and answers with the one that applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gardefou.decision import Decision
from gardefou.errors import RateLimitError, SanctionError

#: sanction name -> the endpoints it closes ("*": all); "rate_limit" slows instead. Other names a
#: policy may define are recorded by CaseStore but not enforced here (docs/gateway.md).
BLOCKING_SANCTIONS = {
    "suspend": "*",
    "suspension": "*",
    "no_image_edit": "edits",
    "no_image_generation": "generations",
}


def sanctions_in_force(
    cases: Any, limits: Any, config: Any, kind: str, user: str
) -> Iterator[SanctionError]:
    """The SanctionErrors that forbid this request now (the caller raises the first one)."""
    for rec in cases.sanctions(user):
        closes = BLOCKING_SANCTIONS.get(rec.sanction)
        until = f"until {rec.ends_at}" if rec.ends_at else "with no end date"
        if closes == "*" or closes == kind:
            what = "image edits are" if closes == "edits" else "image requests are"
            yield SanctionError(
                f"sanction {rec.sanction} in force for user {user!r} {until}: {what} withdrawn "
                "after repeated policy violations; an appeal of the cases behind it can lift it",
                rec.sanction,
                rec.ends_at,
            )
        elif rec.sanction == "rate_limit":
            try:
                limits.hit_rate("sanctioned", user, config.rate_sanctioned, "user")
            except RateLimitError as exc:
                err = SanctionError(
                    f"sanction rate_limit in force for user {user!r} {until}: at most "
                    f"{config.rate_sanctioned} image requests; {exc}",
                    rec.sanction,
                    rec.ends_at,
                    exc.retry_after,
                )
                err.http_status = 429
                yield err


def open_strike(cases: Any, event: str, kind: str, d: Decision, user: str | None) -> dict[str, Any]:
    """Open the case of a refusal for ``user`` (the strike); the user's standing after it."""
    if not user:
        return {"account": None, "note": "no `user` sent: nobody's strike"}
    case = cases.open(event, kind, d, poster=None, requester=user)
    st = cases.standing(user)
    struck = case is not None and any(s.case_id == case.id for s in st.strikes)
    return {
        "account": user,
        "case_id": case.id if case else None,
        "strike": struck,
        "points": st.points,
        "sanctions": [{"name": s.sanction, "ends_at": s.ends_at} for s in st.sanctions],
        "next_sanction": st.next_sanction,
        "next_at_points": st.next_at_points,
    }


def with_strike(msg: str, details: dict[str, Any]) -> str:
    """The refusal message, with what it means for the user's account."""
    acc = details.get("accountability") or {}
    if not acc.get("account"):
        return msg + "."
    if not acc.get("strike"):
        return f"{msg}; case {acc.get('case_id')} records it (no strike)."
    in_force = ", ".join(f"{s['name']} until {s['ends_at']}" for s in acc["sanctions"]) or "none"
    return (
        f"{msg}. This counts as a strike for user {acc['account']!r} ({acc['points']:g} "
        f"points; sanctions in force: {in_force}); case {acc['case_id']} can be appealed."
    )
