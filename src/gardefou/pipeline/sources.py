"""Where events come from: JSONL files and folders, an HTTP ingest handler, Redis Streams.

Each source yields ``Envelope``s; the runner decides them. A source never parses more than it must
(the processor validates), so one malformed line becomes one dead letter, not a stopped run.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gardefou.errors import PipelineError
from gardefou.pipeline.core import Envelope

log = logging.getLogger("gardefou.pipeline")

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.txt")


def jsonl_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """JSONL files named or found (recursively, sorted) under folders; '-' is stdin."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if str(p) == "-":
            out.append(path)
        elif path.is_dir():
            out.extend(
                sorted(
                    f
                    for f in path.rglob("*")
                    if f.is_file()
                    and f.name.endswith(JSONL_SUFFIXES)
                    and not any(part.startswith(".") for part in f.parts)
                )
            )
        elif path.is_file():
            out.append(path)
        else:
            raise PipelineError(
                f"source {str(p)!r} does not exist; give a .jsonl file, a folder "
                "of them, or '-' for stdin"
            )
    return out


def iter_jsonl(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Envelope]:
    """One envelope per non-blank line; media paths resolve beside the file."""
    import sys

    for path in jsonl_files(paths):
        stream = sys.stdin.buffer if str(path) == "-" else path.open("rb")
        base = Path.cwd() if str(path) == "-" else path.resolve().parent
        try:
            for lineno, line in enumerate(stream, 1):
                if line.strip():
                    yield Envelope(
                        raw=line.rstrip(b"\r\n"), origin=f"{path}:{lineno}", base_dir=base
                    )
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


# -- HTTP ingest --------------------------------------------------------------------------------
class IngestHandler:
    """A framework-free HTTP ingest handler: ``handle(body) -> (status, json_body, headers)``.

    The body is one JSON event or JSON Lines. With ``stream`` set (a RedisStream), events are
    appended to the stream and answered 202 with their message ids; when the stream's backlog is
    over ``max_backlog`` the request is refused with 429 and Retry-After (backpressure reaches the
    client instead of growing an unbounded queue). Without a stream, events are decided inline
    by ``processor`` and answered 200 with each outcome.
    """

    def __init__(
        self,
        processor: Any = None,
        stream: Any = None,
        max_backlog: int = 10_000,
        max_body_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        if (processor is None) == (stream is None):
            raise PipelineError("IngestHandler needs exactly one of processor= or stream=")
        self.processor = processor
        self.stream = stream
        self.max_backlog = max_backlog
        self.max_body_bytes = max_body_bytes

    def handle(self, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        if len(body) > self.max_body_bytes:
            return (
                413,
                {
                    "error": "body_too_large",
                    "message": f"body of {len(body):,} bytes is over "
                    f"{self.max_body_bytes:,}; send fewer events per request",
                },
                {},
            )
        lines = [ln for ln in body.splitlines() if ln.strip()]
        if not lines:
            return 400, {"error": "empty", "message": "send one JSON event or JSON Lines"}, {}
        received = time.time()
        # The origin keys the dead letter of a line whose id is unreadable: unique per request,
        # or a later batch's bad line 1 would overwrite this one's.
        batch = secrets.token_hex(6)
        envelopes = [
            Envelope(raw=ln, origin=f"http:{batch}:{i}", received_at=received, paths_allowed=False)
            for i, ln in enumerate(lines)
        ]
        if self.stream is not None:
            backlog = self.stream.backlog()
            if backlog + len(envelopes) > self.max_backlog:
                return (
                    429,
                    {
                        "error": "backpressure",
                        "message": f"stream backlog is {backlog:,} events (limit "
                        f"{self.max_backlog:,}); retry later",
                    },
                    {"Retry-After": "2"},
                )
            ids = self.stream.push_many(envelopes)
            return 202, {"accepted": len(ids), "message_ids": ids}, {}
        return 200, {"outcomes": [self._one(env) for env in envelopes]}, {}

    def _one(self, env: Envelope) -> dict[str, Any]:
        """One line's outcome. The processor dead-letters bad events itself; if even that fails
        (the store refused the dead letter), this line answers "failed" for the client to resend,
        and the lines after it are still processed."""
        try:
            return dict(self.processor.process(env).to_dict())
        except Exception as exc:  # one line must not fail the batch
            log.exception("ingest line %s could not be processed or dead-lettered", env.origin)
            return {
                "status": "failed",
                "origin": env.origin,
                "reason_code": "internal_error",
                "reason": f"{type(exc).__name__}; nothing was stored for this line: resend it",
            }
