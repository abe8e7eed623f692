"""Helpers for the web tests: an app over a temporary database with one key per role."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # Starlette's TestClient warns about its httpx backend on import; nothing to act on here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN_KEY = "test-admin-key"
ROLES = ("moderator", "auditor", "platform", "public")


@dataclass
class Web:
    client: TestClient
    app: Any
    keys: dict[str, str]

    def h(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"X-API-Key": self.keys[role]}


def make_web(tmp_path: Path, db: str | None = None, **settings: Any) -> Web:
    """An app over ``db`` (a SQLite file in tmp_path by default; a PostgreSQL URL works too)."""
    from gardefou.web import Settings, create_app

    url = db or str(tmp_path / "web.db")
    app = create_app(Settings(db=url, admin_key=ADMIN_KEY, **settings))
    client = TestClient(app)
    keys = {"admin": ADMIN_KEY}
    for role in ROLES:
        r = client.post(
            "/v1/keys", json={"name": f"{role}-1", "role": role}, headers={"X-API-Key": ADMIN_KEY}
        )
        assert r.status_code == 201, r.text
        keys[role] = r.json()["key"]
    return Web(client, app, keys)


def wait_healthy(base: str, tries: int = 300, pause: float = 0.1) -> None:
    """Wait until a server the test started answers ``/healthz``; fail saying so if it never
    does (instead of letting the next request fail with a connection error)."""
    import time

    import httpx

    for _ in range(tries):
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(pause)
    raise AssertionError(f"{base} did not answer /healthz within {tries * pause:.0f} s")


def decide_with(services: Any, extract: Callable[..., Any]) -> None:
    """Let the app's decisions read recorded signal outputs (``extract(media, names)``) instead
    of the models; the decision layer runs for real."""
    from gardefou.decide import Services as DecideServices

    services.provide("decide", DecideServices(services.db, extract=extract, banks=services.banks()))


def web_deciding_with(tmp_path: Path, db: str | None, extract: Callable[..., Any]) -> Iterator[Web]:
    """``make_web`` whose decisions use ``extract``, for a fixture to ``yield from``; closes the
    store after the test (before a PostgreSQL schema is dropped)."""
    w = make_web(tmp_path, db)
    decide_with(w.app.state.services, extract)
    yield w
    w.app.state.services.db.close()


def takedown_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "take_it_down",
        "signature": {"name": "Jane Example"},
        "hashes": [{"pdq": "f" * 32 + "0" * 32, "quality": 100}],
        "locations": ["https://social.example/p/123"],
        "description": "reply under my profile photo",
        "good_faith_statement": "I believe in good faith this was published without my consent.",
        "contact": {"email": "jane@example.org"},
        "lang": "en",
    }
    body.update(over)
    return body
