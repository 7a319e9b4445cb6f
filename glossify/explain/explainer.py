"""The explainer interface, and which class serves each explainer backend."""

from __future__ import annotations

from typing import Any, Protocol, Self

from glossify.backend_table import import_backend
from glossify.config.backends import ExplainerConfig
from glossify.explain.answer import Explanation


class ExplainerBackend(Protocol):
    """What a TermExplainer replica runs: a domain and a short explanation for one term."""

    @classmethod
    def from_config(cls, config: ExplainerConfig) -> Self: ...

    async def start(self) -> None:
        """Get ready before the replica takes requests; raise when it never could."""
        ...

    async def explain(
        self, term: str, context: str, language: str | None, *, meeting: str | None = None
    ) -> Explanation:
        """A backend that queues terms serves ``meeting``s fairly; a remote service does its
        own scheduling and ignores it."""
        ...

    def health(self) -> dict[str, Any]: ...

    async def close(self) -> None: ...


# Every value of ExplainerConfig.backend, and the class that serves it.
EXPLAINERS: dict[str, str] = {
    "local": "glossify.explain.local:LocalExplainer",
    "foundry": "glossify.explain.foundry:FoundryExplainer",
    "openai": "glossify.explain.openai_compat:OpenAIExplainer",
}


async def start_explainer(config: ExplainerConfig) -> ExplainerBackend:
    """The configured explainer, started: a Foundry agent that does not exist raises here."""
    explainer_class: type[ExplainerBackend] = import_backend(EXPLAINERS, config.backend)
    explainer = explainer_class.from_config(config)
    await explainer.start()
    return explainer
