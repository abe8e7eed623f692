"""HMA-compatible curation routes (``/c/...``): banks, bank content, exchanges.

Shapes follow HMA's curation blueprint: a bank is ``{"name", "matching_enabled_ratio"}`` (0 when
the bank is disabled); bank content is ``{"id", "disable_until_ts", "original_media_uri",
"bank", "signals"?, "metadata"?, "note"?}`` where ``disable_until_ts`` is 0 (disabled),
1 (enabled) or a unix time before which it does not match. Content ids are gardefou entry ids.
Exchanges: hma_exchanges.py.
"""

from __future__ import annotations

import json
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from gardefou.banks.models import Bank, Entry
from gardefou.errors import GardefouError, NotFoundError
from gardefou.web.auth import Principal, Role
from gardefou.web.routers.hma import (
    HmaAbort,
    Reader,
    Svc,
    allowed,
    caller,
    check_pdq,
    fetch_url,
    hash_bytes,
    read_json,
    upload,
)

router = APIRouter(prefix="/c", tags=["hma"])
HMA_BANK = re.compile(r"[A-Z_][A-Z0-9_]*")
_FIVE_YEARS = 5 * 365 * 86_400
_META_KEYS = {"content_id", "content_uri", "json"}


def _editor(p: Annotated[Principal, Depends(caller)]) -> Principal:
    return allowed(p, Role.MODERATOR)


def _admin(p: Annotated[Principal, Depends(caller)]) -> Principal:
    return allowed(p)


Editor = Annotated[Principal, Depends(_editor)]
Admin = Annotated[Principal, Depends(_admin)]


def bank_json(b: Bank) -> dict[str, Any]:
    return {"name": b.name, "matching_enabled_ratio": b.enable_ratio if b.enabled else 0.0}


def _bank(svc: Any, name: str) -> Bank:
    try:
        return svc.banks().get_bank(name)
    except NotFoundError:
        raise HmaAbort(404, f"bank '{name}' not found") from None


def _entry(svc: Any, bank: Bank, content_id: int) -> Entry:
    try:
        e = svc.banks().get_entry(content_id)
    except NotFoundError:
        e = None
    if e is None or e.bank_id != bank.id or e.removed_at is not None:
        raise HmaAbort(404, f"content '{content_id}' not found")
    return e


def disable_until_ts(e: Entry) -> int:
    if not e.enabled:
        return 0
    return int(e.disabled_until) if e.disabled_until else 1


def content_json(e: Entry, bank: Bank, signals: bool = False, metadata: bool = True) -> dict:
    out: dict[str, Any] = {
        "id": e.id,
        "disable_until_ts": disable_until_ts(e),
        "original_media_uri": e.metadata.get("original_media_uri"),
        "bank": bank_json(bank),
    }
    if signals:
        out["signals"] = {"pdq": e.pdq} | ({"md5": e.md5} if e.md5 else {})
    meta: dict[str, Any] = {
        k: e.metadata[k] for k in ("content_uri", "json", "collab") if k in e.metadata
    }
    if e.content_id:
        meta["content_id"] = e.content_id
    if e.metadata.get("exchange"):  # provenance: which exchange this hash came from
        meta.setdefault("collab", {e.metadata["exchange"]: [e.pdq]})
    if metadata and meta:
        out["metadata"] = meta
    if e.note:
        out["note"] = e.note
    return out


# -- banks ---------------------------------------------------------------------------------------
@router.get("/banks")
def banks_index(svc: Svc, p: Reader) -> list[dict[str, Any]]:
    return [bank_json(b) for b in svc.banks().list_banks()]


@router.post("/banks", status_code=201)
async def bank_create(request: Request, svc: Svc, p: Admin) -> JSONResponse:
    data = await read_json(request)
    name = data.get("name")
    if not isinstance(name, str) or not HMA_BANK.fullmatch(name):
        raise HmaAbort(400, "Bank names must be UPPER_WITH_UNDERSCORE (^[A-Z_][A-Z0-9_]*$)")
    ratio = _ratio(data)
    if any(b.name == name for b in svc.banks().list_banks()):
        raise HmaAbort(403, "Bank already exists")
    b = svc.banks().create_bank(name, enable_ratio=ratio, actor=p.name, reason="HMA API")
    return JSONResponse(bank_json(b), status_code=201)


@router.get("/bank/{name}")
def bank_show(name: str, svc: Svc, p: Reader) -> dict[str, Any]:
    return bank_json(_bank(svc, name))


@router.put("/bank/{name}")
async def bank_update(name: str, request: Request, svc: Svc, p: Admin) -> dict[str, Any]:
    b = _bank(svc, name)
    data = await read_json(request)
    banks = svc.banks()
    if "name" in data and data["name"] != b.name:
        if not isinstance(data["name"], str) or not HMA_BANK.fullmatch(data["name"]):
            raise HmaAbort(400, "Bank names must be UPPER_WITH_UNDERSCORE (^[A-Z_][A-Z0-9_]*$)")
        b = call(banks.rename_bank, b, data["name"], actor=p.name, reason="HMA API")
    if "enabled" in data or "enabled_ratio" in data:
        ratio = _ratio(data) if "enabled_ratio" in data else (1.0 if data["enabled"] else 0.0)
        b = call(banks.update_bank, b, enable_ratio=ratio, enabled=True, actor=p.name)
    return bank_json(b)


