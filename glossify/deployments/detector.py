"""TermDetector deployment: candidate terms in a final line (the filter runs in the meeting)."""

from __future__ import annotations

from typing import Any

from ray import serve

from glossify import metrics
from glossify.config.backends import DetectorConfig
from glossify.terms.candidates import Candidate
from glossify.terms.detector import make_detector


@serve.deployment(
    ray_actor_options={"num_cpus": 0.25},
    max_ongoing_requests=16,
    autoscaling_config={
        "min_replicas": 1,
        "max_replicas": 2,
        "target_ongoing_requests": 4,
        "upscale_delay_s": 5,
        "downscale_delay_s": 30,
    },
)
class TermDetector:
    def __init__(self, config: dict[str, Any]) -> None:
        self._config = DetectorConfig.model_validate(config)
        self._backend = make_detector(self._config)

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        with metrics.timed(metrics.NER_LATENCY, metrics.NER_ERRORS, backend=self._config.backend):
            return await self._backend.detect(text, language)

    def health(self) -> dict[str, Any]:
        return self._backend.health()
