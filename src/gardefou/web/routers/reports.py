"""Reports for auditors and regulators: the transparency report and DSA statements of reasons."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from gardefou.errors import ConfigError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Svc, require

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]
ISO = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.+Z-]*)?$"
#: a period bound (start or end): an ISO date or time, checked again by ``_period``
Bound = Annotated[str | None, Query(pattern=ISO, max_length=40)]


def _period(start: Bound = None, end: Bound = None) -> tuple[str | None, str | None]:
    """The ``start`` and ``end`` query parameters, checked: refuse a date that does not exist
    (2020-13-45 matches the pattern) and a period that ends before it starts: an empty report
    for a typo would look like a clean record."""
    parsed = []
    for name, value in (("start", start), ("end", end)):
        if value is None:
            continue
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(
                f"{name}={value!r} is not a valid date ({exc}); use YYYY-MM-DD or an ISO "
                "8601 date and time"
            ) from None
        parsed.append((name, value, when if when.tzinfo else when.replace(tzinfo=UTC)))
    if len(parsed) == 2 and parsed[1][2] < parsed[0][2]:
        raise ConfigError(
            f"end={parsed[1][1]!r} is before start={parsed[0][1]!r}; swap them or fix the period"
        )
    return start, end


#: declared after the caller's role, so an unauthorized caller is refused before any date check
Period = Annotated[tuple[str | None, str | None], Depends(_period)]


@router.get("/transparency", summary="Actions, detection, time to action, takedowns, appeals")
def transparency(svc: Svc, caller: Auditor, period: Period) -> dict[str, Any]:
    from gardefou.reports.from_store import transparency_records
    from gardefou.reports.transparency import build_report

    start, end = period
    actions, takedowns, appeals = transparency_records(svc.db, start, end)
    return asdict(build_report(actions, takedowns, appeals))


@router.get("/dsa", summary="DSA statements of reasons (EU Transparency Database format)")
def dsa(svc: Svc, caller: Auditor, period: Period) -> dict[str, Any]:
    import os

    from gardefou.reports.dsa import statements_from_records
    from gardefou.reports.from_store import dsa_records

    start, end = period
    if not os.environ.get("GARDEFOU_PUID_SECRET"):
        raise ConfigError(
            "set GARDEFOU_PUID_SECRET on the server: statements carry opaque ids "
            "derived from it, never internal ids"
        )
    try:
        records = dsa_records(svc.db, start, end)
    except ConfigError:
        records = []
    return {"statements": list(statements_from_records(records))}
