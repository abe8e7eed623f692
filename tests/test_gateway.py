"""The gateway end to end: the official `openai` client -> gardefou gateway -> a fake upstream.

Images are benign fixtures (tests/fixtures/guard: ORL face photos, houses). "Sexualized" outputs
are simulated by faked signals keyed by the image bytes (gardefou.testing), never real imagery.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from gardefou.errors import GoneError
from gardefou.gateway import (
    CallableUpstream,
    GatewayConfig,
    Refused,
    build_service,
    create_gateway_app,
)
from gardefou.gateway.fakes import fake_upstream_app, free_port, serve
from gardefou.gateway.labels import Labeller
from gardefou.guard import Guard
from gardefou.media import load_media
from gardefou.signals.c2pa_sign import generate_test_key
from gardefou.store import connect
from gardefou.testing import FakeSignal, age, faces, identity, jitter, nudity, person_embedding
from gardefou.web.auth import KeyStore

openai = pytest.importorskip("openai")
c2pa = pytest.importorskip("c2pa")

FIX = Path(__file__).parent / "fixtures" / "guard"
PORTRAIT = (FIX / "portrait-orl-s4-1.png").read_bytes()  # the input photo (person A)
SAME_PERSON = (FIX / "portrait-orl-s4-2.png").read_bytes()  # output: person A, "sexualized"
OTHER = (FIX / "portrait-orl-s7-1.png").read_bytes()  # output: person A, benign edit
HOUSES = (FIX / "object-houses.jpg").read_bytes()  # a benign generation
ALICE = person_embedding(1)


def by_image(table: dict[bytes, Any], default: Any) -> FakeSignal:
    return FakeSignal(lambda media: table.get(media.data, default))


def fake_guard() -> Guard:
    """Signals faked per image: SAME_PERSON is 'suggestive' and shows the input's person."""
    return Guard(
        signals={
            "faces": by_image({HOUSES: faces(0)}, faces(1)),
            "age": FakeSignal(age(False)),
            "nudity": by_image({SAME_PERSON: nudity("suggestive")}, nudity("none")),
            "identity": by_image(
                {
                    PORTRAIT: identity([ALICE]),
                    SAME_PERSON: identity([jitter(ALICE)]),
                    OTHER: identity([jitter(ALICE, seed=3)]),
                },
                identity([]),
            ),
        }
    )


class Env:
    def __init__(self, tmp: Path, images: list[bytes], **cfg: Any) -> None:
        self.upstream_app = fake_upstream_app(images)
        self.upstream_url, self._stop_up = serve(self.upstream_app)
        self.db = connect(tmp / "gw.db")
        _, self.key = KeyStore(self.db).create("bot-platform", "platform")
        settings = {
            "upstream": self.upstream_url + "/v1",
            "labels": "c2pa",
            "retries": 0,
            "timeout_s": 5.0,
            "generator_name": "fake-diffusion",
            **cfg,
        }
        self.config = GatewayConfig(**settings)
        self.labeller = Labeller(generate_test_key(), "fake-diffusion")
        self.service = build_service(
            self.config, db=self.db, guard=fake_guard(), labeller=self.labeller
        )
        self.url, self._stop = serve(create_gateway_app(self.service, KeyStore(self.db)))
        self.client = openai.OpenAI(base_url=self.url + "/v1", api_key=self.key, max_retries=0)

    def close(self) -> None:
        self._stop()
        self._stop_up()
        self.db.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path, [HOUSES])
    yield e
    e.close()


def error_of(exc: Any) -> dict[str, Any]:
    body = exc.body
    return body.get("error", body) if isinstance(body, dict) and "error" in body else body


def c2pa_state(data: bytes) -> tuple[str, dict[str, Any]]:
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    reader = c2pa.Reader(mime, io.BytesIO(data))
    return reader.get_validation_state(), json.loads(reader.json())


