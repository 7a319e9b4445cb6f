"""The offline spaCy detector as a TermDetector backend."""

from __future__ import annotations

import asyncio
from typing import Any, Self

from glossify.config.backends import DetectorConfig
from glossify.terms.candidates import Candidate
from glossify.terms.local.detector import LocalTermDetector


class LocalDetector:
    def __init__(self, detector: LocalTermDetector) -> None:
        self._detector = detector

    @classmethod
    def from_config(cls, config: DetectorConfig) -> Self:
        return cls(LocalTermDetector(model_name=config.spacy_model, rare_zipf=config.rare_zipf))

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        # spaCy is CPU-bound; a thread keeps the replica answering health checks meanwhile.
        return await asyncio.to_thread(self._detector.detect, text, language)

    def health(self) -> dict[str, Any]:
        return {"backend": "local", "state": "ok"}

    async def close(self) -> None:
        return None
