"""The peer: K concurrent streams through WhisperLive 0.10.0, measured like bench.audio_streams.

    bench/setup_peer.sh                      # once: bench/.peer-venv
    bench/.peer-venv/bin/python -m bench.peer_whisperlive [--streams 1,2,4,6] [--omp 2]

Starts `whisper_live.server.TranscriptionServer().run(...)` in a subprocess with the faster_whisper
backend and the same Whisper base CTranslate2 directory Glossify uses (a custom model path turns
on single-model mode: one model shared by all clients behind a lock; int8 on CPU). Its CPU
threads come from OMP_NUM_THREADS (`--omp`, default 2 = Glossify's `transcriber.cpu_threads`;
WhisperLive's own launcher defaults to 1). `max_clients` is the largest K.

Each client streams the recording as float32 frames of 100 ms paced like a live microphone (frame
i at t0 + (i+1)·0.1 s) with `use_vad: true` and `language: en`. WhisperLive has no end-of-stream
flush (END_OF_AUDIO closes the socket and a trailing partial is lost), so after the recording a
client keeps sending silence, as an open microphone would, until its last segment is completed
or --tail seconds pass, then END_OF_AUDIO.

A segment's latency is its first arrival as `completed` − (t0 + its end); sentence latency, WER
(completed segments plus the last partial), jargon, sentences heard, CPU and RSS (the server's
process tree) are computed as in audio_streams.py. WhisperLive drops audio without telling
anyone (past 45 s of untranscribed audio it discards the oldest 30 s): missing sentences and
WER show it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
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
    descendants,
    machine_info,
    wait_machine_quiet,
)
from bench.common.table import Column, cell, format_table
from glossify.cli.local_stack import free_port

QUIET_HELP = "before each K, wait until other processes use < this %% CPU (0: don't wait)"
REALTIME_FINAL_P95_S = 5.0


@dataclass
class PeerRun:
    """What one client saw; times are time.monotonic() seconds."""

    uid: str
    t0: float = 0.0
    send_lags: list[float] = field(default_factory=list)
    last_frame_at: float = 0.0
    messages: int = 0
    # (start, end, text) of each completed segment → its first arrival
    completed: dict[tuple[str, str, str], float] = field(default_factory=dict)
    partial: dict[str, Any] | None = None
    partial_at: float = 0.0
    last_message_at: float = 0.0
    other: list[dict[str, Any]] = field(default_factory=list)

    def finals(self) -> list[Line]:
        return [
            Line(text.strip(), float(start), float(end), at - self.t0)
            for (start, end, text), at in self.completed.items()
        ]

    def has_pending_partial(self) -> bool:
        return self.partial is not None and bool(self.partial.get("text", "").strip())


# ---------------------------------------------------------------- the server


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


# ---------------------------------------------------------------- clients


async def open_client(port: int, run: PeerRun, model: str) -> websockets.ClientConnection:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}", max_size=2**24, write_limit=8192, open_timeout=60
    )
    options = {
        "uid": run.uid,
        "language": "en",
        "task": "transcribe",
        "model": model,
        "use_vad": True,
        "send_last_n_segments": 10,
        "no_speech_thresh": 0.45,
        "same_output_threshold": 10,
    }
    await ws.send(json.dumps(options))
    while True:  # the first client waits for the model to load
        message = json.loads(await asyncio.wait_for(ws.recv(), 120))
        if message.get("message") == "SERVER_READY":
            return ws
        if message.get("status") in ("WAIT", "ERROR"):
            raise RuntimeError(f"{run.uid}: refused: {message}")


async def read_messages(ws: websockets.ClientConnection, run: PeerRun) -> None:
    try:
        async for raw in ws:
            now = time.monotonic()
            message = json.loads(raw)
            run.messages += 1
            run.last_message_at = now
            segments = message.get("segments")
            if segments is None:
                run.other.append(message)
                continue
            run.partial = None
            for seg in segments:
                if seg.get("completed"):
                    run.completed.setdefault((seg["start"], seg["end"], seg["text"]), now)
                else:
                    run.partial, run.partial_at = seg, now
    except websockets.ConnectionClosed:
        pass


async def send_audio(
    ws: websockets.ClientConnection, run: PeerRun, audio: np.ndarray, tail_s: float
) -> None:
    frame = int(SAMPLE_RATE * FRAME_S)
    for offset in range(0, len(audio), frame):
        chunk = audio[offset : offset + frame]
        due = run.t0 + (offset + len(chunk)) / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await ws.send(chunk.astype(np.float32).tobytes())
        run.send_lags.append(time.monotonic() - due)
    run.last_frame_at = time.monotonic()
    # An open microphone after the meeting: silence until nothing is pending, then the end.
    silence = np.zeros(frame, dtype=np.float32).tobytes()
    deadline = run.last_frame_at + tail_s
    next_due = run.last_frame_at + FRAME_S
    while time.monotonic() < deadline and (
        run.has_pending_partial() or time.monotonic() - run.last_frame_at < 1.0
    ):
        await asyncio.sleep(max(0.0, next_due - time.monotonic()))
        await ws.send(silence)
        next_due += FRAME_S
    with contextlib.suppress(websockets.ConnectionClosed):
        await ws.send(b"END_OF_AUDIO")


async def wait_quiet(runs: list[PeerRun], settle_s: float, max_wait_s: float) -> None:
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        last = max(run.last_message_at for run in runs)
        if time.monotonic() - last >= settle_s:
            return


async def run_k(
    k: int, audio: np.ndarray, args: argparse.Namespace, sampler: ResourceSampler
) -> tuple[list[PeerRun], dict[str, Any]]:
    runs = [PeerRun(f"peer-k{k}-{i}-{uuid.uuid4().hex[:6]}") for i in range(k)]
    sockets = [await open_client(args.port, run, args.model) for run in runs]
    readers = [
        asyncio.create_task(read_messages(ws, run)) for ws, run in zip(sockets, runs, strict=True)
    ]
    spent_before = dict(sampler.cpu_seconds)
    start = time.monotonic() + 1.0
    for i, run in enumerate(runs):
        run.t0 = start + i * args.stagger
    await asyncio.gather(
        *(send_audio(ws, run, audio, args.tail) for ws, run in zip(sockets, runs, strict=True))
    )
    audio_done = time.monotonic()
    await wait_quiet(runs, args.settle, args.max_wait)
    end = time.monotonic()
    for ws in sockets:
        await ws.close()
    for reader in readers:
        reader.cancel()
    await asyncio.sleep(1.0)  # let the server drop the clients before the next K
    window = {
        "streaming": sampler.window(start, max(run.last_frame_at for run in runs)),
        "whole": sampler.window(start, end),
        "drain_s": round(end - audio_done, 1),
        "cpu_seconds_by_process": cpu_share(spent_before, dict(sampler.cpu_seconds)),
    }
    return runs, window


# ---------------------------------------------------------------- analysis


def analyse_stream(
    run: PeerRun, script: list[str], regions: list[tuple[float, float]]
) -> dict[str, Any]:
    finals = sorted(run.finals(), key=lambda line: line.start)
    sentences = sentence_latencies(finals, regions)
    texts = [line.text for line in finals]
    last_end = finals[-1].end if finals else 0.0
    if run.has_pending_partial() and float(run.partial["start"]) >= last_end - 0.05:
        texts.append(run.partial["text"].strip())  # the final partial, never completed
    return {
        "uid": run.uid,
        "finals": len(finals),
        "messages": run.messages,
        "final_latency": [round(line.latency, 3) for line in finals],
        "sentence_latency": sentences,
        "last_frame_to_last_final": last_frame_to_final(
            run.last_frame_at - run.t0, sentences, regions
        ),
        "pending_partial_at_end": run.partial["text"] if run.has_pending_partial() else None,
        "send_lag_p95": round(percentile(run.send_lags, 95) or 0.0, 3),
        "send_lag_max": round(max(run.send_lags, default=0.0), 3),
        **transcript_quality(script, " ".join(texts)),
        "transcript": texts,
    }


def analyse_k(
    k: int, streams: list[dict[str, Any]], window: dict[str, Any], n_sentences: int
) -> dict[str, Any]:
    finals = pooled(s["final_latency"] for s in streams)
    sentences = pooled(s["sentence_latency"] for s in streams)
    missing = sum(v is None for s in streams for v in s["sentence_latency"])
    heard_all = all(s["sentences_heard"] == n_sentences for s in streams) and missing == 0
    final_p95 = percentile(finals, 95)
    last = [s["last_frame_to_last_final"] for s in streams]
    last_missing = sum(v is None for v in last)
    return {
        "k": k,
        "final_latency": summary(finals),
        "sentence_latency": summary(sentences),
        "sentences_missing": missing,
        "last_frame_to_last_final": summary(pooled([last])),
        "last_sentence_missing": last_missing,
        "send_lag_p95_worst": max(s["send_lag_p95"] for s in streams),
        "wer_mean": round(sum(s["wer"] for s in streams) / len(streams), 4),
        "wer_worst": max(s["wer"] for s in streams),
        "jargon_right_min": min(len(s["jargon_right"]) for s in streams),
        "jargon_right_mean": round(sum(len(s["jargon_right"]) for s in streams) / k, 2),
        "sentences_heard_min": min(s["sentences_heard"] for s in streams),
        "finals_per_stream": [s["finals"] for s in streams],
        "real_time": heard_all and final_p95 is not None and final_p95 <= REALTIME_FINAL_P95_S,
        "resources": window,
        "streams": streams,
    }


TABLE: list[Column[dict[str, Any]]] = [
    Column("K", 2, lambda r: str(r["k"])),
    Column("final p50", 9, lambda r: cell(r["final_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["final_latency"]["p95"])),
    Column("sent p50", 8, lambda r: cell(r["sentence_latency"]["p50"])),
    Column("p95", 6, lambda r: cell(r["sentence_latency"]["p95"])),
    Column("missing", 7, lambda r: str(r["sentences_missing"])),
    Column("last→fin", 8, lambda r: cell(r["last_frame_to_last_final"]["max"])),
    Column("lag p95", 7, lambda r: cell(r["send_lag_p95_worst"])),
    Column("WER", 6, lambda r: f"{r['wer_mean']:.3f}"),
    Column("jargon", 6, lambda r: f"{r['jargon_right_min']:>3}/15"),
    Column("heard", 5, lambda r: f"{r['sentences_heard_min']:>3}/10"),
    Column("CPU%", 5, lambda r: cell(r["resources"]["streaming"]["cpu_mean_pct"], 0)),
    Column("RSS MiB", 7, lambda r: cell(r["resources"]["streaming"]["rss_peak_mib"], 0)),
    Column("other%", 6, lambda r: cell(r["resources"]["streaming"].get("outside_cpu_mean_pct"), 0)),
    Column("RT", 3, lambda r: "yes" if r["real_time"] else "no"),
]


def table(rows: list[dict[str, Any]]) -> str:
    return format_table(TABLE, rows)


# ---------------------------------------------------------------- main


def default_model() -> str:
    from glossify.weights.whisper import default_whisper_dir

    return str(default_whisper_dir())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peer_whisperlive", description=(__doc__ or "").splitlines()[0]
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
