"""Progress on stderr for long CLI jobs (`bank import`, `backfill`): counts, rate and ETA.

Shown when stderr is a terminal or with ``--progress``; never with ``--quiet``. On a terminal
one line is rewritten in place; into a file or a pipe (``--progress`` under cron, say) a new
line is written at most every few seconds, so logs stay short. stdout keeps only the result,
so ``gardefou bank import ... > report.json`` is unchanged by progress.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def progress_options(f: F) -> F:
    """``--progress/--no-progress`` and ``--quiet`` on a command."""
    f = click.option(
        "--quiet", "-q", is_flag=True, help="Nothing on stderr but errors (no progress)."
    )(f)
    f = click.option(
        "--progress/--no-progress",
        default=None,
        help="Counts, rate and ETA on stderr [default: only when stderr is a terminal].",
    )(f)
    return f


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _eta(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """Call it with (done, total) as work completes; ``close()`` when the job ends."""

    def __init__(
        self,
        label: str,
        unit: str,
        progress: bool | None,
        quiet: bool,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tty = _stderr_is_terminal()
        self.enabled = not quiet and (progress if progress is not None else self.tty)
        self.label, self.unit, self.clock = label, unit, clock
        self.start = clock()
        # a terminal line is cheap to rewrite; a log line is not
        self.every = 0.2 if self.tty else 5.0
        self._last = -1e18
        self._shown: tuple[int, int] | None = None

    def line(self, done: int, total: int) -> str:
        elapsed = self.clock() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.label}: {done:,}/{total:,} {self.unit}"]
        if total:
            parts[0] += f" ({100 * done / total:.0f}%)"
        if done and elapsed > 0:
            parts.append(f"{rate:,.0f} {self.unit}/s")
            if total > done:
                parts.append(f"ETA {_eta((total - done) / rate)}")
        return ", ".join(parts)

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if (done, total) == self._shown:
            return
        if done < total and now - self._last < self.every and self._shown is not None:
            return
        self._last = now
        self._shown = (done, total)
        if self.tty:
            click.echo("\r\x1b[2K" + self.line(done, total), err=True, nl=False)
        else:
            click.echo(self.line(done, total), err=True)

    def close(self) -> None:
        if self.enabled and self._shown is not None and self.tty:
            click.echo("", err=True)
