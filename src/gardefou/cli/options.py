"""Option decorators the command modules share, so that a bounded number, a page limit or a
listening address is declared once with one way of showing its default in --help.

A leaf module, as ``group.py`` is: it imports click only, never a command module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def int_option(
    *decls: str,
    default: int | None,
    help: str,
    low: int = 1,
    high: int | None = None,
    **kwargs: Any,
) -> Callable[[F], F]:
    """An integer option in [low, high]; --help shows the default when there is one (a None
    default means "computed", which the help text explains). Other keywords (envvar, ...) go
    to click as they are."""
    return click.option(
        *decls,
        type=click.IntRange(low, high),
        default=default,
        show_default=True if default is not None else None,
        help=help,
        **kwargs,
    )


def float_option(
    *decls: str, default: float, help: str, low: float = 0, high: float | None = None
) -> Callable[[F], F]:
    """A number option in [low, high] with its default shown in --help."""
    return click.option(
        *decls, type=click.FloatRange(low, high), default=default, show_default=True, help=help
    )


def limit_option(noun: str) -> Callable[[F], F]:
    """``--limit``: the page size of the listing commands, 100 by default."""
    return int_option("--limit", default=100, help=f"At most this many {noun}.")


def listen_options(host_help: str, port: int, port_help: str) -> Callable[[F], F]:
    """``--host`` (loopback by default) and ``--port`` of the commands that serve HTTP."""
    host_opt = click.option("--host", default="127.0.0.1", show_default=True, help=host_help)
    port_opt = int_option("--port", default=port, help=port_help, high=65535)

    def apply(f: F) -> F:
        return host_opt(port_opt(f))

    return apply


def file_option(*decls: str, **kwargs: Any) -> Callable[[F], F]:
    """An option naming a file that must already exist (a key, a config, a data set): click
    refuses a missing path or a folder as a usage error before the command runs."""
    return click.option(*decls, type=click.Path(dir_okay=False, exists=True), **kwargs)
