"""Test support lives in ``gardefou.testing`` only: production code has no fault switch and
does not import the fakes."""

from __future__ import annotations

import ast

import pytest

from gardefou.errors import ConfigError
from gardefou.testing import faults
from tests.test_architecture import PACKAGE, import_graph


def _production_modules() -> dict[str, dict[str, int]]:
    return {
        m: edges
        for m, edges in import_graph().items()
        if m != "gardefou.testing" and not m.startswith("gardefou.testing.")
    }


def test_production_modules_do_not_import_test_support() -> None:
    bad = {
        m: sorted(e for e in edges if e == "gardefou.testing" or e.startswith("gardefou.testing."))
        for m, edges in _production_modules().items()
    }
    bad = {m: e for m, e in bad.items() if e}
    assert not bad, f"production modules import gardefou.testing: {bad}"


def test_no_production_module_can_kill_its_own_process() -> None:
    """A worker that read GARDEFOU_FAULT_EXIT_AFTER_COMMIT called ``os._exit(137)`` after its
    n-th commit: one stray variable in production would crash every worker at the same point.
    The fault now lives in gardefou.testing.faults, installed by the test that wants it."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "testing" in path.relative_to(PACKAGE).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "_exit":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if isinstance(node, ast.Constant) and "GARDEFOU_FAULT" in str(node.value):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found, f"fault switches in production modules: {found}"


def test_crash_after_commits_fires_at_the_nth_commit(monkeypatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(faults.os, "_exit", exits.append)
    hook = faults.crash_after_commits(3)
    for committed in (1, 2):
        hook(committed)
    assert exits == []
    hook(3)
    assert exits == [faults.CRASH_EXIT_CODE]


@pytest.mark.parametrize("n", [0, -1, True, "3"])
def test_crash_after_commits_refuses_a_bad_count(n) -> None:
    with pytest.raises(ConfigError, match=r"crash_after_commits\(n=.*positive integer"):
        faults.crash_after_commits(n)


def test_a_stream_worker_has_no_commit_hook_unless_given_one() -> None:
    """The hook firing at the right moment is the slow kill -9 test in test_stream.py."""
    from gardefou.pipeline.streams import StreamWorker

    assert StreamWorker.__dataclass_fields__["on_commit"].default is None
