"""Shared services of one app, and the FastAPI dependencies that authenticate and authorize."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader

from gardefou.errors import AuthError, ForbiddenError
from gardefou.store.db import Database
from gardefou.takedown import TakedownService
from gardefou.web.auth import ANONYMOUS, KeyStore, Principal, Role
from gardefou.web.limits import RateLimiter
from gardefou.web.settings import Settings


@dataclass
class WebServices:
    """What the HTTP routers share (settings, store, keys, limits, lazily built services);
    not ``gardefou.decide.Services``, which holds what one decision needs."""

    settings: Settings
    db: Database
    keys: KeyStore
    takedown: TakedownService
    limiter: RateLimiter
    _lazy: dict[str, Any] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def lazy(self, name: str, factory: Callable[[], Any]) -> Any:
        """One shared instance of an optional service (banks, guard, cases...), built on use."""
        with self._lock:
            if name not in self._lazy:
                self._lazy[name] = factory()
            return self._lazy[name]

    def provide(self, name: str, instance: Any) -> None:
        """Install a service instance (a configured Guard, fakes in tests) before first use."""
        with self._lock:
            self._lazy[name] = instance

    def banks(self) -> Any:
        from gardefou.banks import BankService

        return self.lazy("banks", lambda: BankService(self.db))

    def record_exposure(
        self, reviewer: str, *, viewed: int = 0, revealed: int = 0, decisions: int = 0
    ) -> dict[str, Any]:
        """Per-reviewer, per-day counts of items seen, media revealed and decisions taken."""
        day = datetime.fromtimestamp(self.settings.clock(), UTC).date().isoformat()
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO reviewer_exposure (reviewer, day, items_viewed, media_revealed, "
                "decisions) VALUES (?,?,?,?,?) ON CONFLICT (reviewer, day) DO UPDATE SET "
                "items_viewed = reviewer_exposure.items_viewed + excluded.items_viewed, "
                "media_revealed = reviewer_exposure.media_revealed + excluded.media_revealed, "
                "decisions = reviewer_exposure.decisions + excluded.decisions",
                (reviewer, day, viewed, revealed, decisions),
            )
        row = self.db.query_one(
            "SELECT * FROM reviewer_exposure WHERE reviewer = ? AND day = ?", (reviewer, day)
        )
        assert row is not None
        return row


def services(request: Request) -> WebServices:
    svc: WebServices = request.app.state.services
    return svc


_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key (`gardefou apikey create --role ROLE`).",
)


def principal(
    request: Request,
    svc: Annotated[WebServices, Depends(services)],
    key: Annotated[str | None, Security(_api_key)] = None,
) -> Principal:
    """The caller, rate-limited: by key, or by client address when anonymous. Wrong keys are
    counted per client address too: past ``rates["failed_keys"]`` a minute, that address gets
    429 before any key it sends is even looked up."""
    auth = request.headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:].strip()
    address = request.client.host if request.client else "?"
    rates = svc.settings.rates
    if key:
        failures = f"failed-key:{address}"
        svc.limiter.check(failures, rates["failed_keys"], "too many wrong API keys from here")
        try:
            p = svc.keys.verify(key)
        except AuthError:
            svc.limiter.count(failures, rates["failed_keys"])
            raise
        bucket = f"key:{p.key_id}:{p.name}"
    else:
        p = ANONYMOUS
        bucket = f"ip:{address}"
    svc.limiter.hit(bucket, rates.get(str(p.role), 60))
    return p


def require(*roles: Role) -> Callable[..., Principal]:
    """Dependency: the caller must hold one of ``roles`` (admin always may)."""
    allowed = {*roles, Role.ADMIN}

    def check(p: Annotated[Principal, Depends(principal)]) -> Principal:
        if p.role in allowed:
            return p
        names = ", ".join(sorted(str(r) for r in allowed))
        if p.anonymous:
            raise AuthError(f"this endpoint needs an API key with role {names}; send X-API-Key")
        raise ForbiddenError(f"key {p.name!r} has role {p.role}; this endpoint needs {names}")

    return check


Svc = Annotated[WebServices, Depends(services)]
Caller = Annotated[Principal, Depends(principal)]

#: a row id in a path: bounded so that no database integer overflows (SQLite/PostgreSQL BIGINT)
RowId = Annotated[int, Path(ge=0, le=2**63 - 1, description="row id")]
