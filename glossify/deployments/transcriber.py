"""Transcriber deployment: faster-whisper, concurrent streams batched into one decode."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from ray import serve

from glossify import metrics
from glossify.config.settings import TranscriberConfig
from glossify.transcription.engine import SpeechEngine
from glossify.transcription.finals_first import FinalsFirst
from glossify.transcription.types import SAMPLE_RATE, SpeechRequest, SpeechResult


def _stale(request: SpeechRequest) -> SpeechResult:
    return SpeechResult(
        text="",
        language=request.language or "",
        avg_logprob=0.0,
        no_speech_prob=0.0,
        compression_ratio=0.0,
        rejected="stale",
    )


def _record_batch(kind: str, requests: list[SpeechRequest], decode_s: float) -> None:
    audio_s = sum(request.audio.size for request in requests) / SAMPLE_RATE
    metrics.AUDIO_TRANSCRIBED.inc(audio_s, kind=kind)
    metrics.TRANSCRIBE_DURATION.observe(decode_s, kind=kind)
    metrics.TRANSCRIBE_BATCH_SIZE.observe(len(requests), kind=kind)
    rtf = metrics.real_time_factor(decode_s, audio_s)
    if rtf is not None:
        metrics.REAL_TIME_FACTOR.observe(rtf, kind=kind)


@serve.deployment(
    ray_actor_options={"num_cpus": 1},
    max_ongoing_requests=64,
    num_replicas=1,
)
class Transcriber:
    def __init__(self, config: dict[str, Any]) -> None:
        from glossify.weights.whisper import resolve_whisper_dir

        self._config = TranscriberConfig.model_validate(config)
        self._engine = SpeechEngine(
            resolve_whisper_dir(self._config.model),
            device=self._config.device,
            compute_type=self._config.compute_type,
            cpu_threads=self._config.cpu_threads,
            beam_size=self._config.beam_size,
            encoder_margin_s=self._config.encoder_margin_s,
        )
        self._turns = FinalsFirst()
        # @serve.batch methods carry these setters; mypy sees the plain function.
        batched: Any
        for batched in (self.transcribe_final, self.transcribe_partial):
            batched.set_max_batch_size(self._config.max_batch_size)
            batched.set_batch_wait_timeout_s(self._config.batch_wait_timeout_s)

    async def _decode(self, requests: list[SpeechRequest], kind: str) -> list[SpeechResult]:
        if not requests:
            return []
        started = time.perf_counter()
        results = await asyncio.to_thread(self._engine.transcribe_batch, requests)
        _record_batch(kind, requests, time.perf_counter() - started)
        return results

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.02)
    async def transcribe_final(self, requests: list[SpeechRequest]) -> list[SpeechResult]:
        async with self._turns.final():
            return await self._decode(requests, "final")

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.02)
    async def transcribe_partial(
        self, requests: list[tuple[SpeechRequest, float]]
    ) -> list[SpeechResult]:
        """``(request, sent_at)`` pairs, ``sent_at`` from ``time.time()`` on the sender."""
        async with self._turns.partial():
            now = time.time()
            fresh = [
                i
                for i, (_, sent_at) in enumerate(requests)
                if now - sent_at <= self._config.max_partial_wait_s
            ]
            results = [_stale(request) for request, _ in requests]
            metrics.PARTIALS_DROPPED.inc(len(requests) - len(fresh), reason="stale")
            partials = [replace(requests[i][0], final=False) for i in fresh]
            decoded = await self._decode(partials, "partial")
            for index, result in zip(fresh, decoded, strict=True):
                results[index] = result
            return results

    def health(self) -> dict[str, Any]:
        return {
            "backend": "faster-whisper",
            "device": self._config.device,
            "state": "ok",
            "finals_waiting": self._turns.finals_waiting,
        }
