"""Explanations from an existing Azure AI Foundry agent (azure-ai-projects 2.x, Responses API).

The agent is addressed by name (and optionally version) and never created here: one that does
not exist stops the replica at start-up with a clear message. Each term is a background
response that is polled, so that the term's deadline can cancel it on the service instead of
leaving it running; rate-limit and server failures are retried within the deadline.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Self

from azure.core.exceptions import ResourceNotFoundError

from glossify.config.backends import ExplainerConfig, FoundryConfig
from glossify.explain.prompt import build_agent_input
from glossify.explain.remote import BackendNotFound, RemoteExplainer, TermRequest
from glossify.remote.azure_pipeline import client_options
from glossify.remote.health import describe_error, endpoint_host
from glossify.remote.openai_client import classify_openai_error, http_client_options, timeout
from glossify.remote.retries import Retry

log = logging.getLogger(__name__)

PENDING = ("queued", "in_progress")
# `failed` responses with these codes may work a moment later; others would fail again.
RETRYABLE_CODES = frozenset({"rate_limit_exceeded", "server_error"})
MAX_POLL_INTERVAL_S = 1.0
CANCEL_TIMEOUT_S = 2.0


class AgentNotFoundError(BackendNotFound):
    """The configured agent or version does not exist in the project."""


class ResponseFailed(RuntimeError):
    """The agent's response ended without a usable answer (failed, cancelled, incomplete)."""

    def __init__(self, message: str, code: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


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


class FoundryExplainer(RemoteExplainer):
    service = "Foundry"
    startup_check = "agent check"

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

        project_endpoint = settings.required("project_endpoint")
        super().__init__(
            settings,
            endpoint=project_endpoint,
            deadline_s=deadline_s,
            max_chars=max_chars,
            startup_timeout_s=settings.startup_timeout_s,
        )
        self._settings = settings
        self._agent_name = settings.required("agent_name")
        self._owned_credential: Any = None
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._owned_credential = DefaultAzureCredential()
        self._project = AIProjectClient(
            endpoint=project_endpoint,
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
        self._reference: dict[str, str] = {"type": "agent_reference", "name": self._agent_name}
        if settings.agent_version:
            self._reference["version"] = settings.agent_version

    @classmethod
    def from_config(cls, config: ExplainerConfig) -> Self:
        return cls(config.foundry, deadline_s=config.deadline_s, max_chars=config.max_chars)

    @property
    def agent(self) -> str:
        version = self._settings.agent_version
        return f"{self._agent_name!r}" + (f" version {version!r}" if version else "")

    async def _check(self) -> str | None:
        """Check that the agent (and the version, when pinned) exists."""
        version = self._settings.agent_version
        try:
            await self._project.agents.get(agent_name=self._agent_name)
            if version:
                await self._project.agents.get_version(
                    agent_name=self._agent_name, agent_version=version
                )
        except ResourceNotFoundError:
            raise AgentNotFoundError(
                f"Foundry agent {self.agent} does not exist in project "
                f"{self._settings.project_endpoint}: create it in the Foundry portal or fix "
                "AGENT_NAME / AGENT_VERSION (Glossify never creates agents)"
            ) from None
        project = endpoint_host(self._settings.project_endpoint)
        log.info("Foundry agent %s found on %s", self.agent, project)
        return None

    async def _ask(self, request: TermRequest) -> tuple[str, bool]:
        options: dict[str, Any] = {"extra_body": {"agent_reference": self._reference}}
        if self._settings.background:
            options["background"] = True
        else:
            # Answered in one call: the read may take as long as the agent does.
            options["timeout"] = timeout(
                request.deadline.remaining(), self._settings.connection_timeout_s
            )
        prompt = build_agent_input(request.term, request.context, request.language)
        response = await self._openai.responses.create(input=prompt, **options)
        response_id = response.id
        request.in_flight = response_id
        interval = self._settings.poll_interval_s
        while response.status in PENDING:
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, MAX_POLL_INTERVAL_S)
            # A failed poll is retried on the same response rather than starting a new one.
            response = await self._retrying(
                lambda: self._openai.responses.retrieve(response_id),
                request.deadline,
                "polling a response",
            )
        request.in_flight = None
        return answer_of(response)

    def _classify(self, exc: Exception) -> Retry | None:
        if isinstance(exc, ResponseFailed):
            return Retry() if exc.retryable else None
        return classify_openai_error(exc)

    async def _stop(self, work_id: str) -> None:
        """Cancel the background response, so it stops costing tokens and agent capacity."""
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_S):
                await self._openai.responses.cancel(work_id)
        except Exception as exc:
            log.info("could not cancel Foundry response: %s", describe_error(exc))

    def _health_extras(self) -> dict[str, Any]:
        extras = {"agent": self._agent_name}
        if self._settings.agent_version:
            extras["agent_version"] = self._settings.agent_version
        return extras

    async def _close_clients(self) -> None:
        await self._openai.close()
        await self._project.close()
        if self._owned_credential is not None:
            await self._owned_credential.close()
