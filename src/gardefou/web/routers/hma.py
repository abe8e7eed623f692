"""HMA-compatible REST API: an explicit compatibility mode of `gardefou serve`.

Clients written for Meta's hasher-matcher-actioner (HMA 2.0 "OpenMediaMatch": ROOST's Coop,
moderation bots, scripts) call gardefou unchanged. Off unless ``GARDEFOU_HMA_API=1`` (or
`gardefou serve --hma`). Routes and JSON shapes follow HMA's blueprints and their tests:

- ``/h/hash`` GET ``?url=`` / POST a file (form field ``photo``) -> ``{"pdq": hex}``
- ``/m/lookup`` GET ``?signal=&signal_type=`` -> ``{BANK: [{"bank_content_id", "distance"}]}``;
  POST a file or GET ``?url=`` -> the same keyed by signal type; only actionable matches
- ``/m/raw_lookup`` -> ``{"matches": [ids]}`` (with ``include_distance``: objects)
- ``/m/compare`` ``{"pdq": [a, b]}`` -> ``{"pdq": [match, {"distance": n}]}``
- ``/m/index/status`` -> ``{"pdq": {"present", "built_to", "size"}}``
- ``/status`` "I-AM-ALIVE", or 503 "INDEX-NOT-LOADED" until the bank index is loaded;
  ``/status/live`` always "I-AM-ALIVE"
- ``/c/...`` banks, bank content and exchanges: see hma_curation.py

``hma_mount.mount`` adds these routes and the curation and exchange ones to an app.

Errors are HMA's ``{"message": ...}``. Distances are strings, as HMA sends them. ``?url=`` is
refused (403) unless the operator sets ``GARDEFOU_HMA_ALLOW_URL=1``; then ``url_fetch`` fetches
only from public addresses (``GARDEFOU_HMA_URL_ALLOW_NETWORKS`` adds internal networks), so a
caller cannot make the server reach its own network. Auth: an API key (``X-API-Key`` or
``Authorization: Bearer``), or none for requests from ``GARDEFOU_HMA_TRUSTED_PROXIES``
(comma-separated addresses of a proxy that authenticates callers itself).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from gardefou.errors import AuthError, ConfigError, GardefouError, NotFoundError
from gardefou.media import Limits, load_media
from gardefou.signals.pdq_core import DIHEDRAL_NAMES, pdq_dihedral
from gardefou.web import url_fetch
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import WebServices, principal, services
from gardefou.web.url_fetch import FetchPolicy, Network, parse_networks

_TRUE = ("1", "true", "yes", "on")
PDQ_THRESHOLD = 31  # HMA's PDQ match threshold, for /m/compare


@dataclass(frozen=True)
class HmaConfig:
    enabled: bool = False
    allow_url: bool = False
    trusted_proxies: tuple[str, ...] = ()
    exchanges_write: bool = False
    #: networks ``?url=`` may reach although private (an internal media server)
    url_allow_networks: tuple[Network, ...] = ()
    url_timeout_s: float = 10.0

    @classmethod
    def from_env(cls) -> HmaConfig:
        env = os.environ.get
        timeout_raw = env("GARDEFOU_HMA_URL_TIMEOUT_S", "") or "10"
        try:
            timeout = float(timeout_raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 300:
            raise ConfigError(
                f"GARDEFOU_HMA_URL_TIMEOUT_S={timeout_raw!r} is not a number of seconds from "
                "0 to 300; set e.g. GARDEFOU_HMA_URL_TIMEOUT_S=10"
            )
        return cls(
            url_allow_networks=parse_networks(
                env("GARDEFOU_HMA_URL_ALLOW_NETWORKS", ""), "GARDEFOU_HMA_URL_ALLOW_NETWORKS"
            ),
            url_timeout_s=timeout,
            enabled=env("GARDEFOU_HMA_API", "").lower() in _TRUE,
            allow_url=env("GARDEFOU_HMA_ALLOW_URL", "").lower() in _TRUE,
            trusted_proxies=tuple(
                p.strip() for p in env("GARDEFOU_HMA_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            exchanges_write=env("GARDEFOU_HMA_EXCHANGES_WRITE", "").lower() in _TRUE,
        )


class HmaAbort(Exception):
    """An HMA-shaped error: ``{"message": ...}`` with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# -- auth ----------------------------------------------------------------------------------------
def caller(request: Request, svc: Annotated[WebServices, Depends(services)]) -> Principal:
    config: HmaConfig = request.app.state.hma
    host = request.client.host if request.client else ""
    if config.trusted_proxies and host in config.trusted_proxies:
        return Principal(None, f"trusted-proxy:{host}", Role.ADMIN)
    try:
        p = principal(request, svc, request.headers.get("x-api-key"))
    except AuthError as exc:
        raise HmaAbort(401, str(exc)) from None
    except GardefouError as exc:
        raise HmaAbort(exc.http_status, str(exc)) from None
    if p.anonymous:
        raise HmaAbort(401, "this endpoint needs an API key; send X-API-Key")
    return p


