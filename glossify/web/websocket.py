"""One WebSocket connection: ``ready``, replay from ``?since=``, then live events; bad frames
get an ``error`` event and the connection stays open until a client is plainly abusive."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from glossify import metrics
from glossify.audio.pcm import AudioFormat, AudioFormatError, check_format
from glossify.audio.stream import AudioStream, Transcribe
from glossify.config.settings import AudioConfig
from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import AudioStart, ProtocolError, check_meeting_id, error_event

log = logging.getLogger(__name__)

POLL_WAIT_S = 15.0
MAX_ERRORS = 20
MAX_TEXT_FRAME_CHARS = 64 * 1024
POLICY_VIOLATION = 1008
# After a client leaves mid-utterance, its last words are still transcribed and kept.
FLUSH_ON_DISCONNECT_S = 60.0
DELIVERY_WAIT_S = 30.0

_open_sockets = metrics.OpenCount(metrics.WEBSOCKETS_OPEN)


@dataclass
class AudioSupport:
    transcribe: Transcribe
    config: AudioConfig
    vad: Any = None


def parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ProtocolError(400, "invalid_since", "since must be a non-negative integer seq")
    return int(raw)


class _Socket:
    """Serialises sends: the event pump and error replies share one socket."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._lock = asyncio.Lock()
        self.errors = 0
        self.delivered_seq = 0
        self._delivered = asyncio.Event()

    def mark_delivered(self, seq: int) -> None:
        self.delivered_seq = seq
        self._delivered.set()
        self._delivered = asyncio.Event()

    async def wait_delivered(self, seq: int) -> None:
        while self.delivered_seq < seq:
            await self._delivered.wait()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            await self.ws.send_text(json.dumps(message))

    async def error(self, code: str, message: str) -> None:
        self.errors += 1
        await self.send(error_event(code, message))


async def serve_socket(ws: WebSocket, hosts: MeetingHosts, audio: AudioSupport | None) -> None:
    with _open_sockets.held():
        await _serve_socket(ws, hosts, audio)


async def _serve_socket(ws: WebSocket, hosts: MeetingHosts, audio: AudioSupport | None) -> None:
    await ws.accept()
    socket = _Socket(ws)
    try:
        meeting_id = check_meeting_id(ws.path_params["mid"])
        since = parse_since(ws.query_params.get("since"))
    except ProtocolError as exc:
        await socket.error(exc.code, exc.message)
        await ws.close(code=POLICY_VIOLATION)
        return
    opened = await hosts.open(meeting_id)
    last_seq = opened["last_seq"]
    await socket.send({"type": "ready", "meeting_id": meeting_id, "seq": last_seq})
    if since is not None and since > last_seq:
        await socket.error("since_ahead", f"since={since} is past the last seq {last_seq}")
        since = last_seq
    pump = asyncio.create_task(_pump_events(socket, hosts, meeting_id, since, last_seq))
    sender = _AudioSender(socket, hosts, meeting_id, audio)
    try:
        await _receive_frames(socket, sender)
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
        await sender.finish()
    if ws.application_state == WebSocketState.CONNECTED:
        await ws.close(code=POLICY_VIOLATION)


async def _pump_events(
    socket: _Socket, hosts: MeetingHosts, meeting_id: str, since: int | None, last_seq: int
) -> None:
    cursor = last_seq if since is None else since
    try:
        while True:
            result = await hosts.events_after(meeting_id, cursor, POLL_WAIT_S)
            for event in result["events"]:
                await socket.send(event)
                cursor = event["seq"]
                socket.mark_delivered(cursor)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("event stream for meeting %s broke", meeting_id)
        await socket.ws.close(code=1011)


