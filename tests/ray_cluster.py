"""A real two-node Ray cluster on 127.0.0.1 for the session (head + one worker node).

Shared by tests/distributed and the CLI tests (tests/cli): the root conftest imports it, so
one cluster serves the whole session.

``ray start --head`` with one CPU, then ``ray start --address`` with one more CPU as a
second raylet, so actors of one job really run on two nodes; the driver connects with
``ray.init(address=...)``. At teardown (also when a test failed) exactly this cluster's
processes are stopped, found by the temporary folder their command lines name, with
everything they started: ``ray stop --force`` would stop every Ray process on the machine,
another session's cluster and its drivers included.
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

import pytest

REPO = Path(__file__).resolve().parents[1]
OBJECT_STORE = str(256 * 2**20)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_cli() -> str:
    found = Path(sys.executable).with_name("ray")
    return str(found) if found.is_file() else "ray"


def _ray(command: list[str], env: dict[str, str]) -> None:
    """Run a ``ray`` CLI command; a failure shows its output (one retry: a busy head's GCS
    can be slow to accept the second node)."""
    for attempt in (1, 2):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        if done.returncode == 0:
            return
        if attempt == 2:
            pytest.fail(f"{' '.join(command[1:3])} failed:\n{done.stdout}\n{done.stderr}")
        time.sleep(5)


def _cluster_processes(temp: Path) -> set[int]:
    """PIDs of the daemons whose command line names ``temp`` (GCS, raylets, monitors) and of
    every process they started (workers, agents), read from /proc."""
    parent: dict[int, int] = {}
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:  # the process is gone
            continue
        pid = int(entry.name)
        parent[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        if str(temp).encode() in cmdline:
            found.add(pid)
    while new := {pid for pid, ppid in parent.items() if ppid in found} - found:
        found |= new
    found.discard(os.getpid())
    return found


def _stop_cluster(temp: Path) -> None:
    """SIGTERM this cluster's processes, then SIGKILL what is left after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
        pids = _cluster_processes(temp)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while pids and time.monotonic() < deadline:
            time.sleep(0.2)
            pids = {pid for pid in pids if Path(f"/proc/{pid}").exists()}


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The address of a running local cluster (2 nodes, 1 CPU each)."""
    pytest.importorskip("ray", reason="ray is not installed: pip install 'polyret[ray]'")
    pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'polyret[ray]'")
    import ray

    temp = Path(tempfile.mkdtemp(prefix="pr-ray-", dir="/tmp"))  # short: unix socket paths
    port = _free_port()
    address = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        # a private cluster on 127.0.0.1 for one session: no token, even when an earlier
        # `ray.init` left ~/.ray/auth_token (the head would then require one)
        "RAY_AUTH_MODE": "disabled",
        "HF_HUB_OFFLINE": "1",
        # workers unpickle test helpers by module name
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    ray_cli = _ray_cli()
    common = ["--num-cpus", "1", "--object-store-memory", OBJECT_STORE, "--disable-usage-stats"]
    previous = os.environ.get("RAY_AUTH_MODE")
    try:
        _ray(
            [ray_cli, "start", "--head", "--port", str(port), "--node-ip-address", "127.0.0.1",
             "--include-dashboard=false", "--temp-dir", str(temp), *common], env
        )  # fmt: skip
        _ray(
            [ray_cli, "start", "--address", address, "--node-ip-address", "127.0.0.1", *common], env
        )
        os.environ["RAY_AUTH_MODE"] = "disabled"  # the driver must match the cluster
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        yield address
    finally:
        if previous is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = previous
        if ray.is_initialized():
            ray.shutdown()
        _stop_cluster(temp)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_backend(ray_cluster: str):
    """The ray backend on the session cluster: two actors, small shards."""
    from polyret.distributed import Backend

    return Backend("ray", address=ray_cluster, workers=2, batch_size=150)
