"""One sending connection's audio: frames → utterances → Transcriber → lines of the meeting.

Finals of a stream are transcribed and entered one after another, in order. Partials are
previews: at most one in flight per stream, none while a final of the stream is waiting, and
one that comes back after its utterance's final is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from glossify import metrics
from glossify.audio.context_prompt import next_context
from glossify.audio.pace import RealTimePace
from glossify.audio.partial_pacing import PartialPacer
from glossify.audio.pcm import AudioFormat, PcmStream
from glossify.audio.utterances import SegmenterConfig, Utterance, UtteranceSegmenter
from glossify.config.settings import AudioConfig
from glossify.protocol import error_event, now_iso
from glossify.remote.retries import Deadline, Retry, with_retries
from glossify.transcription.types import SpeechRequest, SpeechResult

log = logging.getLogger(__name__)

HOTWORDS_TTL_S = 5.0

SubmitLine = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
FetchHotwords = Callable[[], Awaitable[dict[str, Any]]]
# A reply to the sending connection alone (an ``error`` or ``audio_ack``), not a meeting event.
Reply = Callable[[dict[str, Any]], Awaitable[None]]
# The first retry of a final waits about this long; each next one twice as long.
FINAL_RETRY_BACKOFF_S = 0.5

_open_streams = metrics.OpenCount(metrics.AUDIO_STREAMS_OPEN)


class Transcribe(Protocol):
    async def final(self, request: SpeechRequest) -> SpeechResult: ...

    async def partial(self, request: SpeechRequest, sent_at: float) -> SpeechResult: ...


def segmenter_config(audio: AudioConfig) -> SegmenterConfig:
    return SegmenterConfig(
        speech_threshold=audio.speech_threshold,
        min_silence_s=audio.min_silence_s,
        max_utterance_s=audio.max_utterance_s,
        min_speech_s=audio.min_speech_s,
        pre_roll_s=audio.pre_roll_s,
        partial_interval_s=audio.partial_interval_s,
    )


class AudioStream:
    def __init__(
        self,
        fmt: AudioFormat,
        language: str | None,
        config: AudioConfig,
        transcribe: Transcribe,
        submit_line: SubmitLine,
        fetch_hotwords: FetchHotwords,
        reply: Reply,
        vad: Any = None,
    ) -> None:
        self._pcm = PcmStream(fmt, max_frame_seconds=config.max_frame_seconds)
        self._pace = RealTimePace(config.max_speed, config.speed_head_start_s, time.monotonic())
        self._segmenter = UtteranceSegmenter(segmenter_config(config), vad=vad)
        self._config = config
        self._language = language
        self._transcribe = transcribe
        self._submit_line = submit_line
        self._fetch_hotwords = fetch_hotwords
        self._reply = reply
        # Each final with the moment its end was detected, for the transcript latency.
        self._finals: asyncio.Queue[tuple[Utterance, float] | None] = asyncio.Queue(
            config.max_pending_finals
        )
        self._final_worker = asyncio.create_task(self._run_finals())
        _open_streams.add(1)
        self._final_worker.add_done_callback(lambda _: _open_streams.add(-1))
        self._partial_task: asyncio.Task[None] | None = None
        self._pacer = PartialPacer(config.partial_max_share)
        # Start time of the newest utterance whose final has been queued.
        self._finalised_start = float("-inf")
        self._hotwords: tuple[float, tuple[str, ...], str | None] = (float("-inf"), (), None)
        # The end of this stream's finals so far: the next utterance is heard after it.
        self._context = ""
        self.finals_entered = 0
        # Seq of the newest line this stream entered: audio_done waits until it was delivered.
        self.last_seq = 0

    async def feed(self, frame: bytes) -> None:
        """Raises AudioFormatError for a bad frame; the stream itself stays usable."""
        samples = self._pcm.feed(frame)
        fmt = self._pcm.format
        seconds = len(frame) / (fmt.bytes_per_sample * fmt.sample_rate)
        metrics.AUDIO_RECEIVED.inc(seconds)
        await self._dispatch(self._segmenter.push(samples))
        wait_s = self._pace.wait_after(seconds, time.monotonic())
        if wait_s > 0:
            metrics.AUDIO_BACKPRESSURE.inc(wait_s)
            await asyncio.sleep(wait_s)

    async def end(self) -> None:
        """The client's ``audio_end``: flush the current utterance as final and wait for it."""
        await self._dispatch(self._segmenter.push(self._pcm.flush()))
        await self._dispatch(self._segmenter.flush())
        await self._finals.put(None)
        await self._final_worker

    def close(self) -> None:
        self._final_worker.cancel()
        if self._partial_task is not None:
            self._partial_task.cancel()

    async def _dispatch(self, utterances: list[Utterance]) -> None:
        for utterance in utterances:
            detected = time.monotonic()
            if utterance.final:
                self._finalised_start = utterance.start
                # A full queue makes the socket wait: back-pressure, never dropped audio.
                if self._finals.full():
                    await self._finals.put((utterance, detected))
                    metrics.AUDIO_BACKPRESSURE.inc(time.monotonic() - detected)
                else:
                    self._finals.put_nowait((utterance, detected))
            elif self._wants_partial():
                self._partial_task = asyncio.create_task(self._run_partial(utterance, detected))
            elif self._config.partials:
                metrics.PARTIALS_DROPPED.inc(reason="skipped")

    def _wants_partial(self) -> bool:
        if not self._config.partials or not self._finals.empty():
            return False
        idle = self._partial_task is None or self._partial_task.done()
        return idle and self._pacer.ready()

    async def _request(self, utterance: Utterance, final: bool) -> SpeechRequest:
        hotwords, language = await self._current_hotwords()
        return SpeechRequest(
            audio=utterance.audio,
            language=self._language or language,
            hotwords=hotwords,
            context=self._context,
            final=final,
        )

    async def _current_hotwords(self) -> tuple[tuple[str, ...], str | None]:
        fetched_at, words, language = self._hotwords
        if time.monotonic() - fetched_at > HOTWORDS_TTL_S:
            try:
                answer = await self._fetch_hotwords()
                words, language = tuple(answer["hotwords"]), answer.get("language")
            except Exception:
                log.warning("hotwords unavailable; transcribing without them", exc_info=True)
            self._hotwords = (time.monotonic(), words, language)
        return words, language

    async def _run_finals(self) -> None:
        while (item := await self._finals.get()) is not None:
            utterance, detected = item
            try:
                result = await self._transcribe_final(utterance)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("utterance %.1f-%.1f s not transcribed: %r", *_span(utterance), exc)
                start, end = _span(utterance)
                message = f"seconds {start:.1f}-{end:.1f} of this stream could not be transcribed"
                await self._reply(error_event("not_transcribed", message))
            else:
                self._context = next_context(
                    self._context, result, self._config.context_prompt_chars
                )
                if result.text:
                    await self._enter(utterance, result.text, final=True, detected=detected)
                    self.finals_entered += 1
            # Everything up to here is settled: a sender that reconnects resumes from it.
            await self._reply({"type": "audio_ack", "until": round(utterance.end, 3)})

    async def _transcribe_final(self, utterance: Utterance) -> SpeechResult:
        """The utterance's text; a failed or lost request (a Transcriber replica that died, an
        overloaded one) is asked again, bounded, while the audio is still here."""
        request = await self._request(utterance, final=True)
        return await with_retries(
            lambda: self._transcribe.final(request),
            classify=_worth_retrying,
            deadline=Deadline(self._config.final_retry_s),
            max_attempts=self._config.final_attempts,
            backoff_base_s=FINAL_RETRY_BACKOFF_S,
            max_retry_after_s=self._config.final_retry_s,
            what="transcribing a final utterance",
        )

    async def _run_partial(self, utterance: Utterance, detected: float) -> None:
        asked = time.monotonic()
        try:
            request = await self._request(utterance, final=False)
            result = await self._transcribe.partial(request, time.time())
            if result.text and utterance.start > self._finalised_start:
                await self._enter(utterance, result.text, final=False, detected=detected)
            elif result.text:
                metrics.PARTIALS_DROPPED.inc(reason="late")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("a partial could not be transcribed", exc_info=True)
        finally:
            self._pacer.finished(time.monotonic() - asked)

    async def _enter(self, utterance: Utterance, text: str, final: bool, detected: float) -> None:
        line = {
            "text": text,
            "is_final": final,
            "timestamp": now_iso(),
            "speaker": None,
            "start": round(utterance.start, 3),
            "end": round(utterance.end, 3),
        }
        answer = await self._submit_line(line)
        self.last_seq = max(self.last_seq, answer.get("seq") or 0)
        if "refused" not in answer:
            kind = "final" if final else "partial"
            metrics.TRANSCRIPT_LATENCY.observe(time.monotonic() - detected, kind=kind)


def _span(utterance: Utterance) -> tuple[float, float]:
    return utterance.start, utterance.end


def _worth_retrying(exc: Exception) -> Retry | None:
    # Audio the encoder refuses (ValueError) fails the same way every time; anything else (a
    # replica gone, an overloaded queue, a timeout) may well work on the next try.
    return None if isinstance(exc, ValueError) else Retry()
