"""K concurrent meetings streamed in real time through the Serve proxy: latency, WER, CPU, RSS.

    .venv/bin/python -m bench.audio_streams [--streams 1,2,4,6,8] [--tiny-llm] [--url URL]
                                            [--with-peer]

By default starts the local stack itself (Ray, Serve, a fresh embedded PostgreSQL in a temporary
GLOSSIFY_HOME, so the glossary starts empty) on 127.0.0.1:--port; `--url` targets a running
stack instead. For each K, K meetings each stream the dev-meeting recording over
`ws://…/meeting/<id>/ws` as 100 ms pcm_s16le frames, paced like a live microphone: t0 is the
instant the first sample is "spoken" and frame i goes out at t0 + (i+1)·0.1 s, when its last
sample would have been captured. After `audio_end`, each socket stays open until the run is
quiet (no event for --settle seconds and the stack's CPU idle), so late `terms` are counted.

Per stream, with the wall clock of this process:
- final latency: arrival − (t0 + event.end) for each final `transcript` event. `end` is the
  utterance end the server reports: speech end + 0.1 s post-roll. The utterance is closed only
  after 0.5 s of silence, so ~0.4 s of the figure is the segmenter waiting for the pause.
- sentence latency: per sentence of the recording (offline Silero VAD, no padding: the true end
  of speech, the same reference for every system), arrival of the last final covering it − end.
- term latency: for each `terms` event, arrival − end of the first final line containing it.
- last frame → last final; send lag (how late each frame left, against its schedule); WER
  against the script; jargon words right; sentences heard; CPU and peak RSS of the stack's
  processes (Ray's and PostgreSQL's), sampled every 0.5 s.

"Real time" for K: send lag p95 < 0.5 s, every sentence heard in every stream, and final
latency p95 ≤ 5 s. `--with-peer` then runs `python -m bench.peer_whisperlive` (in
bench/.peer-venv, on the same audio and model, after this stack is shut down) and prints both
side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from bench.audio_metrics import (
    DEFAULT_AUDIO,
    DEFAULT_SCRIPT,
    FRAME_S,
    SAMPLE_RATE,
    Line,
    last_frame_to_final,
    load_script,
    percentile,
    pooled,
    sentence_latencies,
    speech_regions,
    summary,
    transcript_quality,
)
from bench.common.paths import REPO_ROOT, results_path
from bench.common.processes import (
    ResourceSampler,
    cpu_share,
    machine_info,
    stack_finder,
    wait_machine_quiet,
)
from bench.common.stack import MeetingStop, open_stack, stop_meetings
from bench.common.table import Column, cell, format_table
from glossify.audio.pcm import pcm16
from glossify.cli.stream_client import ws_url
from glossify.transcription.wer import words

PEER_PYTHON = REPO_ROOT / "bench" / ".peer-venv" / "bin" / "python"
PEER_MODULE = "bench.peer_whisperlive"
QUIET_HELP = "before each K, wait until other processes use < this %% CPU (0: don't wait)"
REALTIME_SEND_LAG_P95_S = 0.5
REALTIME_FINAL_P95_S = 5.0


@dataclass
class StreamRun:
    """What one sending socket saw. Times are time.monotonic() seconds."""

    meeting_id: str
    t0: float = 0.0
    send_lags: list[float] = field(default_factory=list)
    last_frame_at: float = 0.0
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def finals(self) -> list[Line]:
        return [
            Line(e["text"], float(e["start"]), float(e["end"]), at - self.t0)
            for at, e in self.events
            if e.get("type") == "transcript" and e.get("is_final")
        ]

    def terms(self) -> list[tuple[float, dict[str, Any]]]:
        return [(at - self.t0, e) for at, e in self.events if e.get("type") == "terms"]

    def partials(self) -> int:
        return sum(e.get("type") == "transcript" and not e.get("is_final") for _, e in self.events)


# ---------------------------------------------------------------- streaming


async def open_socket(base_url: str, run: StreamRun) -> websockets.ClientConnection:
    # A small write buffer: a server that reads slowly shows up as send lag here.
    ws = await websockets.connect(
        ws_url(base_url, run.meeting_id), max_size=2**22, write_limit=8192, open_timeout=60
    )
    sock = ws.transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    ready = json.loads(await ws.recv())
    if ready.get("type") != "ready":
        raise RuntimeError(f"{run.meeting_id}: not accepted: {ready}")
    return ws


async def read_events(ws: websockets.ClientConnection, run: StreamRun) -> None:
    try:
        async for raw in ws:
            event = json.loads(raw)
            run.events.append((time.monotonic(), event))
            if event.get("type") == "error":
                run.errors.append(event)
    except websockets.ConnectionClosed:
        pass


async def send_audio(
    ws: websockets.ClientConnection, run: StreamRun, pcm: bytes, language: str | None
) -> None:
    """Frames paced like a live microphone from run.t0 on, then `audio_end`."""
    await ws.send(
        json.dumps(
            {
                "type": "audio_start",
                "sample_rate": SAMPLE_RATE,
                "encoding": "pcm_s16le",
                "language": language,
            }
        )
    )
    frame_bytes = int(SAMPLE_RATE * FRAME_S) * 2
    for offset in range(0, len(pcm), frame_bytes):
        frame = pcm[offset : offset + frame_bytes]
        due = run.t0 + (offset + len(frame)) / 2 / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await ws.send(frame)
        run.send_lags.append(time.monotonic() - due)
    run.last_frame_at = time.monotonic()
    await ws.send(json.dumps({"type": "audio_end"}))


async def wait_quiet(
    runs: list[StreamRun], sampler: ResourceSampler, settle_s: float, max_wait_s: float
) -> bool:
    """Until no event for `settle_s` and the stack's CPU is idle; False if `max_wait_s` passed."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        last_event = max((at for run in runs for at, _ in run.events[-1:]), default=0.0)
        recent = sampler.samples[-4:]
        idle = bool(recent) and all(s.cpu_percent < 25.0 for s in recent)
        if time.monotonic() - last_event >= settle_s and idle:
            return True
    return False


