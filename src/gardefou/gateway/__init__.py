"""A drop-in safety gateway for image generators: the OpenAI Images API in front of any model.

    from gardefou.gateway import GatewayConfig, build_service, create_gateway_app
    config = GatewayConfig(upstream="http://generator:8000/v1", c2pa_cert="c.pem", c2pa_key="k.pem")
    app = create_gateway_app(build_service(config), KeyStore(db))  # ASGI; or `gardefou gateway`

The client changes its base URL and key only. Requests are checked before generation
(``Guard.check_request``), every image after (``Guard.check_output``), returned images carry a
signed C2PA manifest, refusals are strikes for the ``user``. See docs/gateway.md.
"""

from __future__ import annotations

from typing import Any

from gardefou.gateway.app import create_gateway_app
from gardefou.gateway.config import GatewayConfig
from gardefou.gateway.service import GatewayService, Refused
from gardefou.gateway.upstream import (
    CallableUpstream,
    HTTPUpstream,
    ImageRequest,
    Upstream,
    UpstreamResult,
)


def build_service(
    config: GatewayConfig,
    *,
    db: Any = None,
    guard: Any = None,
    upstream: Any = None,
    labeller: Any = None,
    **kwargs: Any,
) -> GatewayService:
    """A GatewayService from configuration; pass ``upstream`` (e.g. a CallableUpstream), a
    ``guard`` with custom signals, a ``db`` or a ``labeller`` to override what config builds."""
    from gardefou.errors import ConfigError
    from gardefou.gateway.labels import Labeller
    from gardefou.guard import Guard, GuardConfig
    from gardefou.ratelimit import RateLimiter

    if upstream is None:
        if not config.upstream:
            raise ConfigError(
                "the gateway has no upstream: give --upstream URL (the generator's "
                "OpenAI-compatible base URL, e.g. http://gen:8000/v1) or a Python "
                "callable (gardefou.gateway.CallableUpstream)"
            )
        upstream = HTTPUpstream(
            config.upstream,
            config.upstream_key,
            timeout_s=config.timeout_s,
            connect_timeout_s=config.connect_timeout_s,
            retries=config.retries,
            max_retry_after_s=config.max_retry_after_s,
            max_bytes=config.max_upstream_bytes,
            response_format=config.upstream_response_format,
        )
    if labeller is None and config.labels == "c2pa":
        config.check_labels()
        assert config.c2pa_cert and config.c2pa_key
        labeller = Labeller.from_files(
            config.c2pa_cert,
            config.c2pa_key,
            config.c2pa_alg,
            config.generator_name,
            config.watermark,
        )
    if guard is None:
        guard = Guard(
            GuardConfig(max_prompt_chars=config.max_prompt_chars, max_images=config.max_images)
        )
    if db is None:
        from gardefou.store import connect

        db = connect(None)
    kwargs.setdefault("limits", RateLimiter(config.redis_url, prefix="gardefou-gw"))
    return GatewayService(config, guard, upstream, db, labeller, **kwargs)


__all__ = [
    "CallableUpstream",
    "GatewayConfig",
    "GatewayService",
    "HTTPUpstream",
    "ImageRequest",
    "Refused",
    "Upstream",
    "UpstreamResult",
    "build_service",
    "create_gateway_app",
]
