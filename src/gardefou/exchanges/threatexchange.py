"""Meta's ThreatExchange (Graph API) through python-threatexchange's ``ThreatExchangeAPI``.

``GET {graph}/{privacy_group}/threat_updates/?access_token=&start_time=&stop_time=&limit=&fields=``
answers ``{"data": [{"id", "indicator", "type", "last_updated", "should_delete", ...}],
"paging": {"next": url}}``. Like NCMEC, the checkpoint moves only when a time range has been read
whole; mid-range it holds the range and the next-page URL **without** its ``access_token`` (the
Graph API repeats the token in ``next``; gardefou never stores a secret) and adds the token back
on resume.

Types: ``HASH_PDQ`` is matched; ``HASH_MD5`` is kept as ``md5``, anything else as
``te_<type>``. ``should_delete`` withdraws. The library's ``get_json_from_url`` neither retries
nor sets a timeout; gardefou's fetch loop retries (honouring ``Retry-After``), and an expired or
wrong token (Graph API ``OAuthException``, HTTP 400/401/403) is an auth error.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from gardefou.errors import ConfigError, ExchangeAuthError, ExchangeError
from gardefou.exchanges.clients import Client, Page, Record, retry_after

FIELDS = ("id", "indicator", "type", "creation_time", "last_updated", "should_delete", "tags")
_TYPES = {"HASH_PDQ": "pdq", "HASH_MD5": "md5"}


def _strip_token(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "access_token"]
    return urlunsplit(parts._replace(query=urlencode(query)))


class ThreatExchangeClient(Client):
    kind = "threatexchange"

    def __init__(self, url: str, secret: str, privacy_group: Any, lag: float = 5.0) -> None:
        try:
            from threatexchange.exchanges.clients.fb_threatexchange import api
        except ImportError:
            raise ConfigError(
                "ThreatExchange exchanges need python-threatexchange; install it with "
                "`pip install 'gardefou[exchanges]'`"
            ) from None
        if not api.is_valid_app_token(secret):
            raise ExchangeAuthError("a ThreatExchange token looks like 'APP_ID|SECRET'")
        try:
            self.group = int(privacy_group)
        except (TypeError, ValueError):
            raise ConfigError(
                f"ThreatExchange privacy group {privacy_group!r} is not a number; "
                "give it with --privacy-group"
            ) from None
        self.token = secret
        self.api = api.ThreatExchangeAPI(secret, endpoint_override=url.rstrip("/") or None)
        self.lag = lag

    def fetch_page(self, checkpoint: dict[str, Any]) -> Page:
        import requests

        start = int(checkpoint.get("update_time", 0))
        end = int(checkpoint.get("window_end") or time.time() - self.lag)
        nxt = str(checkpoint.get("next", ""))
        params: dict[str, Any]
        if nxt:
            url, params = nxt, {"access_token": self.token}
        else:
            url = f"{self.api._base_url}/{self.group}/threat_updates/"
            params = {
                "access_token": self.token,
                "start_time": start,
                "stop_time": end,
                "limit": 1000,
                "fields": ",".join(FIELDS),
            }
        try:
            body = self.api.get_json_from_url(url, params)
        except requests.RequestException as exc:
            response = getattr(exc, "response", None)
            status = getattr(response, "status_code", None)
            oauth = False
            try:
                oauth = response is not None and "OAuthException" in response.text
            except Exception:  # noqa: BLE001 - a body we cannot read is no auth hint
                oauth = False
            if status in (401, 403) or (status == 400 and oauth):
                raise ExchangeAuthError(
                    f"ThreatExchange refused the token (HTTP {status}); check the app token"
                ) from None
            if isinstance(exc, ValueError):
                raise ExchangeError(f"ThreatExchange sent a malformed page ({exc})") from None
            err = ExchangeError(f"ThreatExchange fetch failed: {str(exc)[:300]}", retry_after(exc))
            err.status = status
            raise err from None
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise ExchangeError("ThreatExchange sent a malformed page (no data list)")
        records, malformed, newest = [], 0, None
        for item in body.get("data", []):
            if not isinstance(item, dict) or not isinstance(item.get("indicator"), str):
                malformed += 1
                continue
            kind = str(item.get("type", ""))
            signal_type = _TYPES.get(kind) or "te_" + "".join(
                c if c.isalnum() else "_" for c in kind.lower()
            )
            meta = {k: item[k] for k in ("id", "last_updated", "tags") if k in item}
            records.append(
                Record(signal_type, item["indicator"].strip(), bool(item.get("should_delete")),
                       meta, str(item.get("id") or "") or None)
            )  # fmt: skip
            updated = item.get("last_updated")
            if isinstance(updated, int):
                newest = updated if newest is None else max(newest, updated)
        paging = body.get("paging") or {}
        following = paging.get("next") if isinstance(paging, dict) else None
        if following:
            cp = {"update_time": start, "window_end": end, "next": _strip_token(following)}
        else:
            cp = {"update_time": end}
        return Page(records, cp, bool(following), malformed, newest)

    def restart_run(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in checkpoint.items() if k != "next"}
