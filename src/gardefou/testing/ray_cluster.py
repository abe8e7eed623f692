"""A throwaway multi-node Ray cluster on this machine, for tests and benchmarks.

``with local_cluster(nodes=2, cpus_per_node=1) as address:`` starts a head node and
``nodes - 1`` worker nodes with ``ray start --block`` (each in its own process group, with its own
temp dir), yields the head's address for ``ray.init(address=...)`` or ``gardefou backfill --runner
ray --ray-address ...``, and on exit stops exactly those process groups (never ``ray stop``,
which would stop every Ray process of the machine).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from gardefou.errors import PipelineError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray_bin() -> str:
    exe = Path(sys.executable).with_name("ray")
    if exe.exists():
        return str(exe)
    found = shutil.which("ray")
    if not found:
        raise PipelineError("the `ray` command is missing; install `pip install 'gardefou[scale]'`")
    return found


@contextlib.contextmanager
def local_cluster(nodes: int = 2, cpus_per_node: float = 1, timeout: float = 120
                  ) -> Iterator[str]:  # fmt: skip
    port = _free_port()
    address = f"127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="gf-ray-", dir="/tmp"))
    # Ray 2.5x+ authenticates clients with a token (~/.ray/auth_token); the nodes, the poller
    # and ray.init() in this process must all use it
    previous_mode = os.environ.get("RAY_AUTH_MODE")
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    common = ["--block", "--disable-usage-stats", f"--num-cpus={cpus_per_node}"]
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        head_log = open(tmp / "head.log", "wb")
        logs.append(head_log)
        procs.append(subprocess.Popen(
            [_ray_bin(), "start", "--head", f"--port={port}", "--include-dashboard=false",
             f"--temp-dir={tmp}", "--node-ip-address=127.0.0.1", *common],
            stdout=head_log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        ))  # fmt: skip
        _wait_nodes(address, 1, timeout, procs, tmp)
        for i in range(nodes - 1):
            log = open(tmp / f"worker{i}.log", "wb")
            logs.append(log)
            procs.append(subprocess.Popen(
                [_ray_bin(), "start", f"--address={address}", "--node-ip-address=127.0.0.1",
                 *common],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            ))  # fmt: skip
        _wait_nodes(address, nodes, timeout, procs, tmp)
        yield address
    finally:
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
            # `ray start --block` can outlive its children; its group goes in any case
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        if previous_mode is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = previous_mode
        for f in logs:
            f.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_nodes(address: str, n: int, timeout: float, procs: list[subprocess.Popen[bytes]],
                tmp: Path) -> None:  # fmt: skip
    """Poll the cluster in a subprocess (keeps this process free of a Ray connection)."""
    code = (
        "import ray,sys;ray.init(address=sys.argv[1],logging_level='ERROR',log_to_driver=False);"
        "print(sum(1 for x in ray.nodes() if x['Alive']))"
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            log = "\n".join(f.read_text(errors="replace")[-2000:] for f in tmp.glob("*.log"))
            raise PipelineError(f"a Ray node exited with code {dead[0].returncode}:\n{log}")
        r = subprocess.run([sys.executable, "-c", code, address], capture_output=True, text=True,
                           timeout=timeout)  # fmt: skip
        if r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == [str(n)]:
            return
        time.sleep(1)
    raise PipelineError(f"the local Ray cluster at {address} did not reach {n} nodes in {timeout}s")