async def run_k(
    base_url: str,
    k: int,
    pcm: bytes,
    args: argparse.Namespace,
    sampler: ResourceSampler,
) -> tuple[list[StreamRun], dict[str, Any]]:
    tag = f"{int(time.time()) % 100000}"
    runs = [StreamRun(f"bench-{tag}-k{k}-{i}") for i in range(k)]
    sockets = [await open_socket(base_url, run) for run in runs]
    readers = [
        asyncio.create_task(read_events(ws, run)) for ws, run in zip(sockets, runs, strict=True)
    ]
    spent_before = dict(sampler.cpu_seconds)
    start = time.monotonic() + 1.0
    for i, run in enumerate(runs):
        run.t0 = start + i * args.stagger
    await asyncio.gather(
        *(send_audio(ws, run, pcm, args.language) for ws, run in zip(sockets, runs, strict=True))
    )
    audio_done = time.monotonic()
    spent_streaming = cpu_share(spent_before, dict(sampler.cpu_seconds))
    quiet = await wait_quiet(runs, sampler, args.settle, args.max_wait)
    end = time.monotonic()
    for ws in sockets:
        await ws.close()
    for reader in readers:
        reader.cancel()
    window = {
        "streaming": sampler.window(start, audio_done),
        "whole": sampler.window(start, end),
        "quiet": quiet,
        "drain_s": round(end - audio_done, 1),
        "cpu_seconds_streaming": spent_streaming,
        "cpu_seconds_by_process": cpu_share(spent_before, dict(sampler.cpu_seconds)),
    }
    return runs, window


# ---------------------------------------------------------------- analysis


def term_latencies(run: StreamRun) -> tuple[list[float], int]:
    """Term arrival − end of the first final line that contains the term; and the unmatched."""
    finals = sorted(run.finals(), key=lambda line: line.arrival)
    latencies: list[float] = []
    unmatched = 0
    for arrival, event in run.terms():
        entity = " ".join(words(event["entity"]))
        line = next((f for f in finals if entity and entity in " ".join(words(f.text))), None)
        if line is None:
            unmatched += 1
        else:
            latencies.append(arrival - line.end)
    return latencies, unmatched


