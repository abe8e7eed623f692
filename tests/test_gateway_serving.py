"""How the gateway is served: uvicorn's loop and parser, one worker-thread hand-off per request,
the body limit on a streamed body."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from gardefou.asgi import uvicorn_options
from gardefou.gateway import GatewayConfig, build_service, create_gateway_app
from gardefou.gateway.fakes import fake_upstream_app, serve
from gardefou.guard import Guard
from gardefou.store import connect
from gardefou.testing import FakeSignal, age, faces, identity, nudity
from gardefou.web.auth import KeyStore

HOUSES = (Path(__file__).parent / "fixtures" / "guard" / "object-houses.jpg").read_bytes()


def test_uvloop_and_httptools_when_installed_asyncio_and_h11_when_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    installed = {"uvloop": True, "httptools": True}

    def find_spec(name: str, *a: Any) -> Any:
        if name in installed:
            return real("json") if installed[name] else None
        return real(name, *a)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert uvicorn_options() == {"loop": "uvloop", "http": "httptools"}
    installed.update(uvloop=False, httptools=False)
    assert uvicorn_options() == {"loop": "asyncio", "http": "h11"}
    installed.update(httptools=True)
    assert uvicorn_options() == {"loop": "asyncio", "http": "httptools"}


def test_choosing_and_serving_leave_the_hosts_event_loop_policy_alone() -> None:
    before = asyncio.get_event_loop_policy()
    uvicorn_options()
    url, stop = serve(fake_upstream_app([HOUSES]))  # a uvicorn server, with the options
    try:
        assert httpx.get(url + "/v1/models", timeout=5).status_code in (200, 404)
    finally:
        stop()
    assert asyncio.get_event_loop_policy() is before


class ThreadRecordingKeys:
    """A KeyStore that records the thread each key lookup (a database query) runs on."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys, self.threads = keys, []

    def verify(self, key: str) -> Any:
        self.threads.append(threading.current_thread().name)
        return self.keys.verify(key)


@pytest.fixture(params=["default", "fallback"])
def gateway(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, str, ThreadRecordingKeys]]:
    """The gateway served as its commands serve it, and with the pure Python pair uvicorn
    falls back to without the extras (asyncio, h11)."""
    server = {"loop": "asyncio", "http": "h11"} if request.param == "fallback" else {}
    up_url, stop_up = serve(fake_upstream_app([HOUSES]))
    db = connect(tmp_path / "gw.db")
    _, key = KeyStore(db).create("bot", "platform")
    guard = Guard(
        signals={
            "faces": FakeSignal(faces(0)),
            "age": FakeSignal(age()),
            "nudity": FakeSignal(nudity("none")),
            "identity": FakeSignal(identity()),
        }
    )
    svc = build_service(
        GatewayConfig(upstream=up_url + "/v1", labels="none", retries=0, max_body_mb=1),
        db=db,
        guard=guard,
    )
    keys = ThreadRecordingKeys(KeyStore(db))
    url, stop = serve(create_gateway_app(svc, keys), **server)
    yield url, key, keys
    stop()
    stop_up()
    db.close()


def test_a_request_crosses_to_a_worker_thread_twice_its_key_lookup_first(
    gateway: tuple[str, str, ThreadRecordingKeys], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gardefou.gateway.app as app_module

    url, key, keys = gateway
    hand_offs: list[str] = []
    real = app_module.run_in_threadpool

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hand_offs.append(getattr(fn, "__name__", "?"))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(app_module, "run_in_threadpool", counting)
    auth = {"Authorization": f"Bearer {key}"}
    r = httpx.post(
        url + "/v1/images/generations", json={"prompt": "houses", "user": "u"}, headers=auth
    )
    assert r.status_code == 200, r.text
    r = httpx.post(
        url + "/v1/images/edits",
        data={"prompt": "a red door", "user": "u"},
        files={"image": ("in.jpg", HOUSES, "image/jpeg")},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    # per request: the key's lookup (before the body is read), then all the rest in one call
    assert hand_offs == ["caller", "generation_sync", "caller", "edit_sync"]
    # the key's database query never blocks the event loop (uvicorn's thread serves it)
    assert len(keys.threads) == 2
    assert not any(name.startswith("uvicorn-") for name in keys.threads), keys.threads


def test_an_unauthenticated_edit_hears_401_before_its_form_is_judged(
    gateway: tuple[str, str, ThreadRecordingKeys],
) -> None:
    url, _, keys = gateway
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        r = httpx.post(
            url + "/v1/images/edits",
            content=b"--b\r\nnot a form",
            headers={"Content-Type": "multipart/form-data; boundary=b", **headers},
        )
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    assert len(keys.threads) == 1  # without a key, no lookup: refused before the body is read


def test_a_wrong_key_is_refused_before_the_body_is_read(
    gateway: tuple[str, str, ThreadRecordingKeys],
) -> None:
    """A guessed key must not make the gateway take in a large body: the 401 comes from the
    key check alone, so a body that never arrives does not hold the answer back."""
    import socket

    url, _, _ = gateway
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            "POST /v1/images/generations HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer not-a-key\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"prompt": "')  # the rest of the 1 MB never comes
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 401"), answer[:200]


def test_a_streamed_body_over_the_limit_is_413_not_500(
    gateway: tuple[str, str, ThreadRecordingKeys],
) -> None:
    """No Content-Length (chunked): the limit trips while the body is read; the answer is the
    OpenAI-shaped 413, not an internal error."""
    url, key, _ = gateway

    def chunks() -> Iterator[bytes]:
        yield b'{"prompt": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    def form() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
        for _ in range(40):
            yield b"x" * 65536
        yield b"\r\n--b--\r\n"

    for path, body, ctype in (
        ("generations", chunks, "application/json"),
        ("edits", form, "multipart/form-data; boundary=b"),
    ):
        r = httpx.post(
            f"{url}/v1/images/{path}",
            content=body(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": ctype},
        )
        assert r.status_code == 413, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "request_too_large"


def test_the_gateway_command_serves_with_the_chosen_loop_and_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import gardefou.cli.commands_gateway  # noqa: F401 - registers the command
    from gardefou.cli.main import cli

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(kw))
    res = CliRunner().invoke(
        cli,
        [
            "--db",
            str(tmp_path / "c.db"),
            "gateway",
            "--upstream",
            "http://127.0.0.1:9/v1",
            "--labels",
            "none",
        ],
    )
    assert res.exit_code == 0, res.output
    assert runs and {k: runs[0][k] for k in ("loop", "http")} == uvicorn_options()


def test_serve_runs_uvicorn_with_the_chosen_loop_and_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import gardefou.cli.commands_web  # noqa: F401 - registers the command
    from gardefou.cli.main import cli
    from gardefou.gateway.fakes import free_port

    runs: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: runs.append(kw))
    for name in ("GARDEFOU_DB", "GARDEFOU_MAX_UPLOAD_MB", "GARDEFOU_HMA_API"):
        monkeypatch.delenv(name, raising=False)  # serve writes them for its workers
    res = CliRunner().invoke(
        cli, ["serve", "--db", str(tmp_path / "s.db"), "--port", str(free_port())]
    )
    assert res.exit_code == 0, res.output
    assert runs and {k: runs[0][k] for k in ("loop", "http")} == uvicorn_options()
