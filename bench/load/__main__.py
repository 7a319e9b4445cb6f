"""`python -m bench.load`: the command line (see bench/load/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psutil

from bench import load as package
from bench.common.processes import ResourceSampler, descendants, machine_info, stack_finder
from bench.common.stack import open_stack
from bench.load import steps
from bench.load.report import write_report
from bench.load.steps import Stack
from bench.load.workload import explainer_label, parse_steps, stack_app_args

QUIET_HELP = "before each step, wait until other processes use < this %% CPU (0: don't wait)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=(package.__doc__ or "").splitlines()[0]
    )
    a = parser.add_argument
    a("--mode", choices=("text", "audio"), default="text")
    a("--meetings", default="10", help="comma-separated meeting counts (audio: K streams)")
    a("--rate", default="0.5", help="comma-separated final lines/s per meeting")
    a("--sweep", nargs="?", const="", default=None, help="meetings=10,25,... or rate=0.1,...")
    a("--duration", type=float, default=60.0, help="seconds of load per step")
    a("--listeners", type=int, default=2, help="WebSocket listeners per meeting")
    a("--fresh-terms", type=float, default=0.5, help="share of lines naming a coined term")
    a("--seed", type=int, default=0)
    a("--settle", type=float, default=8.0, help="quiet seconds that end the drain")
    a("--max-wait", type=float, default=120.0, help="most seconds to drain after the load")
    a("--stop-timeout", type=float, default=300.0, help="most seconds to wait for upserts")
    a("--http-timeout", type=float, default=30.0)
    a("--max-in-flight", type=int, default=8, help="unanswered lines per meeting")
    a("--connections", type=int, default=64, help="HTTP connection pool size")
    a("--knee-factor", type=float, default=2.0)
    a("--watch-scaling", action="store_true", help="sample replica counts every second")
    a("--scale-down-wait", type=float, default=240.0, help="most seconds to watch scale-down")
    a("--url", default=None, help="a running stack (default: start one)")
    a("--dashboard-url", default=None, help="for --watch-scaling with --url (default :8265)")
    a("--stack-pid", type=int, default=None, help="with --url: the stack's root process")
    a("--pg-data", type=Path, default=None, help="with --stack-pid: its PostgreSQL data dir")
    a("--port", type=int, default=8032, help="port of the stack this script starts")
    a("--dashboard", action="store_true", help="start the local stack with Ray's dashboard")
    a("--config", type=Path, default=None, help="a Serve config whose glossify args to use")
    a("--app-args", default=None, help="more Serve app args as JSON (win over --config)")
    a("--tiny-llm", action="store_true", help="SmolLM2-135M explainer instead of Qwen 1.5B")
    a("--quiet-machine", type=float, default=40.0, help=QUIET_HELP)
    a("--idle-cpu", type=float, default=30.0, help="stack CPU %% that counts as idle")
    a("--idle-wait", type=float, default=600.0, help="most seconds to wait for an idle stack")
    a("--audio", type=Path, default=None, help="audio mode: another recording to stream")
    a("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.meeting_counts = [int(v) for v in args.meetings.split(",")]
    args.rates = [float(v) for v in args.rate.split(",")]
    args.steps = parse_steps(args.sweep, args.meeting_counts, args.rates)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    app_args = stack_app_args(args)
    report: dict[str, Any] = {
        "system": "glossify",
        "mode": args.mode,
        "machine": machine_info(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "app_args": None if args.url else app_args,
        "explainer": explainer_label(args, app_args),
        "steps": [],
    }
    stack_args = argparse.Namespace(**{**vars(args), "app_args": json.dumps(app_args)})
    if not args.url:
        # Serve's per-request logs stay in /tmp/ray/session_latest/logs/serve/ instead of
        # flooding this console (the replicas inherit the variable from this driver).
        os.environ.setdefault("RAY_SERVE_LOG_TO_STDERR", "0")
    print(f"explainer: {report['explainer']}", flush=True)
    with open_stack(stack_args) as (base_url, pg_data):
        finder = stack_processes(args, pg_data)
        sampler = ResourceSampler(finder).start()
        try:
            run_interruptible(steps.bench(Stack(base_url, finder, sampler), args, report))
        finally:
            sampler.stop()
            write_report(report, args)
    return 0


def stack_processes(args: argparse.Namespace, pg_data: Path | None) -> Callable[[], Any]:
    """The processes whose CPU and memory count: the stack this script started; with --url,
    the process tree of --stack-pid (e.g. `glossify up`) and the PostgreSQL serving
    --pg-data, else every Ray and postgres process on this machine (other clusters too)."""
    if args.url is None or args.stack_pid is None:
        return stack_finder(pg_data if args.url is None else None)
    root = psutil.Process(args.stack_pid)
    marker = str(args.pg_data) if args.pg_data else None

    def find() -> list[psutil.Process]:
        procs = descendants(root, include_root=True)
        if marker is not None:
            for proc in psutil.process_iter(["cmdline"]):
                if marker in " ".join(proc.info["cmdline"] or []):
                    procs.extend([proc, *descendants(proc)])
        return procs

    return find


def run_interruptible(job: Awaitable[None]) -> None:
    """Ctrl-C cancels the run (and the stack still shuts down): local_stack's own signal
    handlers only set a flag, which nothing here would look at."""

    async def wrapper() -> None:
        task = asyncio.ensure_future(job)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(wrapper())


if __name__ == "__main__":
    raise SystemExit(main())
