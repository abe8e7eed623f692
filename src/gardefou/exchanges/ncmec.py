"""NCMEC's hash sharing API (v2, XML) through python-threatexchange's ``NCMECHashAPI``.

``GET {environment}/v2/entries?from=&to=`` answers ``<images maxTimestamp=...>`` and
``<videos ...>`` blocks of ``<image>``/``<video>`` entries (an id, a member, a classification,
``<fingerprints>`` such as ``<md5>``, ``<sha1>``, ``<pdq>``, ``<pdna>``) and tombstones
``<deletedImage>``/``<deletedVideo>``, plus ``<paging><next>`` (a path to the next page of the
same time range). NCMEC does not return a range in time order, so the only safe checkpoint is a
fully fetched range (python-threatexchange's own warning): each run fetches the range
[checkpoint, now - 5 s]; mid-range, the checkpoint holds the range and the next-page path, and a
kill resumes from that page (idempotent), a refused path restarts the range.

Fingerprints become records keyed by type: ``pdq`` is matched, everything else (``md5``, ``sha1``,
``pdna``, ``videntifier``...) is kept as ``ncmec_<type>`` (``md5`` stays ``md5``). A deleted
entry withdraws its fingerprints. Feedback (NCMEC's up/down votes per entry and fingerprint
type) is not sent yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gardefou.errors import ConfigError, ExchangeAuthError, ExchangeError
from gardefou.exchanges.clients import Client, Page, Record, retry_after


@dataclass(frozen=True)
class _Environment:  # NCMECHashAPI reads only ``environment.value``: the base URL
    value: str


class NCMECClient(Client):
    kind = "ncmec"

    def __init__(self, url: str, secret: str, environment: str = "", lag: float = 5.0) -> None:
        self.lag = lag  # seconds: the newest moments of a range may still be written
        try:
            from threatexchange.exchanges.clients.ncmec import hash_api
        except ImportError:
            raise ConfigError(
                "NCMEC exchanges need python-threatexchange; install it with "
                "`pip install 'gardefou[exchanges]'`"
            ) from None
        user, sep, password = secret.partition(":")
        if not sep or not user or not password:
            raise ExchangeAuthError("NCMEC credentials must be 'username:password'")
        if url:
            env: Any = _Environment(url.rstrip("/"))
        else:
            try:
                env = hash_api.NCMECEnvironment[environment or "Industry"]
            except KeyError:
                names = ", ".join(e.name for e in hash_api.NCMECEnvironment)
                raise ConfigError(
                    f"NCMEC environment {environment!r} is unknown; use one of {names}"
                ) from None
        self.api = hash_api.NCMECHashAPI(user, password, env)

    def fetch_page(self, checkpoint: dict[str, Any]) -> Page:
        import requests

        start = int(checkpoint.get("update_time", 0))
        end = int(checkpoint.get("window_end") or time.time() - self.lag)
        next_ = str(checkpoint.get("next", ""))
        try:
            resp = self.api.get_entries(start_timestamp=start, end_timestamp=end, next_=next_)
        except requests.RequestException as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                raise ExchangeAuthError(
                    f"NCMEC refused the credentials (HTTP {status}); check user and password"
                ) from None
            err = ExchangeError(f"NCMEC fetch failed: {str(exc)[:300]}", retry_after(exc))
            err.status = status
            raise err from None
        except Exception as exc:  # noqa: BLE001 - the library raises bare Exception on bad XML
            raise ExchangeError(f"NCMEC sent a malformed page ({str(exc)[:200]})") from None
        records: list[Record] = []
        for u in resp.updates:
            meta = {"ncmec_id": u.id, "member_id": u.member_id, "type": u.entry_type.value}
            if u.classification:
                meta["classification"] = u.classification
            for name, value in (u.fingerprints or {}).items():
                kind = name.lower()
                signal_type = kind if kind in ("pdq", "md5") else f"ncmec_{kind}"
                records.append(Record(signal_type, value.strip(), u.deleted, meta, u.id))
            if u.deleted and not u.fingerprints:  # a tombstone: the id only
                records.append(Record("ncmec_entry", "", True, meta, u.id))
        if resp.next:
            cp = {"update_time": start, "window_end": end, "next": resp.next}
        else:
            cp = {"update_time": end}
        return Page(records, cp, bool(resp.next), 0, resp.max_timestamp)

    def restart_run(self, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in checkpoint.items() if k != "next"}
