"""Health of one remote backend, judged from the outcomes of its recent calls.

`/health` shows it per backend: ``ok``; ``degraded`` when some recent calls failed (the meeting
goes on, a few terms are missing); ``failing`` when most recent calls fail or the start-up check
did not pass. Reports carry the endpoint's host and error class names only, never keys, tokens
or service messages (which may quote meeting text).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

OK, DEGRADED, FAILING = "ok", "degraded", "failing"
# One or two failed calls are a blip; this many, and more than half, is an outage.
MIN_FAILURES_FOR_FAILING = 3


def endpoint_host(url: str | None) -> str | None:
    """Host and port of a URL, without credentials or path."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname


def describe_error(exc: BaseException) -> str:
    """Class name, HTTP status and error code: enough to act on, nothing that could leak
    content (service messages may quote the meeting's text)."""
    parts = [type(exc).__name__]
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        parts.append(str(status))
    code = getattr(exc, "code", None)
    if isinstance(code, str) and 0 < len(code) <= 40:
        parts.append(code)
    return " ".join(parts)


class BackendHealth:
    def __init__(
        self,
        backend: str,
        endpoint: str | None = None,
        *,
        window: int = 20,
        recent_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self._host = endpoint_host(endpoint)
        self._outcomes: deque[tuple[float, str | None]] = deque(maxlen=window)
        self._recent_s = recent_s
        self._clock = clock
        self._startup_error: str | None = None
        self._last_error: str | None = None

    def ok(self) -> None:
        self._outcomes.append((self._clock(), None))
        # A call that worked proves the start-up problem has gone.
        self._startup_error = None

    def error(self, problem: BaseException | str) -> None:
        text = problem if isinstance(problem, str) else describe_error(problem)
        self._outcomes.append((self._clock(), text))
        self._last_error = text

    def startup_failed(self, problem: str) -> None:
        self._startup_error = problem
        self._last_error = problem

    def _recent(self) -> list[str | None]:
        since = self._clock() - self._recent_s
        return [error for at, error in self._outcomes if at >= since]

    def state(self) -> str:
        recent = self._recent()
        failures = sum(error is not None for error in recent)
        if self._startup_error is not None:
            return FAILING
        if failures >= MIN_FAILURES_FOR_FAILING and failures * 2 > len(recent):
            return FAILING
        return DEGRADED if failures else OK

    def report(self, **extra: Any) -> dict[str, Any]:
        recent = self._recent()
        report: dict[str, Any] = {
            "backend": self.backend,
            "state": self.state(),
            "recent_calls": len(recent),
            "recent_errors": sum(error is not None for error in recent),
        }
        if self._host:
            report["endpoint"] = self._host
        if self._startup_error is not None:
            report["startup_error"] = self._startup_error
        if self._last_error is not None and report["state"] != OK:
            report["last_error"] = self._last_error
        return report | extra
