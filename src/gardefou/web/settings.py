"""Service settings: one frozen dataclass, filled from arguments or GARDEFOU_* variables."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import ConfigError

#: Requests per minute per API key (per client address for the anonymous public portal), and
#: ``failed_keys``: wrong API keys per minute per client address before it gets 429s.
DEFAULT_RATES: dict[str, int] = {
    "admin": 6000,
    "moderator": 3000,
    "auditor": 1200,
    "platform": 60000,
    "public": 60,
    "failed_keys": 30,
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
METRICS_MODES = ("off", "local", "key")


#: (variable, setting, type, scale) of the media decoding settings.
_MEDIA_ENV: tuple[tuple[str, str, type, float], ...] = (
    ("GARDEFOU_MAX_IMAGE_MP", "max_image_pixels", int, 1e6),
    ("GARDEFOU_MAX_ANIMATION_MP", "max_total_pixels", int, 1e6),
    ("GARDEFOU_MAX_DECODES", "max_decodes", int, 1),
    ("GARDEFOU_DECODE_WAIT_S", "decode_wait_s", float, 1),
    ("GARDEFOU_MAX_VIDEO_S", "max_video_seconds", float, 1),
    ("GARDEFOU_MAX_VIDEO_DECODE_S", "max_video_decode_seconds", float, 1),
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
    rate_limit_url: str | None = None  # redis://...: shared by every worker; None: per process
    rate_limit_prefix: str = "gardefou"  # Redis key prefix (several deployments, one Redis)
    rate_limit_buckets: int = 1_000_000  # in-process limiter: callers remembered at most
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For uvicorn believes
    api_docs: bool = False  # /docs and /redoc (Swagger UI and ReDoc load from a CDN)
    # Decoding in a shared service: a lower pixel limit than the CLI's (a 16 MP RGBA upload costs
    # ~270 MB while decoded, converted and hashed: benchmarks/hostile_uploads.py), canvas x
    # frames bounded, and a few decodes at a time per process.
    max_image_pixels: int = 16_000_000
    max_total_pixels: int = 500_000_000
    max_decodes: int = 2
    decode_wait_s: float = 5.0
    # Clips (MP4, MOV, WebM, MKV) on /v1/scan, /v1/decisions and /v1/ingest: every frame is
    # decoded (vPDQ samples by frame number), ~0.1 CPU s per second of 720p video, so the
    # duration bounds the CPU one upload can take; the byte limit is max_upload_bytes.
    max_video_seconds: float = 60.0
    max_video_decode_seconds: float = 30.0
    video_banks: str | None = None  # old JSON Lines video banks, imported once; None: next to db
    # /metrics: "off" (default), "local" (loopback clients only, no key) or "key" (an admin or
    # auditor API key); see docs/operations.md
    metrics: str = "off"
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        for name in (
            "max_upload_bytes",
            "max_body_bytes",
            "review_media_days",
            "rate_limit_buckets",
            "max_image_pixels",
            "max_total_pixels",
            "max_decodes",
            "max_video_seconds",
            "max_video_decode_seconds",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"setting {name}={getattr(self, name)!r} must be positive")
        unknown = set(self.rates) - set(DEFAULT_RATES)
        if unknown:
            raise ConfigError(
                f"rate limits for unknown roles {sorted(unknown)}; roles are "
                f"{', '.join(DEFAULT_RATES)}"
            )
        # a partial table (``rates={"public": 3}``) overrides those roles only
        object.__setattr__(self, "rates", {**DEFAULT_RATES, **self.rates})
        if self.metrics not in METRICS_MODES:
            raise ConfigError(
                f"GARDEFOU_METRICS={self.metrics!r}: use off (default), local (loopback "
                "clients only) or key (an admin or auditor API key)"
            )
        for proxy in self.trusted_proxies:
            if proxy == "*":
                continue  # every peer: only behind a network that no one else can reach
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(
                    f"trusted proxy {proxy!r} is not an IP address or network; use e.g. "
                    "10.0.0.5 or 10.0.0.0/24 (comma-separated in GARDEFOU_TRUSTED_PROXIES)"
                ) from None

    def media_limits(self) -> Any:
        """Intake limits of the service (``gardefou.media.Limits``)."""
        from gardefou.media import Limits

        return Limits(
            max_bytes=self.max_upload_bytes,
            max_pixels=self.max_image_pixels,
            max_total_pixels=self.max_total_pixels,
        )

    def video_limits(self) -> Any:
        """Limits of one clip (``gardefou.media.video.VideoLimits``): the upload byte limit,
        the image pixel limit capped at 1080p, the duration and decode-time settings."""
        from gardefou.media.video import VideoLimits

        return VideoLimits(
            max_bytes=self.max_upload_bytes,
            max_pixels=min(self.max_image_pixels, 1920 * 1088),
            max_seconds=self.max_video_seconds,
            max_decode_seconds=self.max_video_decode_seconds,
        )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from GARDEFOU_DB, GARDEFOU_ADMIN_KEY, GARDEFOU_MAX_UPLOAD_MB,
        GARDEFOU_RATE_LIMIT_URL, GARDEFOU_TRUSTED_PROXIES, GARDEFOU_API_DOCS, GARDEFOU_METRICS,
        then overrides."""
        values: dict[str, object] = {}
        if os.environ.get("GARDEFOU_RATE_LIMIT_URL"):
            values["rate_limit_url"] = os.environ["GARDEFOU_RATE_LIMIT_URL"]
        proxies = os.environ.get("GARDEFOU_TRUSTED_PROXIES", "")
        values["trusted_proxies"] = tuple(p.strip() for p in proxies.split(",") if p.strip())
        docs = os.environ.get("GARDEFOU_API_DOCS", "").strip().lower()
        if docs not in _TRUE + _FALSE:
            raise ConfigError(f"GARDEFOU_API_DOCS={docs!r}: use 1 (serve /docs) or 0 (default)")
        values["api_docs"] = docs in _TRUE
        if os.environ.get("GARDEFOU_DB"):
            values["db"] = os.environ["GARDEFOU_DB"]
        if os.environ.get("GARDEFOU_METRICS"):
            values["metrics"] = os.environ["GARDEFOU_METRICS"].strip().lower()
        if os.environ.get("GARDEFOU_VIDEO_BANKS"):
            values["video_banks"] = os.environ["GARDEFOU_VIDEO_BANKS"]
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
