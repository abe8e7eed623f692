"""JSON logs as an option (--log-format json / GARDEFOU_LOG_FORMAT), applied by the CLI entry
point only: importing gardefou leaves the host's logging alone."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gardefou.errors import ConfigError
from gardefou.ops.logs import JsonFormatter, StderrHandler, log_format, logging_config


@pytest.fixture
def restore_logging() -> Iterator[None]:
    names = ("gardefou", "uvicorn", "uvicorn.access", "uvicorn.error")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level) for n in names}
    saved_propagate = {n: logging.getLogger(n).propagate for n in names}
    yield
    for n, (handlers, level) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = saved_propagate[n]


def test_json_formatter() -> None:
    record = logging.LogRecord("gardefou.web", logging.WARNING, "x.py", 1, "a %s", ("b",), None)
    record.case_id = "C-1"
    out = json.loads(JsonFormatter().format(record))
    assert out["level"] == "warning" and out["logger"] == "gardefou.web"
    assert out["message"] == "a b" and out["case_id"] == "C-1"
    assert out["time"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert "ValueError: boom" in json.loads(JsonFormatter().format(record))["exc"]


def test_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert log_format() == "text" and logging_config("text") is None
    monkeypatch.setenv("GARDEFOU_LOG_FORMAT", "JSON")
    assert log_format() == "json"
    monkeypatch.setenv("GARDEFOU_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="log format 'xml' unknown"):
        log_format()
    config = logging_config("json")
    assert config is not None and "uvicorn.access" in config["loggers"]


def test_importing_gardefou_configures_no_logging() -> None:
    code = (
        "import logging, gardefou, gardefou.cli.main, gardefou.web.app, gardefou.ops.logs;"
        "assert not logging.getLogger('gardefou').handlers;"
        "assert not logging.getLogger().handlers;"
        "print('clean')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "clean"


def test_cli_option_applies_json_logs(tmp_path: Path, restore_logging: None) -> None:
    from gardefou.cli.main import cli, main  # noqa: F401 - main() registers the subcommands

    __import__("gardefou.cli.commands_ops")
    db = str(tmp_path / "l.db")
    r = CliRunner().invoke(cli, ["--db", db, "--log-format", "json", "db", "status"])
    assert r.exit_code == 1, r.output
    handlers = logging.getLogger("gardefou").handlers
    assert len(handlers) == 1 and isinstance(handlers[0], StderrHandler)
    assert isinstance(handlers[0].formatter, JsonFormatter)
    bad = CliRunner().invoke(cli, ["--db", db, "db", "status"], env={"GARDEFOU_LOG_FORMAT": "xml"})
    assert bad.exit_code == 2 and "xml" in bad.output


def test_serve_passes_json_logs_to_uvicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_logging: None
) -> None:
    """serve hands the configuration to uvicorn, which applies it in every worker process."""
    import uvicorn

    from gardefou.cli.main import cli, main  # noqa: F401

    __import__("gardefou.cli.commands_web")
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.update(k))
    monkeypatch.setenv("GARDEFOU_ADMIN_KEY", "x" * 20)
    for var in ("GARDEFOU_DB", "GARDEFOU_MAX_UPLOAD_MB"):  # serve writes these for its workers
        monkeypatch.setenv(var, "unset-by-test")
        monkeypatch.delenv(var)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    args = ["--db", str(tmp_path / "s.db"), "--log-format", "json", "serve", "--port", port]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    config = seen["log_config"]
    assert isinstance(config, dict)
    assert config["formatters"]["json"]["()"] == "gardefou.ops.logs.JsonFormatter"
