"""HTTP API: every endpoint with the right role, a wrong key (401), a wrong role (403), oversized
bodies (413), malformed bodies (422), rate limits (429), and the pages' no-network guarantees."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from tests.web_support import ADMIN_KEY, make_web, takedown_body

SAMPLES = resources.files("gardefou.data") / "samples"


@pytest.fixture
def web(tmp_path, db_url):
    w = make_web(tmp_path, db_url)
    yield w
    w.app.state.services.db.close()  # before the PostgreSQL schema is dropped


def jpeg() -> bytes:
    return (SAMPLES / "q0122.jpg").read_bytes()


# (method, path, json body, roles allowed besides admin)
ENDPOINTS = [
    ("post", "/v1/scan", None, {"platform", "moderator"}),
    ("get", "/v1/banks", None, {"moderator", "auditor", "platform"}),
    ("post", "/v1/banks", {"name": "b1"}, set()),
    ("post", "/v1/match", {"pdq": ["f" * 64]}, {"platform", "moderator"}),
    ("get", "/v1/takedown/requests", None, {"moderator", "auditor"}),
    ("get", "/v1/takedown/alerts", None, {"moderator", "auditor"}),
    ("get", "/v1/takedown/stats", None, {"moderator", "auditor"}),
    ("get", "/v1/keys", None, set()),
    ("post", "/v1/keys", {"name": "x", "role": "auditor"}, set()),
    ("post", "/v1/me/exposure", {"viewed": 1}, {"moderator", "auditor"}),
]


def _call(web, method, path, body, headers):
    if path == "/v1/scan":
        return web.client.post(
            path, files={"file": ("a.jpg", jpeg(), "image/jpeg")}, headers=headers
        )
    if method == "get":
        return web.client.get(path, headers=headers)
    return web.client.post(path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ENDPOINTS)
def test_roles(web, method, path, body, allowed) -> None:
    assert _call(web, method, path, body, {}).status_code == 401
    r = _call(web, method, path, body, {"X-API-Key": "gf_wrong"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    for role in ("moderator", "auditor", "platform", "public"):
        r = _call(web, method, path, body, web.h(role))
        if role in allowed:
            assert r.status_code < 300, (role, path, r.text)
        else:
            assert r.status_code == 403, (role, path, r.text)
            assert r.json()["error"] == "forbidden"
    if path in ("/v1/banks", "/v1/keys") and method == "post":
        body = {**body, "name": body["name"] + "-admin"}
    assert _call(web, method, path, body, web.h("admin")).status_code < 300


def test_bearer_header_and_revoked_key(web) -> None:
    key = web.keys["platform"]
    assert web.client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).json()["role"] == (
        "platform"
    )
    kid = next(
        k["id"]
        for k in web.client.get("/v1/keys", headers=web.h("admin")).json()
        if k["role"] == "platform"
    )
    assert web.client.delete(f"/v1/keys/{kid}", headers=web.h("admin")).status_code == 200
    assert web.client.get("/v1/banks", headers=web.h("platform")).status_code == 401
    assert web.client.delete("/v1/keys/9999", headers=web.h("admin")).status_code == 404
    listed = web.client.get("/v1/keys", headers=web.h("admin")).text
    assert key not in listed and ADMIN_KEY not in listed


def test_scan_returns_hashes_and_bank_matches(web) -> None:
    r = web.client.post(
        "/v1/scan", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, headers=web.h("platform")
    )
    assert r.status_code == 200
    out = r.json()
    pdq = out["signals"]["pdq"]["value"]
    assert re.fullmatch("[0-9a-f]{64}", pdq) and out["matches"] == []
    web.client.post("/v1/banks", json={"name": "victims"}, headers=web.h("admin"))
    r = web.client.post(
        "/v1/banks/victims/entries",
        headers=web.h("moderator"),
        json={"entries": [{"pdq": pdq, "quality": 100}]},
    )
    assert r.status_code == 201
    again = web.client.post(
        "/v1/scan", files={"file": ("b.jpg", jpeg(), "image/jpeg")}, headers=web.h("platform")
    ).json()
    assert [m["bank"] for m in again["matches"]] == ["victims"]
    m = web.client.post("/v1/match", json={"pdq": [pdq]}, headers=web.h("platform")).json()
    assert m[0]["distance"] == 0 and m[0]["actionable"]
    eid = m[0]["entry_id"]
    r = web.client.post(
        f"/v1/banks/entries/{eid}/enabled", json={"enabled": False}, headers=web.h("moderator")
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert web.client.post("/v1/match", json={"pdq": [pdq]}, headers=web.h("platform")).json() == []
    banks = web.client.get("/v1/banks", headers=web.h("auditor")).json()
    assert banks[0]["name"] == "victims"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 422, "media_empty"),
        (b"hello, not an image", 415, "media_unsupported"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, 422, "media_corrupt"),
    ],
)
def test_scan_bad_media_maps_to_typed_errors(web, data, status, code) -> None:
    r = web.client.post(
        "/v1/scan", files={"file": ("x.jpg", data, "image/jpeg")}, headers=web.h("platform")
    )
    assert r.status_code == status and r.json()["error"] == code


def test_oversized_upload_and_body_are_413(tmp_path) -> None:
    web = make_web(tmp_path, max_upload_bytes=50_000, max_body_bytes=2_000)
    big = b"\xff\xd8\xff" + b"\x00" * 60_000
    r = web.client.post(
        "/v1/scan", files={"file": ("big.jpg", big, "image/jpeg")}, headers=web.h("platform")
    )
    assert r.status_code == 413 and r.json()["error"] == "media_too_large"
    r = web.client.post("/v1/takedown", json=takedown_body(description="x" * 5000))
    assert r.status_code == 413

    def chunks():  # no Content-Length: the limit applies while streaming
        for _ in range(10):
            yield b"x" * 1000

    r = web.client.post(
        "/v1/takedown", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"signature": {"name": "A"}}',
        b'{"signature": {"name": "A"}, "contact": {}, "hashes": [{"pdq": "zz", "quality": 1}]}',
        b'{"signature": {"name": "A"}, "contact": {}, "unexpected": 1}',
    ],
)
def test_malformed_bodies_are_422(web, body) -> None:
    r = web.client.post("/v1/takedown", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"] == "validation" and r.json()["message"]


def test_scan_without_file_is_422(web) -> None:
    r = web.client.post("/v1/scan", headers=web.h("platform"))
    assert r.status_code == 422


def test_takedown_flow_over_http(web) -> None:
    r = web.client.post("/v1/takedown", json=takedown_body())
    assert r.status_code == 201
    case, pin = r.json()["case_number"], r.json()["pin"]
    assert r.json()["window_hours"] == 48
    incomplete = takedown_body(good_faith_statement="")
    r2 = web.client.post("/v1/takedown", json=incomplete)
    assert r2.status_code == 422 and "good-faith" in r2.json()["message"]
    st = web.client.post("/v1/takedown/status", json={"case_number": case, "pin": pin}).json()
    assert st["status"] == "received" and st["clock"]["state"] == "ok"
    bad = web.client.post("/v1/takedown/status", json={"case_number": case, "pin": "x"})
    assert bad.status_code == 401
    queue = web.client.get("/v1/takedown/requests", headers=web.h("auditor")).json()
    rid = queue[0]["id"]
    assert queue[0]["contact"]["email"] == "jane@example.org"
    assert (
        web.client.post(f"/v1/takedown/requests/{rid}/review", headers=web.h("auditor")).status_code
        == 403
    )
    assert (
        web.client.post(f"/v1/takedown/requests/{rid}/review", headers=web.h("moderator")).json()[
            "status"
        ]
        == "in_review"
    )
    r = web.client.post(f"/v1/takedown/requests/{rid}/accept", json={}, headers=web.h("moderator"))
    assert r.json()["status"] == "removed" and r.json()["bank_entries"] == 1
    again = web.client.post(
        f"/v1/takedown/requests/{rid}/accept", json={}, headers=web.h("moderator")
    )
    assert again.status_code == 409
    assert (
        web.client.get(f"/v1/takedown/requests/{rid}", headers=web.h("auditor")).json()["status"]
        == "removed"
    )
    assert web.client.get("/v1/takedown/requests/999", headers=web.h("auditor")).status_code == 404
    st = web.client.post("/v1/takedown/status", json={"case_number": case, "pin": pin}).json()
    assert st["status"] == "removed" and st["clock"]["state"] == "met"
    stats = web.client.get("/v1/takedown/stats", headers=web.h("auditor")).json()
    assert stats["met"] == 1
    me = web.client.get("/v1/me", headers=web.h("moderator")).json()
    assert me["exposure"]["items_viewed"] == 1 and me["exposure"]["decisions"] == 1


def test_reject_and_withdraw_over_http(web) -> None:
    ids = []
    for _ in range(2):
        r = web.client.post("/v1/takedown", json=takedown_body()).json()
        ids.append((r["case_number"], r["pin"]))
    queue = web.client.get("/v1/takedown/requests", headers=web.h("moderator")).json()
    r = web.client.post(
        f"/v1/takedown/requests/{queue[0]['id']}/reject",
        json={"reason": "no such post"},
        headers=web.h("moderator"),
    )
    assert r.json()["status"] == "rejected"
    case, pin = ids[1]
    r = web.client.post("/v1/takedown/withdraw", json={"case_number": case, "pin": pin})
    assert r.json()["status"] == "withdrawn"
    assert web.client.get("/v1/takedown/requests", headers=web.h("moderator")).json() == []
    assert (
        len(
            web.client.get(
                "/v1/takedown/requests?include_closed=true", headers=web.h("moderator")
            ).json()
        )
        == 2
    )


def test_regulator_notice_24h(web) -> None:
    body = takedown_body(kind="regulator_notice", issuer="esafety_au", issuer_reference="E-77")
    r = web.client.post("/v1/takedown", json=body, headers=web.h("moderator"))
    assert r.status_code == 201 and r.json()["window_hours"] == 24 and r.json()["verified"]


def test_rate_limit_429(tmp_path) -> None:
    web = make_web(tmp_path, rates={"public": 3, "admin": 100})
    codes = [
        web.client.post("/v1/takedown/status", json={"case_number": "TD-X", "pin": "1"}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    r = web.client.post("/v1/takedown/status", json={"case_number": "TD-X", "pin": "1"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_unknown_rate_role_is_a_config_error(tmp_path) -> None:
    from gardefou.errors import ConfigError
    from gardefou.web import Settings

    with pytest.raises(ConfigError, match="unknown roles"):
        Settings(rates={"robot": 1})


def test_pages_are_self_contained(web) -> None:
    for path in ("/portal", "/console", "/pdq-check"):
        r = web.client.get(path)
        assert r.status_code == 200 and "default-src 'self'" in r.headers["content-security-policy"]
        for src in re.findall(r'(?:src|href)="([^"]+)"', r.text):
            assert src.startswith(("/", "#")), f"{path} loads {src} from the network"
    assert web.client.get("/", follow_redirects=False).status_code == 307
    static = resources.files("gardefou.web") / "static"
    for f in static.iterdir():
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href|url\()\s*=?\s*["']?https?://""", text), f.name
        assert 'fetch("http' not in text and "import(" not in text, f.name
    portal = web.client.get("/portal").text
    assert 'for="sign-name"' in portal and 'for="goodfaith"' in portal and 'lang="fr"' in portal


