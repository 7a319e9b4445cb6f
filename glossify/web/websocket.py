"""One WebSocket connection: ``ready``, replay from ``?since=``, then live events; bad frames
get an ``error`` event and the connection stays open until a client is plainly abusive."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from glossify import metrics
from glossify.access.principal import (
    AccessError,
    Principal,
    TokenPrincipal,
    allows,
    authorize,
    bearer_credential,
    speaker_name,
    websocket_credential,
)
from glossify.access.scopes import Action
from glossify.audio.fair_share import FairShares
from glossify.audio.pcm import AudioFormat, AudioFormatError, check_format
from glossify.audio.stream import AudioStream, Transcribe
from glossify.config.settings import AudioConfig
from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import AudioStart, ProtocolError, check_meeting_id, error_event
from glossify.web.gate import AccessGate

log = logging.getLogger(__name__)

POLL_WAIT_S = 15.0
MAX_ERRORS = 20
MAX_TEXT_FRAME_CHARS = 64 * 1024
POLICY_VIOLATION = 1008
# Close codes of a client that meant to leave (normal closure, going away).
NORMAL_CLOSURES = frozenset({1000, 1001})
# After a client leaves mid-utterance, its last words are still transcribed and kept.
FLUSH_ON_DISCONNECT_S = 60.0
DELIVERY_WAIT_S = 30.0

_open_sockets = metrics.OpenCount(metrics.WEBSOCKETS_OPEN)


@dataclass
class AudioSupport:
    transcribe: Transcribe
    config: AudioConfig
    vad: Any = None
    shares: FairShares = field(init=False)

    def __post_init__(self) -> None:
        self.shares = FairShares(self.transcribe, self.config.transcriptions_per_meeting)


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


async def serve_socket(
    ws: WebSocket, hosts: MeetingHosts, gate: AccessGate, audio: AudioSupport | None
) -> None:
    """Checks who connects before accepting: a refused handshake is closed unaccepted (the
    client sees HTTP 403; the close code, 4000 + the status, reaches ASGI servers that pass
    it on: 4401, 4403, 4429)."""
    try:
        meeting_id = check_meeting_id(ws.path_params["mid"])
        since = parse_since(ws.query_params.get("since"))
    except ProtocolError as exc:
        # A malformed URL, not a refusal: the client is told why in an error event.
        await ws.accept()
        await _Socket(ws).error(exc.code, exc.message)
        await ws.close(code=POLICY_VIOLATION)
        return
    try:
        offered = websocket_credential(
            ws.query_params.get("access_token"), ws.headers.get("sec-websocket-protocol")
        )
        # Browsers cannot set headers on a WebSocket; server-side clients may use the usual one.
        credential = offered.credential or bearer_credential(ws.headers.get("authorization"))
        principal = gate.principal(credential)
        authorize(principal, Action.READ, meeting_id)
        address = ws.client.host if ws.client else "unknown"
        release_socket = gate.hold_socket(meeting_id, address)
    except AccessError as exc:
        await ws.close(code=exc.close_code, reason=exc.code)
        return
    try:
        with _open_sockets.held():
            await ws.accept(subprotocol=offered.subprotocol)
            await _serve_socket(_Socket(ws), hosts, gate, audio, principal, meeting_id, since)
    finally:
        release_socket()


async def _serve_socket(
    socket: _Socket,
    hosts: MeetingHosts,
    gate: AccessGate,
    audio: AudioSupport | None,
    principal: Principal,
    meeting_id: str,
    since: int | None,
) -> None:
    ws = socket.ws
    opened = await hosts.open(meeting_id, allows(principal, Action.HOST, meeting_id))
    refused = opened.get("refused")
    if refused is not None:
        await socket.error(refused["code"], refused["message"])
        await ws.close(code=4000 + refused["status"])
        return
    last_seq = opened["last_seq"]
    await socket.send({"type": "ready", "meeting_id": meeting_id, "seq": last_seq})
    if since is not None and since > last_seq:
        await socket.error("since_ahead", f"since={since} is past the last seq {last_seq}")
        since = last_seq
    pump = asyncio.create_task(_pump_events(socket, hosts, meeting_id, since, last_seq))
    expiry = asyncio.create_task(_close_at_expiry(socket, principal))
    sender = _AudioSender(socket, hosts, gate, principal, meeting_id, audio)
    sender.meeting_language = opened["language"]
    dropped = False
    try:
        await _receive_frames(socket, sender)
    except WebSocketDisconnect as exc:
        dropped = exc.code not in NORMAL_CLOSURES
    finally:
        pump.cancel()
        expiry.cancel()
        await sender.finish(dropped)
    if ws.application_state == WebSocketState.CONNECTED:
        await ws.close(code=POLICY_VIOLATION)


async def _close_at_expiry(socket: _Socket, principal: Principal) -> None:
    """A meeting token's expiry ends its connection: the client must come back with a new one."""
    if not isinstance(principal, TokenPrincipal):
        return
    await asyncio.sleep(principal.seconds_left(time.time()))
    await socket.error("token_expired", "the meeting token has expired")
    await socket.ws.close(code=4401, reason="token_expired")


