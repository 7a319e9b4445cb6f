"""The offline spaCy detector as a TermDetector backend."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Self

from glossify.config.backends import DetectorConfig
from glossify.terms.candidates import Candidate
from glossify.terms.evaluation import Detector
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.ranker import RankedTermDetector, trained_rules

log = logging.getLogger(__name__)


class LocalDetector:
    def __init__(self, detector: Detector) -> None:
        self._detector = detector

    @classmethod
    def from_config(cls, config: DetectorConfig) -> Self:
        rules = LocalTermDetector(model_name=config.spacy_model, rare_zipf=config.rare_zipf)
        if not config.ranker:
            return cls(rules)
        trained = trained_rules()
        if trained != {"spacy_model": config.spacy_model, "rare_zipf": config.rare_zipf}:
            # The rules' confidences are among the network's features.
            log.warning(
                "the term ranker was trained on rules with %s; these rules differ, so English "
                "detection may be worse than measured (detector.ranker: false uses the rules "
                "alone)",
                trained,
            )
        ranked = RankedTermDetector(rules)
        # Compiling the reference's forms takes seconds of CPU; a line that comes meanwhile
        # compiles what it needs itself (compiling one bucket twice is harmless).
        warm_up = threading.Thread(target=_warm_up, args=(ranked,), name="ranker-warm-up")
        warm_up.daemon = True
        warm_up.start()
        return cls(ranked)

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        # spaCy is CPU-bound; a thread keeps the replica answering health checks meanwhile.
        return await asyncio.to_thread(self._detector.detect, text, language)

    def health(self) -> dict[str, Any]:
        return {"backend": "local", "state": "ok"}

    async def close(self) -> None:
        return None


def _warm_up(ranked: RankedTermDetector) -> None:
    try:
        ranked.warm_up()
    except Exception:
        log.exception("the term ranker's warm-up failed; lines compile what they need")
