"""TermExplainer deployment: a domain and a short explanation for one term."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from ray import serve

from glossify import metrics
from glossify.config.backends import ExplainerConfig
from glossify.explain.answer import (
    ABSTAINED,
    Explanation,
    ExplanationError,
    repeats_meeting_words,
)
from glossify.explain.cache import ExplanationCache
from glossify.explain.expansions import screened
from glossify.explain.explainer import start_explainer
from glossify.explain.reference import ReferenceGlossary, packaged_reference
from glossify.terms.candidates import normalize_term

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Generated:
    explanation: Explanation
    shareable: bool  # says nothing of the meeting it was asked for


@serve.deployment(
    ray_actor_options={"num_cpus": 0.5},
    # Terms beyond the model's slots wait inside the replica, where meetings share the slots
    # fairly and the newest term goes first; in the router's queue they would wait oldest
    # first, a new meeting's term behind every term said before it. Remote backends get a
    # lower bound (app.py): it is how many calls a replica makes to the service at once.
    max_ongoing_requests=1000,
    autoscaling_config={
        "min_replicas": 1,
        "max_replicas": 2,
        # A replica is at its target when its four local-model slots are busy.
        "target_ongoing_requests": 4,
        "upscale_delay_s": 5,
        "downscale_delay_s": 60,
    },
)
class TermExplainer:
    # Async so that the Foundry backend can check its agent before the replica takes requests
    # (Ray Serve awaits an async constructor; mypy knows only plain ones).
    async def __init__(self, config: dict[str, Any]) -> None:  # type: ignore[misc]
        self._config = ExplainerConfig.model_validate(config)
        self._backend = await start_explainer(self._config)
        self._reference: ReferenceGlossary | None = (
            packaged_reference() if self._config.reference else None
        )
        # Shared across meetings, except answers that repeat their own meeting's words.
        self._cache: ExplanationCache[Generated] = ExplanationCache(
            self._config.cache_entries, self._config.cache_ttl_s, lambda made: made.shareable
        )

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str | None = None
    ) -> dict[str, str | bool]:
        # The packaged reference goes first, every time: which of its senses fits depends on
        # the meeting's lines, so its cards are not cached. A lookup takes milliseconds, but
        # the first ones compile the phrase patterns they need, so it runs off the event loop.
        card = None
        if self._reference is not None:
            card = await asyncio.to_thread(self._reference.explain, term, context, language)
        if card is not None:
            metrics.EXPLAINER_CACHE.inc(result="reference")
            return _reply(card, "reference")
        made, result = await self._cache.get(
            (normalize_term(term), language),
            lambda: self._ask_backend(term, context, language, meeting),
        )
        metrics.EXPLAINER_CACHE.inc(result=result)
        return _reply(made.explanation, self._config.backend)

    async def _ask_backend(
        self, term: str, context: str, language: str | None, meeting: str | None
    ) -> Generated:
        """Only what the backend is asked is timed: cache hits are not backend latency."""
        try:
            with metrics.timed(
                metrics.AGENT_LATENCY, metrics.AGENT_ERRORS, backend=self._config.backend
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
        return Generated(answer, not repeats_meeting_words(answer.body, term, context))

    def health(self) -> dict[str, Any]:
        return self._backend.health()

    def check_health(self) -> None:
        """Serve's periodic check: a stuck model (a native call that never returns) makes Serve
        replace this replica. A remote backend's outage does not: a new replica would not help."""
        report = self._backend.health()
        if report.get("stuck"):
            raise RuntimeError(f"the explainer is stuck: {report.get('error')}")


def _reply(answer: Explanation, source: str) -> dict[str, str | bool]:
    """What a meeting is told: the card, where it came from, and whether it is an abstention
    (no confident explanation; domain and body are then empty)."""
    return {
        "domain": answer.domain,
        "body": answer.body,
        "source": source,
        "abstained": answer.abstained,
    }
