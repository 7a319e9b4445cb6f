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
# A dropped connection is opened again this many times, waiting 0.5 s, 1 s, 2 s, ... (at most
# RECONNECT_MAX_S) in between.
RECONNECTS = 8
RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 10.0


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


def audio_start_message(language: str | None, *, resumable: bool = False) -> str:
    """The frame that opens a stream of 16 kHz PCM s16le, the format every client sends."""
    start = {"type": "audio_start", "sample_rate": SAMPLE_RATE, "encoding": "pcm_s16le"}
    return json.dumps({**start, "language": language, "resumable": resumable})


def ws_url(base_url: str, meeting_id: str) -> str:
    scheme_fixed = base_url.replace("https://", "wss://").replace("http://", "ws://")
    return f"{scheme_fixed.rstrip('/')}/meeting/{meeting_id}/ws"


@dataclass
class StreamReport:
    events: list[dict[str, Any]] = field(default_factory=list)
    audio_seconds: float = 0.0
    sent_seconds: float = 0.0
    reconnects: int = 0

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
    """Streams ``path`` into the meeting; ``after_audio`` runs once the server has every line,
    while events are still read. ``credential`` (a service key or speaker token) travels as a
    WebSocket subprotocol entry, never in the URL.

    A dropped connection is opened again (``?since=`` the last seq seen, so no event is missed
    or repeated) and the audio resumes from the last point the server acknowledged
    (``audio_ack``): at most the utterance in flight is sent twice, and the meeting keeps its
    line once."""
    pcm = decode_pcm16(path)
    sender = _Sender(base_url, meeting_id, pcm, fast, language, on_event, credential)
    return await sender.run(after_audio)


class _Sender:
    def __init__(
        self,
        base_url: str,
        meeting_id: str,
        pcm: bytes,
        fast: bool,
        language: str | None,
        on_event: Callable[[dict[str, Any]], None] | None,
        credential: str | None,
    ) -> None:
        self._url = ws_url(base_url, meeting_id)
        self._pcm = pcm
        self._fast = fast
        self._language = language
        self._on_event = on_event
        self._credential = credential
        self.report = StreamReport(audio_seconds=len(pcm) / 2 / SAMPLE_RATE)
        self._last_seq: int | None = None
        self._settled = 0  # bytes of audio the server has acknowledged as lines (or lost)
        self._stream_base = 0  # byte offset where the current connection's stream began
        self._flushed = asyncio.Event()
        self._started = 0.0
        # Told that too much of its audio waits (an ``audio_backlog`` warning), a fast sender
        # goes on at real time: from this (time, byte offset) on.
        self._real_time_from: tuple[float, int] | None = None
        self._sent_offset = 0

    async def run(
        self, after_audio: Callable[[StreamReport], Awaitable[None]] | None
    ) -> StreamReport:
        self._started = time.monotonic()
        for attempt in range(RECONNECTS + 1):
            try:
                async with self._connect() as ws:
                    await self._session(ws, after_audio)
                return self.report
            except (websockets.ConnectionClosedError, OSError) as exc:
                if attempt == RECONNECTS:
                    raise
                self.report.reconnects += 1
                delay = min(RECONNECT_MAX_S, RECONNECT_FIRST_S * 2**attempt)
                print(f"(connection lost: {exc}; reconnecting in {delay:.1f} s)", file=sys.stderr)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _connect(self) -> Any:
        since = "" if self._last_seq is None else f"?since={self._last_seq}"
        return websockets.connect(
            self._url + since, max_size=2**22, subprotocols=socket_subprotocols(self._credential)
        )

    async def _session(
        self,
        ws: Any,
        after_audio: Callable[[StreamReport], Awaitable[None]] | None,
    ) -> None:
        ready = json.loads(await ws.recv())
        if ready.get("type") != "ready":
            raise RuntimeError(f"the server did not accept the stream: {ready}")
        if self._last_seq is None:
            self._last_seq = ready["seq"]
        reader = asyncio.create_task(self._read(ws))
        try:
            if not self._flushed.is_set():
                await self._send_audio(ws)
                await asyncio.wait_for(self._wait_flushed(reader), MAX_FLUSH_WAIT_S)
            if after_audio is not None:
                await after_audio(self.report)
        finally:
            reader.cancel()

    async def _send_audio(self, ws: Any) -> None:
        """Sends from the last acknowledged point to the end, paced like a microphone."""
        self._stream_base = self._settled
        await ws.send(audio_start_message(self._language, resumable=True))
        frame_bytes = int(SAMPLE_RATE * FRAME_S) * 2
        for offset in range(self._settled, len(self._pcm), frame_bytes):
            if not self._fast:
                due = self._started + offset / (2 * SAMPLE_RATE)
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            elif self._real_time_from is not None:
                since, from_offset = self._real_time_from
                due = since + (offset - from_offset) / (2 * SAMPLE_RATE)
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            self._sent_offset = offset
            await ws.send(self._pcm[offset : offset + frame_bytes])
        self.report.sent_seconds = time.monotonic() - self._started
        await ws.send(json.dumps({"type": "audio_end"}))

    async def _wait_flushed(self, reader: asyncio.Task[None]) -> None:
        done = asyncio.create_task(self._flushed.wait())
        await asyncio.wait({done, reader}, return_when=asyncio.FIRST_COMPLETED)
        done.cancel()
        if not self._flushed.is_set():
            reader.result()  # the connection dropped: raise its error to reconnect
            raise websockets.ConnectionClosedError(None, None)

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            event = json.loads(raw)
            seq = event.get("seq")
            if seq is not None:
                if self._last_seq is not None and seq <= self._last_seq:
                    continue  # already seen before the connection dropped
                self._last_seq = seq
            kind = event.get("type")
            if kind == "audio_ack":
                until = self._stream_base + int(event["until"] * SAMPLE_RATE) * 2
                self._settled = max(self._settled, until)
                continue
            if kind == "audio_done":
                self._flushed.set()
            if kind == "warning" and event.get("code") == "audio_backlog":
                self._real_time_from = self._real_time_from or (time.monotonic(), self._sent_offset)
            self.report.events.append(event)
            if self._on_event is not None:
                self._on_event(event)
