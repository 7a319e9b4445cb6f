"""A final utterance survives a failing Transcriber: asked again while its audio is kept, and
when it cannot be transcribed at all the sender is told which seconds were lost. Real VAD and
segmentation on real speech; the Transcriber is a stand-in that fails on purpose."""

from __future__ import annotations

from typing import Any

import numpy as np
from faster_whisper import decode_audio

from glossify.audio.pcm import AudioFormat, pcm16
from glossify.audio.stream import AudioStream
from glossify.audio.vad import load_vad_model
from glossify.config.settings import AudioConfig
from glossify.transcription.types import SpeechRequest, SpeechResult
from tests.paths import SHARED_AUDIO

CONFIG = AudioConfig(partials=False, max_speed=100.0, final_retry_s=20.0)


class FlakyTranscriber:
    """Fails its first ``failures`` requests (a replica lost mid-batch), then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def final(self, request: SpeechRequest) -> SpeechResult:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("the replica died")
        return SpeechResult(f"line {self.calls}", "en", -0.1, 0.0, 1.0, None)

    async def partial(self, request: SpeechRequest, sent_at: float) -> SpeechResult:
        raise AssertionError("partials are off")


async def stream_jfk(
    transcriber: FlakyTranscriber,
) -> tuple[AudioStream, list[Any], list[Any], list[float]]:
    lines: list[dict[str, Any]] = []
    errors: list[tuple[str, str]] = []
    acks: list[float] = []

    async def submit_line(line: dict[str, Any]) -> dict[str, Any]:
        lines.append(line)
        return {"status": "ok", "seq": len(lines)}

    async def hotwords() -> dict[str, Any]:
        return {"hotwords": [], "language": "en"}

    async def reply(event: dict[str, Any]) -> None:
        if event["type"] == "audio_ack":
            acks.append(event["until"])
        else:
            errors.append((event["code"], event["message"]))

    stream = AudioStream(
        AudioFormat(),
        "en",
        CONFIG,
        transcriber,
        submit_line,
        hotwords,
        reply,
        vad=load_vad_model(),
    )
    audio = pcm16(decode_audio(str(SHARED_AUDIO / "jfk.flac"), sampling_rate=16000))
    for offset in range(0, len(audio), 3200):
        await stream.feed(audio[offset : offset + 3200])
    await stream.end()
    return stream, lines, errors, acks


async def test_a_final_is_asked_again_after_the_transcriber_fails() -> None:
    transcriber = FlakyTranscriber(failures=2)
    stream, lines, errors, acks = await stream_jfk(transcriber)
    assert errors == []
    assert lines and all(line["is_final"] for line in lines)
    assert stream.finals_entered == len(lines) == transcriber.calls - 2
    # Each settled utterance is acknowledged to the sender, up to its end, in order.
    assert acks == sorted(acks) and acks == [line["end"] for line in lines]


async def test_the_sender_is_told_which_seconds_were_lost() -> None:
    transcriber = FlakyTranscriber(failures=10**6)
    stream, lines, errors, acks = await stream_jfk(transcriber)
    assert lines == [] and stream.finals_entered == 0
    # Lost seconds are settled too: a reconnecting sender does not send them again.
    assert len(acks) == len(errors)
    assert errors and {code for code, _ in errors} == {"not_transcribed"}
    spans = [message.split("seconds ", 1)[1].split(" of", 1)[0] for _, message in errors]
    starts = [float(span.split("-")[0]) for span in spans]
    assert starts == sorted(starts) and 0.0 <= starts[0] < 11.0
    assert transcriber.calls == len(errors) * CONFIG.final_attempts
    assert np.all(np.diff(starts) > 0)
