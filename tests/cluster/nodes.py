"""A Ray cluster of its own for a test, started with the ``ray`` CLI in subprocesses: its own ports
and temp dir, so it neither joins nor disturbs the Ray cluster of tests/serve/ on this machine
(never ``ray stop``, which stops every Ray process here)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glossify.cli.local_stack import free_port

BIN = Path(sys.executable).parent
NODE_STARTS = 3
# The tests' environment turns multi-node clusters off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 keeps
# a single node on the loopback); these nodes say their address themselves.
NODE_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1",
    # On two busy cores a node's agents can take tens of seconds to start.
    "RAY_agent_register_timeout_ms": "180000",
}


@dataclass
class Node:
    """One ``ray start --block``: it and the processes it starts are one process group, so a
    node is lost at once, as when its machine dies."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    killed: bool = False

    def kill(self) -> None:
        self.killed = True
        # The whole group, even when ``ray start`` itself is gone: its agents may not be.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


class NodeExited(RuntimeError):
    pass


@dataclass
class Cluster:
    gcs_address: str
    dashboard_url: str
    temp_dir: Path
    env: dict[str, str]
    nodes: list[Node] = field(default_factory=list)

    def add_node(self, name: str, *args: str) -> Node:
        """Starts a node and waits until the cluster has it. On two busy cores a node's agents
        may start so slowly that its raylet gives up and ``ray start`` exits: it is started
        again, at most ``NODE_STARTS`` times."""
        expected = len([node for node in self.nodes if not node.killed]) + 1
        for attempt in range(1, NODE_STARTS + 1):
            node = self._start_node(name, *args)
            try:
                self.wait_for_nodes(expected)
                return node
            except NodeExited:
                node.kill()
                if attempt == NODE_STARTS:
                    raise
        raise AssertionError("unreachable")

    def _start_node(self, name: str, *args: str) -> Node:
        """A node with ports of its own (two Ray nodes on one machine would otherwise race for
        the default agent ports)."""
        ports = {
            "--node-manager-port": free_port(),
            "--object-manager-port": free_port(),
            "--dashboard-agent-listen-port": free_port(),
            "--dashboard-agent-grpc-port": free_port(),
            "--runtime-env-agent-port": free_port(),
            "--metrics-export-port": free_port(),
        }
        command = [
            str(BIN / "ray"),
            "start",
            "--block",
            "--node-ip-address=127.0.0.1",
            "--disable-usage-stats",
            *(f"{flag}={port}" for flag, port in ports.items()),
            *args,
        ]
        log = self.temp_dir / f"{name}-{len(self.nodes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        node = Node(name, process, log)
        self.nodes.append(node)
        return node

    def add_worker(self, *args: str) -> Node:
        return self.add_node("worker", f"--address={self.gcs_address}", *args)

    def serve_deploy(self, config: dict[str, Any]) -> None:
        """``serve deploy`` as an operator runs it, through the dashboard."""
        path = self.temp_dir / "serve_config.json"
        path.write_text(json.dumps(config))
        subprocess.run(
            [str(BIN / "serve"), "deploy", "--address", self.dashboard_url, str(path)],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    # The state API is asked for everything and filtered here: with a filter on the state, it
    # counts the dead nodes it left out as missing output and raises.
    def alive_nodes(self) -> list[dict[str, Any]]:
        from ray.util.state import list_nodes

        nodes = list_nodes(address=self.dashboard_url, limit=10_000)
        return [vars(node) for node in nodes if node.state == "ALIVE"]

    def alive_actors(self) -> list[dict[str, Any]]:
        from ray.util.state import list_actors

        actors = list_actors(address=self.dashboard_url, limit=10_000)
        return [vars(actor) for actor in actors if actor.state == "ALIVE"]

    def wait_for_nodes(self, count: int, timeout_s: float = 240) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while True:
            for node in self.nodes:
                if node.process.poll() is not None and not node.killed:
                    tail = node.log.read_text(errors="replace")[-2000:]
                    raise NodeExited(f"the {node.name} node exited:\n{tail}")
            try:
                nodes = self.alive_nodes()
                if len(nodes) == count:
                    return nodes
            except Exception as exc:  # the dashboard is still starting
                nodes, error = [], exc
            else:
                error = None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(nodes)} of {count} nodes alive ({error!r}); logs in {self.temp_dir}"
                )
            time.sleep(1)


@contextmanager
def own_cluster(head_args: tuple[str, ...], env: dict[str, str]) -> Iterator[Cluster]:
    """A head node with the dashboard (for ``serve deploy`` and the state API), in a short temp
    dir of its own (Ray's socket paths must stay short); every node is killed on the way out."""
    temp_dir = Path(f"/tmp/gl2n-{os.getpid()}-{time.monotonic_ns() % 10**6}")
    temp_dir.mkdir()
    gcs_port, dashboard_port = free_port(), free_port()
    cluster = Cluster(
        gcs_address=f"127.0.0.1:{gcs_port}",
        dashboard_url=f"http://127.0.0.1:{dashboard_port}",
        temp_dir=temp_dir,
        env={**os.environ, **NODE_ENV, **env},
    )
    with ExitStack() as cleanup:
        # Last out: the temp dir (its logs are left behind when the test failed).
        cleanup.push(lambda failed, *_: None if failed else shutil.rmtree(temp_dir, True))
        cleanup.callback(lambda: [node.kill() for node in reversed(cluster.nodes)])
        cluster.add_node(
            "head",
            "--head",
            f"--port={gcs_port}",
            f"--temp-dir={temp_dir}",
            "--include-dashboard=true",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dashboard_port}",
            f"--ray-client-server-port={free_port()}",
            *head_args,
        )
        yield cluster
