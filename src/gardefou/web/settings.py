"""Service settings: one frozen dataclass, filled from arguments or GARDEFOU_* variables."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import ConfigError

#: Requests per minute per API key (per client address for the anonymous public portal).
DEFAULT_RATES: dict[str, int] = {
    "admin": 6000,
    "moderator": 3000,
    "auditor": 1200,
    "platform": 60000,
    "public": 60,
}


#: (variable, setting, type, scale) of the media decoding settings.
_MEDIA_ENV: tuple[tuple[str, str, type, float], ...] = (
    ("GARDEFOU_MAX_IMAGE_MP", "max_image_pixels", int, 1e6),
    ("GARDEFOU_MAX_ANIMATION_MP", "max_total_pixels", int, 1e6),
    ("GARDEFOU_MAX_DECODES", "max_decodes", int, 1),
    ("GARDEFOU_DECODE_WAIT_S", "decode_wait_s", float, 1),
)


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
    # Decoding in a shared service: a lower pixel limit than the CLI's (a 16 MP RGBA upload costs
    # ~270 MB while decoded, converted and hashed: benchmarks/hostile_uploads.py), canvas x
    # frames bounded, and a few decodes at a time per process.
    max_image_pixels: int = 16_000_000
    max_total_pixels: int = 500_000_000
    max_decodes: int = 2
    decode_wait_s: float = 5.0
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        for name in (
            "max_upload_bytes",
            "max_body_bytes",
            "review_media_days",
            "max_image_pixels",
            "max_total_pixels",
            "max_decodes",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"setting {name}={getattr(self, name)!r} must be positive")
        unknown = set(self.rates) - set(DEFAULT_RATES)
        if unknown:
            raise ConfigError(
                f"rate limits for unknown roles {sorted(unknown)}; roles are "
                f"{', '.join(DEFAULT_RATES)}"
            )

    def media_limits(self) -> Any:
        """Intake limits of the service (``gardefou.media.Limits``)."""
        from gardefou.media import Limits

        return Limits(
            max_bytes=self.max_upload_bytes,
            max_pixels=self.max_image_pixels,
            max_total_pixels=self.max_total_pixels,
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
        for var, name, kind, scale in _MEDIA_ENV:
            if os.environ.get(var):
                try:
                    values[name] = kind(float(os.environ[var]) * scale)
                except ValueError:
                    raise ConfigError(f"{var}={os.environ[var]!r}: not a number") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
