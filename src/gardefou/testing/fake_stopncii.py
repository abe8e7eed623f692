"""A fake StopNCII server for tests and benchmarks (no network beyond loopback).

It follows the StopNCII API as python-threatexchange's client documents it:

- ``GET /FetchHashes?startTimestamp=&pageSize=[&nextPageToken=]`` with the headers
  ``x-functions-key`` (the fetch key) and ``Ocp-Apim-Subscription-Key``; answers
  ``{"count", "nextPageToken", "nextSetTimestamp", "hasMoreRecords", "hashRecords": [
  {"lastModtimestamp", "signalType", "hashValue", "hashStatus", "caseNumbers",
  "CSPFeedbacks"}]}``. Records are the latest state of each hash: a withdrawal is a newer
  record of the same value with ``hashStatus`` "Withdrawn".
- ``POST /SubmitFeedback`` ``{"count", "hashFeedbacks": [{"hashValue", "feedbackValue",
  "tags"}]}`` with the feedback function key.

Record i has ``lastModtimestamp`` 100 + i, so records are generated on the fly (1M hashes cost
no memory): ``FakeStopNCII(n=1_000_000)``. ``inject`` queues canned failures (429 with
Retry-After, 500, a malformed body) answered before the next real page.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BASE_TS = 100


def fake_pdq(i: int, seed: str = "gardefou") -> str:
    return hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()


class FakeStopNCII:
    def __init__(
        self,
        n: int = 0,
        *,
        fetch_key: str = "fetch-key",
        subscription_key: str = "sub-key",
        feedback_key: str = "feedback-key",
        video_every: int = 0,
        delay: float = 0.0,
    ) -> None:
        self.n = n
        self.keys = (fetch_key, subscription_key, feedback_key)
        self.video_every = video_every
        self.delay = delay
        self.extra: list[dict[str, Any]] = []  # records appended after the n generated ones
        self.injected: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[dict[str, Any]] = []
        self.feedback: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- data --------------------------------------------------------------------------------
    @property
    def credentials(self) -> str:
        return ",".join(self.keys)

    def total(self) -> int:
        return self.n + len(self.extra)

    def record(self, i: int) -> dict[str, Any]:
        if i >= self.n:
            return self.extra[i - self.n]
        video = self.video_every and i % self.video_every == self.video_every - 1
        return {
            "lastModtimestamp": BASE_TS + i,
            "signalType": "VideoMD5" if video else "ImagePDQ",
            "hashValue": fake_pdq(i)[:32] if video else fake_pdq(i),
            "hashStatus": "Active",
            "caseNumbers": {f"case-{i}": "Active"},
            "CSPFeedbacks": [],
        }

    def add(self, value: str, status: str = "Active", signal_type: str = "ImagePDQ") -> None:
        """Append a newer record for ``value`` (a new hash, a withdrawal, a re-activation)."""
        with self._lock:
            self.extra.append(
                {
                    "lastModtimestamp": BASE_TS + self.total(),
                    "signalType": signal_type,
                    "hashValue": value,
                    "hashStatus": status,
                    "caseNumbers": {},
                    "CSPFeedbacks": [],
                }
            )

    def state(self) -> dict[str, str]:
        """What a client that applied everything should hold: {value: status} per latest."""
        out: dict[str, str] = {}
        for i in range(self.total()):
            r = self.record(i)
            out[r["hashValue"]] = r["hashStatus"]
        return out

    def inject(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.injected.append((status, headers or {}, body))

    # -- HTTP --------------------------------------------------------------------------------
    def page(self, start: int, size: int, token: str) -> dict[str, Any]:
        offset = int(token) if token else max(0, start - BASE_TS)
        end = min(self.total(), offset + size)
        records = [self.record(i) for i in range(offset, end)]
        more = end < self.total()
        last = records[-1]["lastModtimestamp"] if records else start
        return {
            "count": len(records),
            "nextPageToken": str(end) if more else None,
            "nextSetTimestamp": last,
            "hasMoreRecords": more,
            "hashRecords": records,
        }

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self, status: int, body: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _auth(self, function_key: str) -> bool:
                ok = (
                    self.headers.get("x-functions-key") == function_key
                    and self.headers.get("Ocp-Apim-Subscription-Key") == fake.keys[1]
                )
                if not ok:
                    self._send(401, b'{"statusCode": 401, "message": "Access denied"}')
                return ok

            def _injected(self) -> bool:
                with fake._lock:
                    item = fake.injected.pop(0) if fake.injected else None
                if item is None:
                    return False
                self._send(item[0], item[2], item[1])
                return True

            def do_GET(self) -> None:
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                fake.requests.append({"path": url.path, "query": q})
                if url.path.rstrip("/").split("/")[-1] != "FetchHashes":
                    self._send(404, b'{"message": "not found"}')
                    return
                if not self._auth(fake.keys[0]) or self._injected():
                    return
                if fake.delay:
                    import time

                    time.sleep(fake.delay)
                try:
                    body = fake.page(
                        int(q.get("startTimestamp", BASE_TS)),
                        int(q.get("pageSize", 800)),
                        q.get("nextPageToken", ""),
                    )
                except ValueError:
                    self._send(400, b'{"message": "bad parameters"}')
                    return
                self._send(200, json.dumps(body).encode())

            def do_POST(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                fake.requests.append({"path": url.path, "method": "POST"})
                if not self._auth(fake.keys[2]) or self._injected():
                    return
                payload = json.loads(data or b"{}")
                fake.feedback.extend(payload.get("hashFeedbacks", []))
                self._send(200, b"{}")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
