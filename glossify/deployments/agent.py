"""TermExplainer deployment: a domain and a short explanation for one term."""

from __future__ import annotations

from typing import Any

from ray import serve

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
    def __init__(self, config: dict[str, Any]) -> None:
        self._config = ExplainerConfig.model_validate(config)
        from glossify.local_explainer import LocalExplainer
        from glossify.model_files import default_llm_path

        path = self._config.model_path or default_llm_path()
        self._backend = LocalExplainer(
            path,
            n_threads=self._config.n_threads,
            n_ctx=self._config.n_ctx,
            n_parallel=self._config.n_parallel,
            max_tokens=self._config.max_tokens,
            max_chars=self._config.max_chars,
        )

    async def explain(self, term: str, context: str, language: str | None) -> dict[str, str]:
        answer = await self._backend.explain(term, context, language, self._config.deadline_s)
        return {"domain": answer.domain, "body": answer.body, "source": self._config.backend}

    def health(self) -> dict[str, str]:
        return {"backend": self._config.backend, "state": "ok"}