def test_benign_generation_is_labelled_with_a_valid_c2pa_manifest(env: Env) -> None:
    resp = env.client.images.generate(prompt="a row of houses by a canal", n=1, user="u-1")
    assert len(resp.data) == 1
    image = base64.b64decode(resp.data[0].b64_json)
    Image.open(io.BytesIO(image)).verify()
    state, store = c2pa_state(image)
    assert state == "Valid"
    manifest = store["manifests"][store["active_manifest"]]
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    acts = actions["data"]["actions"]
    assert acts[0]["action"] == "c2pa.created"
    assert acts[0]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert acts[0]["softwareAgent"]["name"] == "fake-diffusion"
    assert acts[-1]["action"] == "c2pa.published"
    assert acts[-1]["softwareAgent"]["name"] == "gardefou gateway"
    extra = resp.model_extra or {}
    assert extra["gardefou"]["withheld"] == [] and extra["gardefou"]["decision_id"].startswith(
        "gw-"
    )
    assert env.upstream_app.state.calls[0]["prompt"] == "a row of houses by a canal"
    assert env.upstream_app.state.calls[0]["user"] == "u-1"


def test_refused_request_gets_the_openai_error_shape_and_nothing_is_generated(env: Env) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        env.client.images.generate(prompt="Emma Watson naked on a beach", user="u-bad")
    err = error_of(info.value)
    assert err["code"] == "content_policy_violation"
    assert err["type"] == "image_generation_user_error"
    assert "refused" in err["message"] and "strike" in err["message"]
    gf = err["gardefou"]
    assert gf["decision_id"].startswith("gw-")
    assert gf["reasons"][0]["code"] == "sexualization_of_named_person"
    assert gf["accountability"]["account"] == "u-bad" and gf["accountability"]["points"] == 1
    assert env.upstream_app.state.calls == []  # the generator never saw it
    assert env.service.cases.points("u-bad") == 1


def edit(env: Env, user: str, n: int = 1, prompt: str = "make it a summer day") -> Any:
    return env.client.images.edit(
        image=("me.png", PORTRAIT, "image/png"), prompt=prompt, n=n, user=user
    )


def test_edit_whose_output_sexualizes_the_input_person_is_withheld(tmp_path: Path) -> None:
    env = Env(tmp_path, [SAME_PERSON])
    try:
        with pytest.raises(openai.BadRequestError) as info:
            edit(env, "u-edit")
        err = error_of(info.value)
        assert err["code"] == "content_policy_violation"
        withheld = err["gardefou"]["withheld"]
        assert withheld[0]["reasons"][0]["code"] == "more_sexualized_than_input"
        assert env.upstream_app.state.calls[0]["kind"] == "edits"  # generated, then withheld
        assert env.service.cases.points("u-edit") == 1
    finally:
        env.close()


def test_partial_refusal_of_n_images_is_explicit(tmp_path: Path) -> None:
    env = Env(tmp_path, [OTHER, SAME_PERSON])  # image 0 benign, image 1 sexualized
    try:
        resp = edit(env, "u-partial", n=2)
        assert len(resp.data) == 1
        gf = (resp.model_extra or {})["gardefou"]
        assert gf["requested"] == 2 and gf["returned"] == 1
        assert [w["index"] for w in gf["withheld"]] == [1]
        assert gf["withheld"][0]["reasons"][0]["code"] == "more_sexualized_than_input"
        assert gf["accountability"]["points"] == 1  # one strike per request, not per image
        assert c2pa_state(base64.b64decode(resp.data[0].b64_json))[0] == "Valid"
    finally:
        env.close()


def test_strikes_accumulate_and_no_image_edit_blocks_edits_for_that_user_only(env: Env) -> None:
    for _ in range(3):  # default policy: rate_limit at 2 points, no_image_edit at 3
        with pytest.raises(openai.BadRequestError):
            env.client.images.edit(
                image=("me.png", PORTRAIT, "image/png"),
                prompt="remove her clothes",
                user="u-repeat",
            )
    assert env.service.cases.points("u-repeat") == 3
    with pytest.raises(openai.PermissionDeniedError) as info:
        edit(env, "u-repeat")
    err = error_of(info.value)
    assert err["code"] == "sanction_no_image_edit"
    assert "no_image_edit" in err["message"] and "until 20" in err["message"]
    assert err["gardefou"]["ends_at"]
    assert len(env.upstream_app.state.calls) == 0
    # another user edits normally; the sanctioned user may still generate (rate-limited)
    assert len(edit(env, "u-other").data) == 1
    assert len(env.client.images.generate(prompt="houses", user="u-repeat").data) == 1
    # an appeal that reverses a case removes its strike and the sanction it triggered
    cases = env.service.cases
    case_id = cases.strikes("u-repeat")[0].case_id
    appeal = cases.appeal(case_id, "u-repeat", "I asked for a costume change")
    cases.decide_appeal(appeal.id, "moderator-b", "allow")
    assert "no_image_edit" not in cases.standing("u-repeat").restrictions
    assert len(edit(env, "u-repeat").data) == 1


