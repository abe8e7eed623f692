"""Faults injected on purpose, to prove that a crash at the worst moment loses nothing.

Production code carries no fault switch: it offers ordinary hooks (``StreamWorker.on_commit``)
and the faults live here, installed only by the test that wants them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from gardefou.errors import ConfigError

#: the status a worker killed by ``crash_after_commits`` exits with (as after SIGKILL in a shell)
CRASH_EXIT_CODE = 137


def crash_after_commits(n: int) -> Callable[[int], None]:
    """A ``StreamWorker.on_commit`` hook that ends the process, without cleanup, once ``n``
    decisions are committed: the batch in hand is committed and never acknowledged."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"crash_after_commits(n={n!r}): n must be a positive integer")

    def hook(committed: int) -> None:
        if committed >= n:
            os._exit(CRASH_EXIT_CODE)

    return hook


def install_crash_after_commits(n: int) -> None:
    """Make every ``StreamWorker`` this process runs crash after ``n`` commits: for a worker
    started through the command line (``python -c "...; install_crash_after_commits(25);
    main()"``), where the test cannot reach the worker object. Only ever call it in a process
    started to be killed."""
    from gardefou.pipeline.streams import StreamWorker

    hook = crash_after_commits(n)
    run = StreamWorker.run

    def run_then_crash(self: StreamWorker, *args: object, **kwargs: object) -> object:
        self.on_commit = hook
        return run(self, *args, **kwargs)  # type: ignore[arg-type]

    StreamWorker.run = run_then_crash  # type: ignore[method-assign,assignment]


__all__ = ["CRASH_EXIT_CODE", "crash_after_commits", "install_crash_after_commits"]
