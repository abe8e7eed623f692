"""A fake ThreatExchange Graph API (``/{privacy_group}/threat_updates/``) for tests.

Answers ``{"data": [...], "paging": {"cursors": {...}, "next": url}}`` where ``next`` repeats the
``access_token`` as the Graph API does; a wrong token gets HTTP 400 with an ``OAuthException``
body, as Graph answers it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from gardefou.testing.fake_stopncii import fake_pdq

BASE_TS = 1_600_000_000


class FakeThreatExchange:
    def __init__(self, n: int = 0, *, group: int = 1234, token: str = "1234567890|" + "a" * 24):
        self.group, self.token, self.size = group, token, 100
        self.items: list[dict[str, Any]] = []
        for i in range(n):
            kind = "HASH_MD5" if i % 4 == 3 else "HASH_PDQ"
            value = fake_pdq(i, "te")[:32] if kind == "HASH_MD5" else fake_pdq(i, "te")
            self.items.append(
                {"id": str(9000 + i), "indicator": value, "type": kind,
                 "last_updated": BASE_TS + i, "should_delete": False}
            )  # fmt: skip
        self.injected: list[tuple[int, bytes, dict[str, str]]] = []
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def delete(self, index: int) -> None:
        item = dict(self.items[index])
        item.update(should_delete=True, last_updated=int(time.time()))
        self.items.append(item)

    def live_pdqs(self) -> set[str]:
        state: dict[str, dict[str, Any]] = {}
        for it in sorted(self.items, key=lambda x: x["last_updated"]):
            state[it["indicator"]] = it
        return {
            v for v, it in state.items() if it["type"] == "HASH_PDQ" and not it["should_delete"]
        }

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if q.get("access_token") != fake.token:
                    self._send(400, {"error": {"message": "Invalid OAuth access token.",
                                               "type": "OAuthException", "code": 190}})  # fmt: skip
                    return
                if fake.injected:
                    status, raw, headers = fake.injected.pop(0)
                    self._send(status, raw, headers)
                    return
                if url.path.rstrip("/") != f"/{fake.group}/threat_updates":
                    self._send(404, {"error": {"message": "Unknown path", "code": 803}})
                    return
                start, stop = int(q.get("start_time") or 0), int(q.get("stop_time") or 2**40)
                offset = int(q.get("after", 0))
                found = [i for i in fake.items if start <= i["last_updated"] <= stop]
                page = found[offset : offset + fake.size]
                body: dict[str, Any] = {"data": page, "paging": {"cursors": {"after": "x"}}}
                if offset + fake.size < len(found):
                    nq = dict(q, after=str(offset + fake.size))
                    body["paging"]["next"] = f"{fake.url}{url.path}?{urlencode(nq)}"
                self._send(200, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
