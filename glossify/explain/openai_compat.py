"""Explanations from any OpenAI-compatible chat-completions server (vLLM, Ray Serve LLM,
Ollama, llama.cpp's server): the same prompt and answer parsing as the local model."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import openai

from glossify.config.backends import OpenAIConfig
from glossify.explain.answer import Explanation, ExplanationError, explanation_from_answer
from glossify.explain.prompt import build_messages
from glossify.remote.health import BackendHealth, describe_error
from glossify.remote.openai_client import classify_openai_error, http_client_options, timeout
from glossify.remote.retries import Deadline, with_retries

log = logging.getLogger(__name__)

MAX_LISTED_MODELS = 5


class OpenAIExplainer:
    def __init__(
        self, settings: OpenAIConfig, *, deadline_s: float, max_tokens: int, max_chars: int
    ) -> None:
        if not (settings.base_url and settings.model):
            raise ValueError("the openai explainer needs a base URL and a model")
        self._settings = settings
        self._model = settings.model
        self._deadline_s = deadline_s
        self._max_tokens = max_tokens
        self._max_chars = max_chars
        api_key = settings.api_key.get_secret_value() if settings.api_key else "none"
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            api_key=api_key,
            max_retries=0,  # ours are bounded by the term's deadline
            timeout=timeout(deadline_s, settings.connection_timeout_s),
            **http_client_options(settings.ca_file),
        )
        self._health = BackendHealth("openai", settings.base_url)

    async def start(self) -> None:
        """Ask the server which models it serves: a wrong model name shows in /health at once.
        A server that is not up yet (an LLM app still loading) is no reason to stop."""
        try:
            async with asyncio.timeout(
                self._settings.connection_timeout_s + self._settings.read_timeout_s
            ):
                served = [model.id async for model in self._client.models.list()]
        except Exception as exc:
            self._health.startup_failed(f"model list failed: {describe_error(exc)}")
            log.warning("OpenAI-compatible server: model list failed (%s)", describe_error(exc))
            return
        if self._model not in served:
            listed = ", ".join(served[:MAX_LISTED_MODELS]) or "none"
            self._health.startup_failed(f"model {self._model!r} is not served (served: {listed})")
            log.warning("model %r is not served by the server (served: %s)", self._model, listed)

    async def explain(self, term: str, context: str, language: str | None) -> Explanation:
        deadline = Deadline(self._deadline_s)
        messages = build_messages(term, context, language)

        async def complete() -> Any:
            return await self._client.chat.completions.create(
                model=self._model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=self._max_tokens,
                temperature=self._settings.temperature,
                timeout=timeout(deadline.remaining(), self._settings.connection_timeout_s),
            )

        try:
            async with asyncio.timeout(self._deadline_s):
                completion = await with_retries(
                    complete,
                    classify=classify_openai_error,
                    deadline=deadline,
                    max_attempts=self._settings.max_attempts,
                    backoff_base_s=self._settings.retry_backoff_s,
                    max_retry_after_s=self._settings.max_retry_after_s,
                    what=f"explaining {term!r}",
                )
            if not completion.choices:
                raise ExplanationError(f"no choices in the answer for {term!r}")
            choice = completion.choices[0]
            explanation = explanation_from_answer(
                term,
                choice.message.content or "",
                context,
                self._max_chars,
                truncated=choice.finish_reason == "length",
            )
        except TimeoutError:
            self._health.error("TimeoutError")
            raise TimeoutError(
                f"no explanation for {term!r} within {self._deadline_s:g} s"
            ) from None
        except json.JSONDecodeError as exc:
            # A 200 whose body is empty or cut off: a broken proxy or server, worth a log line.
            self._health.error(exc)
            raise ExplanationError(
                f"unreadable answer from the server for {term!r}: {exc}"
            ) from exc
        except Exception as exc:
            self._health.error(exc)
            raise
        self._health.ok()
        return explanation

    def health(self) -> dict[str, Any]:
        return self._health.report(model=self._model)

    async def close(self) -> None:
        await self._client.close()
