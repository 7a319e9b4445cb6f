"""The offline spaCy detector as a TermDetector backend."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

from glossify.config.backends import DetectorConfig
from glossify.terms.candidates import Candidate
from glossify.terms.evaluation import Detector
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.ranker import RankedTermDetector


class LocalDetector:
    def __init__(self, detector: Detector) -> None:
        self._detector = detector

    @classmethod
    def from_config(cls, config: DetectorConfig) -> Self:
        rules = LocalTermDetector(model_name=config.spacy_model, rare_zipf=config.rare_zipf)
        if not config.ranker:
            return cls(rules)
        ranked = RankedTermDetector(rules)
        # Compiling the reference's forms takes seconds of CPU; a line that comes meanwhile
        # compiles what it needs itself (compiling one bucket twice is harmless).
        threading.Thread(target=ranked.warm_up, name="ranker-warm-up", daemon=True).start()
        return cls(ranked)

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        # spaCy is CPU-bound; a thread keeps the replica answering health checks meanwhile.
        return await asyncio.to_thread(self._detector.detect, text, language)

    def health(self) -> dict[str, Any]:
        return {"backend": "local", "state": "ok"}

    async def close(self) -> None:
        return None
