"""The `gardefou` command: ``main()`` registers every subcommand module on the group (in
``group.py``, with the exit codes) and runs it."""

from __future__ import annotations

import importlib

# the group and exit codes stay importable from here, where tests and scripts find them
from gardefou.cli.group import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_UNAUTHENTICATED,
    EXIT_USAGE,
    EXIT_VERIFY,
    GardefouGroup,
    cli,
    emit_json,
)

__all__ = [
    "COMMAND_MODULES",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_UNAUTHENTICATED",
    "EXIT_USAGE",
    "EXIT_VERIFY",
    "GardefouGroup",
    "cli",
    "emit_json",
    "main",
]

#: the modules whose import registers subcommands; a missing optional one is skipped
COMMAND_MODULES = (
    "gardefou.cli.commands_core",
    "gardefou.cli.commands_bank",
    "gardefou.cli.commands_bank_entries",
    "gardefou.cli.commands_submissions",
    "gardefou.cli.commands_cases",
    "gardefou.cli.commands_guard",
    "gardefou.cli.commands_policy",
    "gardefou.cli.commands_pipeline",
    "gardefou.cli.commands_evidence",
    "gardefou.cli.commands_report",
    "gardefou.cli.commands_web",
    "gardefou.cli.commands_consent",
    "gardefou.cli.commands_exchange",
    "gardefou.cli.commands_gateway",
    "gardefou.cli.commands_video",
    "gardefou.cli.commands_ops",
)


def main() -> None:
    for module in COMMAND_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    cli(prog_name="gardefou")


if __name__ == "__main__":  # python -m gardefou.cli.main
    main()