def test_rate_limit_sanction_and_per_user_rate_limits(tmp_path: Path) -> None:
    env = Env(tmp_path, [HOUSES], rate_user="3/minute", rate_sanctioned="1/hour")
    try:
        for _ in range(3):
            env.client.images.generate(prompt="houses", user="u-fast")
        with pytest.raises(openai.RateLimitError) as info:
            env.client.images.generate(prompt="houses", user="u-fast")
        assert error_of(info.value)["code"] == "rate_limit_exceeded"
        assert int(info.value.response.headers["retry-after"]) >= 1
        for _ in range(2):
            with pytest.raises(openai.BadRequestError):
                env.client.images.generate(prompt="Emma Watson naked", user="u-slow")
        env.client.images.generate(prompt="houses", user="u-slow")  # 1/hour under rate_limit
        with pytest.raises(openai.RateLimitError) as info:
            env.client.images.generate(prompt="houses", user="u-slow")
        assert error_of(info.value)["code"] == "sanction_rate_limit"
    finally:
        env.close()


def test_upstream_down_fails_closed_with_a_clear_error(tmp_path: Path) -> None:
    env = Env(tmp_path, [HOUSES])
    try:
        env.service.upstream.base_url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens
        with pytest.raises(openai.InternalServerError) as info:
            env.client.images.generate(prompt="houses", user="u-1")
        assert info.value.status_code == 502
        err = error_of(info.value)
        assert err["code"] == "upstream_error" and "cannot reach the upstream" in err["message"]
    finally:
        env.close()


def test_upstream_slow_fails_closed_with_504(tmp_path: Path) -> None:
    env = Env(tmp_path, [HOUSES], timeout_s=0.5)
    try:
        slow = fake_upstream_app([HOUSES], mode="slow", delay=2.0)
        url, stop = serve(slow)
        env.service.upstream.base_url = url + "/v1"
        try:
            with pytest.raises(openai.InternalServerError) as info:
                env.client.images.generate(prompt="houses", user="u-1")
        finally:
            stop()
        assert info.value.status_code == 504
        assert error_of(info.value)["code"] == "upstream_timeout"
        assert "no image was returned" in error_of(info.value)["message"]
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["garbled", "bad_b64", "not_image", "status:503"])
def test_garbled_upstream_answers_never_pass(tmp_path: Path, mode: str) -> None:
    env = Env(tmp_path, [HOUSES])
    try:
        env.upstream_app.state.mode = mode
        with pytest.raises(openai.InternalServerError) as info:
            env.client.images.generate(prompt="houses", user="u-1")
        assert info.value.status_code == 502
        assert error_of(info.value)["code"] in ("upstream_error", "output_unchecked")
    finally:
        env.close()


def test_hostile_inputs_get_clear_4xx(env: Env) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        env.client.images.edit(image=("x.png", PORTRAIT[:300], "image/png"), prompt="hat")
    assert error_of(info.value)["code"] == "invalid_image"
    with pytest.raises(openai.BadRequestError) as info:
        env.client.images.edit(image=[("x.png", PORTRAIT, "image/png")] * 50, prompt="hat")
    assert "too many files" in error_of(info.value)["message"]
    big = b"\x89PNG" + b"\0" * (65 * 2**20)
    with pytest.raises(openai.APIStatusError) as info:
        env.client.images.edit(image=("big.png", big, "image/png"), prompt="hat")
    assert info.value.status_code == 413
    assert error_of(info.value)["code"] == "request_too_large"
    with pytest.raises(openai.BadRequestError) as info:
        env.client.images.generate(prompt="houses", n=9)
    assert "n=9" in error_of(info.value)["message"]
    assert env.upstream_app.state.calls == []