@router.delete("/bank/{name}")
def bank_delete(name: str, svc: Svc, p: Admin) -> dict[str, str]:
    try:
        svc.banks().delete_bank(name, actor=p.name, reason="HMA API")
    except NotFoundError:
        pass  # HMA: deleting a missing bank succeeds
    return {"message": "Done"}


# -- content -------------------------------------------------------------------------------------
@router.post("/bank/{name}/content")
async def bank_add_content(name: str, request: Request, svc: Svc, p: Editor) -> dict[str, Any]:
    b = _bank(svc, name)
    url = request.query_params.get("url")
    metadata: dict[str, Any] = {}
    note = None
    if url:
        data = fetch_url(request, url, svc)
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await read_json(request)
            metadata, note = _metadata(body.get("metadata")), body.get("note")
    elif request.headers.get("content-type", "").startswith("multipart/form-data"):
        data, fields = await upload(request)
        if fields.get("metadata"):
            try:
                metadata = _metadata(json.loads(fields["metadata"]))
            except ValueError:
                raise HmaAbort(400, "metadata should be a json object") from None
        note = fields.get("note")
    else:
        raise HmaAbort(400, "Neither `url` nor multipart file upload was received")
    hashes, quality = hash_bytes(data, svc)
    return _add(svc, b, hashes["original"], quality, metadata, note, p)


@router.post("/bank/{name}/signal")
async def bank_add_signal(name: str, request: Request, svc: Svc, p: Editor) -> dict[str, Any]:
    b = _bank(svc, name)
    data = await read_json(request)
    if not data:
        raise HmaAbort(400, "No signals given")
    unknown = sorted(set(data) - {"pdq"})
    if unknown:
        raise HmaAbort(400, f"No such signal type {unknown[0]}")
    return _add(svc, b, check_pdq(str(data["pdq"])), 100, {}, None, p)


@router.get("/bank/{name}/content/{content_id}")
def bank_get_content(
    name: str,
    content_id: int,
    svc: Svc,
    p: Reader,
    include_signals: str = "false",
    include_metadata: str = "true",
) -> dict[str, Any]:
    b = _bank(svc, name)
    e = _entry(svc, b, content_id)
    return content_json(e, b, include_signals.lower() == "true", include_metadata.lower() == "true")


@router.put("/bank/{name}/content/{content_id}")
async def bank_update_content(
    name: str, content_id: int, request: Request, svc: Svc, p: Editor
) -> dict[str, Any]:
    b = _bank(svc, name)
    e = _entry(svc, b, content_id)
    data = await read_json(request)
    kw: dict[str, Any] = {}
    if "disable_until_ts" in data:
        ts = data["disable_until_ts"]
        try:
            ts = int(ts)
        except (TypeError, ValueError):
            raise HmaAbort(400, "disable_until_ts must be a non-negative integer") from None
        if ts < 0:
            raise HmaAbort(400, "disable_until_ts must be a non-negative integer")
        if ts > time.time() + _FIVE_YEARS:
            raise HmaAbort(400, "disable_until_ts must be less than 5 years in the future")
        kw["enabled"] = ts != 0
        kw["disabled_until"] = None if ts in (0, 1) else float(ts)
    if "note" in data:
        if not isinstance(data["note"], str | None) or len(data["note"] or "") > 255:
            raise HmaAbort(400, "note must be a string of at most 255 characters")
        kw["note"] = data["note"] or ""
    e = svc.banks().update_entry(e.id, actor=p.name, reason="HMA API", **kw)
    return content_json(e, b)


@router.delete("/bank/{name}/content/{content_id}")
def bank_delete_content(name: str, content_id: int, svc: Svc, p: Editor) -> dict[str, int]:
    b = _bank(svc, name)
    try:
        e = _entry(svc, b, content_id)
    except HmaAbort:
        return {"deleted": 0}
    svc.banks().remove_entry(e.id, actor=p.name, reason="HMA API")
    return {"deleted": 1}


# -- helpers -------------------------------------------------------------------------------------
def _ratio(data: dict[str, Any]) -> float:
    if "enabled_ratio" in data:
        try:
            ratio = float(data["enabled_ratio"])
        except (TypeError, ValueError):
            raise HmaAbort(400, "enabled_ratio must be a number from 0 to 1") from None
        if not 0.0 <= ratio <= 1.0:
            raise HmaAbort(400, "enabled_ratio must be a number from 0 to 1")
        return ratio
    if "enabled" in data:
        return 1.0 if str(data["enabled"]).lower() in ("1", "true", "yes") else 0.0
    return 1.0


def _metadata(meta: Any) -> dict[str, Any]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise HmaAbort(400, "metadata should be a json object")
    unexpected = set(meta) - _META_KEYS
    if unexpected:
        raise HmaAbort(400, f"metadata contains unexpected keys: {' ,'.join(sorted(unexpected))}")
    return meta


def _add(
    svc: Any, b: Bank, pdq: str, quality: int, meta: dict, note: Any, p: Principal
) -> dict[str, Any]:
    row = {
        "pdq": pdq,
        "quality": quality,
        "source": "hma-api",
        "note": str(note or "")[:255],
        "content_id": meta.get("content_id"),
        "metadata": {k: v for k, v in meta.items() if k != "content_id"},
    }
    [entry_id] = call(svc.banks().add_entries, b, [row], actor=p.name, reason="HMA API")
    return {"id": entry_id, "signals": {"pdq": pdq}}


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except NotFoundError as exc:
        raise HmaAbort(404, str(exc)) from None
    except GardefouError as exc:
        raise HmaAbort(400, str(exc)) from None