def analyse_stream(
    run: StreamRun, script: list[str], regions: list[tuple[float, float]]
) -> dict[str, Any]:
    finals = sorted(run.finals(), key=lambda line: line.start)
    sentences = sentence_latencies(finals, regions)
    hypothesis = " ".join(line.text for line in finals)
    terms, unmatched = term_latencies(run)
    return {
        "meeting_id": run.meeting_id,
        "finals": len(finals),
        "partials": run.partials(),
        "final_latency": [round(line.latency, 3) for line in finals],
        "sentence_latency": sentences,
        "term_latency": [round(t, 3) for t in terms],
        "terms": [e["entity"] for _, e in run.terms()],
        "term_arrivals": [round(at, 2) for at, _ in run.terms()],
        "term_sources": [e.get("source") for _, e in run.terms()],
        "terms_unmatched": unmatched,
        "last_frame_to_last_final": last_frame_to_final(
            run.last_frame_at - run.t0, sentences, regions
        ),
        "send_lag_p95": round(percentile(run.send_lags, 95) or 0.0, 3),
        "send_lag_max": round(max(run.send_lags, default=0.0), 3),
        "errors": run.errors,
        **transcript_quality(script, hypothesis),
        "transcript": [line.text for line in finals],
    }


def explained_per_min(streams: list[dict[str, Any]]) -> float | None:
    """Terms explained per minute over the span in which they arrived: the explainer's
    throughput while a backlog of terms waits for it."""
    arrivals = sorted(at for s in streams for at in s["term_arrivals"])
    if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
        return None
    return round(60 * (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]), 1)


def analyse_k(
    k: int, streams: list[dict[str, Any]], window: dict[str, Any], n_sentences: int
) -> dict[str, Any]:
    finals = pooled(s["final_latency"] for s in streams)
    sentences = pooled(s["sentence_latency"] for s in streams)
    missing = sum(v is None for s in streams for v in s["sentence_latency"])
    terms = pooled(s["term_latency"] for s in streams)
    lag_p95 = max(s["send_lag_p95"] for s in streams)
    heard_all = all(s["sentences_heard"] == n_sentences for s in streams) and missing == 0
    final_p95 = percentile(finals, 95)
    realtime = (
        lag_p95 < REALTIME_SEND_LAG_P95_S
        and heard_all
        and final_p95 is not None
        and final_p95 <= REALTIME_FINAL_P95_S
    )
    last = [s["last_frame_to_last_final"] for s in streams]
    last_missing = sum(v is None for v in last)
    return {
        "k": k,
        "final_latency": summary(finals),
        "sentence_latency": summary(sentences),
        "sentences_missing": missing,
        "term_latency": summary(terms),
        "terms_per_stream": [len(s["terms"]) for s in streams],
        "explained_per_min": explained_per_min(streams),
        "last_frame_to_last_final": summary(pooled([last])),
        "last_sentence_missing": last_missing,
        "send_lag_p95_worst": lag_p95,
        "send_lag_max": max(s["send_lag_max"] for s in streams),
        "wer_mean": round(sum(s["wer"] for s in streams) / len(streams), 4),
        "wer_worst": max(s["wer"] for s in streams),
        "jargon_right_min": min(len(s["jargon_right"]) for s in streams),
        "jargon_right_mean": round(sum(len(s["jargon_right"]) for s in streams) / k, 2),
        "sentences_heard_min": min(s["sentences_heard"] for s in streams),
        "finals_per_stream": [s["finals"] for s in streams],
        "real_time": realtime,
        "resources": window,
        "streams": streams,
    }


# ---------------------------------------------------------------- the stack and its processes


# ---------------------------------------------------------------- output


