"""Gateway parts without the HTTP client: upstream retries and limits, rate limits, config,
labels and watermark, fail-closed paths of the service, the `serve` mount and the CLI."""

from __future__ import annotations

import base64
import email.utils
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from gardefou.errors import (
    ConfigError,
    GuardInputError,
    RateLimitError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gardefou.gateway import (
    CallableUpstream,
    GatewayConfig,
    HTTPUpstream,
    ImageRequest,
    Refused,
    build_service,
)
from gardefou.gateway.labels import Labeller, manifest
from gardefou.gateway.upstream import retry_after_seconds
from gardefou.guard import Guard
from gardefou.media import load_media
from gardefou.ratelimit import RateLimiter
from gardefou.signals import _watermark
from gardefou.signals.c2pa_sign import generate_test_key
from gardefou.store import connect
from gardefou.testing import FakeSignal, age, faces, identity, nudity

FIX = Path(__file__).parent / "fixtures" / "guard"
HOUSES = (FIX / "object-houses.jpg").read_bytes()
REQ = ImageRequest("generations", "houses", {"n": 1})


def ok_body(images: list[bytes] | None = None) -> dict[str, Any]:
    return {
        "created": 1,
        "data": [{"b64_json": base64.b64encode(i).decode()} for i in images or [HOUSES]],
    }


def upstream(handler: Any, **kw: Any) -> tuple[HTTPUpstream, list[float]]:
    slept: list[float] = []
    up = HTTPUpstream(
        "http://gen.test/v1",
        "sk-up",
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
        **kw,
    )
    return up, slept


# -- upstream client -------------------------------------------------------------------------------
def test_retries_honour_retry_after_then_succeed() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {}})
        if len(calls) == 2:
            return httpx.Response(503, headers={"Retry-After": "1"})
        return httpx.Response(200, json=ok_body())

    up, slept = upstream(handler, retries=2, response_format="b64_json")
    result = up.generate(REQ)
    assert result.images == [HOUSES]
    assert slept == [2.0, 1.0]
    assert calls[0].url.path == "/v1/images/generations"
    assert calls[0].headers["authorization"] == "Bearer sk-up"
    assert json.loads(calls[0].content)["response_format"] == "b64_json"


def test_retry_after_as_http_date_and_too_long_a_wait() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (retry_after_seconds(when) or 0) <= 31
    assert retry_after_seconds("garbage") is None

    up, slept = upstream(
        lambda r: httpx.Response(503, headers={"Retry-After": "3600"}), max_retry_after_s=30
    )
    with pytest.raises(UpstreamError, match="retry after 3600 s"):
        up.generate(REQ)
    assert slept == []


def test_upstream_errors_are_typed_and_clear() -> None:
    up, _ = upstream(lambda r: httpx.Response(401, json={"error": {"message": "bad key"}}))
    with pytest.raises(UpstreamError, match="credentials") as info:
        up.generate(REQ)
    assert info.value.http_status == 502  # the operator's problem, not the client's
    up, _ = upstream(
        lambda r: httpx.Response(
            400, json={"error": {"message": "size bad", "code": "invalid_size"}}
        )
    )
    with pytest.raises(UpstreamError, match="size bad") as info:
        up.generate(REQ)
    assert info.value.http_status == 400

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(UpstreamTimeoutError, match="did not answer"):
        upstream(slow)[0].generate(REQ)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    up, slept = upstream(down, retries=2)
    with pytest.raises(UpstreamError, match="after 3 attempts"):
        up.generate(REQ)
    assert slept == [0.5, 1.0]


def test_oversized_or_garbled_answers_are_refused() -> None:
    big = b"x" * 2000
    up, _ = upstream(lambda r: httpx.Response(200, content=big), max_bytes=1000)
    with pytest.raises(UpstreamError, match="over the gateway's limit"):
        up.generate(REQ)
    for body in (b"not json", b'{"data": "x"}', b'{"data": []}', b'{"data": [{"b64_json": "!!"}]}'):
        up, _ = upstream(lambda r, b=body: httpx.Response(200, content=b))
        with pytest.raises(UpstreamError):
            up.generate(REQ)


