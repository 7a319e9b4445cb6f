"""Explanations from an existing Azure AI Foundry agent (azure-ai-projects 2.x, Responses API).

The agent is addressed by name (and optionally version) and never created here: one that does
not exist stops the replica at start-up with a clear message. Each term is a background
response that is polled, so that the term's deadline can cancel it on the service instead of
leaving it running; rate-limit and server failures are retried within the deadline.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from glossify.config.backends import FoundryConfig
from glossify.explain.answer import Explanation, ExplanationError, explanation_from_answer
from glossify.explain.prompt import build_agent_input
from glossify.remote.azure_pipeline import client_options
from glossify.remote.health import BackendHealth, describe_error, endpoint_host
from glossify.remote.openai_client import classify_openai_error, http_client_options, timeout
from glossify.remote.retries import Deadline, Retry, with_retries

log = logging.getLogger(__name__)

PENDING = ("queued", "in_progress")
# `failed` responses with these codes may work a moment later; others would fail again.
RETRYABLE_CODES = frozenset({"rate_limit_exceeded", "server_error"})
MAX_POLL_INTERVAL_S = 1.0
CANCEL_TIMEOUT_S = 2.0


class AgentNotFoundError(RuntimeError):
    """The configured agent or version does not exist in the project."""


class ResponseFailed(RuntimeError):
    """The agent's response ended without a usable answer (failed, cancelled, incomplete)."""

    def __init__(self, message: str, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


def _classify(exc: Exception) -> Retry | None:
    if isinstance(exc, ResponseFailed):
        return Retry() if exc.retryable else None
    return classify_openai_error(exc)


@dataclass
class _InFlight:
    """The background response a term is waiting for, so a deadline can cancel it."""

    response_id: str | None = None


def answer_of(response: Any) -> tuple[str, bool]:
    """(text, truncated) of a finished response, or ResponseFailed."""
    status = response.status
    if status == "completed":
        return response.output_text, False
    if status == "incomplete":
        text = response.output_text
        reason = getattr(response.incomplete_details, "reason", None)
        if text.strip():
            return text, True  # partial: its last sentence may be cut off
        raise ResponseFailed(f"response incomplete ({reason}) with no text", code=reason)
    if status == "failed":
        code = getattr(response.error, "code", None)
        retryable = code in RETRYABLE_CODES
        raise ResponseFailed(f"response failed ({code})", code=code, retryable=retryable)
    if status == "cancelled":
        raise ResponseFailed("response was cancelled", code="cancelled")
    raise ResponseFailed(f"unexpected response status {status!r}", code=str(status))


class FoundryExplainer:
    def __init__(
        self,
        settings: FoundryConfig,
        *,
        deadline_s: float,
        max_chars: int,
        credential: Any = None,
    ) -> None:
        """``credential``: an async TokenCredential; ``DefaultAzureCredential`` by default."""
        from azure.ai.projects.aio import AIProjectClient

        if not (settings.project_endpoint and settings.agent_name):
            raise ValueError("the foundry explainer needs a project endpoint and an agent name")
        self._settings = settings
        self._deadline_s = deadline_s
        self._max_chars = max_chars
        self._owned_credential: Any = None
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._owned_credential = DefaultAzureCredential()
        self._project = AIProjectClient(
            endpoint=settings.project_endpoint,
            credential=credential,
            **client_options(settings, settings.startup_timeout_s),
        )
        # Retries are ours (with_retries): the client's own would retry 408/409 too and could
        # sleep past the term's deadline.
        self._openai = self._project.get_openai_client(
            max_retries=0,
            timeout=timeout(settings.read_timeout_s, settings.connection_timeout_s),
            **http_client_options(settings.ca_file),
        )
        self._reference: dict[str, str] = {"type": "agent_reference", "name": settings.agent_name}
        if settings.agent_version:
            self._reference["version"] = settings.agent_version
        self._health = BackendHealth("foundry", settings.project_endpoint)
        self._cancels: set[asyncio.Task[None]] = set()

    @property
    def agent(self) -> str:
        version = self._settings.agent_version
        return f"{self._settings.agent_name!r}" + (f" version {version!r}" if version else "")

    async def start(self) -> None:
        """Check that the agent exists. A missing agent raises AgentNotFoundError; a check that
        cannot be made (network, auth, throttling) marks the backend failing and goes on, so a
        short outage at deploy time does not stop the meeting service."""
        name, version = self._settings.agent_name, self._settings.agent_version
        assert name is not None
        project = endpoint_host(self._settings.project_endpoint)
        try:
            async with asyncio.timeout(self._settings.startup_timeout_s):
                await self._project.agents.get(agent_name=name)
                if version:
                    await self._project.agents.get_version(agent_name=name, agent_version=version)
        except ResourceNotFoundError:
            await self.close()
            raise AgentNotFoundError(
                f"Foundry agent {self.agent} does not exist in project "
                f"{self._settings.project_endpoint}: create it in the Foundry portal or fix "
                "AGENT_NAME / AGENT_VERSION (Glossify never creates agents)"
            ) from None
        except Exception as exc:
            problem = f"agent check failed: {describe_error(exc)}"
            self._health.startup_failed(problem)
            log.warning("Foundry agent %s on %s: %s; trying anyway", self.agent, project, problem)
        else:
            log.info("Foundry agent %s found on %s", self.agent, project)

    async def explain(self, term: str, context: str, language: str | None) -> Explanation:
        deadline = Deadline(self._deadline_s)
        flight = _InFlight()
        prompt = build_agent_input(term, context, language)
        try:
            async with asyncio.timeout(self._deadline_s):
                text, truncated = await with_retries(
                    lambda: self._respond(prompt, flight, deadline),
                    classify=_classify,
                    deadline=deadline,
                    max_attempts=self._settings.max_attempts,
                    backoff_base_s=self._settings.retry_backoff_s,
                    max_retry_after_s=self._settings.max_retry_after_s,
                    what=f"Foundry agent for {term!r}",
                )
            explanation = explanation_from_answer(
                term, text, context, self._max_chars, truncated=truncated
            )
        except TimeoutError:
            self._health.error("TimeoutError")
            await self._cancel(flight.response_id)
            raise TimeoutError(
                f"no explanation for {term!r} within {self._deadline_s:g} s"
            ) from None
        except asyncio.CancelledError:
            self._cancel_later(flight.response_id)
            raise
        except json.JSONDecodeError as exc:
            # A 200 whose body is empty or cut off: a broken proxy or server, worth a log line.
            self._health.error(exc)
            raise ExplanationError(f"unreadable answer from Foundry for {term!r}: {exc}") from exc
        except Exception as exc:
            self._health.error(exc)
            raise
        self._health.ok()
        return explanation

    async def _respond(
        self, prompt: str, flight: _InFlight, deadline: Deadline
    ) -> tuple[str, bool]:
        options: dict[str, Any] = {"extra_body": {"agent_reference": self._reference}}
        if self._settings.background:
            options["background"] = True
        else:
            # Answered in one call: the read may take as long as the agent does.
            options["timeout"] = timeout(deadline.remaining(), self._settings.connection_timeout_s)
        response = await self._openai.responses.create(input=prompt, **options)
        response_id = response.id
        flight.response_id = response_id
        interval = self._settings.poll_interval_s
        while response.status in PENDING:
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_INTERVAL_S)
            # A failed poll is retried on the same response rather than starting a new one.
            response = await with_retries(
                lambda: self._openai.responses.retrieve(response_id),
                classify=classify_openai_error,
                deadline=deadline,
                max_attempts=self._settings.max_attempts,
                backoff_base_s=self._settings.retry_backoff_s,
                max_retry_after_s=self._settings.max_retry_after_s,
                what="polling a Foundry response",
            )
        flight.response_id = None
        return answer_of(response)

    async def _cancel(self, response_id: str | None) -> None:
        """Stop a response nobody will read, so it stops costing tokens and agent capacity."""
        if response_id is None:
            return
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_S):
                await self._openai.responses.cancel(response_id)
        except Exception as exc:
            log.info("could not cancel Foundry response: %s", describe_error(exc))

    def _cancel_later(self, response_id: str | None) -> None:
        if response_id is not None:
            task = asyncio.create_task(self._cancel(response_id))
            self._cancels.add(task)
            task.add_done_callback(self._cancels.discard)

    def health(self) -> dict[str, Any]:
        report = self._health.report(agent=self._settings.agent_name)
        if self._settings.agent_version:
            report["agent_version"] = self._settings.agent_version
        return report

    async def close(self) -> None:
        if self._cancels:
            await asyncio.gather(*self._cancels, return_exceptions=True)
        await self._openai.close()
        await self._project.close()
        if self._owned_credential is not None:
            await self._owned_credential.close()
