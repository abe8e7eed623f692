"""``gardefou doctor``: is this installation ready to run? Each check says ok, warning or error,
one line why, and the details; the command's exit code is the worst severity (0 ok, 1 warning,
2 error), so a deploy script or a readiness probe can stop on it.

A check that itself fails unexpectedly is an error, never a silent ok (fail closed). Nothing here
writes: a missing SQLite file is reported, not created, and no key is generated.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gardefou.errors import GardefouError
from gardefou.ops.checks import ERROR, OK, SEVERITY, WARNING, Check, exit_code, guarded
from gardefou.ops.doctor_keys import check_keys
from gardefou.ops.doctor_models import check_cpu, check_models

__all__ = ["ERROR", "OK", "SEVERITY", "WARNING", "Check", "exit_code", "guarded", "run"]


def run(db: str | None, *, models: bool = True) -> list[Check]:
    """Every check, in a stable order. ``models=False`` skips loading the models (seconds and
    hundreds of MB each)."""
    checks: list[Check] = []
    steps: list[tuple[str, Callable[[], list[Check]]]] = [
        ("store", lambda: [check_store(db)]),
        ("redis", check_redis),
        ("limits", lambda: [check_limits()]),
        ("keys", lambda: check_keys(db)),
        ("cpu", lambda: [check_cpu()]),
    ]
    if models:
        steps.append(("model", check_models))
    for name, step in steps:
        checks.extend(guarded(name, step))
    return checks


# -- store -------------------------------------------------------------------------------------
def check_store(db: str | None) -> Check:
    from gardefou.store.db import connect, default_db_path
    from gardefou.store.schema import auto_migrate, missing_sqlite_file, status

    auto = auto_migrate()
    path = missing_sqlite_file(str(db) if db else str(default_db_path()))
    if path is not None:
        return Check(
            "store",
            WARNING if auto else ERROR,
            f"no store at {path} yet; `gardefou db upgrade` creates it"
            + (" (any command would create it on first use)" if auto else ""),
            {"store": path, "auto_migrate": auto},
        )
    try:
        store = connect(db, migrate=False)
    except GardefouError as exc:
        return Check("store", ERROR, f"store unreachable: {exc}", {"auto_migrate": auto})
    try:
        st = status(store)
    finally:
        store.close()
    detail = {**st.to_dict(), "auto_migrate": auto}
    if st.state == "ahead":
        return Check(
            "store",
            ERROR,
            f"schema version {st.current} is newer than this gardefou (knows {st.latest}); "
            "upgrade gardefou",
            detail,
        )
    if st.state == "behind":
        return Check(
            "store",
            WARNING if auto else ERROR,
            f"schema version {st.current}, {len(st.pending)} migration(s) pending; run "
            "`gardefou db upgrade`"
            + (" (the next command would apply them)" if auto else " (auto-migration is off)"),
            detail,
        )
    return Check("store", OK, f"{st.dialect} reachable, schema version {st.current}", detail)


# -- Redis -------------------------------------------------------------------------------------
#: Redis URLs gardefou may use, by role: the service's shared rate limits, the stream runner,
#: the gateway's shared quotas
REDIS_SETTINGS = {
    "rate_limit": "GARDEFOU_RATE_LIMIT_URL",
    "stream": "GARDEFOU_REDIS_URL",
    "gateway": "GARDEFOU_GATEWAY_REDIS_URL",
}


def check_redis() -> list[Check]:
    checks = []
    for role, var in REDIS_SETTINGS.items():
        url = os.environ.get(var, "").strip()
        if url:
            checks.append(_ping_redis(f"redis.{role}", var, url))
    if not checks:
        checks.append(Check("redis", OK, "not configured (limits are kept per process)"))
    return checks


def _ping_redis(name: str, var: str, url: str) -> Check:
    from gardefou.store.db import _redact

    shown = _redact(url)
    try:
        import redis
    except ImportError:
        return Check(
            name,
            ERROR,
            f"{var} is set but the redis package is missing; `pip install 'gardefou[scale]'`",
        )
    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()
            version = client.info("server").get("redis_version", "?")
        finally:
            client.close()
    except (redis.RedisError, ValueError) as exc:
        return Check(name, ERROR, f"{var}={shown} unreachable: {exc}", {"url": shown})
    return Check(name, OK, f"{shown} reachable (Redis {version})", {"url": shown, "var": var})


# -- limits ------------------------------------------------------------------------------------
def check_limits() -> Check:
    try:
        from gardefou.web.settings import Settings
    except ImportError as exc:
        return Check(
            "limits", WARNING, f"the service extra is missing ({exc}); only CLI limits apply"
        )
    try:
        s = Settings.from_env()
    except GardefouError as exc:
        return Check("limits", ERROR, f"a service setting is invalid: {exc}")
    detail = {
        "max_upload_mb": round(s.max_upload_bytes / 2**20, 2),
        "max_body_kb": round(s.max_body_bytes / 1024, 1),
        "max_image_mp": s.max_image_pixels / 1e6,
        "max_animation_mp": s.max_total_pixels / 1e6,
        "max_decodes": s.max_decodes,
        "decode_wait_s": s.decode_wait_s,
        "max_video_s": s.max_video_seconds,
        "max_video_decode_s": s.max_video_decode_seconds,
        "rates_per_minute": s.rates,
        "rate_limits_shared": bool(s.rate_limit_url),
        "trusted_proxies": list(s.trusted_proxies),
        "metrics": s.metrics,
    }
    summary = (
        f"uploads {detail['max_upload_mb']} MB, images {detail['max_image_mp']:g} MP, "
        f"{s.max_decodes} decodes at a time, clips {s.max_video_seconds:g} s, rate limits "
        + ("shared (Redis)" if s.rate_limit_url else "per process")
    )
    if "*" in s.trusted_proxies:
        return Check(
            "limits",
            WARNING,
            summary + "; GARDEFOU_TRUSTED_PROXIES=* believes X-Forwarded-For from every peer",
            detail,
        )
    return Check("limits", OK, summary, detail)
