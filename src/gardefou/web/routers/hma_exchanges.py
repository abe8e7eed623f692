"""HMA-compatible exchange routes (``/c/exchanges``, ``/c/exchange/{name}``): read-only unless
the operator sets ``GARDEFOU_HMA_EXCHANGES_WRITE=1``; credentials are never accepted over HTTP
(gardefou reads them from the environment or a secret file, see docs/exchanges.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gardefou.errors import GardefouError, NotFoundError
from gardefou.web.routers.hma import HmaAbort, Reader, Svc, read_json
from gardefou.web.routers.hma_curation import HMA_BANK, Admin, call

router = APIRouter(prefix="/c", tags=["hma"])

_APIS = {
    "stop_ncii": "stopncii",
    "stopncii": "stopncii",
    "ncmec": "ncmec",
    "fb_threatexchange": "threatexchange",
    "file": "file",
    "local_file": "file",
}


def _exchanges(svc: Any) -> Any:
    from gardefou.exchanges import ExchangeService

    return ExchangeService(svc.banks())


def _exchange_json(svc: Any, ex: Any) -> dict[str, Any]:
    bank = svc.banks().get_bank(ex.bank_id)
    api = next(k for k, v in _APIS.items() if v == ex.kind)
    return {"name": ex.name, "api": api, "enabled": ex.enabled, "bank": bank.name}


def _writable(request: Request) -> None:
    if not request.app.state.hma.exchanges_write:
        raise HmaAbort(
            403, "exchanges are read-only here; configure them with `gardefou exchange add` "
            "(or set GARDEFOU_HMA_EXCHANGES_WRITE=1)",
        )  # fmt: skip


@router.get("/exchanges")
def exchange_list(svc: Svc, p: Reader) -> list[str]:
    return [ex.name for ex in _exchanges(svc).list()]


@router.get("/exchanges/apis")
def exchange_apis(p: Reader) -> list[str]:
    return ["stop_ncii", "ncmec", "fb_threatexchange", "file"]


@router.get("/exchanges/api/{api}")
def exchange_api(api: str, svc: Svc, p: Reader) -> dict[str, bool]:
    if api not in _APIS:
        raise HmaAbort(400, f"no such Exchange API '{api}'")
    kind = _APIS[api]
    configured = [ex for ex in _exchanges(svc).list() if ex.kind == kind]
    return {
        "supports_authentification": kind != "file",
        "has_set_authentification": kind != "file" and any(_has_secret(ex) for ex in configured),
    }


@router.post("/exchanges/api/{api}")
def exchange_api_credentials(api: str, p: Admin) -> dict[str, bool]:
    raise HmaAbort(
        403, "gardefou never stores exchange credentials: set them in the environment or a "
        "secret file (`gardefou exchange add --credentials env:VAR|file:PATH`)",
    )  # fmt: skip


def _has_secret(ex: Any) -> bool:
    from gardefou.exchanges.credentials import resolve

    try:
        return bool(resolve(ex.credentials))
    except GardefouError:
        return False


@router.get("/exchange/{name}")
def exchange_show(name: str, svc: Svc, p: Reader) -> dict[str, Any]:
    return _exchange_json(svc, call(_exchanges(svc).get, name))


@router.get("/exchange/{name}/status")
def exchange_status(name: str, svc: Svc, p: Reader) -> dict[str, Any]:
    from datetime import datetime

    ex = call(_exchanges(svc).get, name)

    def ts(value: str | None) -> int:
        return int(datetime.fromisoformat(value).timestamp()) if value else 0

    return {
        "last_fetch_time": ts(ex.last_fetch_at),
        "checkpoint_time": int(ex.checkpoint.get("update_time", 0) or 0),
        "success": not ex.last_error,
    }


@router.post("/exchanges", status_code=201)
async def exchange_create(request: Request, svc: Svc, p: Admin) -> JSONResponse:
    _writable(request)
    data = await read_json(request)
    bank, api = data.get("bank"), data.get("api")
    if not isinstance(bank, str) or not HMA_BANK.fullmatch(bank):
        raise HmaAbort(400, "Field `bank` must match /^[A-Z0-9_]$/")
    if api not in _APIS:
        raise HmaAbort(400, f"No such exchange type '{api}'")
    cfg = data.get("api_json") or {}
    if not isinstance(cfg, dict):
        raise HmaAbort(400, "Field `api_json` must be object")
    call(_exchanges(svc).add, bank, kind=_APIS[api], bank=bank, url=str(cfg.get("url", "")))
    return JSONResponse({"message": "Created successfully"}, status_code=201)


@router.put("/exchange/{name}")
async def exchange_update(name: str, request: Request, svc: Svc, p: Admin) -> dict[str, Any]:
    _writable(request)
    ex = call(_exchanges(svc).get, name)
    data = await read_json(request)
    if "enabled" in data:
        svc.db.execute(
            "UPDATE exchanges SET enabled = ? WHERE id = ?", (int(bool(data["enabled"])), ex.id)
        )
    return _exchange_json(svc, _exchanges(svc).get(name))


@router.delete("/exchange/{name}")
def exchange_delete(name: str, request: Request, svc: Svc, p: Admin) -> dict[str, str]:
    _writable(request)
    try:
        _exchanges(svc).remove(name, actor=p.name)
    except NotFoundError:
        pass
    return {"message": "success"}
