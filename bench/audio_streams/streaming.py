"""The K sending sockets: each streams the recording paced like a live microphone and
records every event it gets back."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

from bench.audio_metrics import FRAME_S, SAMPLE_RATE, Line
from bench.common.processes import ResourceSampler, cpu_share
from glossify.cli.local_stack import cli_credential
from glossify.cli.stream_client import audio_start_message, socket_subprotocols, ws_url


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


async def open_socket(base_url: str, run: StreamRun) -> websockets.ClientConnection:
    # A small write buffer: a server that reads slowly shows up as send lag here.
    ws = await websockets.connect(
        ws_url(base_url, run.meeting_id),
        max_size=2**22,
        write_limit=8192,
        open_timeout=60,
        subprotocols=socket_subprotocols(cli_credential()),
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
    await ws.send(audio_start_message(language))
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
