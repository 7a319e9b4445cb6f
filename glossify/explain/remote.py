"""What the remote explainers share: a term's deadline, bounded retries, health and start-up.

A remote explainer writes only its own call (one attempt: the answer text, and whether it was
cut off), its start-up check, the extras of its health report, how it closes, and which of its
SDK's errors are worth another attempt (a `Retry` or None, as `with_retries` takes them).
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from glossify.config.backends import RemoteCallsConfig
from glossify.explain.answer import Explanation, ExplanationError, explanation_from_answer
from glossify.remote.health import BackendHealth, describe_error
from glossify.remote.retries import Deadline, Retry, with_retries

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackendNotFound(RuntimeError):
    """What the configuration names does not exist (an agent, say): the replica stops at
    start-up, since no retry will make it appear."""


@dataclass
class TermRequest:
    """One term's explanation, across its attempts."""

    term: str
    context: str
    language: str | None
    deadline: Deadline
    # Server-side work the current attempt has started (a background response), so that it
    # can be stopped when nobody will read its answer.
    in_flight: str | None = None


class RemoteExplainer(ABC):
    # How error messages name the service: "unreadable answer from <service> for 'term'".
    service: ClassVar[str]
    # What start() checks, for "<startup_check> failed: ..." in health.
    startup_check: ClassVar[str]

    def __init__(
        self,
        calls: RemoteCallsConfig,
        *,
        endpoint: str,
        deadline_s: float,
        max_chars: int,
        startup_timeout_s: float,
    ) -> None:
        self._calls = calls
        self._deadline_s = deadline_s
        self._max_chars = max_chars
        self._startup_timeout_s = startup_timeout_s
        self._health = BackendHealth(calls.BACKEND, endpoint)
        # Strong references: a task nobody holds may be garbage-collected mid-flight.
        self._stopping: set[asyncio.Task[None]] = set()

    # -- what each service writes ----------------------------------------------------------------

    @abstractmethod
    async def _check(self) -> str | None:
        """The start-up check: a problem worth showing in health, or None when all is well.
        Raise BackendNotFound when the backend can never work as configured."""

    @abstractmethod
    async def _ask(self, request: TermRequest) -> tuple[str, bool]:
        """One attempt: the answer text, and whether a limit cut it off."""

    @abstractmethod
    def _classify(self, exc: Exception) -> Retry | None:
        """Whether a failed attempt is worth another one."""

    @abstractmethod
    def _health_extras(self) -> dict[str, Any]: ...

    @abstractmethod
    async def _close_clients(self) -> None: ...

    async def _stop(self, work_id: str) -> None:
        """Stop server-side work nobody will read, so it stops costing tokens and capacity;
        only services whose calls set ``TermRequest.in_flight`` have any."""
        return None

    # -- shared ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the start-up check. A check that cannot be made (network, auth, throttling)
        marks the backend failing and goes on, so a short outage at deploy time does not stop
        the meeting service; BackendNotFound closes the explainer and stops the replica."""
        try:
            async with asyncio.timeout(self._startup_timeout_s):
                problem = await self._check()
        except BackendNotFound:
            await self.close()
            raise
        except Exception as exc:
            problem = f"{self.startup_check} failed: {describe_error(exc)}"
        if problem is not None:
            self._health.startup_failed(problem)
            log.warning("%s explainer: %s; trying anyway", self._health.backend, problem)

    async def explain(
        self, term: str, context: str, language: str | None, *, meeting: str | None = None
    ) -> Explanation:
        request = TermRequest(term, context, language, Deadline(self._deadline_s))
        try:
            async with asyncio.timeout(self._deadline_s):
                text, truncated = await self._retrying(
                    lambda: self._ask(request), request.deadline, f"explaining {term!r}"
                )
            explanation = explanation_from_answer(
                term, text, context, self._max_chars, truncated=truncated
            )
        except TimeoutError:
            self._health.error("TimeoutError")
            if request.in_flight is not None:
                await self._stop(request.in_flight)
            raise TimeoutError(
                f"no explanation for {term!r} within {self._deadline_s:g} s"
            ) from None
        except asyncio.CancelledError:
            # The caller has gone; stopping the work must not hold up the cancellation.
            if request.in_flight is not None:
                self._stop_later(request.in_flight)
            raise
        except json.JSONDecodeError as exc:
            # A 200 whose body is empty or cut off: a broken proxy or server, worth a log line.
            self._health.error(exc)
            raise ExplanationError(
                f"unreadable answer from {self.service} for {term!r}: {exc}"
            ) from exc
        except Exception as exc:
            self._health.error(exc)
            raise
        self._health.ok()
        return explanation

    async def _retrying(self, call: Callable[[], Awaitable[T]], deadline: Deadline, what: str) -> T:
        """``call`` with this backend's retry settings, within ``deadline``."""
        return await with_retries(
            call,
            classify=self._classify,
            deadline=deadline,
            max_attempts=self._calls.max_attempts,
            backoff_base_s=self._calls.retry_backoff_s,
            max_retry_after_s=self._calls.max_retry_after_s,
            what=f"{what} ({self.service})",
        )

    def _stop_later(self, work_id: str) -> None:
        task = asyncio.create_task(self._stop(work_id))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def health(self) -> dict[str, Any]:
        return self._health.report(**self._health_extras())

    async def close(self) -> None:
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)
        await self._close_clients()
