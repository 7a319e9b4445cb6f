"""TermDetector deployment: candidate terms in a final line (the filter runs in the meeting)."""

from __future__ import annotations

import asyncio
from typing import Any

from ray import serve

from glossify.config import DetectorConfig
from glossify.terms import Candidate


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
        from glossify.local_detector import LocalTermDetector

        self._backend = LocalTermDetector(
            model_name=self._config.spacy_model, rare_zipf=self._config.rare_zipf
        )

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        # spaCy is CPU-bound; a thread keeps the replica answering health checks meanwhile.
        return await asyncio.to_thread(self._backend.detect, text, language)

    def health(self) -> dict[str, str]:
        return {"backend": self._config.backend, "state": "ok"}
