"""The optional chat-endpoint judge, against a local fake OpenAI-compatible server."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from PIL import Image

from gardefou.decision import Action
from gardefou.errors import ConfigError
from gardefou.guard import Guard, GuardConfig
from gardefou.guard.intent import IntentClassifier
from gardefou.guard.judge import ChatJudge
from gardefou.testing import FakeSignal, age, faces


class _Fake(BaseHTTPRequestHandler):
    answer = "refuse"
    delay = 0.0
    status = 200
    seen: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "body": body,
                                "auth": self.headers.get("Authorization")})  # fmt: skip
        time.sleep(self.delay)
        out = json.dumps({"choices": [{"message": {"role": "assistant",
                                                   "content": self.answer}}]}).encode()  # fmt: skip
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    _Fake.answer, _Fake.delay, _Fake.status, _Fake.seen = "refuse", 0.0, 200, []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Fake)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(buf, "PNG")
    return buf.getvalue()


def _guard(judge: ChatJudge | None) -> Guard:
    # a fixed threshold puts "add a party hat" (a low probability) inside a wide band
    return Guard(GuardConfig(judge=judge, judge_band=1.0),
                 signals={"faces": FakeSignal(faces(1)), "age": FakeSignal(age(False))},
                 classifier=IntentClassifier(threshold=0.99))  # fmt: skip


def test_judge_consulted_in_band_and_followed(server: str, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:  # fmt: skip
    monkeypatch.setenv("JUDGE_KEY", "k1")
    g = _guard(ChatJudge(server, "llama-guard", api_key_env="JUDGE_KEY"))
    d = g.check_request("add a party hat", images=[_photo()])
    assert d.action == Action.REFUSE and d.reasons[0].code == "judge_refused"
    seen = _Fake.seen[0]
    assert seen["path"] == "/v1/chat/completions" and seen["auth"] == "Bearer k1"
    assert seen["body"]["messages"][-1]["content"] == "add a party hat"
    _Fake.answer = "safe"
    assert g.check_request("add a party hat", images=[_photo()]).action == Action.ALLOW


@pytest.mark.parametrize("failure", ["timeout", "http500", "garbage"])
def test_judge_failure_fails_closed(server: str, failure: str) -> None:
    if failure == "timeout":
        _Fake.delay = 1.0
    elif failure == "http500":
        _Fake.status = 500
    else:
        _Fake.answer = "I am not sure what you mean"
    g = _guard(ChatJudge(server, "m", timeout_s=0.2))
    d = g.check_request("add a party hat", images=[_photo()])
    assert d.action == Action.REVIEW and "judge" in d.unavailable
    assert d.reasons[0].code == "judge_unavailable"


def test_judge_unreachable_fails_closed() -> None:
    g = _guard(ChatJudge("http://127.0.0.1:9/v1", "m", timeout_s=0.5))
    assert g.check_request("add a party hat", images=[_photo()]).action == Action.REVIEW


def test_judge_off_by_default_and_not_asked_outside_band(server: str) -> None:
    assert GuardConfig().judge is None
    g = Guard(GuardConfig(judge=ChatJudge(server, "m")),
              signals={"faces": FakeSignal(faces(1)), "age": FakeSignal(age(False))})  # fmt: skip
    assert g.check_request("add a party hat", images=[_photo()]).allowed
    assert g.check_request("take all her clothes off", images=[_photo()]).action == (
        Action.REFUSE)  # fmt: skip
    assert _Fake.seen == []


def test_judge_config_errors() -> None:
    with pytest.raises(ConfigError, match="http"):
        ChatJudge("ftp://x", "m")
    with pytest.raises(ConfigError, match="timeout"):
        ChatJudge("http://x", "m", timeout_s=0)
