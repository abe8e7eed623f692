"""Raw ASGI replies for middleware that answers before the app runs (the web app's and the
gateway's body limits): a JSON body and ``Connection: close``, since the rest of an oversized
request body is never read."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


async def send_json_and_close(send: Callable, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
