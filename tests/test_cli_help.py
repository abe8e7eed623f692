"""Every option of every `gardefou` command has help text; every argument is named in its
command's docstring (click prints no help for arguments, so the docstring is where it lives)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import click
import pytest

import gardefou.cli
from gardefou.cli.main import cli


def _load_all_commands() -> None:
    # every commands_* module, including ones added later, registers on the one group
    for mod in pkgutil.iter_modules(gardefou.cli.__path__):
        if mod.name.startswith("commands_"):
            importlib.import_module(f"gardefou.cli.{mod.name}")


def _walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from _walk(sub, f"{path} {name}")


def _undocumented() -> list[str]:
    _load_all_commands()
    missing = []
    for path, cmd in _walk(cli, "gardefou"):
        doc = (cmd.help or "").upper()
        for p in cmd.params:
            if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip():
                missing.append(f"{path} {p.opts[0]}: option without help=")
            elif isinstance(p, click.Argument):
                name = (p.metavar or p.name or "").upper().strip(".")
                if not re.search(rf"\b{re.escape(name)}\b", doc):
                    missing.append(f"{path} {name}: argument not named in the docstring")
        if not (cmd.help or "").strip():
            missing.append(f"{path}: command without a docstring")
    return missing


def test_every_option_and_argument_is_documented() -> None:
    missing = _undocumented()
    assert not missing, f"{len(missing)} undocumented:\n" + "\n".join(missing)


def test_the_walk_sees_the_whole_tree() -> None:
    """The check above is only as good as the tree it walks."""
    _load_all_commands()
    paths = [p for p, _ in _walk(cli, "gardefou")]
    for expected in ("gardefou scan", "gardefou bank import", "gardefou backfill",
                     "gardefou evidence hold place"):  # fmt: skip
        assert expected in paths


@pytest.mark.parametrize("argv", [["--help"], ["bank", "import", "--help"]])
def test_help_renders(argv: list[str]) -> None:
    from click.testing import CliRunner

    _load_all_commands()
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0 and "Usage:" in result.output
