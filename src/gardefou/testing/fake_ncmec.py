"""A fake NCMEC hash sharing API (v2, XML) for tests, as python-threatexchange's client reads it.

``GET /v2/entries?from=&to=`` (HTTP basic auth) answers
``<queryResult><images count maxTimestamp><image>|<deletedImage>...</images><videos .../>
<paging><next>/v2/entries?from=&to=&start=&size=&max=</next></paging></queryResult>``. Entries
of a range come in a shuffled order, as NCMEC documents (not by time); a deletion is a newer
tombstone (``<deletedImage>`` with the id and member only).
"""

from __future__ import annotations

import base64
import random
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

from gardefou.testing.fake_stopncii import fake_pdq

BASE_TS = 1_700_000_000
_FMT = "%Y-%m-%dT%H:%M:%SZ"


class FakeNCMEC:
    def __init__(self, n: int = 0, *, user: str = "esp", password: str = "secret", size: int = 100):
        self.user, self.password, self.size = user, password, size
        self.entries: list[dict[str, Any]] = []
        for i in range(n):
            fingerprints = {"md5": fake_pdq(i, "md5")[:32], "pdq": fake_pdq(i, "ncmec")}
            if i % 5 == 0:
                fingerprints["pdna"] = "pdna-" + fake_pdq(i)[:40]
            self.entries.append(
                {"id": f"E{i}", "ts": BASE_TS + i, "deleted": False, "fingerprints": fingerprints}
            )
        self.injected: list[tuple[int, bytes]] = []
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def credentials(self) -> str:
        return f"{self.user}:{self.password}"

    def delete(self, entry_id: str) -> None:
        """A tombstone dated now, as NCMEC dates a deletion."""
        ts = int(time.time())
        self.entries.append({"id": entry_id, "ts": ts, "deleted": True, "fingerprints": {}})

    def state(self) -> dict[str, bool]:
        """{entry id: live} after every update, in time order."""
        out: dict[str, bool] = {}
        for e in sorted(self.entries, key=lambda e: e["ts"]):
            out[e["id"]] = not e["deleted"]
        return out

    def live_pdqs(self) -> set[str]:
        live = self.state()
        return {
            e["fingerprints"]["pdq"]
            for e in self.entries
            if not e["deleted"] and live[e["id"]] and "pdq" in e["fingerprints"]
        }

    def page(self, start_ts: int, end_ts: int, offset: int) -> bytes:
        found = [e for e in self.entries if start_ts <= e["ts"] <= end_ts]
        random.Random(start_ts * 31 + end_ts).shuffle(found)  # not in time order
        chunk = found[offset : offset + self.size]
        parts = []
        for e in chunk:
            tag = "deletedImage" if e["deleted"] else "image"
            fps = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in e["fingerprints"].items())
            body = f"<fingerprints>{fps}</fingerprints>" if fps else ""
            parts.append(
                f'<{tag}><id>{e["id"]}</id><member id="42">Example ESP</member>'
                f"<classification>A1</classification>{body}</{tag}>"
            )
        max_ts = max((e["ts"] for e in chunk), default=start_ts)
        stamp = datetime.fromtimestamp(max_ts).strftime(_FMT)
        nxt = ""
        if offset + self.size < len(found):
            q = (
                f"from={datetime.fromtimestamp(start_ts).strftime(_FMT)}&amp;"
                f"to={datetime.fromtimestamp(end_ts).strftime(_FMT)}&amp;"
                f"start={offset + self.size}&amp;size={self.size}&amp;max={len(found)}"
            )
            nxt = f"<paging><next>/v2/entries?{q}</next></paging>"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">'
            f'<images count="{len(chunk)}" maxTimestamp="{stamp}">{"".join(parts)}</images>'
            f"{nxt}</queryResult>"
        )
        return xml.encode()

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                want = base64.b64encode(fake.credentials.encode()).decode()
                if self.headers.get("Authorization") != f"Basic {want}":
                    self._send(401, b"<error>unauthorized</error>")
                    return
                if fake.injected:
                    self._send(*fake.injected.pop(0))
                    return
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if not url.path.endswith("/v2/entries"):
                    self._send(404, b"<error>not found</error>")
                    return
                try:
                    start = int(datetime.strptime(q["from"], _FMT).timestamp())
                    end = int(datetime.strptime(q["to"], _FMT).timestamp())
                    offset = int(q.get("start", 0))
                except (KeyError, ValueError):
                    self._send(400, b"<error>bad parameters</error>")
                    return
                self._send(200, fake.page(start, end, offset))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
