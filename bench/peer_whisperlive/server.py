"""The WhisperLive server: `python -m bench.peer_whisperlive --serve` in a subprocess with
the faster_whisper backend, waited for until it listens."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common.paths import REPO_ROOT


def serve(port: int, model: str, max_clients: int) -> None:
    """The server process (--serve): runs until killed."""
    import logging

    from whisper_live.server import TranscriptionServer

    logging.basicConfig(level=logging.WARNING)
    TranscriptionServer().run(
        "127.0.0.1",
        port=port,
        backend="faster_whisper",
        faster_whisper_custom_model_path=model,
        max_clients=max_clients,
        max_connection_time=3600,
    )


@contextlib.contextmanager
def server_process(args: argparse.Namespace, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "OMP_NUM_THREADS": str(args.omp)}
    command = [
        sys.executable,
        "-m",
        "bench.peer_whisperlive",
        "--serve",
        "--port",
        str(args.port),
        "--model",
        args.model,
        "--max-clients",
        str(max(args.streams)),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )
        try:
            wait_for_port(args.port, proc, timeout_s=120)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the WhisperLive server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.3)
    raise SystemExit(f"the WhisperLive server did not listen on {port} in {timeout_s:.0f}s")
