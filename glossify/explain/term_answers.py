"""What a TermExplainer replica answers for one term, without Ray: the packaged reference glossary
first, then the shared cache, then the explainer backend, its answer screened for invented
expansions. An answer the checks cannot use is an abstention.

The deployment (`glossify.deployments.explainer`) serves this; `bench.explanations` measures it,
so the benchmark scores what a meeting is shown.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from glossify import metrics
from glossify.config.backends import ExplainerConfig
from glossify.explain.answer import ABSTAINED, Explanation, ExplanationError, repeats_meeting_words
from glossify.explain.cache import ExplanationCache
from glossify.explain.expansions import screened
from glossify.explain.explainer import ExplainerBackend
from glossify.explain.reference import ReferenceGlossary
from glossify.terms.candidates import normalize_term

log = logging.getLogger(__name__)

# Where a card came from, besides the backend's own name.
REFERENCE = "reference"
NO_BACKEND = "none"  # a term the reference lacks, with no backend to ask


@dataclass(frozen=True)
class TermAnswer:
    explanation: Explanation
    source: str  # REFERENCE, the backend that answered ("local", "foundry", "openai"), NO_BACKEND


@dataclass(frozen=True)
class _Generated:
    explanation: Explanation
    shareable: bool  # says nothing of the meeting it was asked for


class TermAnswers:
    """One term's card: the reference's sense when it has one that fits the meeting, else the
    backend's answer. ``backend`` None answers only from the reference and abstains otherwise
    (the benchmark's reference-only mode)."""

    def __init__(
        self,
        config: ExplainerConfig,
        backend: ExplainerBackend | None,
        reference: ReferenceGlossary | None,
    ) -> None:
        self._backend = backend
        self._backend_name = config.backend if backend is not None else NO_BACKEND
        self._reference = reference
        # Shared across meetings, except answers that repeat their own meeting's words.
        self._cache: ExplanationCache[_Generated] = ExplanationCache(
            config.cache_entries, config.cache_ttl_s, lambda made: made.shareable
        )

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str | None = None
    ) -> TermAnswer:
        # The reference goes first, every time: which of its senses fits depends on the
        # meeting's lines, so its cards are not cached. A lookup takes milliseconds, but the
        # first ones compile the phrase patterns they need, so it runs off the event loop.
        if self._reference is not None:
            card = await asyncio.to_thread(self._reference.explain, term, context, language)
            if card is not None:
                metrics.EXPLAINER_CACHE.inc(result="reference")
                return TermAnswer(card, REFERENCE)
        made, result = await self._cache.get(
            (normalize_term(term), language),
            lambda: self._ask_backend(term, context, language, meeting),
        )
        metrics.EXPLAINER_CACHE.inc(result=result)
        return TermAnswer(made.explanation, self._backend_name)

    async def _ask_backend(
        self, term: str, context: str, language: str | None, meeting: str | None
    ) -> _Generated:
        """Only what the backend is asked is timed: cache hits are not backend latency."""
        if self._backend is None:
            return _Generated(ABSTAINED, True)
        try:
            with metrics.timed(
                metrics.AGENT_LATENCY, metrics.AGENT_ERRORS, backend=self._backend_name
            ):
                answer = screened(
                    term, await self._backend.explain(term, context, language, meeting=meeting)
                )
        except ExplanationError as exc:
            # An answer the checks cannot use (off-format, or repeating the line back) is no
            # explanation: the meeting shows the term as abstained instead of dropping it, and
            # asking again would not help (local generation is deterministic).
            log.info("no usable explanation of %r: %s", term, exc)
            answer = ABSTAINED
        return _Generated(answer, not repeats_meeting_words(answer.body, term, context))