def test_url_answers_are_fetched_and_edits_sent_as_multipart() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/img.png":
            return httpx.Response(200, content=HOUSES)
        return httpx.Response(200, json={"data": [{"url": "http://gen.test/img.png"}]})

    up, _ = upstream(handler)
    edit = ImageRequest(
        "edits",
        "add a hat",
        {"n": 1, "user": "u"},
        (("a.png", HOUSES, "image/jpeg"), ("b.png", HOUSES, "image/jpeg")),
    )
    assert up.generate(edit).images == [HOUSES]
    body = seen[0].content
    assert seen[0].url.path == "/v1/images/edits" and b'name="image[]"' in body
    assert b"add a hat" in body and b"response_format" not in body
    assert seen[0].headers["authorization"] == "Bearer sk-up"
    assert "authorization" not in seen[1].headers  # the image host never sees the upstream key


def test_upstream_cookies_are_never_kept_between_requests() -> None:
    """One pooled client serves every user: a cookie one answer sets must not ride along on the
    next user's request (it could tie two users together at the upstream or carry a session)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json=ok_body(), headers={"Set-Cookie": "session=user-a; Path=/; Domain=gen.test"}
        )

    up, _ = upstream(handler)
    up.generate(REQ)
    up.generate(REQ)
    assert len(seen) == 2 and "cookie" not in seen[1].headers


def test_callable_upstream_bounds_time_and_shape() -> None:
    assert CallableUpstream(lambda r: [HOUSES]).generate(REQ).images == [HOUSES]
    assert CallableUpstream(lambda r: ok_body()).generate(REQ).images == [HOUSES]
    with pytest.raises(UpstreamTimeoutError):
        CallableUpstream(lambda r: time.sleep(1), timeout_s=0.05).generate(REQ)
    with pytest.raises(UpstreamError, match="ZeroDivisionError"):
        CallableUpstream(lambda r: 1 / 0).generate(REQ)
    with pytest.raises(UpstreamError, match="returned str"):
        CallableUpstream(lambda r: "image").generate(REQ)


# -- rate limits and config ------------------------------------------------------------------------
def test_rate_limits_in_memory() -> None:
    rl = RateLimiter()
    rl.hit_rate("user", "a", "2/minute", "per-user")
    rl.hit_rate("user", "a", "2/minute", "per-user")
    rl.hit_rate("user", "b", "2/minute", "per-user")
    with pytest.raises(RateLimitError, match="2/minute") as info:
        rl.hit_rate("user", "a", "2/minute", "per-user")
    assert info.value.retry_after >= 1


def test_memory_rate_limits_start_no_thread_per_request() -> None:
    import threading

    rl = RateLimiter()
    time.sleep(0.05)  # the library's constructor starts one 10 ms timer; let it end
    before = threading.active_count()
    for i in range(20):
        rl.hit_rate("user", f"k{i}", "5/second", "per-user")
        time.sleep(0.012)  # longer than the library's 10 ms expiry timer
        assert threading.active_count() <= before  # none started (an earlier test's may end)
    for _ in range(5):
        rl.hit_rate("user", "burst", "5/second", "per-user")
    with pytest.raises(RateLimitError):
        rl.hit_rate("user", "burst", "5/second", "per-user")


@pytest.mark.redis
def test_rate_limits_shared_through_redis(redis_url: str) -> None:
    scope = f"t{time.time_ns()}"
    a, b = RateLimiter(redis_url), RateLimiter(redis_url)  # two gateway processes
    a.hit_rate(scope, "u", "2/minute", "per-user")
    b.hit_rate(scope, "u", "2/minute", "per-user")
    with pytest.raises(RateLimitError):
        a.hit_rate(scope, "u", "2/minute", "per-user")


def test_config_errors_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="upstream"):
        GatewayConfig.build(upstream="gen:8000")
    with pytest.raises(ConfigError, match="max_n"):
        GatewayConfig.build(max_n=0)
    with pytest.raises(ConfigError, match="rate_global"):
        GatewayConfig.build(rate_global="fast")
    with pytest.raises(ConfigError, match="needs both image_dir"):
        GatewayConfig.build(image_dir="/tmp/x")
    with pytest.raises(ConfigError, match="image_url"):
        GatewayConfig.build(image_dir="/tmp/x", image_url="gw.example.org")
    cfg = GatewayConfig.from_env(
        {"GARDEFOU_GATEWAY_UPSTREAM": "http://g/v1/", "GARDEFOU_GATEWAY_MAX_N": "2"}
    )
    assert cfg.upstream == "http://g/v1" and cfg.max_n == 2
    with pytest.raises(ConfigError, match="needs a key"):
        cfg.check_labels()
    with pytest.raises(ConfigError, match="no upstream"):
        build_service(GatewayConfig(labels="none"), db=object())


# -- labels ---------------------------------------------------------------------------------------
def _reference_mark(ca: np.ndarray, message: tuple[int, ...]) -> np.ndarray:
    """The reference dwtDct encoder's per-block loop, kept here to check the vectorized one."""
    scale, block = _watermark.SCALE, _watermark.BLOCK
    nr, nc = ca.shape[0] // block, ca.shape[1] // block
    for num in range(nr * nc):
        i, j = divmod(num, nc)
        blk = ca[i * block : (i + 1) * block, j * block : (j + 1) * block]
        pos = int(np.abs(blk.ravel()[1:]).argmax()) + 1
        bi, bj = divmod(pos, block)
        val = blk[bi, bj]
        q = (abs(val) // scale + 0.25 + 0.5 * message[num % len(message)]) * scale
        blk[bi, bj] = q if val >= 0 else -q
    return ca


def test_the_one_watermark_encoder_equals_the_reference_loop() -> None:
    rgb = np.asarray(Image.open(io.BytesIO(HOUSES)).convert("RGB").resize((128, 96)))
    for name in ("gardefou", "SDXL"):
        bits = _watermark.KNOWN_MESSAGES[name]
        reference = _watermark.embed_with(rgb, bits, _reference_mark)
        assert np.array_equal(_watermark.embed(rgb, bits), reference)


def test_watermarked_label_is_detected_by_the_provenance_signal() -> None:
    from gardefou.signals.provenance import ProvenanceSignal

    signed = Labeller(generate_test_key(), "fake-diffusion", watermark=True).label(HOUSES, "edits")
    assert signed.startswith(b"\x89PNG")  # lossless, or the mark would not survive
    res = ProvenanceSignal().extract(load_media(signed))
    assert res.value["watermark"]["detected"] and res.value["watermark"]["message"] == "gardefou"
    assert res.value["c2pa"]["valid"] and res.value["ai_generated"] is True
    acts = [a["action"] for a in manifest("g", "edits", True)["assertions"][0]["data"]["actions"]]
    assert acts == ["c2pa.created", "c2pa.watermarked", "c2pa.published"]


def test_a_bad_signing_key_stops_the_labeller_at_start() -> None:
    good, other = generate_test_key(), generate_test_key()
    from gardefou.signals.c2pa_sign import SigningKey

    with pytest.raises(ConfigError, match="C2PA signing failed"):
        Labeller(SigningKey(good.cert_chain_pem, other.private_key_pem), "g")


# -- fail closed in the service --------------------------------------------------------------------
def service(tmp_path: Path, guard: Guard, labeller: Any = None, **cfg: Any) -> Any:
    config = GatewayConfig(labels="c2pa" if labeller else "none", **cfg)
    return build_service(
        config,
        db=connect(tmp_path / "g.db"),
        guard=guard,
        upstream=CallableUpstream(lambda r: [HOUSES]),
        labeller=labeller,
    )


def test_output_check_unavailable_withholds_without_a_strike(tmp_path: Path) -> None:
    guard = Guard(
        signals={
            "faces": FakeSignal(faces(0)),
            "age": FakeSignal(age()),
            "nudity": FakeSignal(nudity(available=False)),
            "identity": FakeSignal(identity()),
        }
    )
    svc = service(tmp_path, guard)
    with pytest.raises(Refused) as info:
        svc.handle("generations", "houses", {"n": 1}, "u1", "k")
    assert info.value.status == 503 and info.value.code == "output_unchecked"
    assert info.value.details["withheld"][0]["reasons"][0]["code"] == (
        "fail_closed_signal_unavailable"
    )
    assert svc.cases.points("u1") == 0


def test_request_check_unavailable_refuses_with_503_and_no_strike(tmp_path: Path) -> None:
    guard = Guard(
        signals={
            "faces": FakeSignal(faces(available=False)),
            "age": FakeSignal(age()),
            "nudity": FakeSignal(nudity()),
            "identity": FakeSignal(identity()),
        }
    )
    svc = service(tmp_path, guard)
    with pytest.raises(Refused, match="could not be checked") as info:
        svc.handle("edits", "make it nsfw", {"n": 1}, "u1", "k", [("h.jpg", HOUSES, "image/jpeg")])
    assert info.value.status == 503 and info.value.code == "safety_check_unavailable"
    assert info.value.details["reasons"][0]["code"] == "fail_closed_signal_unavailable"
    assert svc.cases.points("u1") == 0


def test_label_failure_withholds_the_image(tmp_path: Path) -> None:
    class Broken:
        watermark = False

        def label(self, data: bytes, kind: str) -> bytes:
            raise ConfigError("signing key expired")

    guard = Guard(signals={"faces": FakeSignal(faces(0)), "nudity": FakeSignal(nudity("none"))})
    svc = service(tmp_path, guard, labeller=Broken())
    with pytest.raises(Refused, match="signing key expired") as info:
        svc.handle("generations", "houses", {"n": 1}, "u1", "k")
    assert info.value.status == 503


def test_prompt_retention_is_enforced_by_the_gateway(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    guard = Guard(signals={"faces": FakeSignal(faces(0)), "nudity": FakeSignal(nudity("none"))})
    svc = service(tmp_path, guard, retain_prompt_days=1)
    svc.handle("generations", "houses", {"n": 1}, "u1", "k")
    rows = svc.db.query("SELECT prompt_text FROM guard_audit")
    assert [r["prompt_text"] for r in rows] == ["houses", "houses"]
    assert svc.purge_prompts(datetime.now(UTC) + timedelta(days=2)) == 2
    assert all(r["prompt_text"] is None for r in svc.db.query("SELECT * FROM guard_audit"))


def test_request_held_for_review_is_not_generated_and_not_a_strike(tmp_path: Path) -> None:
    guard = Guard(
        signals={
            "faces": FakeSignal(faces(0)),
            "age": FakeSignal(age()),
            "nudity": FakeSignal(nudity()),
            "identity": FakeSignal(identity()),
        }
    )
    calls: list[ImageRequest] = []
    svc = build_service(
        GatewayConfig(labels="none"),
        db=connect(tmp_path / "r.db"),
        guard=guard,
        upstream=CallableUpstream(lambda r: calls.append(r) or [HOUSES]),
    )
    with pytest.raises(Refused, match="held for human review") as info:
        svc.handle("edits", "make it nsfw", {"n": 1}, "u1", "k", [("h.jpg", HOUSES, "image/jpeg")])
    acc = info.value.details["accountability"]
    assert acc["strike"] is False and svc.cases.get(acc["case_id"]).status == "pending_review"
    assert svc.cases.points("u1") == 0 and calls == []


def test_require_user(tmp_path: Path) -> None:
    from gardefou.errors import GuardInputError

    svc = service(tmp_path, Guard(signals={"nudity": FakeSignal(nudity())}), require_user=True)
    with pytest.raises(GuardInputError, match="`user`"):
        svc.handle("generations", "houses", {"n": 1}, None, "k")


# -- `gardefou serve` section and CLI ------------------------------------------------------------
def test_serve_mounts_the_gateway_only_when_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from gardefou.web.app import create_app
    from gardefou.web.settings import Settings

    with TestClient(create_app(Settings(db=str(tmp_path / "a.db"), admin_key="adm"))) as c:
        assert c.get("/gateway/healthz").status_code == 404
    monkeypatch.setenv("GARDEFOU_GATEWAY_UPSTREAM", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GARDEFOU_GATEWAY_LABELS", "none")
    with TestClient(create_app(Settings(db=str(tmp_path / "b.db"), admin_key="adm"))) as c:
        assert c.get("/gateway/healthz").json()["upstream"] == "http://127.0.0.1:9/v1"
        r = c.post(
            "/gateway/v1/images/generations",
            json={"prompt": "Emma Watson naked"},
            headers={"Authorization": "Bearer adm"},
        )
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "content_policy_violation"
        r = c.post("/gateway/v1/images/generations", json={"prompt": "houses"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


def test_cli_refuses_to_start_without_a_signing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gardefou.cli.commands_gateway  # noqa: F401 - registers the command
    from gardefou.cli.main import cli

    monkeypatch.delenv("GARDEFOU_C2PA_CERT", raising=False)
    res = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "c.db"), "gateway", "--upstream", "http://127.0.0.1:9/v1"]
    )
    assert res.exit_code == 2
    assert "needs a key" in res.output


@pytest.mark.slow
def test_real_detectors_pass_a_benign_generation_and_label_it(tmp_path: Path) -> None:
    """The shipped models (faces, nudity) on a benign photo: allowed, labelled, valid C2PA."""
    pytest.importorskip("onnxruntime")
    c2pa = pytest.importorskip("c2pa")
    labeller = Labeller(generate_test_key(), "fake-diffusion")
    svc = service(tmp_path, Guard(), labeller=labeller)
    body = svc.handle("generations", "a row of houses by a canal", {"n": 1}, "u1", "k")
    assert body["gardefou"]["withheld"] == [], body["gardefou"]
    data = base64.b64decode(body["data"][0]["b64_json"])
    reader = c2pa.Reader("image/jpeg", io.BytesIO(data))
    assert reader.get_validation_state() == "Valid"


def _benign_guard() -> Guard:
    return Guard(
        signals={
            "faces": FakeSignal(faces(0)),
            "age": FakeSignal(age()),
            "nudity": FakeSignal(nudity("none")),
            "identity": FakeSignal(identity()),
        }
    )


def test_a_request_and_its_outputs_are_audited_in_one_commit(tmp_path: Path) -> None:
    svc = build_service(
        GatewayConfig(labels="none"),
        db=connect(tmp_path / "g.db"),
        guard=_benign_guard(),
        upstream=CallableUpstream(lambda r: [HOUSES, HOUSES]),
    )
    commits = []
    real = svc.db._conn

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def commit(self) -> None:
            commits.append(1)
            real.commit()

    svc.db._conn = Counting()
    body = svc.handle("generations", "houses at dusk", {"n": 2}, "u1", "k")
    svc.db._conn = real
    assert len(commits) == 1  # was 3: the request's row, then one per output
    rows = svc.db.query("SELECT id, kind FROM guard_audit ORDER BY id")
    assert [r["kind"] for r in rows] == ["gateway_request", "gateway_output", "gateway_output"]
    assert body["gardefou"]["decision_id"] == f"gw-{rows[0]['id']}"


def test_the_request_is_audited_when_the_upstream_fails(tmp_path: Path) -> None:
    def down(request: Any) -> Any:
        raise UpstreamError("generator down")

    svc = build_service(
        GatewayConfig(labels="none"),
        db=connect(tmp_path / "g.db"),
        guard=_benign_guard(),
        upstream=CallableUpstream(down),
    )
    with pytest.raises(UpstreamError):
        svc.handle("generations", "houses at dusk", {"n": 1}, "u1", "k")
    rows = svc.db.query("SELECT kind, action FROM guard_audit")
    assert rows == [{"kind": "gateway_request", "action": "allow"}]


def _png(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else 0).save(buf, "PNG")
    return buf.getvalue()


def test_the_mask_is_checked_as_an_image(tmp_path: Path) -> None:
    from gardefou.errors import CorruptMediaError, MediaTooLargeError
    from gardefou.guard import GuardConfig
    from gardefou.media import Limits

    calls = []
    guard = _benign_guard()
    guard.config = GuardConfig(media_limits=Limits(max_pixels=2_000_000))
    svc = build_service(
        GatewayConfig(labels="none"),
        db=connect(tmp_path / "g.db"),
        guard=guard,
        upstream=CallableUpstream(lambda r: calls.append(r) or [HOUSES]),
    )
    w, h = Image.open(io.BytesIO(HOUSES)).size
    image = [("in.jpg", HOUSES, "image/jpeg")]

    def edit(mask: bytes) -> Any:
        return svc.handle("edits", "add a door", {"n": 1}, "u", "k", image, ("m.png", mask, ""))

    assert edit(_png((w, h)))["gardefou"]["returned"] == 1
    with pytest.raises(GuardInputError, match=rf"mask is 10x10 px but image 0 is {w}x{h}"):
        edit(_png((10, 10)))
    with pytest.raises(CorruptMediaError, match="mask"):
        edit(_png((w, h))[:200])
    with pytest.raises(MediaTooLargeError, match="mask"):
        edit(_png((2000, 2000), "L"))  # the inputs' pixel limit applies to the mask too
    assert len(calls) == 1  # nothing refused reached the generator


def test_the_watermark_reuses_the_checks_decode_with_the_same_pixels() -> None:
    from gardefou.gateway import labels

    media = load_media(HOUSES)
    decodes = []
    import PIL.Image

    original = PIL.Image.open

    def counting_open(*a: Any, **k: Any) -> Any:
        decodes.append(1)
        return original(*a, **k)

    mp = pytest.MonkeyPatch()
    mp.setattr(PIL.Image, "open", counting_open)
    try:
        reused = labels.watermark_png(HOUSES, media.image)
        assert decodes == []  # no second decode of the output
        fresh = labels.watermark_png(HOUSES)
        assert decodes == [1]
    finally:
        mp.undo()
    assert reused == fresh


def test_the_images_answer_is_the_same_json_as_jsonresponse() -> None:
    from fastapi.responses import JSONResponse

    from gardefou.gateway.wire import images_response

    b64 = base64.b64encode(HOUSES).decode()
    body = {
        "created": 1,
        "data": [{"b64_json": b64, "revised_prompt": 'a "quoted" é'}, {"url": "http://x/y"}],
        "b64_json": "",  # an upstream extra with the same name is left alone
        "gardefou": {"decision_id": "gw-1", "withheld": [], "note": "ünïcode"},
    }
    assert images_response(body).body == JSONResponse(body).body


@pytest.mark.redis
def test_the_mounted_gateway_shares_the_services_redis_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    from fastapi.testclient import TestClient

    from gardefou.web.app import create_app
    from gardefou.web.settings import Settings

    monkeypatch.setenv("GARDEFOU_GATEWAY_UPSTREAM", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GARDEFOU_GATEWAY_LABELS", "none")
    settings = Settings(db=str(tmp_path / "m.db"), admin_key="adm", rate_limit_url=redis_url)
    app = create_app(settings)
    with TestClient(app):
        mounted = next(r for r in app.routes if getattr(r, "path", "") == "/gateway")
        gateway = mounted.app.app.state.gateway  # BodyLimit -> the gateway's FastAPI app
        assert gateway.limits.shared  # in Redis, as the service's own limits are


def test_the_request_is_audited_when_checking_an_output_breaks(tmp_path: Path) -> None:
    class Exploding:
        watermark = False

        def label(self, data: bytes, kind: str) -> bytes:
            raise RuntimeError("a bug in a labeller")

    svc = build_service(
        GatewayConfig(labels="c2pa"),
        db=connect(tmp_path / "g.db"),
        guard=_benign_guard(),
        upstream=CallableUpstream(lambda r: [HOUSES]),
        labeller=Exploding(),
    )
    with pytest.raises(RuntimeError):
        svc.handle("generations", "houses at dusk", {"n": 1}, "u1", "k")
    assert [r["kind"] for r in svc.db.query("SELECT kind FROM guard_audit")] == ["gateway_request"]
