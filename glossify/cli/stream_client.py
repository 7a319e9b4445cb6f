"""Streams an audio file into a meeting as 100 ms PCM frames and reports what comes back."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import websockets
from websockets.typing import Subprotocol

from glossify.access.principal import ACCESS_TOKEN_SUBPROTOCOL_PREFIX, GLOSSIFY_SUBPROTOCOL
from glossify.audio.pcm import pcm16

SAMPLE_RATE = 16_000
FRAME_S = 0.1
# After audio_end the server answers audio_done once the last utterance is a line.
MAX_FLUSH_WAIT_S = 300.0


def decode_pcm16(path: Path) -> bytes:
    """Any file ffmpeg (PyAV) reads, as 16 kHz mono little-endian int16."""
    from faster_whisper import decode_audio

    samples = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
    return pcm16(samples)


def socket_subprotocols(credential: str | None) -> list[Subprotocol] | None:
    """What a client offers to carry its credential in the handshake (browsers cannot set an
    Authorization header on a WebSocket; a URL would put it in logs)."""
    if credential is None:
        return None
    return [
        Subprotocol(GLOSSIFY_SUBPROTOCOL),
        Subprotocol(ACCESS_TOKEN_SUBPROTOCOL_PREFIX + credential),
    ]


def audio_start_message(language: str | None) -> str:
    """The frame that opens a stream of 16 kHz PCM s16le, the format every client sends."""
    start = {"type": "audio_start", "sample_rate": SAMPLE_RATE, "encoding": "pcm_s16le"}
    return json.dumps({**start, "language": language})


def ws_url(base_url: str, meeting_id: str) -> str:
    scheme_fixed = base_url.replace("https://", "wss://").replace("http://", "ws://")
    return f"{scheme_fixed.rstrip('/')}/meeting/{meeting_id}/ws"


@dataclass
class StreamReport:
    events: list[dict[str, Any]] = field(default_factory=list)
    audio_seconds: float = 0.0
    sent_seconds: float = 0.0

    def finals(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "transcript" and e["is_final"]]

    def terms(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "terms"]


class CaptionPrinter:
    """Prints captions as they grow: a partial is rewritten in place on a terminal."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out
        self._live = out.isatty()
        self._partial_shown = False

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "transcript" and not event["is_final"]:
            if self._live:
                self._out.write(f"\r\033[K  … {event['text']}")
                self._partial_shown = True
                self._out.flush()
            return
        if self._partial_shown:
            self._out.write("\r\033[K")
            self._partial_shown = False
        if kind == "transcript":
            self._out.write(f"[{event['start']:7.1f}s] {event['text']}\n")
        elif kind == "terms":
            self._out.write(f"    ▸ {event['entity']} ({event['domain']}): {event['body']}\n")
        elif kind == "upsert_done":
            self._out.write(f"    ✓ glossary upserted: {event['upserted']} rows\n")
        elif kind == "upsert_error":
            self._out.write(f"    ! glossary upsert failed: {event['error']}\n")
        elif kind == "error":
            self._out.write(f"    ! {event['code']}: {event['message']}\n")
        self._out.flush()


async def stream_file(
    base_url: str,
    meeting_id: str,
    path: Path,
    *,
    fast: bool = False,
    language: str | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    after_audio: Callable[[StreamReport], Awaitable[None]] | None = None,
    credential: str | None = None,
) -> StreamReport:
    """``after_audio`` runs once the server has every line, while events are still read.
    ``credential`` (a service key or speaker token) travels as a WebSocket subprotocol entry,
    never in the URL."""
    pcm = decode_pcm16(path)
    report = StreamReport(audio_seconds=len(pcm) / 2 / SAMPLE_RATE)
    flushed = asyncio.Event()

    async with websockets.connect(
        ws_url(base_url, meeting_id), max_size=2**22, subprotocols=socket_subprotocols(credential)
    ) as ws:
        ready = json.loads(await ws.recv())
        if ready.get("type") != "ready":
            raise RuntimeError(f"the server did not accept the stream: {ready}")

        async def read() -> None:
            async for raw in ws:
                event = json.loads(raw)
                report.events.append(event)
                if event.get("type") == "audio_done":
                    flushed.set()
                if on_event is not None:
                    on_event(event)

        reader = asyncio.create_task(read())
        await ws.send(audio_start_message(language))
        started = time.monotonic()
        frame_bytes = int(SAMPLE_RATE * FRAME_S) * 2
        for index, offset in enumerate(range(0, len(pcm), frame_bytes)):
            if not fast:
                await asyncio.sleep(max(0.0, started + index * FRAME_S - time.monotonic()))
            await ws.send(pcm[offset : offset + frame_bytes])
        report.sent_seconds = time.monotonic() - started
        await ws.send(json.dumps({"type": "audio_end"}))
        try:
            await asyncio.wait_for(flushed.wait(), MAX_FLUSH_WAIT_S)
            if after_audio is not None:
                await after_audio(report)
        finally:
            reader.cancel()
    return report
