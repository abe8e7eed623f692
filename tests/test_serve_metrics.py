"""/metrics of `gardefou serve`: off by default, protected when on, labelled by route template,
rejections by reason, takedown deadlines and the bank index from the store, and counters summed
across worker processes (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gardefou.errors import ConfigError
from gardefou.web.settings import Settings
from tests.web_support import make_web, takedown_body


def _metric(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def test_metrics_are_off_by_default(tmp_path: Path) -> None:
    web = make_web(tmp_path)
    assert web.client.get("/metrics", headers=web.h("admin")).status_code == 404
    assert not hasattr(web.app.state, "metrics")


def test_unknown_metrics_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="GARDEFOU_METRICS='public'"):
        Settings(metrics="public")


def test_key_mode_needs_a_staff_key(tmp_path: Path) -> None:
    web = make_web(tmp_path, metrics="key")
    assert web.client.get("/metrics").status_code == 401
    assert web.client.get("/metrics", headers=web.h("platform")).status_code == 403
    r = web.client.get("/metrics", headers=web.h("auditor"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    bearer = {"Authorization": f"Bearer {web.keys['auditor']}"}
    assert web.client.get("/metrics", headers=bearer).status_code == 200


def test_local_mode_serves_loopback_only(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    web = make_web(tmp_path, metrics="local")
    assert web.client.get("/metrics").status_code == 403  # the test client is "testclient"
    local = TestClient(web.app, client=("127.0.0.1", 50000))
    assert local.get("/metrics").status_code == 200
    relayed = local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403 and "proxy" in relayed.json()["message"]


def test_routes_are_templates_and_rejections_have_reasons(tmp_path: Path) -> None:
    web = make_web(tmp_path, metrics="key", max_body_bytes=2_000)
    r = web.client.post("/v1/takedown", json=takedown_body())
    assert r.status_code == 201
    rid = web.client.get("/v1/takedown/requests", headers=web.h("auditor")).json()[0]["id"]
    for _ in range(2):
        web.client.get(f"/v1/takedown/requests/{rid}", headers=web.h("auditor"))
    web.client.get("/v1/takedown/requests/999999", headers=web.h("auditor"))  # 404 in a route
    web.client.get("/no/such/path/123")
    web.client.get("/v1/takedown/requests", headers={"X-API-Key": "gf_wrong"})
    web.client.post("/v1/takedown", json=takedown_body(description="x" * 5000))  # 413
    web.client.post("/v1/takedown", content=b"{not json", headers={"content-type": "x/json"})
    text = web.client.get("/metrics", headers=web.h("auditor")).text

    hist = "gardefou_http_request_duration_seconds_count"
    one = "/v1/takedown/requests/{request_id}"
    assert _metric(text, hist, route=one, status="200", method="GET") == 2
    assert _metric(text, hist, route=one, status="404") == 1
    assert f"/v1/takedown/requests/{rid}" not in text, "raw paths would be unbounded labels"
    assert _metric(text, hist, route="unmatched", status="404") == 1
    assert "/no/such/path" not in text
    # the body limit answers before routing; the route it was meant for is still named
    assert _metric(text, hist, route="/v1/takedown", status="413") == 1
    rej = "gardefou_http_rejections_total"
    assert _metric(text, rej, reason="unauthorized") == 1
    assert _metric(text, rej, reason="media_too_large") == 1
    assert _metric(text, rej, reason="not_found") == 2
    assert _metric(text, rej, reason="validation") == 1
    assert _metric(text, "gardefou_metrics_collect_failed") == 0


def test_takedown_deadlines_and_bank_index_size(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    web = make_web(tmp_path, metrics="key", clock=lambda: now[0])
    for _ in range(2):
        assert web.client.post("/v1/takedown", json=takedown_body()).status_code == 201
    scrape = lambda: web.client.get("/metrics", headers=web.h("auditor")).text  # noqa: E731
    text = scrape()
    assert _metric(text, "gardefou_takedowns_open", state="ok") == 2
    assert _metric(text, "gardefou_takedowns_open", state="breached") == 0
    assert _metric(text, "gardefou_bank_index_hashes") == 0

    now[0] += 47 * 3600  # one hour left of 48: due soon
    assert _metric(scrape(), "gardefou_takedowns_open", state="due_soon") == 2
    queue = web.client.get("/v1/takedown/requests", headers=web.h("auditor")).json()
    rid = queue[0]["id"]
    web.client.post(f"/v1/takedown/requests/{rid}/review", headers=web.h("moderator"))
    r = web.client.post(f"/v1/takedown/requests/{rid}/accept", json={}, headers=web.h("moderator"))
    assert r.status_code == 200, r.text
    now[0] += 2 * 3600  # the other one is now past its deadline
    text = scrape()
    assert _metric(text, "gardefou_takedowns_open", state="breached") == 1
    assert _metric(text, "gardefou_takedowns_open", state="due_soon") == 0
    assert _metric(text, "gardefou_bank_index_hashes") == 1


def test_a_failing_store_reading_is_flagged_not_blank(tmp_path: Path) -> None:
    web = make_web(tmp_path, metrics="key")

    def boom(*_a: object, **_k: object) -> list[object]:
        raise RuntimeError("store down")

    web.app.state.services.takedown.queue = boom
    r = web.client.get("/metrics", headers=web.h("auditor"))
    assert r.status_code == 200
    assert _metric(r.text, "gardefou_metrics_collect_failed", collector="takedowns") == 1
    assert _metric(r.text, "gardefou_metrics_collect_failed", collector="bank_index") == 0
    assert "gardefou_http_request_duration_seconds" in r.text


_WORKER = """
import sys
from gardefou.web.metrics import ServiceMetrics
m = ServiceMetrics()
for _ in range(int(sys.argv[1])):
    m.observe("GET", "/v1/banks", 200, 0.01, "")
