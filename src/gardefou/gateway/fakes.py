"""A fake OpenAI-compatible image generator and a thread runner, for tests and the benchmark.

``fake_upstream_app(images)`` answers ``/v1/images/generations`` and ``/v1/images/edits`` with
the given image bytes (cycled, ``n`` of them); ``mode`` simulates failures: ``"slow"`` (sleeps
``delay`` s), ``"garbled"`` (not JSON), ``"bad_b64"``, ``"not_image"``, ``"status:503"`` (with
``Retry-After: 0``). ``serve(app)`` runs any ASGI app with uvicorn on a free loopback port in a
daemon thread and returns its base URL and a stop function.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def fake_upstream_app(images: Sequence[bytes], mode: str = "ok", delay: float = 0.0) -> Any:
    app = FastAPI()
    app.state.calls = []
    app.state.mode = mode

    async def answer(request: Request, kind: str) -> Response:
        if kind == "edits":
            async with request.form() as form:
                n = int(str(form.get("n") or 1))
                files = [k for k, v in form.multi_items() if hasattr(v, "read")]
            app.state.calls.append({"kind": kind, "n": n, "files": files})
        else:
            body = await request.json()
            n = int(body.get("n") or 1)
            app.state.calls.append({"kind": kind, **body})
        m = app.state.mode
        if m == "slow":
            time.sleep(delay)  # blocks this worker on purpose: a generator that hangs
        if m.startswith("status:"):
            return JSONResponse(
                {"error": {"message": "overloaded", "code": "busy"}},
                status_code=int(m[7:]),
                headers={"Retry-After": "0"},
            )
        if m == "garbled":
            return Response(b"<html>502 bad gateway</html>", media_type="text/html")
        if m == "bad_b64":
            return JSONResponse({"created": 1, "data": [{"b64_json": "%%%not base64%%%"}]})
        data = (
            [b"this is not an image at all"] * n
            if m == "not_image"
            else [images[i % len(images)] for i in range(n)]
        )
        return JSONResponse(
            {
                "created": int(time.time()),
                "data": [{"b64_json": base64.b64encode(d).decode()} for d in data],
            }
        )

    @app.post("/v1/images/generations")
    async def generations(request: Request) -> Response:
        return await answer(request, "generations")

    @app.post("/v1/images/edits")
    async def edits(request: Request) -> Response:
        return await answer(request, "edits")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app: Any, port: int | None = None, **server: Any) -> tuple[str, Callable[[], None]]:
    """Run ``app`` on 127.0.0.1 in a daemon thread; (base URL, stop). ``server``: uvicorn
    options over the defaults (e.g. ``loop="asyncio", http="h11"``, the fallback pair)."""
    import uvicorn

    from gardefou.asgi import uvicorn_options

    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        ws="none",
        lifespan="off",
        access_log=False,
        **{**uvicorn_options(), **server},  # by default as the gateway's commands serve
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the test server on port {port} did not start")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(5)

    return f"http://127.0.0.1:{port}", stop
