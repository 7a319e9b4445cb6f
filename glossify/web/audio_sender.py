"""A connection's audio: ``audio_start``, binary frames and ``audio_end`` as the socket's reader
hands them over, queued and done in order, into the connection's ``AudioStream``."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocketState

from glossify import metrics
from glossify.access.principal import AccessError, Principal, allows, authorize, speaker_name
from glossify.access.scopes import Action
from glossify.audio.backlog import AudioBacklog
from glossify.audio.fair_share import FairShares
from glossify.audio.pcm import AudioFormat, AudioFormatError, check_format
from glossify.audio.sender_queue import SenderQueue, Work
from glossify.audio.stream import AudioStream, Transcribe
from glossify.config.settings import AudioConfig
from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import AudioStart
from glossify.web.client_socket import ClientSocket
from glossify.web.gate import AccessGate

log = logging.getLogger(__name__)

# After a client leaves mid-utterance, its last words are still transcribed and kept.
FLUSH_ON_DISCONNECT_S = 60.0
DELIVERY_WAIT_S = 30.0


@dataclass
class AudioSupport:
    transcribe: Transcribe
    config: AudioConfig
    vad: Any = None
    shares: FairShares = field(init=False)

    def __post_init__(self) -> None:
        self.shares = FairShares(self.transcribe, self.config.transcriptions_per_meeting)


class AudioSender:
    """The connection's audio stream, created by ``audio_start`` or the first binary frame."""

    def __init__(
        self,
        socket: ClientSocket,
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
        # The format the client last announced, to count what its queued frames hold.
        self._announced = AudioFormat()
        self._queue: SenderQueue | None = None
        if audio is not None:
            backlog = AudioBacklog(audio.config.buffer_warn_s, audio.config.buffer_max_s)
            self._queue = SenderQueue(backlog, self._do, self._reply, self._broken)

    async def receive_audio(self, data: bytes) -> None:
        """A binary frame, as read: queued for the stream (or refused when too much waits)."""
        if self._queue is None:
            metrics.AUDIO_FRAMES_REFUSED.inc(reason="audio_unavailable")
            await self._socket.error("audio_unavailable", "this deployment has no Transcriber")
            return
        fmt = self._announced
        await self._queue.put_audio(data, len(data) / (fmt.bytes_per_sample * fmt.sample_rate))

    async def receive_control(self, frame: dict[str, Any]) -> None:
        """``audio_start`` or ``audio_end``, as read: done in its place among the frames."""
        if self._queue is None:
            await self._socket.error("audio_unavailable", "this deployment has no Transcriber")
            return
        if frame.get("type") == "audio_start":
            try:
                announced = AudioStart.model_validate(frame)
                self._announced = check_format(announced.sample_rate, announced.encoding)
            except (ValidationError, AudioFormatError):
                pass  # said to the client when the frame's turn comes
        self._queue.put_control(frame)

    async def _do(self, work: Work) -> None:
        if isinstance(work, bytes):
            await self.frame(work)
        elif work.get("type") == "audio_start":
            await self.start(work)
        else:
            # Tells this sender its last words are in the meeting: stopping it now loses nothing.
            finals = await self.done()
            await self._reply({"type": "audio_done", "finals": finals})

    async def _broken(self) -> None:
        if self._socket.ws.application_state == WebSocketState.CONNECTED:
            await self._socket.ws.close(code=1011)

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
        if dropped and self._resumable and self._queue is not None:
            self._queue.discard()
            self._queue.close()
            if self._stream is not None:
                self._stream.close()
                self._stream = None
        try:
            await asyncio.wait_for(self._flush(), FLUSH_ON_DISCONNECT_S)
        except Exception:
            log.warning("audio of meeting %s not flushed on disconnect", self._meeting_id)
            if self._stream is not None:
                self._stream.close()
        finally:
            if self._queue is not None:
                self._queue.close()
            if self._sending:
                self._gate.drop_audio_sender(self._meeting_id)
            if self._transcribe is not None and self._audio is not None:
                self._audio.shares.leave(self._meeting_id)

    async def _flush(self) -> None:
        """What the client sent before it left, then its last utterance."""
        if self._queue is not None:
            await self._queue.drained()
        await self.end()

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
