"""`gardefou doctor`: checks with severities, table and JSON output, exit code by severity."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gardefou.errors import ModelUnavailableError
from gardefou.ops import doctor, doctor_models
from gardefou.ops.doctor import ERROR, OK, WARNING, Check
from gardefou.store import connect

_CLEAN = ("GARDEFOU_RATE_LIMIT_URL", "GARDEFOU_REDIS_URL", "GARDEFOU_GATEWAY_REDIS_URL")


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (*_CLEAN, "GARDEFOU_C2PA_CERT", "GARDEFOU_C2PA_KEY", "GARDEFOU_PUID_SECRET"):
        monkeypatch.delenv(var, raising=False)
    for var in ("GARDEFOU_EVIDENCE_BLOB_KEY", "GARDEFOU_REVIEW_MEDIA_KEY", "GARDEFOU_METRICS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GARDEFOU_EVIDENCE_KEYS", str(tmp_path / "keys"))


def _doctor(db: str, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
    from gardefou.cli.main import cli, main  # noqa: F401 - main() registers the subcommands

    __import__("gardefou.cli.commands_ops")
    r = CliRunner().invoke(cli, ["--db", db, "doctor", "--no-models", "--json", *args], env=env)
    return r.exit_code, json.loads(r.output)


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


def _keygen(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    for name in ("signing.pem", "blob.key"):
        (folder / name).write_text("x")
        (folder / name).chmod(0o600)


def test_a_ready_installation_exits_0(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    connect(db).close()
    _keygen(tmp_path / "keys")
    code, report = _doctor(db)
    assert code == 0, report
    assert report["severity"] == "ok" and report["exit_code"] == 0
    checks = _by_name(report)
    assert checks["store"]["detail"]["state"] == "current"
    assert checks["key.evidence_signing"]["severity"] == OK
    assert checks["limits"]["detail"]["max_image_mp"] == 16
    assert "cpu" in checks and not any(n.startswith("model.") for n in checks)


def test_missing_keys_warn_and_readable_keys_are_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    connect(db).close()
    code, report = _doctor(db)
    assert code == 1
    assert _by_name(report)["key.evidence_signing"]["severity"] == WARNING
    assert "gardefou evidence keygen" in _by_name(report)["key.evidence_signing"]["summary"]
    _keygen(tmp_path / "keys")
    (tmp_path / "keys" / "signing.pem").chmod(0o644)
    code, report = _doctor(db)
    assert code == 2
    check = _by_name(report)["key.evidence_signing"]
    assert check["severity"] == ERROR and "chmod 600" in check["summary"]


def test_store_behind_is_a_warning_or_an_error(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    connect(db, migrate=False).close()
    _keygen(tmp_path / "keys")
    code, report = _doctor(db)
    assert code == 1 and "gardefou db upgrade" in _by_name(report)["store"]["summary"]
    code, report = _doctor(db, GARDEFOU_AUTO_MIGRATE="0")
    assert code == 2 and _by_name(report)["store"]["severity"] == ERROR
    assert not connect(db, migrate=False).has_table("schema_version"), "doctor writes nothing"


def test_missing_store_file_is_not_created(tmp_path: Path) -> None:
    code, report = _doctor(str(tmp_path / "absent.db"))
    assert code == 1 and "no store at" in _by_name(report)["store"]["summary"]
    assert not (tmp_path / "absent.db").exists()


def test_unreachable_redis_is_an_error(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    connect(db).close()
    code, report = _doctor(db, GARDEFOU_RATE_LIMIT_URL="redis://127.0.0.1:1/0")
    check = _by_name(report)["redis.rate_limit"]
    assert code == 2 and check["severity"] == ERROR and "unreachable" in check["summary"]


@pytest.mark.redis
def test_reachable_redis(tmp_path: Path) -> None:
    url = os.environ.get("GARDEFOU_TEST_REDIS_URL")
    if not url:
        pytest.skip("GARDEFOU_TEST_REDIS_URL is not set")
    assert doctor._ping_redis("redis.stream", "GARDEFOU_REDIS_URL", url).severity == OK


def test_bad_limits_and_keys_from_the_environment(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    connect(db).close()
    code, report = _doctor(
        db,
        GARDEFOU_MAX_IMAGE_MP="many",
        GARDEFOU_C2PA_KEY=str(tmp_path / "k.pem"),
        GARDEFOU_PUID_SECRET="short",
        GARDEFOU_REVIEW_MEDIA_KEY="bm90IDMyIGJ5dGVz",
    )
    checks = _by_name(report)
    assert code == 2
    assert (
        checks["limits"]["severity"] == ERROR
        and "GARDEFOU_MAX_IMAGE_MP" in (checks["limits"]["summary"])
    )
    assert checks["key.c2pa"]["severity"] == ERROR
    assert checks["key.puid_secret"]["severity"] == ERROR
    assert checks["key.review_media"]["severity"] == ERROR


def test_table_output(tmp_path: Path) -> None:
    from gardefou.cli.main import cli

    db = str(tmp_path / "d.db")
    connect(db).close()
    r = CliRunner().invoke(cli, ["--db", db, "doctor", "--no-models"])
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0].startswith("OK ") and "store" in lines[0]
    assert lines[-1] == "-> warning (exit 1)"


class _Fake:
    version = "1"
    needs_model = True

    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    def model(self) -> Any:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


class _Encoder:
    backend, precision, int8_drift, note, session = "onnxruntime-fp32", "fp32", 0.136, "", object()


def test_model_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = doctor_models._load("nudity", _Fake(ModelUnavailableError("pip install x")))
    assert missing.severity == WARNING and "pip install x" in missing.summary
    broken = doctor_models._load("faces", _Fake(RuntimeError("bad weights")))
    assert broken.severity == ERROR and "RuntimeError" in broken.summary
    assert doctor_models._load("age", _Fake(object())).severity == OK

    class Loaded:
        encoder = _Encoder()

    monkeypatch.setenv("GARDEFOU_IDENTITY_PRECISION", "int8")
    _Encoder.note = "int8 identity network moved an embedding by 0.136 on this CPU"
    fell_back = doctor_models._load("identity", _Fake(Loaded()))
    assert fell_back.severity == WARNING and "0.136" in fell_back.summary
    assert fell_back.detail["precision"] == "fp32"
    monkeypatch.setenv("GARDEFOU_IDENTITY_PRECISION", "fp32")
    assert doctor_models._load("identity", _Fake(Loaded())).severity == OK


def test_cpu_flags(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("model name\t: Some CPU\nflags\t\t: fpu sse4_2 avx avx2 fma\n")
    got = doctor_models.cpu_flags(info)
    assert got["model"] == "Some CPU"
    assert got["flags"]["avx2"] and not got["flags"]["avx512_vnni"]
    assert doctor_models.cpu_flags(tmp_path / "absent") == {}


def test_a_check_that_crashes_is_an_error_and_exit_codes() -> None:
    def boom() -> list[Check]:
        raise KeyError("surprise")

    (check,) = doctor.guarded("keys", boom)
    assert check.severity == ERROR and "KeyError" in check.summary
    assert doctor.exit_code([]) == 0
    assert doctor.exit_code([Check("a", OK, ""), Check("b", WARNING, "")]) == 1
    assert doctor.exit_code([Check("a", ERROR, ""), Check("b", WARNING, "")]) == 2
