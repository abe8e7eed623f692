"""`gardefou gateway --workers N`: N processes share the rate limits (Redis) and see a revoked
key at once (the database), whichever worker answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from gardefou.gateway.fakes import fake_upstream_app, free_port, serve
from gardefou.signals.c2pa_sign import generate_test_key
from gardefou.store import connect
from gardefou.web.auth import KeyStore

SRC = Path(__file__).resolve().parent.parent / "src"


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_more_than_one_worker_needs_shared_rate_limits(tmp_path: Path) -> None:
    import gardefou.cli.commands_gateway  # noqa: F401 - registers the command
    from gardefou.cli.main import cli

    res = CliRunner().invoke(
        cli,
        [
            "--db",
            str(tmp_path / "c.db"),
            "gateway",
            "--upstream",
            "http://127.0.0.1:9/v1",
            "--labels",
            "none",
            "--workers",
            "2",
        ],
    )
    assert res.exit_code == 2 and "--workers 2 needs --redis-url" in res.output


@pytest.mark.redis
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts worker processes in /proc")
def test_workers_share_rate_limits_and_revocation(tmp_path: Path, redis_url: str) -> None:
    # an upstream whose images are not images: every admitted request ends in 502 before any
    # detector runs, so the test measures admission (429) and authentication (401) only
    up_url, stop_up = serve(fake_upstream_app([b"x"], mode="not_image"))
    key = generate_test_key()
    (tmp_path / "chain.pem").write_bytes(key.cert_chain_pem)
    (tmp_path / "key.pem").write_bytes(key.private_key_pem)
    db_path = tmp_path / "gw.db"
    db = connect(db_path)
    key_id, api_key = KeyStore(db).create("bot", "platform")
    port = free_port()
    proc = subprocess.Popen(
        # main() registers the subcommands (`python -m gardefou.cli.main` does not: the group
        # it fills is another module object than the one __main__ runs)
        [sys.executable, "-c", "from gardefou.cli.main import main; main()",
         "--db", str(db_path), "gateway",
         "--upstream", up_url + "/v1", "--port", str(port), "--workers", "2",
         "--redis-url", redis_url, "--rate-user", "3/minute",
         "--c2pa-cert", str(tmp_path / "chain.pem"), "--c2pa-key", str(tmp_path / "key.pem")],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError(proc.communicate()[1].decode()[-2000:])
            assert time.monotonic() < deadline, "the gateway workers did not start"
            time.sleep(0.2)
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # uvicorn's supervisor, then its workers
        assert len(_children(proc.pid)) >= 2

        user = f"w{time.time_ns()}"  # a fresh user: Redis outlives test runs
        statuses = []
        for i in range(8):  # a new connection each: any worker may answer
            r = httpx.post(
                base + "/v1/images/generations",
                json={"prompt": f"houses at dusk {i}", "user": user},
                headers={"Authorization": f"Bearer {api_key}", "Connection": "close"},
                timeout=30,
            )
            statuses.append(r.status_code)
        assert statuses.count(429) == 5, statuses  # 3/minute for this user over all workers
        assert set(statuses[:3]) == {502}, statuses  # admitted, then the garbage upstream

        KeyStore(db).revoke(key_id)
        for _ in range(4):
            r = httpx.post(
                base + "/v1/images/generations",
                json={"prompt": "houses", "user": "other"},
                headers={"Authorization": f"Bearer {api_key}", "Connection": "close"},
                timeout=30,
            )
            assert r.status_code == 401, r.text  # every worker reads revocation from the store
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
        stop_up()
        db.close()
