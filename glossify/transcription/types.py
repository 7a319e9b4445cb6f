"""What a Transcriber is asked and answers: light types the ingress imports without loading
faster-whisper or CTranslate2 (they stay in the Transcriber's process)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000
MAX_SECONDS = 30.0
MAX_SAMPLES = int(MAX_SECONDS * SAMPLE_RATE)


@dataclass(frozen=True)
class SpeechRequest:
    audio: np.ndarray  # float32 mono 16 kHz, at most 30 s
    language: str | None = None  # None: detect it
    hotwords: tuple[str, ...] = ()  # the meeting's known jargon, to bias spelling
    # The stream's latest final words: Whisper's previous-text prompt, after the hotwords, so
    # a short utterance after a pause is heard as the sentence's continuation.
    context: str = ""
    final: bool = True  # partials and finals decode alike; the caller schedules them


@dataclass(frozen=True)
class SpeechResult:
    text: str  # "" when gated out
    language: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    rejected: str | None  # why text was dropped, else None
