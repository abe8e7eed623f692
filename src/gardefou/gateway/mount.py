"""The gateway as a section of `gardefou serve`: mounted at ``/gateway`` when configured.

Configured means GARDEFOU_GATEWAY_UPSTREAM (or GARDEFOU_GATEWAY_CONFIG, a YAML file) is set; the
gateway then shares the service's database (cases, strikes, audit) and API keys. Clients use
``base_url = "https://<host>/gateway/v1"``. Kept apart from web/app.py so that the web service
needs only the one call below to include it.
"""

from __future__ import annotations

import os
from typing import Any

PREFIX = "/gateway"


def configured(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("GARDEFOU_GATEWAY_UPSTREAM") or env.get("GARDEFOU_GATEWAY_CONFIG"))


def mount_gateway(app: Any, services: Any) -> bool:
    """Mount the gateway on ``app`` (a FastAPI app of gardefou.web) if configured; True if so.
    A configuration error stops the service at start-up rather than serving without checks."""
    if not configured():
        return False
    from gardefou.gateway import GatewayConfig, build_service, create_gateway_app

    config = GatewayConfig.from_env()
    extra = {}
    shared = getattr(services.settings, "rate_limit_url", None)
    if shared and not config.redis_url:
        # `serve --workers N` shares its limits in Redis: so do the gateway's, in their own
        # namespace, or each worker would allow the gateway's full rate
        from gardefou.ratelimit import RateLimiter

        extra["limits"] = RateLimiter(shared, prefix="gardefou-gw")
    service = build_service(config, db=services.db, **extra)
    app.mount(PREFIX, create_gateway_app(service, keys=services.keys))
    return True
