"""The command line of `python -m bench.audio_streams` (see bench/audio_streams/__init__.py);
`bench.load --mode audio` runs `bench()` too."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aiohttp

from bench import audio_streams as package
from bench.audio_metrics import (
    DEFAULT_AUDIO,
    DEFAULT_SCRIPT,
    SAMPLE_RATE,
    load_script,
    speech_regions,
)
from bench.audio_streams.analysis import analyse_k, analyse_stream
from bench.audio_streams.report import comparison, run_peer, table
from bench.audio_streams.streaming import run_k
from bench.common.paths import results_path
from bench.common.processes import ResourceSampler, machine_info, stack_finder, wait_machine_quiet
from bench.common.stack import MeetingStop, auth_headers, open_stack, stop_meetings
from glossify.audio.pcm import pcm16

QUIET_HELP = "before each K, wait until other processes use < this %% CPU (0: don't wait)"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.audio_streams", description=(package.__doc__ or "").splitlines()[0]
    )
    ks = parser.add_argument
    ks("--streams", default="1,2,4,6,8", help="comma-separated K values")
    ks("--url", default=None, help="a running stack (default: start one)")
    ks("--port", type=int, default=8031, help="port of the stack this script starts")
    ks("--tiny-llm", action="store_true", help="SmolLM2-135M explainer instead of Qwen 1.5B")
    ks("--app-args", default=None, help="Serve app args as JSON (default {})")
    ks("--audio", type=Path, default=DEFAULT_AUDIO)
    ks("--script", type=Path, default=DEFAULT_SCRIPT)
    ks("--language", default="en", help="audio_start language ('' = detect)")
    ks("--stagger", type=float, default=0.0, help="seconds between the streams' starts")
    ks("--settle", type=float, default=8.0, help="quiet seconds that end a K")
    ks("--max-wait", type=float, default=300.0, help="most seconds to wait after the audio")
    ks("--stop-at-end", action="store_true", help="stop every meeting after the last K")
    ks("--with-peer", action="store_true", help="then run bench.peer_whisperlive")
    ks("--peer-streams", default=None, help="K values for the peer (default: --streams)")
    ks("--quiet-machine", type=float, default=40.0, help=QUIET_HELP)
    ks("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    args.streams = [int(k) for k in args.streams.split(",")]
    if args.peer_streams:
        args.peer_streams = [int(k) for k in args.peer_streams.split(",")]
    args.language = args.language or None
    return args


async def bench(base_url: str, args: argparse.Namespace, sampler: ResourceSampler) -> list[Any]:
    from faster_whisper import decode_audio

    audio = decode_audio(str(args.audio), sampling_rate=SAMPLE_RATE)
    pcm, regions, script = pcm16(audio), speech_regions(audio), load_script(args.script)
    rows = []
    for k in args.streams:
        print(f"\nK={k}: streaming {len(audio) / SAMPLE_RATE:.1f} s x {k} ...", flush=True)
        waited = 0.0
        if args.quiet_machine > 0:
            waited = await asyncio.to_thread(wait_machine_quiet, sampler, args.quiet_machine)
        load = os.getloadavg()
        runs, window = await run_k(base_url, k, pcm, args, sampler)
        streams = [analyse_stream(run, script, regions) for run in runs]
        row = analyse_k(k, streams, window, len(regions))
        row["loadavg_before"] = [round(v, 2) for v in load]
        row["waited_for_quiet_machine_s"] = waited
        rows.append(row)
        print(table([row]), flush=True)
    if args.stop_at_end:  # stopped, not waited for
        meetings = [MeetingStop(s["meeting_id"]) for row in rows for s in row["streams"]]
        async with aiohttp.ClientSession(headers=auth_headers()) as session:
            await stop_meetings(session, base_url, meetings, timeout_s=0.0)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report: dict[str, Any] = {
        "system": "glossify",
        "machine": machine_info(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    external_db = "DATABASE_URL" in os.environ
    with open_stack(args) as (base_url, pg_data):
        report["glossify_home"] = os.environ.get("GLOSSIFY_HOME")
        report["fresh_database"] = pg_data is not None and not external_db
        sampler = ResourceSampler(stack_finder(pg_data)).start()
        try:
            rows = asyncio.run(bench(base_url, args, sampler))
        finally:
            sampler.stop()
    report["rows"] = rows
    print("\nGlossify\n" + table(rows))
    if args.with_peer:
        peer = run_peer(args)
        if peer is not None:
            report["peer"] = peer
            print("\nGlossify (G) vs WhisperLive (P); x = P/G\n" + comparison(rows, peer["rows"]))
    out = args.json_out or results_path("audio_streams")
    out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {out}")
    return 0
