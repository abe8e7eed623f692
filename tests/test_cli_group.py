"""The command group: one group object whichever way the command starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def test_python_dash_m_runs_the_group_the_commands_registered_on() -> None:
    """``python -m gardefou.cli.main`` used to define a second group in ``__main__`` while the
    command modules registered on ``gardefou.cli.main``'s: --help listed no command at all."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gardefou.cli.main", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    commands = result.stdout.partition("Commands:")[2]
    for name in ("scan", "hash", "serve", "bank"):
        assert f"\n  {name} " in commands, result.stdout


def test_the_group_is_the_same_object_from_main_and_group() -> None:
    from gardefou.cli import group, main

    assert main.cli is group.cli
    assert main.EXIT_USAGE == group.EXIT_USAGE == 2
