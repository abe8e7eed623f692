"""`gardefou serve` in a child process on loopback, and `gardefou apikey create|list|revoke`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from tests.web_support import wait_healthy


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(args: list[str]):
    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli, main  # noqa: F401 - main() registers the subcommands

    return CliRunner().invoke(cli, args)


def test_apikey_commands(tmp_path) -> None:
    db = str(tmp_path / "k.db")
    r = _cli(["--db", db, "apikey", "create", "--name", "ana", "--role", "auditor"])
    assert r.exit_code == 0, r.output
    created = json.loads(r.output)
    assert created["key"].startswith("gf_") and created["role"] == "auditor"
    listed = _cli(["--db", db, "apikey", "list"]).output
    assert "ana" in listed and created["key"] not in listed
    assert _cli(["--db", db, "apikey", "revoke", str(created["id"])]).exit_code == 0
    bad = _cli(["--db", db, "apikey", "revoke", "999"])
    assert bad.exit_code == 1 and "does not exist" in bad.output
    assert _cli(["--db", db, "apikey", "create", "--name", "x", "--role", "boss"]).exit_code == 2


def test_serve_on_loopback(tmp_path) -> None:
    port = _port()
    env = {**os.environ, "GARDEFOU_DB": str(tmp_path / "s.db")}
    env.pop("GARDEFOU_ADMIN_KEY", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from gardefou.cli.main import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        key = ""
        deadline = time.time() + 30
        while time.time() < deadline and not key:
            line = proc.stderr.readline() if proc.stderr else ""
            if "shown once" in line:
                key = line.rsplit(" ", 1)[-1].strip()
        assert key.startswith("gf_"), "serve did not print the first admin key"
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, tries=100)
        assert httpx.get(base + "/v1/keys", headers={"X-API-Key": key}).status_code == 200
        assert httpx.get(base + "/portal").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.parametrize("args", [["serve", "--port", "0"], ["serve", "--workers", "0"]])
def test_serve_bad_options(args) -> None:
    assert _cli(args).exit_code == 2


def test_takedown_list_and_alerts(tmp_path) -> None:
    import time

    from gardefou.store import connect
    from gardefou.takedown import Contact, Kind, NewRequest, Signature, TakedownService

    db_path = str(tmp_path / "t.db")
    db = connect(db_path)
    svc = TakedownService(db)
    case, _ = svc.submit(
        NewRequest(
            Kind.TAKE_IT_DOWN,
            Signature("A B"),
            (),
            ("https://x.example/1",),
            "",
            "not consensual",
            Contact(email="a@example.org"),
        )
    )
    listed = _cli(["--db", db_path, "takedown", "list"])
    assert listed.exit_code == 0 and case in listed.output and "a@example.org" not in listed.output
    assert _cli(["--db", db_path, "takedown", "alerts"]).output == ""
    db.execute("UPDATE takedown_requests SET deadline_at = ?", (time.time() - 60,))
    r = _cli(["--db", db_path, "takedown", "alerts"])
    assert r.exit_code == 1 and json.loads(r.output)["state"] == "breached"
