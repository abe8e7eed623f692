"""`gardefou serve` (the web service) and `gardefou apikey` (key management)."""

from __future__ import annotations

import click

from gardefou.cli.group import cli, emit_json, open_store
from gardefou.cli.options import int_option, listen_options
from gardefou.errors import ConfigError


def _require_service_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the web service needs FastAPI and uvicorn; install them with "
            "`pip install 'gardefou[service]'`"
        ) from None


def _check_port_free(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will (SO_REUSEADDR), and release it: a port in use is
    a ConfigError now, not a crash after a first admin key has been created and printed."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve --host {host!r}: {exc}") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (port in use or not "
                "allowed); stop the other server or choose another --port"
            ) from None


@cli.command()
@listen_options(
    "Address to bind (loopback by default; put a TLS proxy in front otherwise).",
    8080,
    "Port to listen on.",
)
@click.option(
    "--db", "db_opt", default=None, metavar="URL|PATH", help="Store (overrides --db of gardefou)."
)
@int_option("--workers", default=1, help="Server processes (uvicorn workers).", high=64)
@click.option(
    "--max-upload-mb",
    default=20.0,
    show_default=True,
    type=float,
    help="Largest upload accepted, in MB.",
)
@click.option(
    "--hma",
    is_flag=True,
    envvar="GARDEFOU_HMA_API",
    help="Also serve the HMA-compatible API (/h, /m, /c, /status); see docs/exchanges.md.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    db_opt: str | None,
    workers: int,
    max_upload_mb: float,
    hma: bool,
) -> None:
    """Serve the HTTP API, the review console (/console) and the takedown portal (/portal)."""
    _require_service_extra()
    import os

    import uvicorn

    from gardefou.store import connect
    from gardefou.web.auth import KeyStore

    _check_port_free(host, port)  # before any key is created or "serving" is printed
    db = db_opt or (ctx.obj or {}).get("db")
    if db:
        os.environ["GARDEFOU_DB"] = str(db)
    os.environ["GARDEFOU_MAX_UPLOAD_MB"] = str(max_upload_mb)
    from gardefou.web.settings import Settings

    settings = Settings.from_env()  # refuses a bad GARDEFOU_* value before anything starts
    if settings.rate_limit_url:  # an unreachable Redis: stop now, not in every worker
        from gardefou.web.limits import RateLimiter

        RateLimiter(settings.rate_limit_url, prefix=settings.rate_limit_prefix)
    if hma:  # the app factory runs in uvicorn's workers: settings travel by environment
        os.environ["GARDEFOU_HMA_API"] = "1"
    if (ctx.obj or {}).get("no_migrate"):
        os.environ["GARDEFOU_AUTO_MIGRATE"] = "0"
    store = connect(db)  # refuses a store that is behind when auto-migration is off
    keys = KeyStore(store)
    if not keys.list() and not os.environ.get("GARDEFOU_ADMIN_KEY"):
        _, key = keys.create("first-admin", "admin")
        click.echo(f"created the first admin API key (shown once): {key}", err=True)
    store.close()
    click.echo(
        f"gardefou serving on http://{host}:{port} (portal /portal, console /console"
        + (", API docs /docs" if settings.api_docs else "")
        + (f", metrics /metrics for {settings.metrics} access" if settings.metrics != "off" else "")
        + ")",
        err=True,
    )
    from uvicorn.config import LOGGING_CONFIG

    from gardefou.asgi import uvicorn_options
    from gardefou.ops.logs import logging_config
    from gardefou.web.metrics import per_run_directory

    log_config = logging_config((ctx.obj or {}).get("log_format") or "text")
    # several workers share their counters through files in a directory made for this run
    with per_run_directory(settings.metrics != "off" and workers > 1):
        uvicorn.run(
            "gardefou.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local process (or
            # a proxy passing the header through) could then pick its client address and dodge
            # the per-address limits. Only the proxies in GARDEFOU_TRUSTED_PROXIES are believed.
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
            log_config=log_config or LOGGING_CONFIG,  # text: uvicorn's own default
            **uvicorn_options(),
        )


@cli.group()
def apikey() -> None:
    """Create, list and revoke API keys (roles: admin, moderator, auditor, platform, public)."""


@apikey.command("create")
@click.option(
    "--name",
    required=True,
    help="Who the key is for (a person or a service), shown by `apikey list`.",
)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "moderator", "auditor", "platform", "public"]),
    help="What the key may do; each route names the roles it accepts.",
)
@click.pass_context
def apikey_create(ctx: click.Context, name: str, role: str) -> None:
    """Create a key and print it once as JSON."""
    from gardefou.web.auth import KeyStore

    kid, key = KeyStore(open_store(ctx)).create(name, role)
    emit_json({"id": kid, "name": name, "role": role, "key": key})


@apikey.command("list")
@click.pass_context
def apikey_list(ctx: click.Context) -> None:
    """List keys (ids, names, roles, prefixes; never the keys)."""
    from gardefou.web.auth import KeyStore

    for row in KeyStore(open_store(ctx)).list():
        emit_json(row)


@apikey.command("revoke")
@click.argument("key_id", type=int)
@click.pass_context
def apikey_revoke(ctx: click.Context, key_id: int) -> None:
    """Revoke key KEY_ID (from `apikey list`) at once."""
    from gardefou.web.auth import KeyStore

    KeyStore(open_store(ctx)).revoke(key_id)
    emit_json({"id": key_id, "revoked": True})


@cli.group()
def takedown() -> None:
    """Takedown requests: the open queue and the deadline alerts (for cron or a pager)."""


@takedown.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Include closed requests.")
@click.pass_context
def takedown_list(ctx: click.Context, include_closed: bool) -> None:
    """Open requests, nearest deadline first, one JSON object a line (no contact details)."""
    import time

    from gardefou.takedown import TakedownService

    svc = TakedownService(open_store(ctx))
    now = time.time()
    for r in svc.queue(include_closed=include_closed, limit=None):
        view = r.public_view(now)
        view["id"] = r.id
        emit_json(view)


@takedown.command("alerts")
@click.pass_context
def takedown_alerts(ctx: click.Context) -> None:
    """Requests due soon or past their deadline, one JSON object a line. Exit 1 when any
    deadline is breached, so a cron job or monitor can page someone."""
    import sys

    from gardefou.takedown import TakedownService

    alerts = TakedownService(open_store(ctx)).alerts()
    for a in alerts:
        emit_json(a)
    if any(a["state"] == "breached" for a in alerts):
        sys.exit(1)