async def _pump_events(
    socket: _Socket, hosts: MeetingHosts, meeting_id: str, since: int | None, last_seq: int
) -> None:
    cursor = last_seq if since is None else since
    try:
        while True:
            result = await hosts.events_after(meeting_id, cursor, POLL_WAIT_S)
            refused = result.get("refused")
            if refused is not None:
                # e.g. old events while the journal is unreachable: reconnect later with ?since=.
                await socket.error(refused["code"], refused["message"])
                await socket.ws.close(code=1011)
                return
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
        self,
        socket: _Socket,
        hosts: MeetingHosts,
        gate: AccessGate,
        principal: Principal,
        meeting_id: str,
        audio: AudioSupport | None,
    ) -> None:
        self._socket = socket
        self._hosts = hosts
        self._gate = gate
        self._principal = principal
        self._meeting_id = meeting_id
        self._audio = audio
        self._stream: AudioStream | None = None
        self._sending = False  # holds one of the meeting's audio-sender slots
        self._transcribe: Transcribe | None = None  # the meeting's share of the Transcriber
        self._resumable = False  # the client resends unacknowledged audio after a drop
        self.meeting_language: str | None = None  # as the meeting host last said

    async def _may_send(self) -> bool:
        """Whether this connection may send audio; says why not on the socket."""
        if self._sending:
            return True
        try:
            authorize(self._principal, Action.SPEAK, self._meeting_id)
            self._gate.take_audio_sender(self._meeting_id)
        except AccessError as exc:
            metrics.AUDIO_FRAMES_REFUSED.inc(reason=exc.code)
            await self._socket.error(exc.code, exc.message)
            return False
        self._sending = True
        return True

    async def start(self, frame: dict[str, Any]) -> None:
        if self._audio is None:
            await self._socket.error("audio_unavailable", "this deployment has no Transcriber")
            return
        if not await self._may_send():
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
        self._resumable = announced.resumable
        if announced.language is not None and self.meeting_language is None:
            # The first stream to say its language sets the meeting's: detection and
            # explanations follow it, not only Whisper.
            await self._hosts.start(self._meeting_id, announced.language)
            self.meeting_language = announced.language
        self._stream = self._open(fmt, announced.language)

    async def frame(self, data: bytes) -> None:
        if self._audio is None:
            metrics.AUDIO_FRAMES_REFUSED.inc(reason="audio_unavailable")
            await self._socket.error("audio_unavailable", "this deployment has no Transcriber")
            return
        if self._stream is None:
            if not await self._may_send():
                return
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

    async def finish(self, dropped: bool) -> None:
        """The connection is gone. Its last words are transcribed and kept, unless it dropped
        and the client resumes: then it sends the unacknowledged audio again itself."""
        if dropped and self._resumable and self._stream is not None:
            self._stream.close()
            self._stream = None
        try:
            await asyncio.wait_for(self.end(), FLUSH_ON_DISCONNECT_S)
        except Exception:
            log.warning("audio of meeting %s not flushed on disconnect", self._meeting_id)
            if self._stream is not None:
                self._stream.close()
        finally:
            if self._sending:
                self._gate.drop_audio_sender(self._meeting_id)
            if self._transcribe is not None and self._audio is not None:
                self._audio.shares.leave(self._meeting_id)

    def _open(self, fmt: AudioFormat, language: str | None) -> AudioStream:
        assert self._audio is not None
        if self._transcribe is None:
            self._transcribe = self._audio.shares.join(self._meeting_id)
        return AudioStream(
            fmt,
            language,
            self._audio.config,
            self._transcribe,
            self._submit_line,
            self._fetch_hotwords,
            self._reply,
            vad=self._audio.vad,
        )

    async def _submit_line(self, line: dict[str, Any]) -> dict[str, Any]:
        line = {**line, "speaker": speaker_name(self._principal, line.get("speaker"))}
        may_create = allows(self._principal, Action.HOST, self._meeting_id)
        result = await self._hosts.submit_line(self._meeting_id, line, may_create)
        refused = result.get("refused")
        if refused is not None and self._socket.ws.application_state == WebSocketState.CONNECTED:
            await self._socket.error(refused["code"], refused["message"])
        return result

    async def _reply(self, event: dict[str, Any]) -> None:
        # Not counted as a bad frame: a server fault or an acknowledgement, not the client's.
        if self._socket.ws.application_state == WebSocketState.CONNECTED:
            await self._socket.send(event)

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
    except (json.JSONDecodeError, RecursionError):
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
