"""API key management (admin) and the caller's own identity and exposure counters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Caller, RowId, Svc, require

router = APIRouter(prefix="/v1", tags=["keys"])
Admin = Annotated[Principal, Depends(require())]
Reviewer = Annotated[Principal, Depends(require(Role.MODERATOR, Role.AUDITOR))]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "moderator", "auditor", "platform", "public"]


class ExposureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    viewed: int = Field(0, ge=0, le=100)
    revealed: int = Field(0, ge=0, le=100)


@router.post("/keys", status_code=201, summary="Create an API key (shown once)")
def create_key(body: KeyIn, svc: Svc, caller: Admin) -> dict[str, Any]:
    kid, key = svc.keys.create(body.name, body.role)
    return {"id": kid, "name": body.name, "role": body.role, "key": key}


@router.get("/keys", summary="List API keys (never the keys themselves)")
def list_keys(svc: Svc, caller: Admin) -> list[dict[str, Any]]:
    return svc.keys.list()


@router.delete("/keys/{key_id}", summary="Revoke an API key")
def revoke_key(key_id: RowId, svc: Svc, caller: Admin) -> dict[str, Any]:
    svc.keys.revoke(key_id)
    return {"id": key_id, "revoked": True}


@router.get("/me", summary="Who am I (role), and my exposure counters today")
def me(svc: Svc, caller: Caller) -> dict[str, Any]:
    out: dict[str, Any] = {"name": caller.name, "role": str(caller.role)}
    if caller.role in (Role.MODERATOR, Role.AUDITOR, Role.ADMIN):
        out["exposure"] = svc.record_exposure(caller.name)
    return out


@router.post("/me/exposure", summary="Count items viewed and media revealed (wellness)")
def exposure(body: ExposureIn, svc: Svc, caller: Reviewer) -> dict[str, Any]:
    return svc.record_exposure(caller.name, viewed=body.viewed, revealed=body.revealed)