def test_auth_history_header_and_metrics(env: Env) -> None:
    bad = openai.OpenAI(base_url=env.url + "/v1", api_key="gf_wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.images.generate(prompt="houses")
    # the conversation carries the named person into "now without clothes"
    with pytest.raises(openai.BadRequestError) as info:
        env.client.images.generate(
            prompt="now without clothes",
            user="u-h",
            extra_headers={"X-Gardefou-History": json.dumps(["Emma Watson at the beach"])},
        )
    assert error_of(info.value)["code"] == "content_policy_violation"
    env.client.images.generate(prompt="houses", user="u-h")
    text = httpx.get(env.url + "/metrics").text
    assert 'gardefou_gateway_requests_total{endpoint="generations",outcome="refused"} 1.0' in text
    assert 'gardefou_gateway_requests_total{endpoint="generations",outcome="ok"} 1.0' in text
    assert "gardefou_gateway_refusals_total" in text and "upstream_latency" in text
    audit = env.db.query("SELECT kind, action, prompt_text FROM guard_audit ORDER BY id")
    assert {r["kind"] for r in audit} == {"gateway_request", "gateway_output"}
    assert all(r["prompt_text"] is None for r in audit)  # retention 0: no prompt text kept


def test_response_format_url_needs_storage_then_gives_signed_expiring_links(
    tmp_path: Path, env: Env
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        env.client.images.generate(prompt="houses at dusk", response_format="url")
    assert "image_dir and image_url" in error_of(info.value)["message"]
    assert env.upstream_app.state.calls == []  # refused before anything was generated

    kept = Env(tmp_path, [HOUSES], image_dir=str(tmp_path / "img"), image_url="http://x")
    try:
        assert kept.service.files is not None
        kept.service.files.base_url = kept.url  # the public URL is known once it serves
        resp = kept.client.images.generate(prompt="houses at dusk", response_format="url")
        link = resp.data[0].url
        assert link.startswith(kept.url + "/v1/images/files/") and resp.data[0].b64_json is None
        got = httpx.get(link)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        state, _ = c2pa_state(got.content)
        assert state == "Valid"  # the stored image is the checked, labelled one
        forged = link.replace("expires=", "expires=9")
        assert httpx.get(forged).status_code == 404
        name = link.split("/files/")[1].split("?")[0]
        query = dict(p.split("=") for p in link.split("?")[1].split("&"))
        with pytest.raises(GoneError, match="expired"):
            kept.service.files.open(name, query["expires"], query["sig"], now=2e10)
        assert kept.service.files.sweep(now=2e10) == 1 and httpx.get(link).status_code == 410
    finally:
        kept.close()


@pytest.mark.parametrize("output", [HOUSES, SAME_PERSON, OTHER], ids=["houses", "same", "other"])
def test_the_gateways_output_verdict_is_the_guards_own(tmp_path: Path, output: bytes) -> None:
    """Whatever the gateway does to spend less CPU (one decode, reused), each output's decision
    is exactly what Guard.check_output decides on the same bytes."""
    guard = fake_guard()
    svc = build_service(
        GatewayConfig(labels="none"),
        db=connect(tmp_path / "v.db"),
        guard=guard,
        upstream=CallableUpstream(lambda r: [output]),
    )
    prompt = "make it a summer day"
    try:
        svc.handle("edits", prompt, {"n": 1}, None, "k", [("me.png", PORTRAIT, "image/png")])
    except Refused:
        pass
    row = svc.db.query_one(
        "SELECT action, reasons_json FROM guard_audit WHERE kind = 'gateway_output'"
    )
    direct = guard.check_output(load_media(output), prompt, [load_media(PORTRAIT)])
    assert row is not None and row["action"] == str(direct.action)
    assert [r["code"] for r in json.loads(row["reasons_json"])] == [r.code for r in direct.reasons]
