"""Explanations from any OpenAI-compatible chat-completions server (vLLM, Ray Serve LLM,
Ollama, llama.cpp's server): the same prompt and answer parsing as the local model."""

from __future__ import annotations

from typing import Any, Self

import openai

from glossify.config.backends import ExplainerConfig, OpenAIConfig
from glossify.explain.answer import ExplanationError
from glossify.explain.prompt import build_messages
from glossify.explain.remote import RemoteExplainer, TermRequest
from glossify.remote.openai_client import classify_openai_error, http_client_options, timeout
from glossify.remote.retries import Retry

MAX_LISTED_MODELS = 5


class OpenAIExplainer(RemoteExplainer):
    service = "the server"
    startup_check = "model list"

    def __init__(
        self, settings: OpenAIConfig, *, deadline_s: float, max_tokens: int, max_chars: int
    ) -> None:
        base_url = settings.required("base_url")
        super().__init__(
            settings,
            endpoint=base_url,
            deadline_s=deadline_s,
            max_chars=max_chars,
            startup_timeout_s=settings.connection_timeout_s + settings.read_timeout_s,
        )
        self._settings = settings
        self._model = settings.required("model")
        self._max_tokens = max_tokens
        api_key = settings.api_key.get_secret_value() if settings.api_key else "none"
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,  # ours are bounded by the term's deadline
            timeout=timeout(deadline_s, settings.connection_timeout_s),
            **http_client_options(settings.ca_file),
        )

    @classmethod
    def from_config(cls, config: ExplainerConfig) -> Self:
        return cls(
            config.openai,
            deadline_s=config.deadline_s,
            max_tokens=config.max_tokens,
            max_chars=config.max_chars,
        )

    async def _check(self) -> str | None:
        """Ask the server which models it serves: a wrong model name shows in /health at once.
        A server that is not up yet (an LLM app still loading) is no reason to stop."""
        served = [model.id async for model in self._client.models.list()]
        if self._model in served:
            return None
        listed = ", ".join(served[:MAX_LISTED_MODELS]) or "none"
        return f"model {self._model!r} is not served (served: {listed})"

    async def _ask(self, request: TermRequest) -> tuple[str, bool]:
        messages = build_messages(request.term, request.context, request.language)
        completion = await self._client.chat.completions.create(
            model=self._model,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=self._max_tokens,
            temperature=self._settings.temperature,
            timeout=timeout(request.deadline.remaining(), self._settings.connection_timeout_s),
        )
        if not completion.choices:
            raise ExplanationError(f"no choices in the answer for {request.term!r}")
        choice = completion.choices[0]
        return choice.message.content or "", choice.finish_reason == "length"

    def _classify(self, exc: Exception) -> Retry | None:
        return classify_openai_error(exc)

    def _health_extras(self) -> dict[str, Any]:
        return {"model": self._model}

    async def _close_clients(self) -> None:
        await self._client.close()
