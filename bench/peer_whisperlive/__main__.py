"""The command line of the peer benchmark (see bench/peer_whisperlive/__init__.py); also the
WhisperLive server process itself (`--serve`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

import psutil

from bench import peer_whisperlive as package
from bench.audio_metrics import (
    DEFAULT_AUDIO,
    DEFAULT_SCRIPT,
    SAMPLE_RATE,
    load_script,
    speech_regions,
)
from bench.common.paths import results_path
from bench.common.processes import ResourceSampler, descendants, machine_info, wait_machine_quiet
from bench.peer_whisperlive.analysis import analyse_k, analyse_stream, table
from bench.peer_whisperlive.clients import run_k
from bench.peer_whisperlive.server import serve, server_process
from glossify.cli.local_stack import free_port

QUIET_HELP = "before each K, wait until other processes use < this %% CPU (0: don't wait)"


def default_model() -> str:
    from glossify.weights.whisper import default_whisper_dir

    return str(default_whisper_dir())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peer_whisperlive", description=(package.__doc__ or "").splitlines()[0]
    )
    add = parser.add_argument
    add("--streams", default="1,2,4,6", help="comma-separated K values")
    add("--model", default=None, help="CTranslate2 Whisper directory (default: Glossify's)")
    add("--omp", type=int, default=2, help="OMP_NUM_THREADS of the server")
    add("--port", type=int, default=0, help="server port (default: a free one)")
    add("--audio", type=Path, default=DEFAULT_AUDIO)
    add("--script", type=Path, default=DEFAULT_SCRIPT)
    add("--stagger", type=float, default=0.0, help="seconds between the streams' starts")
    add("--tail", type=float, default=30.0, help="most seconds of trailing silence")
    add("--settle", type=float, default=5.0, help="quiet seconds that end a K")
    add("--max-wait", type=float, default=120.0)
    add("--quiet-machine", type=float, default=40.0, help=QUIET_HELP)
    add("--json-out", type=Path, default=None)
    add("--serve", action="store_true", help=argparse.SUPPRESS)
    add("--max-clients", type=int, default=8, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.streams = [int(k) for k in args.streams.split(",")]
    args.model = args.model or default_model()
    args.port = args.port or free_port()
    return args


async def bench(args: argparse.Namespace, sampler: ResourceSampler) -> list[dict[str, Any]]:
    from faster_whisper import decode_audio

    audio = decode_audio(str(args.audio), sampling_rate=SAMPLE_RATE)
    regions, script = speech_regions(audio), load_script(args.script)
    rows = []
    for k in args.streams:
        print(f"\nK={k}: streaming {len(audio) / SAMPLE_RATE:.1f} s x {k} ...", flush=True)
        waited = 0.0
        if args.quiet_machine > 0:
            waited = await asyncio.to_thread(wait_machine_quiet, sampler, args.quiet_machine)
        load = os.getloadavg()
        runs, window = await run_k(k, audio, args, sampler)
        row = analyse_k(k, [analyse_stream(r, script, regions) for r in runs], window, len(regions))
        row["loadavg_before"] = [round(v, 2) for v in load]
        row["waited_for_quiet_machine_s"] = waited
        rows.append(row)
        print(table([row]), flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve(args.port, args.model, args.max_clients)
        return 0
    report: dict[str, Any] = {
        "system": "whisperlive-0.10.0",
        "machine": machine_info(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    log_path = results_path("peer_whisperlive").with_suffix(".server.log")
    with server_process(args, log_path) as proc:
        server = psutil.Process(proc.pid)
        sampler = ResourceSampler(lambda: descendants(server, include_root=True)).start()
        try:
            rows = asyncio.run(bench(args, sampler))
        finally:
            sampler.stop()
    log = log_path.read_text(errors="replace")
    report["server_log_errors"] = [line for line in log.splitlines() if "ERROR" in line][:50]
    report["rows"] = rows
    print("\nWhisperLive 0.10.0\n" + table(rows))
    out = args.json_out or results_path("peer_whisperlive")
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
