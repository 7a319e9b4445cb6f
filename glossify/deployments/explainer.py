"""TermExplainer deployment: a domain and a short explanation for one term."""

from __future__ import annotations

from typing import Any

from ray import serve

from glossify.config.backends import ExplainerConfig
from glossify.explain.explainer import start_explainer
from glossify.explain.reference import packaged_reference
from glossify.explain.term_answers import TermAnswer, TermAnswers


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
        reference = packaged_reference() if self._config.reference else None
        self._answers = TermAnswers(self._config, self._backend, reference)

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str | None = None
    ) -> dict[str, str | bool]:
        return _reply(await self._answers.explain(term, context, language, meeting))

    def health(self) -> dict[str, Any]:
        return self._backend.health()

    def check_health(self) -> None:
        """Serve's periodic check: a stuck model (a native call that never returns) makes Serve
        replace this replica. A remote backend's outage does not: a new replica would not help."""
        report = self._backend.health()
        if report.get("stuck"):
            raise RuntimeError(f"the explainer is stuck: {report.get('error')}")


def _reply(answer: TermAnswer) -> dict[str, str | bool]:
    """What a meeting is told: the card, where it came from, and whether it is an abstention
    (no confident explanation; domain and body are then empty)."""
    card = answer.explanation
    return {
        "domain": card.domain,
        "body": card.body,
        "source": answer.source,
        "abstained": card.abstained,
    }
