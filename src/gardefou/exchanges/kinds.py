"""The exchange kinds gardefou syncs with, and the one constructor from a stored exchange row.

It sits above every client module (``clients``, ``ncmec``, ``threatexchange``) so that they
import their shared base from ``clients`` and nothing imports back."""

from __future__ import annotations

from typing import Any

from gardefou.errors import ConfigError
from gardefou.exchanges.clients import Client, FileClient, StopNCIIClient
from gardefou.exchanges.ncmec import NCMECClient
from gardefou.exchanges.threatexchange import ThreatExchangeClient

KINDS = ("stopncii", "ncmec", "threatexchange", "file")


def make_client(kind: str, url: str, secret: str | None, config: dict[str, Any]) -> Client:
    if kind == "stopncii":
        return StopNCIIClient(url, secret or "", int(config.get("page_size", 800)))
    if kind == "file":
        return FileClient(url)
    if kind == "ncmec":
        env, lag = str(config.get("environment", "")), float(config.get("lag", 5.0))
        return NCMECClient(url, secret or "", env, lag)
    if kind == "threatexchange":
        lag = float(config.get("lag", 5.0))
        return ThreatExchangeClient(url, secret or "", config.get("privacy_group"), lag)
    raise ConfigError(f"exchange kind {kind!r} is unknown; use one of {', '.join(KINDS)}")
