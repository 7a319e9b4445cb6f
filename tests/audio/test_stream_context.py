"""A stream's finals Whisper was sure of become the context of its next utterances: real VAD and
segmentation on real speech, transcribed by the real Whisper engine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faster_whisper import decode_audio

from glossify.audio.context_prompt import steers_context
from glossify.audio.pcm import AudioFormat, pcm16
from glossify.audio.stream import AudioStream
from glossify.audio.vad import load_vad_model
from glossify.config.settings import AudioConfig
from glossify.transcription.engine import SpeechEngine
from glossify.transcription.types import SpeechRequest, SpeechResult
from glossify.weights.whisper import default_whisper_dir
from tests.paths import SHARED_AUDIO


class EngineTranscriber:
    """The engine behind the stream's Transcribe interface, keeping every request it got."""

    def __init__(self, engine: SpeechEngine) -> None:
        self.engine = engine
        self.requests: list[SpeechRequest] = []
        self.results: list[SpeechResult] = []

    async def final(self, request: SpeechRequest) -> SpeechResult:
        self.requests.append(request)
        self.results.append((await asyncio.to_thread(self.engine.transcribe_batch, [request]))[0])
        return self.results[-1]

    async def partial(self, request: SpeechRequest, sent_at: float) -> SpeechResult:
        raise AssertionError("partials are off")


@pytest.fixture(scope="module")
def engine() -> SpeechEngine:
    return SpeechEngine(default_whisper_dir(), cpu_threads=2, encoder_margin_s=1.0)


async def stream_jfk(
    engine: SpeechEngine, context_chars: int
) -> tuple[list[str], list[str], list[str]]:
    """The finals' texts, the context each final was asked with, and the finals Whisper was sure
    of before it, joined."""
    transcriber = EngineTranscriber(engine)
    lines: list[str] = []

    async def submit_line(line: dict[str, Any]) -> dict[str, Any]:
        lines.append(line["text"])
        return {"status": "ok", "seq": len(lines)}

    async def hotwords() -> dict[str, Any]:
        return {"hotwords": [], "language": "en"}

    async def reply(event: dict[str, Any]) -> None:
        assert event["type"] == "audio_ack", event

    config = AudioConfig(partials=False, max_speed=100.0, context_prompt_chars=context_chars)
    stream = AudioStream(
        AudioFormat(), "en", config, transcriber, submit_line, hotwords, reply, load_vad_model()
    )
    audio = pcm16(decode_audio(str(SHARED_AUDIO / "jfk.flac"), sampling_rate=16000))
    for offset in range(0, len(audio), 3200):
        await stream.feed(audio[offset : offset + 3200])
    await stream.end()
    sure = [result.text if steers_context(result) else "" for result in transcriber.results]
    heard_before = [" ".join(text for text in sure[:index] if text) for index in range(len(sure))]
    return lines, [request.context for request in transcriber.requests], heard_before


async def test_each_final_is_heard_after_the_streams_earlier_finals(engine: SpeechEngine) -> None:
    lines, contexts, heard_before = await stream_jfk(engine, 200)
    assert len(lines) >= 3, lines
    assert contexts[0] == ""
    for index in range(1, len(contexts)):
        assert contexts[index] == heard_before[index], (contexts, lines)


async def test_a_short_limit_keeps_the_newest_whole_words(engine: SpeechEngine) -> None:
    lines, contexts, heard_before = await stream_jfk(engine, 20)
    assert len(lines) >= 3, lines
    for index, context in enumerate(contexts[1:], start=1):
        assert len(context) <= 20
        assert context and heard_before[index].endswith(context)


async def test_no_context_when_it_is_off(engine: SpeechEngine) -> None:
    _, contexts, _ = await stream_jfk(engine, 0)
    assert contexts and set(contexts) == {""}