TABLE: list[Column[dict[str, Any]]] = [
    Column("K", 2, lambda r: str(r["k"])),
    Column("final p50", 9, lambda r: cell(r["final_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["final_latency"]["p95"])),
    Column("sent p50", 8, lambda r: cell(r["sentence_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["sentence_latency"]["p95"])),
    Column("last→fin", 8, lambda r: cell(r["last_frame_to_last_final"]["max"])),
    Column("term p50", 8, lambda r: cell(r["term_latency"]["p50"], 1)),
    Column("p95", 6, lambda r: cell(r["term_latency"]["p95"], 1)),
    Column("terms", 5, lambda r: str(sum(r["terms_per_stream"]))),
    Column("lag p95", 7, lambda r: cell(r["send_lag_p95_worst"])),
    Column("WER", 6, lambda r: f"{r['wer_mean']:.3f}"),
    Column("jargon", 6, lambda r: f"{r['jargon_right_min']:>3}/15"),
    Column(
        "heard",
        5,
        lambda r: f"{r['sentences_heard_min']:>3}/{len(r['streams'][0]['sentence_latency'])}",
    ),
    Column("CPU%", 5, lambda r: cell(r["resources"]["streaming"]["cpu_mean_pct"], 0)),
    Column("RSS MiB", 7, lambda r: cell(r["resources"]["streaming"]["rss_peak_mib"], 0)),
    Column("other%", 6, lambda r: cell(r["resources"]["streaming"].get("outside_cpu_mean_pct"), 0)),
    Column("RT", 3, lambda r: "yes" if r["real_time"] else "no"),
]


def table(rows: list[dict[str, Any]]) -> str:
    return format_table(TABLE, rows)


def run_peer(args: argparse.Namespace) -> dict[str, Any] | None:
    if not PEER_PYTHON.exists():
        print(f"--with-peer: {PEER_PYTHON} is missing; run bench/setup_peer.sh", flush=True)
        return None
    out = Path(tempfile.mkstemp(prefix="peer-", suffix=".json")[1])
    command = [
        str(PEER_PYTHON),
        "-m",
        PEER_MODULE,
        "--streams",
        ",".join(str(k) for k in args.peer_streams or args.streams),
        "--stagger",
        str(args.stagger),
        "--quiet-machine",
        str(args.quiet_machine),
        "--json-out",
        str(out),
    ]
    print("\n$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO_ROOT)
    return json.loads(out.read_text())


Pair = tuple[dict[str, Any], dict[str, Any]]  # Glossify's row and the peer's, for one K


def _versus(key: str, stat: str, title: str, width: int) -> tuple[Column[Pair], Column[Pair]]:
    """`G/P` of one latency statistic, and the ratio P/G."""

    def both(pair: Pair) -> str:
        return f"{cell(pair[0][key][stat])}/{cell(pair[1][key][stat])}"

    def ratio(pair: Pair) -> str:
        g, p = pair[0][key][stat], pair[1][key][stat]
        return cell(p / g if g and p is not None else None, 1)

    return Column(title, width, both), Column("x", 5, ratio)


COMPARISON: list[Column[Pair]] = [
    Column("K", 2, lambda pair: str(pair[0]["k"])),
    *_versus("final_latency", "p50", "final p50 G/P", 14),
    *_versus("final_latency", "p95", "p95 G/P", 13),
    *_versus("sentence_latency", "p50", "sentence p50 G/P", 17),
    Column("WER G/P", 13, lambda pair: f"{pair[0]['wer_mean']:.3f}/{pair[1]['wer_mean']:.3f}"),
    Column(
        "CPU% G/P",
        11,
        lambda pair: "/".join(
            cell(row["resources"]["streaming"]["cpu_mean_pct"], 0) for row in pair
        ),
    ),
]


def comparison(ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> str:
    """Glossify (G) and the peer (P) side by side for each K both ran."""
    by_k = {row["k"]: row for row in peer}
    return format_table(COMPARISON, [(row, by_k[row["k"]]) for row in ours if row["k"] in by_k])


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.audio_streams", description=(__doc__ or "").splitlines()[0]
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
        async with aiohttp.ClientSession() as session:
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