def test_openapi_lists_every_domain(web) -> None:
    spec = web.client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in (
        "/v1/scan",
        "/v1/match",
        "/v1/banks",
        "/v1/takedown",
        "/v1/takedown/status",
        "/v1/takedown/requests",
        "/v1/keys",
        "/healthz",
    ):
        assert p in paths
    assert "APIKeyHeader" in spec["components"]["securitySchemes"]


def test_healthz(web) -> None:
    assert web.client.get("/healthz").json()["ok"] is True


def test_cases_queue_on_a_fresh_app(web) -> None:
    # the decision services are built on first use (they need the banks service: no deadlock)
    r = web.client.get("/v1/cases", headers=web.h("moderator"))
    assert r.status_code == 200 and r.json() == []


def _contrast(a: str, b: str) -> float:
    def lum(hex_: str) -> float:
        rgb = [int(hex_[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_palette_contrast_is_wcag_aaa() -> None:
    css = (resources.files("gardefou.web") / "static" / "app.css").read_text()
    var = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    for fg in ("fg", "muted", "accent", "ok", "warn", "bad"):
        for bg in ("bg", "panel"):
            assert _contrast(var[fg], var[bg]) >= 7.0, (fg, bg)
    assert _contrast(var["accent-fg"], var["accent"]) >= 7.0
    assert _contrast("#ffffff", var["bad"]) >= 4.5  # white on the reject button


def test_scan_matches_rotated_and_mirrored_copies(web) -> None:
    from PIL import Image, ImageOps

    original = Image.open(SAMPLES / "q0746.jpg").convert("RGB")
    r = web.client.post(
        "/v1/scan",
        files={"file": ("o.png", _png(original), "image/png")},
        headers=web.h("platform"),
    ).json()
    pdq = r["signals"]["pdq"]["value"]
    web.client.post("/v1/banks", json={"name": "victims"}, headers=web.h("admin"))
    web.client.post(
        "/v1/banks/victims/entries",
        headers=web.h("moderator"),
        json={"entries": [{"pdq": pdq, "quality": 100}]},
    )
    for variant in (original.rotate(90, expand=True), ImageOps.mirror(original)):
        out = web.client.post(
            "/v1/scan",
            files={"file": ("v.png", _png(variant), "image/png")},
            headers=web.h("platform"),
        ).json()
        assert [m["bank"] for m in out["matches"] if m["actionable"]] == ["victims"]


def _png(img) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_hash_only_submission_protects_until_withdrawn(web) -> None:
    from PIL import Image

    img = Image.open(SAMPLES / "q1050.jpg").convert("RGB")
    pdq = web.client.post(
        "/v1/scan", files={"file": ("a.png", _png(img), "image/png")}, headers=web.h("platform")
    ).json()["signals"]["pdq"]["value"]
    r = web.client.post("/v1/submissions", json={"hashes": [{"pdq": pdq, "quality": 100}]})
    assert r.status_code == 201
    case, pin = r.json()["case_number"], r.json()["pin"]
    m = web.client.post("/v1/match", json={"pdq": [pdq]}, headers=web.h("platform")).json()
    # anonymous: review only until a moderator confirms it (tests/test_banks_review.py)
    assert [x["bank"] for x in m if x["needs_review"]] == ["victims"]
    st = web.client.post("/v1/submissions/status", json={"case_number": case, "pin": pin}).json()
    assert st["status"] == "pending" and st["hashes"] == 1
    for bad in ({"case_number": case, "pin": "x"}, {"case_number": "GF-NOPE", "pin": pin}):
        r = web.client.post("/v1/submissions/status", json=bad)
        assert r.status_code == 401 and "case number or PIN" in r.json()["message"]
    w = web.client.post("/v1/submissions/withdraw", json={"case_number": case, "pin": pin})
    assert w.json()["entries_removed"] == 1
    assert web.client.post("/v1/match", json={"pdq": [pdq]}, headers=web.h("platform")).json() == []
    low = web.client.post("/v1/submissions", json={"hashes": [{"pdq": pdq, "quality": 10}]})
    assert low.status_code == 400 and "quality" in low.json()["message"]