class _AudioSender:
    """The connection's audio stream, created by ``audio_start`` or the first binary frame."""

    def __init__(
        self, socket: _Socket, hosts: MeetingHosts, meeting_id: str, audio: AudioSupport | None
    ) -> None:
        self._socket = socket
        self._hosts = hosts
        self._meeting_id = meeting_id
        self._audio = audio
        self._stream: AudioStream | None = None

    async def start(self, frame: dict[str, Any]) -> None:
        if self._audio is None:
            await self._socket.error("audio_unavailable", "this deployment has no Transcriber")
            return
        try:
            announced = AudioStart.model_validate(frame)
            fmt = check_format(announced.sample_rate, announced.encoding)
        except ValidationError as exc:
            await self._socket.error("invalid_audio_start", _first_problem(exc))
            return
        except AudioFormatError as exc:
            await self._socket.error(exc.code, exc.message)
            return
        await self.end()
        self._stream = self._open(fmt, announced.language)

    async def frame(self, data: bytes) -> None:
        if self._audio is None:
            metrics.AUDIO_FRAMES_REFUSED.inc(reason="audio_unavailable")
            await self._socket.error("audio_unavailable", "this deployment has no Transcriber")
            return
        if self._stream is None:
            self._stream = self._open(AudioFormat(), None)
        try:
            await self._stream.feed(data)
        except AudioFormatError as exc:
            metrics.AUDIO_FRAMES_REFUSED.inc(reason=exc.code)
            await self._socket.error(exc.code, exc.message)

    async def end(self) -> int:
        """Flushes the stream; returns how many final lines it entered into the meeting."""
        stream, self._stream = self._stream, None
        if stream is None:
            return 0
        await stream.end()
        return stream.finals_entered

    async def done(self) -> int:
        """``audio_end``: flush, then let the stream's last line reach this socket first."""
        stream = self._stream
        finals = await self.end()
        if stream is not None:
            try:
                await asyncio.wait_for(
                    self._socket.wait_delivered(stream.last_seq), DELIVERY_WAIT_S
                )
            except TimeoutError:
                log.warning("meeting %s: audio_done sent before its lines", self._meeting_id)
        return finals

    async def finish(self) -> None:
        try:
            await asyncio.wait_for(self.end(), FLUSH_ON_DISCONNECT_S)
        except Exception:
            log.warning("audio of meeting %s not flushed on disconnect", self._meeting_id)
            if self._stream is not None:
                self._stream.close()

    def _open(self, fmt: AudioFormat, language: str | None) -> AudioStream:
        assert self._audio is not None
        return AudioStream(
            fmt,
            language,
            self._audio.config,
            self._audio.transcribe,
            self._submit_line,
            self._fetch_hotwords,
            vad=self._audio.vad,
        )

    async def _submit_line(self, line: dict[str, Any]) -> dict[str, Any]:
        result = await self._hosts.submit_line(self._meeting_id, line)
        refused = result.get("refused")
        if refused is not None and self._socket.ws.application_state == WebSocketState.CONNECTED:
            await self._socket.error(refused["code"], refused["message"])
        return result

    async def _fetch_hotwords(self) -> dict[str, Any]:
        assert self._audio is not None
        return await self._hosts.hotwords(self._meeting_id, self._audio.config.hotwords)


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(part) for part in err['loc']) or 'frame'}: {err['msg']}"


async def _receive_frames(socket: _Socket, sender: _AudioSender) -> None:
    """Reads client frames until the client leaves or is closed for abuse."""
    while socket.errors < MAX_ERRORS:
        message = await socket.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("bytes") is not None:
            await sender.frame(message["bytes"])
            continue
        await _handle_text(socket, sender, message.get("text") or "")
    await socket.error("too_many_errors", "closing: too many bad frames")


async def _handle_text(socket: _Socket, sender: _AudioSender, text: str) -> None:
    if len(text) > MAX_TEXT_FRAME_CHARS:
        await socket.error("frame_too_large", f"text frames are limited to {MAX_TEXT_FRAME_CHARS}")
        return
    try:
        frame = json.loads(text)
    except json.JSONDecodeError:
        await socket.error("malformed_json", "text frames must be JSON objects")
        return
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind == "ping":
        await socket.send({"type": "pong"})
    elif kind == "audio_start":
        await sender.start(frame)
    elif kind == "audio_end":
        # Tells this sender its last words are in the meeting: stopping it now loses nothing.
        finals = await sender.done()
        await socket.send({"type": "audio_done", "finals": finals})
    else:
        await socket.error("unknown_type", f"unknown frame type {kind!r}")
