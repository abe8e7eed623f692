"""Log formats: ``text`` (Python's and uvicorn's defaults, unchanged) or ``json`` (one object a
line, for a log shipper). Chosen with ``gardefou --log-format json`` or GARDEFOU_LOG_FORMAT and
applied by the CLI entry point only: importing gardefou never touches the host's logging.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from datetime import UTC, datetime
from typing import Any

from gardefou.errors import ConfigError

FORMATS = ("text", "json")

#: attributes every LogRecord has; anything else on a record came from ``extra=`` and is kept
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the fields passed
    with ``extra=`` and, for an exception, its formatted traceback under ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Writes to the ``sys.stderr`` of the moment, not the one seen at configuration (a test
    runner or a daemonizer may replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def log_format(value: str | None = None) -> str:
    """The format asked for (an option's value, else GARDEFOU_LOG_FORMAT, else ``text``)."""
    raw = (value if value is not None else os.environ.get("GARDEFOU_LOG_FORMAT", "")).strip()
    fmt = raw.lower() or "text"
    if fmt not in FORMATS:
        raise ConfigError(f"log format {raw!r} unknown; use one of {', '.join(FORMATS)}")
    return fmt


def logging_config(fmt: str, level: str = "INFO") -> dict[str, Any] | None:
    """A ``logging.config.dictConfig`` dictionary for gardefou's and uvicorn's loggers (uvicorn
    applies it in each of its worker processes), or None for ``text``: the defaults stay."""
    if log_format(fmt) == "text":
        return None
    handler = {"class": "gardefou.ops.logs.StderrHandler", "formatter": "json"}
    logger = {"handlers": ["json"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "gardefou.ops.logs.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": {
            "gardefou": logger,
            "uvicorn": {**logger, "level": "INFO"},
            "uvicorn.error": {"level": "INFO"},
            # one line a request: route, status and latency are in /metrics already
            "uvicorn.access": {**logger, "level": "WARNING"},
        },
    }


def configure(fmt: str) -> None:
    """Apply a format to this process (the CLI calls it once, at start)."""
    config = logging_config(fmt)
    if config is not None:
        logging.config.dictConfig(config)
