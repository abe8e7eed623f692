"""A check's result and the severities of ``gardefou doctor`` (ops/doctor.py runs the checks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

OK, WARNING, ERROR = "ok", "warning", "error"
SEVERITY = {OK: 0, WARNING: 1, ERROR: 2}


@dataclass(frozen=True)
class Check:
    name: str  # "store", "redis.rate_limit", "model.identity", "key.evidence_signing", ...
    severity: str  # ok, warning or error
    summary: str  # one line: what was found, and the fix when it is not ok
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def exit_code(checks: Iterable[Check]) -> int:
    """0 when every check is ok, 1 when the worst is a warning, 2 when any is an error."""
    return max((SEVERITY[c.severity] for c in checks), default=0)


def guarded(name: str, step: Callable[[], list[Check]]) -> list[Check]:
    """Run a step; an exception it did not expect becomes an error check, not a crash or an ok."""
    try:
        return step()
    except Exception as exc:  # noqa: BLE001 - any failure of a check is reported as an error
        return [Check(name, ERROR, f"the check itself failed: {type(exc).__name__}: {exc}")]
