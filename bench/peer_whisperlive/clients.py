"""The K WhisperLive clients: float32 frames paced like a live microphone, then silence
until the last segment is completed, and every segment they get back."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets

from bench.audio_metrics import FRAME_S, SAMPLE_RATE, Line
from bench.common.processes import ResourceSampler, cpu_share


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
