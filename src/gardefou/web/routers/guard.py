"""The guardrail over HTTP: check a generation request before generating, and the output after."""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from gardefou.errors import GuardInputError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Svc, WebServices, require
from gardefou.web.media import decode_gate

router = APIRouter(prefix="/v1/guard", tags=["guard"])
Platform = Annotated[Principal, Depends(require(Role.PLATFORM))]


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(max_length=20_000)
    images: list[str] = Field(default_factory=list, max_length=8, description="base64 images")
    history: list[str] = Field(default_factory=list, max_length=20, description="earlier turns")


class OutputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    output: str = Field(min_length=1, description="the generated image or clip, base64")
    request: str | None = Field(None, max_length=20_000)
    inputs: list[str] = Field(default_factory=list, max_length=8, description="base64 images")


def _guard(svc: WebServices) -> Any:
    from gardefou.guard import Guard, GuardConfig

    limits = svc.settings.media_limits()
    return svc.lazy("guard", lambda: Guard(GuardConfig(media_limits=limits)))


def _decode(items: list[str], what: str) -> list[bytes]:
    out = []
    for i, s in enumerate(items):
        try:
            out.append(base64.b64decode(s, validate=True))
        except (binascii.Error, ValueError):
            raise GuardInputError(
                f"{what}[{i}] is not valid base64; encode the image bytes with standard base64"
            ) from None
    return out


@router.post("/request", summary="Check a generation or edit request before generating")
def check_request(body: RequestIn, svc: Svc, caller: Platform) -> dict[str, Any]:
    from gardefou.guard import Context

    images = _decode(body.images, "images")
    with decode_gate(svc).hold() if images else contextlib.nullcontext():
        d = _guard(svc).check_request(body.prompt, images, Context(tuple(body.history)))
    return dict(d.to_dict())


@router.post("/output", summary="Check a generated image or clip against the request and inputs")
def check_output(body: OutputIn, svc: Svc, caller: Platform) -> dict[str, Any]:
    from gardefou.guard.video import check_output_media

    out = _decode([body.output], "output")[0]
    inputs = _decode(body.inputs, "inputs")
    with decode_gate(svc).hold():  # one slot while this request's images are decoded
        # a generated clip is checked frame by frame against the inputs (docs/video.md)
        d = check_output_media(_guard(svc), out, body.request, inputs, svc.settings.video_limits())
        return dict(d.to_dict())