m.observe("POST", "/v1/scan", 429, 0.001, "rate_limited")
"""


def test_workers_counters_are_summed(tmp_path: Path) -> None:
    """Two processes count in the run's directory; a third (any worker's /metrics) sums them."""
    from gardefou.web.metrics import per_run_directory

    env_before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    with per_run_directory(True) as folder:
        assert folder and os.listdir(folder) == []
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        for n in (3, 4):
            subprocess.run([sys.executable, "-c", _WORKER, str(n)], env=env, check=True)
        render = (
            "from gardefou.web.metrics import ServiceMetrics;"
            "import sys; sys.stdout.write(ServiceMetrics().render()[0].decode())"
        )
        out = subprocess.run(
            [sys.executable, "-c", render], env=env, check=True, capture_output=True, text=True
        ).stdout
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") == env_before
    assert not os.path.exists(folder), "the run's directory is removed"
    count = "gardefou_http_request_duration_seconds_count"
    assert _metric(out, count, route="/v1/banks", status="200") == 7
    assert _metric(out, "gardefou_http_rejections_total", reason="rate_limited") == 2


def test_serve_with_two_workers_sums_their_counts(tmp_path: Path) -> None:
    """The real thing: `gardefou serve --workers 2`; whichever worker answers /metrics reports
    every request, and the run's directory is gone once the server stops."""
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    parent = tmp_path / "multiproc"
    env = {
        **os.environ,
        "GARDEFOU_DB": str(tmp_path / "w.db"),
        "GARDEFOU_ADMIN_KEY": "admin-key-for-the-test",
        "GARDEFOU_METRICS": "local",
        "PROMETHEUS_MULTIPROC_DIR": str(parent),
    }
    cmd = "from gardefou.cli.main import main; main()"
    args = ["serve", "--port", str(port), "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-c", cmd, *args], env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        # new connections each time, so both workers take some of them
        for _ in range(29):
            assert httpx.get(base + "/healthz").status_code == 200
        runs = os.listdir(parent)
        assert len(runs) == 1 and runs[0].startswith("gardefou-metrics-")
        text = httpx.get(base + "/metrics").text
        count = "gardefou_http_request_duration_seconds_count"
        assert _metric(text, count, route="/healthz", status="200") >= 30
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert os.listdir(parent) == [], "the run's multiprocess directory is removed at exit"
