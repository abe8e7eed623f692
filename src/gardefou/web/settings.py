"""Service settings: one frozen dataclass, filled from arguments or GARDEFOU_* variables."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from gardefou.errors import ConfigError

#: Requests per minute per API key (per client address for the anonymous public portal).
DEFAULT_RATES: dict[str, int] = {
    "admin": 6000,
    "moderator": 3000,
    "auditor": 1200,
    "platform": 60000,
    "public": 60,
}


@dataclass(frozen=True)
class Settings:
    db: str | None = None  # SQLite path or postgresql:// URL; None: the default file
    max_upload_bytes: int = 20 * 1024 * 1024  # /v1/scan and other uploads
    max_body_bytes: int = 256 * 1024  # every other request body (JSON)
    rates: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATES))
    scan_signals: tuple[str, ...] = ("pdq", "pdq_dihedral", "crypto_hash")
    persist_scans: bool = True
    admin_key: str | None = None  # bootstrap admin key (not stored; compared in constant time)
    review_media_days: int = 30  # how long a review image is kept (blurred in the console)
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_body_bytes", "review_media_days"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"setting {name}={getattr(self, name)!r} must be positive")
        unknown = set(self.rates) - set(DEFAULT_RATES)
        if unknown:
            raise ConfigError(
                f"rate limits for unknown roles {sorted(unknown)}; roles are "
                f"{', '.join(DEFAULT_RATES)}"
            )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from GARDEFOU_DB, GARDEFOU_ADMIN_KEY, GARDEFOU_MAX_UPLOAD_MB, then overrides."""
        values: dict[str, object] = {}
        if os.environ.get("GARDEFOU_DB"):
            values["db"] = os.environ["GARDEFOU_DB"]
        if os.environ.get("GARDEFOU_ADMIN_KEY"):
            values["admin_key"] = os.environ["GARDEFOU_ADMIN_KEY"]
        if os.environ.get("GARDEFOU_MAX_UPLOAD_MB"):
            try:
                values["max_upload_bytes"] = int(
                    float(os.environ["GARDEFOU_MAX_UPLOAD_MB"]) * 2**20
                )
            except ValueError:
                raise ConfigError(
                    f"GARDEFOU_MAX_UPLOAD_MB={os.environ['GARDEFOU_MAX_UPLOAD_MB']!r}: not a number"
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
