"""`gardefou evidence ...` end to end: keygen, append, hold, export, verify (exit 0 / exit 3)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import gardefou.cli.commands_evidence  # noqa: F401 - registers the commands
from gardefou.cli.main import cli


def run(tmp_path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), *args])
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_evidence_cli_roundtrip(tmp_path: Path) -> None:
    run(tmp_path, "evidence", "keygen")
    files = []
    for i in range(3):
        f = tmp_path / f"item{i}.bin"
        f.write_bytes(f"benign {i}".encode())
        files.append(str(f))
    out = run(tmp_path, "evidence", "append", *files, "--actor", "mod-1", "--reason", "case 1",
              "--account", "acct-7", "--label", "case=c-1")  # fmt: skip
    receipts = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["seq"] for r in receipts] == [0, 1, 2]
    run(tmp_path, "evidence", "hold", "place", "order-1", "--reason", "order", "--by", "legal",
        "--match", "case=c-1")  # fmt: skip
    run(tmp_path, "evidence", "export", str(tmp_path / "b"), "--actor", "legal", "--reason", "x")
    key = str(tmp_path / "evidence-keys" / "signing.pub.pem")
    report = json.loads(run(tmp_path, "evidence", "verify", str(tmp_path / "b"), "--key", key)
                        .splitlines()[0])  # fmt: skip
    assert report["ok"] and report["entries"] == 5 and report["blobs"] == 3
    status = json.loads(run(tmp_path, "evidence", "status"))
    assert status["active_holds"] == ["order-1"]
    assert json.loads(run(tmp_path, "evidence", "check"))["ok"]

    entries = tmp_path / "b" / "entries.jsonl"
    lines = entries.read_bytes().splitlines(keepends=True)
    entries.write_bytes(b"".join([lines[2], *lines[:2], *lines[3:]]))
    out = run(tmp_path, "evidence", "verify", str(tmp_path / "b"), code=3)
    assert '"ok": false' in out


def test_verify_without_key_exits_4_and_says_authenticity_not_checked(tmp_path: Path) -> None:
    """Before: `evidence verify` without --key exited 0 with "ok": true on a bundle checked
    only against the key it carries (which a forger re-signing it replaces)."""
    run(tmp_path, "evidence", "keygen")
    f = tmp_path / "a.bin"
    f.write_bytes(b"benign")
    run(tmp_path, "evidence", "append", str(f), "--actor", "mod-1", "--reason", "case 1")
    run(tmp_path, "evidence", "export", str(tmp_path / "b"), "--actor", "legal", "--reason", "x")
    out = run(tmp_path, "evidence", "verify", str(tmp_path / "b"), code=4)
    report = json.loads(out.splitlines()[0])
    assert report["ok"] is False and report["intact"] is True
    assert report["authenticity"].startswith("authenticity NOT checked")
    assert "NOT VERIFIED" in out
    saved = tmp_path / "b" / "checkpoint.txt"
    run(tmp_path, "evidence", "verify", str(tmp_path / "b"), "--checkpoint", str(saved), code=0)


def test_verify_missing_bundle_exits_3(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run(tmp_path, "evidence", "verify", str(tmp_path / "empty"), code=3)


def test_missing_keys_say_how_to_fix(tmp_path: Path) -> None:
    out = run(tmp_path, "evidence", "status", code=2)
    assert "gardefou evidence keygen" in out