def allowed(p: Principal, *roles: Role) -> Principal:
    if p.role not in {*roles, Role.ADMIN}:
        names = ", ".join(sorted(str(r) for r in {*roles, Role.ADMIN}))
        raise HmaAbort(403, f"key {p.name!r} has role {p.role}; this endpoint needs {names}")
    return p


def reader(p: Annotated[Principal, Depends(caller)]) -> Principal:
    return allowed(p, Role.PLATFORM, Role.MODERATOR, Role.AUDITOR)


Reader = Annotated[Principal, Depends(reader)]
Svc = Annotated[WebServices, Depends(services)]

router = APIRouter(tags=["hma"], include_in_schema=True)


# -- helpers -------------------------------------------------------------------------------------
def ready(request: Request) -> None:
    if not request.app.state.hma_ready.is_set():
        raise HmaAbort(503, "index not yet ready")


def check_pdq(value: str) -> str:
    v = (value or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", v):
        raise HmaAbort(400, f"invalid signal: PDQ {value[:80]!r} is not 64 hex digits")
    return v


def hash_bytes(data: bytes, svc: WebServices) -> tuple[dict[str, str], int]:
    """The 8 dihedral PDQ hashes (the first is the plain hash) and the quality."""
    try:
        media = load_media(data, Limits(max_bytes=svc.settings.max_upload_bytes), label="upload")
        hashes, quality = pdq_dihedral(media.rgb_array())
    except GardefouError as exc:
        raise HmaAbort(400, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - a decoder bug is a bad input, not a 500
        raise HmaAbort(400, f"cannot hash the file: {type(exc).__name__}") from None
    return dict(zip(DIHEDRAL_NAMES, hashes, strict=True)), quality


def fetch_url(request: Request, url: str, svc: WebServices) -> bytes:
    """The body at ``url``, fetched by ``url_fetch`` (public addresses only, pinned, bounded
    in bytes and time); its refusals become HMA's 400 (413 when too large)."""
    config: HmaConfig = request.app.state.hma
    if not config.allow_url:
        raise HmaAbort(
            403, "fetching ?url= is disabled on this server; upload the file instead (the "
            "operator can allow it with GARDEFOU_HMA_ALLOW_URL=1)",
        )  # fmt: skip
    policy = FetchPolicy(
        max_bytes=svc.settings.max_upload_bytes,
        timeout_s=config.url_timeout_s,
        allow_networks=config.url_allow_networks,
    )
    try:
        return url_fetch.fetch(url, policy)
    except GardefouError as exc:
        raise HmaAbort(exc.http_status, str(exc)) from None


async def upload(request: Request) -> tuple[bytes, dict[str, str]]:
    """The one uploaded file (form field ``photo``) and the form's text fields."""
    form = await request.form()
    try:
        files = [(k, v) for k, v in form.multi_items() if not isinstance(v, str)]
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if not files:
            raise HmaAbort(400, "Missing multipart/form-data file upload")
        if len(files) > 1:
            raise HmaAbort(400, "Only one file allowed per request")
        field, f = files[0]
        if field != "photo":
            raise HmaAbort(400, f"no such content_type: '{field}' (this server hashes photo)")
        return bytes(await f.read()), fields
    finally:
        await form.close()


async def read_json(
    request: Request, refusal: str = "this endpoint expects a json object payload"
) -> dict[str, Any]:
    """The request's JSON object; anything else is a 400 with HMA's ``refusal`` text."""
    try:
        data = await request.json()
    except ValueError:
        raise HmaAbort(400, refusal) from None
    if not isinstance(data, dict):
        raise HmaAbort(400, refusal)
    return data


def by_bank(matches: list[Any], banks: set[str] | None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for m in matches:
        if m.actionable and (banks is None or m.bank in banks):
            out.setdefault(m.bank, []).append(
                {"bank_content_id": m.entry_id, "distance": str(m.distance)}
            )
    return out


def lookup_signal(svc: WebServices, signal: str, signal_type: str) -> list[Any]:
    if signal_type == "pdq":
        return svc.banks().match(check_pdq(signal))
    if signal_type == "md5":
        if not re.fullmatch(r"[0-9a-fA-F]{32}", signal or ""):
            raise HmaAbort(400, f"invalid signal: md5 {signal[:80]!r} is not 32 hex digits")
        return svc.banks().match([], md5=signal)
    raise HmaAbort(400, f"No such SignalType '{signal_type}'")


def _banks_param(value: str | None) -> set[str] | None:
    return {b for b in value.split(",") if b} if value else None


# -- status --------------------------------------------------------------------------------------
@router.get("/status", response_class=PlainTextResponse, summary="Ready: index loaded")
def status(request: Request) -> PlainTextResponse:
    if not request.app.state.hma_ready.is_set():
        return PlainTextResponse("INDEX-NOT-LOADED", status_code=503)
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/status/live", response_class=PlainTextResponse, summary="Alive (no index check)")
def status_live() -> PlainTextResponse:
    return PlainTextResponse("I-AM-ALIVE")


# -- hashing -------------------------------------------------------------------------------------
@router.get("/h/hash", summary="Hash the content at ?url= (when the operator allows it)")
def hash_get(request: Request, svc: Svc, p: Reader, url: str = "") -> dict[str, str]:
    hashes, _ = hash_bytes(fetch_url(request, url, svc), svc)
    return {"pdq": hashes["original"]}


@router.post("/h/hash", summary="Hash an uploaded file (form field photo)")
async def hash_post(request: Request, svc: Svc, p: Reader) -> dict[str, str]:
    hashes, _ = hash_bytes((await upload(request))[0], svc)
    return {"pdq": hashes["original"]}


# -- matching ------------------------------------------------------------------------------------
@router.get("/m/lookup", summary="Banks matching a signal (only actionable matches)")
def lookup_get(
    request: Request,
    svc: Svc,
    p: Reader,
    signal: str | None = None,
    signal_type: str | None = None,
    url: str | None = None,
    banks: str | None = None,
) -> dict[str, Any]:
    ready(request)
    wanted = _banks_param(banks)
    if url:
        hashes, quality = hash_bytes(fetch_url(request, url, svc), svc)
        result = by_bank(svc.banks().match(hashes, quality=quality), wanted)
        return result if signal_type == "pdq" else {"pdq": result}
    if not signal or not signal_type:
        raise HmaAbort(400, "Either url or both signal and signal_type are required")
    return by_bank(lookup_signal(svc, signal, signal_type), wanted)


@router.post("/m/lookup", summary="Banks matching an uploaded file (all 8 PDQ orientations)")
async def lookup_post(request: Request, svc: Svc, p: Reader) -> dict[str, Any]:
    ready(request)
    hashes, quality = hash_bytes((await upload(request))[0], svc)
    wanted = _banks_param(request.query_params.get("banks"))
    return {"pdq": by_bank(svc.banks().match(hashes, quality=quality), wanted)}


@router.get("/m/raw_lookup", summary="Content ids within threshold (suppressed ones included)")
def raw_lookup(
    request: Request,
    svc: Svc,
    p: Reader,
    signal: str = "",
    signal_type: str = "",
    include_distance: str = "false",
    banks: str | None = None,
) -> dict[str, Any]:
    ready(request)
    if not signal or not signal_type:
        raise HmaAbort(400, "signal and signal_type are required")
    wanted = _banks_param(banks)
    found = [
        m for m in lookup_signal(svc, signal, signal_type) if wanted is None or m.bank in wanted
    ]
    if include_distance.lower() in _TRUE:
        return {
            "matches": [{"bank_content_id": m.entry_id, "distance": str(m.distance)} for m in found]
        }
    return {"matches": [m.entry_id for m in found]}


@router.post("/m/compare", summary="Distance between pairs of hashes")
async def compare(request: Request, p: Reader) -> dict[str, Any]:
    body = await read_json(request, "Request input was not a dict")
    out: dict[str, Any] = {}
    for signal_type, pair in body.items():
        if not isinstance(pair, list):
            raise HmaAbort(400, f"Comparison hashes for {signal_type} was not a list")
        if len(pair) != 2:
            raise HmaAbort(400, "Comparison hash list length must be exactly 2")
        if signal_type != "pdq":
            raise HmaAbort(400, f"No such SignalType '{signal_type}'")
        if not all(isinstance(h, str) for h in pair):
            raise HmaAbort(400, "Invalid pdq hash: not a string")
        a, b = (int(check_pdq(h), 16) for h in pair)
        distance = (a ^ b).bit_count()
        out[signal_type] = [distance <= PDQ_THRESHOLD, {"distance": distance}]
    return out


@router.get("/m/index/status", summary="Index status by signal type")
def index_status(request: Request, svc: Svc, p: Reader, signal_type: str | None = None) -> Any:
    if signal_type is not None and signal_type != "pdq":
        raise HmaAbort(400, f"No such signal type '{signal_type}'")
    if not request.app.state.hma_ready.is_set():
        return {"pdq": {"present": False, "built_to": -1, "size": 0}}
    live = svc.banks().index
    row = svc.db.query_one("SELECT added_at FROM bank_entries WHERE id = ?", (live.high_water,))
    built_to = -1
    if row is not None:
        from datetime import datetime

        built_to = int(datetime.fromisoformat(row["added_at"]).timestamp())
    return {"pdq": {"present": True, "built_to": built_to, "size": len(live.index)}}


def not_found(what: str) -> HmaAbort:
    return HmaAbort(404, f"{what} not found")


def now_ts() -> float:
    return time.time()


__all__ = ["HmaAbort", "HmaConfig", "NotFoundError", "router"]
