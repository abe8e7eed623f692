"""`gardefou gateway`: the OpenAI Images API, checked and labelled, in front of a generator.

With ``--workers N`` uvicorn runs N processes, each building its gateway from the settings
this command validated (passed by environment, as `gardefou serve` does). What must be shared
is: rate limits in Redis (``--redis-url``, required with N > 1: in-memory limits would let
each worker allow the full rate), API keys and their revocation, cases, strikes and sanctions
in the database every worker reads on every request.
"""

from __future__ import annotations

import os
from typing import Any

import click

from gardefou.cli.group import cli
from gardefou.cli.options import file_option, int_option, listen_options


@cli.command()
@click.option(
    "--upstream",
    envvar="GARDEFOU_GATEWAY_UPSTREAM",
    metavar="URL",
    help="The generator's OpenAI-compatible base URL, e.g. http://gen:8000/v1 "
    "(its key: GARDEFOU_GATEWAY_UPSTREAM_KEY).",
)
@file_option(
    "--config",
    "config_file",
    envvar="GARDEFOU_GATEWAY_CONFIG",
    help="YAML/JSON file of gateway settings.",
)
@listen_options(
    "Address to bind (loopback by default; put a TLS proxy in front).",
    8090,
    "Port to listen on.",
)
@file_option("--c2pa-cert", help="PEM certificate chain (signer first) that signs the C2PA labels.")
@file_option("--c2pa-key", help="PEM private key of the C2PA signer.")
@click.option(
    "--labels",
    type=click.Choice(["c2pa", "none"]),
    default=None,
    help="c2pa (default): sign every image; none: no labels (Art. 50 is yours).",
)
@click.option(
    "--watermark/--no-watermark",
    default=None,
    help="Also embed gardefou's invisible watermark (images become PNG).",
)
@click.option(
    "--redis-url",
    default=None,
    envvar="GARDEFOU_GATEWAY_REDIS_URL",
    help="Share rate limits across gateway processes.",
)
@click.option("--rate-user", default=None, help="Per-user limit, e.g. 60/minute.")
@click.option("--rate-global", default=None, help="Limit over all users, e.g. 6000/minute.")
@int_option(
    "--retain-prompt-days",
    default=None,
    help="Keep prompt text in the audit this many days (0: hashes only).",
    low=0,
    high=3650,
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=None,
    help="Seconds the upstream may take, retries included [120].",
)
@click.option("--generator-name", default=None, help="The generator named in the C2PA manifest.")
@int_option(
    "--workers",
    default=1,
    help="Worker processes (more than 1 needs --redis-url: shared rate limits).",
    high=64,
    envvar="GARDEFOU_GATEWAY_WORKERS",
)
@click.pass_context
def gateway(
    ctx: click.Context,
    upstream: str | None,
    config_file: str | None,
    host: str,
    port: int,
    workers: int,
    **options: Any,
) -> None:
    """Serve /v1/images/generations and /v1/images/edits: checked, labelled, accountable.

    Clients change their base URL to http://HOST:PORT/v1 and their key to a gardefou API key
    (role platform); the gateway forwards allowed requests to --upstream.
    """
    from gardefou.cli.commands_web import _require_service_extra

    _require_service_extra()
    import uvicorn

    from gardefou.asgi import uvicorn_options
    from gardefou.gateway import GatewayConfig, build_service, create_gateway_app
    from gardefou.gateway.config import load_file
    from gardefou.store import connect
    from gardefou.web.auth import KeyStore

    values: dict[str, Any] = load_file(config_file) if config_file else {}
    values.update({k: v for k, v in options.items() if v is not None})
    if upstream:
        values["upstream"] = upstream
    config = GatewayConfig.from_env(**values)
    if workers > 1 and not config.redis_url:
        from gardefou.errors import ConfigError

        raise ConfigError(
            f"--workers {workers} needs --redis-url (GARDEFOU_GATEWAY_REDIS_URL): with "
            "in-memory rate limits each worker would allow the full rate"
        )
    db_url = (ctx.obj or {}).get("db")
    db = connect(db_url)
    service = build_service(config, db=db)  # a bad key, policy or URL stops here
    keys = KeyStore(db)
    if not keys.list():
        _, key = keys.create("first-gateway-client", "platform")
        click.echo(
            f"created the first gateway API key (role platform, shown once): {key}", err=True
        )
    click.echo(
        f"gardefou gateway on http://{host}:{port}/v1 -> {config.upstream}; labels: "
        f"{config.labels}{' + watermark' if config.watermark else ''}; metrics /metrics",
        err=True,
    )
    if workers == 1:
        uvicorn.run(
            create_gateway_app(service, keys),
            host=host,
            port=port,
            log_level="warning",
            **uvicorn_options(),
        )
        return
    os.environ[SETTINGS_ENV] = config.model_dump_json()
    if db_url:
        os.environ["GARDEFOU_DB"] = str(db_url)
    db.close()
    uvicorn.run(
        "gardefou.cli.commands_gateway:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        **uvicorn_options(),
    )


SETTINGS_ENV = "GARDEFOU__GATEWAY_WORKER_SETTINGS"  # set by the command for its own workers


def worker_app() -> Any:
    """The app each worker process of `gardefou gateway --workers N` builds."""
    from gardefou.gateway import GatewayConfig, build_service, create_gateway_app
    from gardefou.store import connect
    from gardefou.web.auth import KeyStore

    config = GatewayConfig.model_validate_json(os.environ[SETTINGS_ENV])
    db = connect(os.environ.get("GARDEFOU_DB"))
    return create_gateway_app(build_service(config, db=db), KeyStore(db))
