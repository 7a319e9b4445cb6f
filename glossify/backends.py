"""Which backend serves the TermDetector and TermExplainer deployments, chosen by config.

Backends are imported only when chosen: an Azure deployment never loads llama.cpp, and the
local stack never imports the Azure SDKs.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from glossify import metrics
from glossify.config.backends import DetectorConfig, ExplainerConfig
from glossify.explain.answer import Explanation
from glossify.terms.candidates import Candidate


class DetectorBackend(Protocol):
    async def detect(self, text: str, language: str | None) -> list[Candidate]: ...

    def health(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class ExplainerBackend(Protocol):
    async def explain(self, term: str, context: str, language: str | None) -> Explanation: ...

    def health(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


class LocalDetector:
    def __init__(self, config: DetectorConfig) -> None:
        from glossify.terms.local.detector import LocalTermDetector

        self._detector = LocalTermDetector(
            model_name=config.spacy_model, rare_zipf=config.rare_zipf
        )

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        # spaCy is CPU-bound; a thread keeps the replica answering health checks meanwhile.
        return await asyncio.to_thread(self._detector.detect, text, language)

    def health(self) -> dict[str, Any]:
        return {"backend": "local", "state": "ok"}

    async def close(self) -> None:
        return None


class LocalExplainerBackend:
    def __init__(self, config: ExplainerConfig) -> None:
        from glossify.explain.local import LocalExplainer
        from glossify.weights.packaged import default_llm_path

        self._deadline_s = config.deadline_s
        self._explainer = LocalExplainer(
            config.model_path or default_llm_path(),
            n_threads=config.n_threads,
            ctx_per_slot=config.ctx_per_slot,
            n_parallel=config.n_parallel,
            max_tokens=config.max_tokens,
            max_chars=config.max_chars,
            queue_timeout_s=config.queue_timeout_s,
        )

    async def start(self) -> None:
        await self._explainer.warm_up()

    async def explain(self, term: str, context: str, language: str | None) -> Explanation:
        return await self._explainer.explain(term, context, language, self._deadline_s)

    def health(self) -> dict[str, Any]:
        return {"backend": "local", "state": "ok"}

    async def close(self) -> None:
        return None


def make_detector(config: DetectorConfig) -> DetectorBackend:
    if config.backend == "azure":
        from glossify.terms.azure import AzureTermDetector

        return AzureTermDetector(config.azure)
    return LocalDetector(config)


async def start_explainer(config: ExplainerConfig) -> ExplainerBackend:
    """The configured explainer, checked: a Foundry agent that does not exist raises here."""
    if config.backend == "foundry":
        from glossify.explain.foundry import FoundryExplainer

        foundry = FoundryExplainer(
            config.foundry, deadline_s=config.deadline_s, max_chars=config.max_chars
        )
        await foundry.start()
        return foundry
    if config.backend == "openai":
        from glossify.explain.openai_compat import OpenAIExplainer

        compatible = OpenAIExplainer(
            config.openai,
            deadline_s=config.deadline_s,
            max_tokens=config.max_tokens,
            max_chars=config.max_chars,
        )
        await compatible.start()
        return compatible
    local = LocalExplainerBackend(config)
    await local.start()
    return local


class MeasuredDetector:
    """Any detector backend, with its latency and errors recorded under its backend name."""

    def __init__(self, backend: DetectorBackend, name: str) -> None:
        self._backend = backend
        self._name = name

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        with metrics.timed(metrics.NER_LATENCY, metrics.NER_ERRORS, backend=self._name):
            return await self._backend.detect(text, language)

    def health(self) -> dict[str, Any]:
        return self._backend.health()

    async def close(self) -> None:
        await self._backend.close()


class MeasuredExplainer:
    """Any explainer backend, with its latency and errors recorded under its backend name."""

    def __init__(self, backend: ExplainerBackend, name: str) -> None:
        self._backend = backend
        self._name = name

    async def explain(self, term: str, context: str, language: str | None) -> Explanation:
        with metrics.timed(metrics.AGENT_LATENCY, metrics.AGENT_ERRORS, backend=self._name):
            return await self._backend.explain(term, context, language)

    def health(self) -> dict[str, Any]:
        return self._backend.health()

    async def close(self) -> None:
        await self._backend.close()
