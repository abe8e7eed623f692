"""What the web app and the gateway share about ASGI serving.

* ``send_json_and_close``: raw replies for middleware that answers before the app runs (the web
  app's and the gateway's body limits): a JSON body and ``Connection: close``, since the rest of
  an oversized request body is never read.
* ``uvicorn_options``: the event loop and HTTP parser uvicorn serves with (``gardefou serve``,
  ``gardefou gateway``): uvloop and httptools when installed (the ``service`` extra), which cut
  the HTTP layer's CPU per request (``benchmarks/gateway_bench.py --server-matrix``, figures in
  docs/gateway.md); else uvicorn's pure Python asyncio and h11, same answers. Passed to uvicorn
  as options: uvicorn builds the loop from a factory for the server it runs, so nothing here
  sets the event loop policy of a process that imports gardefou.
"""

from __future__ import annotations

import importlib.util
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


def _installed(module: str) -> bool:
    # find_spec, not import: choosing does not load either library into the caller's process
    return importlib.util.find_spec(module) is not None


def uvicorn_options() -> dict[str, Any]:
    """``loop`` and ``http`` for ``uvicorn.run``: uvloop and httptools when installed, else
    asyncio and h11 (named explicitly, so the server never depends on uvicorn's "auto")."""
    return {
        "loop": "uvloop" if _installed("uvloop") else "asyncio",
        "http": "httptools" if _installed("httptools") else "h11",
    }
