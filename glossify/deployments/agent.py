"""TermExplainer deployment: a domain and a short explanation for one term."""

from __future__ import annotations

from typing import Any

from ray import serve

from glossify.backends import MeasuredExplainer, start_explainer
from glossify.config import ExplainerConfig


@serve.deployment(
    ray_actor_options={"num_cpus": 0.5},
    max_ongoing_requests=8,
    autoscaling_config={
        "min_replicas": 1,
        "max_replicas": 2,
        "target_ongoing_requests": 2,
        "upscale_delay_s": 5,
        "downscale_delay_s": 60,
    },
)
class TermExplainer:
    # Async so that the Foundry backend can check its agent before the replica takes requests.
    async def __init__(self, config: dict[str, Any]) -> None:
        self._config = ExplainerConfig.model_validate(config)
        self._backend = await start_explainer(self._config)
        self._backend = MeasuredExplainer(self._backend, self._config.backend)

    async def explain(self, term: str, context: str, language: str | None) -> dict[str, str]:
        answer = await self._backend.explain(term, context, language)
        return {"domain": answer.domain, "body": answer.body, "source": self._config.backend}

    def health(self) -> dict[str, Any]:
        return self._backend.health()
