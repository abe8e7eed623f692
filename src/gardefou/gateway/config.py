"""Gateway configuration: one pydantic model, filled from arguments, a file or GARDEFOU_GATEWAY_*.

Validated once at start-up so that a bad value stops the gateway with a message naming the
setting and the fix, instead of failing (or worse, allowing) on the first request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from gardefou.errors import ConfigError

#: environment variable -> field (docs/gateway.md lists them all)
ENV = {
    "GARDEFOU_GATEWAY_UPSTREAM": "upstream",
    "GARDEFOU_GATEWAY_UPSTREAM_KEY": "upstream_key",
    "GARDEFOU_GATEWAY_TIMEOUT": "timeout_s",
    "GARDEFOU_GATEWAY_RETRIES": "retries",
    "GARDEFOU_GATEWAY_RATE_USER": "rate_user",
    "GARDEFOU_GATEWAY_RATE_GLOBAL": "rate_global",
    "GARDEFOU_GATEWAY_RATE_SANCTIONED": "rate_sanctioned",
    "GARDEFOU_GATEWAY_REDIS_URL": "redis_url",
    "GARDEFOU_GATEWAY_RETAIN_PROMPT_DAYS": "retain_prompt_days",
    "GARDEFOU_GATEWAY_WATERMARK": "watermark",
    "GARDEFOU_GATEWAY_LABELS": "labels",
    "GARDEFOU_GATEWAY_MAX_N": "max_n",
    "GARDEFOU_GATEWAY_MAX_BODY_MB": "max_body_mb",
    "GARDEFOU_GATEWAY_POLICY": "policy",
    "GARDEFOU_GATEWAY_GENERATOR": "generator_name",
    "GARDEFOU_C2PA_CERT": "c2pa_cert",
    "GARDEFOU_C2PA_KEY": "c2pa_key",
    "GARDEFOU_C2PA_ALG": "c2pa_alg",
    "GARDEFOU_GATEWAY_IMAGE_DIR": "image_dir",
    "GARDEFOU_GATEWAY_IMAGE_URL": "image_url",
    "GARDEFOU_GATEWAY_URL_TTL": "url_ttl_s",
    "GARDEFOU_GATEWAY_URL_SECRET": "url_secret",
}


class GatewayConfig(BaseModel):
    """Everything the gateway reads; ``labels="c2pa"`` (the default) needs a signing key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    upstream: str | None = Field(
        None, description="base URL of the OpenAI-compatible generator, e.g. http://gen:8000/v1"
    )
    upstream_key: str | None = Field(None, description="bearer key sent to the upstream")
    connect_timeout_s: float = Field(5.0, gt=0, le=300)
    timeout_s: float = Field(120.0, gt=0, le=3600, description="whole upstream call, retries in")
    retries: int = Field(2, ge=0, le=10, description="retries on connect errors, 429, 5xx")
    max_retry_after_s: float = Field(30.0, ge=0, le=600)
    max_upstream_bytes: int = Field(200 * 2**20, gt=0, description="largest upstream answer")
    upstream_response_format: str | None = Field(
        None,
        description="response_format sent upstream; None: not sent (gpt-image models reject "
        "it), and b64_json or url answers are both read",
    )
    generator_name: str = Field("upstream image generator", max_length=200)

    max_n: int = Field(4, ge=1, le=16)
    max_images: int = Field(16, ge=1, le=64, description="input images per edit")
    max_prompt_chars: int = Field(4000, ge=1, le=100_000)
    max_body_mb: float = Field(64.0, gt=0, le=1024)
    max_history: int = Field(20, ge=0, le=200)

    rate_user: str = Field("60/minute", description="per user (or key), `limits` notation")
    rate_global: str = Field("6000/minute")
    rate_sanctioned: str = Field("5/hour", description="for users under the rate_limit sanction")
    redis_url: str | None = Field(None, description="share rate limits across processes")

    labels: str = Field("c2pa", pattern="^(c2pa|none)$")
    c2pa_cert: str | None = None
    c2pa_key: str | None = None
    c2pa_alg: str | None = None  # None: the key's own algorithm
    watermark: bool = False

    image_dir: str | None = Field(None, description="response_format=url: where images are kept")
    image_url: str | None = Field(
        None, description="response_format=url: the gateway's public base URL for links"
    )
    url_ttl_s: int = Field(3600, ge=60, le=7 * 86400, description="lifetime of an image link")
    url_secret: str | None = Field(
        None, min_length=32, description="link HMAC key; default: one kept in image_dir"
    )

    retain_prompt_days: int = Field(0, ge=0, le=3650)
    policy: str | None = Field(None, description="policy YAML (accountability section)")
    exempt_users: tuple[str, ...] = ()
    require_user: bool = Field(False, description="refuse requests without a `user` field")

    @field_validator("upstream")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"upstream {v!r} must be an http:// or https:// URL")
        return v.rstrip("/") if v else v

    @field_validator("image_url")
    @classmethod
    def _image_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"image_url {v!r} must be an http:// or https:// URL")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _storage(self) -> GatewayConfig:
        if bool(self.image_dir) != bool(self.image_url):
            raise ValueError(
                "response_format=url needs both image_dir (GARDEFOU_GATEWAY_IMAGE_DIR) and "
                "image_url (GARDEFOU_GATEWAY_IMAGE_URL); set both or neither"
            )
        return self

    @field_validator("rate_user", "rate_global", "rate_sanctioned")
    @classmethod
    def _rate(cls, v: str) -> str:
        from gardefou.ratelimit import parse_rate

        try:
            parse_rate(v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return v

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 2**20)

    def check_labels(self) -> None:
        if self.labels == "c2pa" and not (self.c2pa_cert and self.c2pa_key):
            raise ConfigError(
                "the gateway labels every image with a signed C2PA manifest and needs a key: "
                "set --c2pa-cert/--c2pa-key (GARDEFOU_C2PA_CERT/GARDEFOU_C2PA_KEY), or "
                "labels='none' to run without labels (EU AI Act Art. 50 then falls on you)"
            )

    @classmethod
    def build(cls, **values: Any) -> GatewayConfig:
        """Validate, turning pydantic's error into a ConfigError that names the setting."""
        try:
            return cls(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err.get("loc", ())) or "config"
            raise ConfigError(
                f"gateway setting {where}={err.get('input')!r}: {err.get('msg')}"
            ) from None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> GatewayConfig:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {f: env[k] for k, f in ENV.items() if env.get(k)}
        if env.get("GARDEFOU_GATEWAY_CONFIG"):
            values = {**load_file(env["GARDEFOU_GATEWAY_CONFIG"]), **values}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.build(**values)


def load_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML or JSON mapping of GatewayConfig fields."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read gateway config {str(path)!r} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"gateway config {str(path)!r} is not YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"gateway config {str(path)!r} must be a mapping of settings")
    return data
