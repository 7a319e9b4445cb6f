"""Deadlines and bounded retries for calls to remote backends during a live meeting."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Deadline:
    """A point in time that a whole operation, retries included, must finish by."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())


@dataclass(frozen=True)
class Retry:
    """A failure worth another attempt, after the server's Retry-After when it sent one."""

    after_s: float | None = None


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` (Azure, OpenAI) or ``retry-after`` (seconds or a date)."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# Doubling stops here: an outage retried for hours must not overflow a float.
_MAX_DOUBLINGS = 30


def backoff_s(attempt: int, base_s: float, max_s: float = math.inf) -> float:
    """Exponential backoff with jitter, so that replicas hit by the same outage spread out;
    at most ``max_s``, jittered below it too."""
    jitter: float = random.uniform(0.5, 1.0)
    return min(max_s, float(base_s * (2 ** min(attempt - 1, _MAX_DOUBLINGS)))) * jitter


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    classify: Callable[[Exception], Retry | None],
    deadline: Deadline,
    max_attempts: int,
    backoff_base_s: float,
    max_retry_after_s: float,
    what: str,
    max_backoff_s: float = math.inf,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call`` until it succeeds, at most ``max_attempts`` times.

    ``classify`` says which failures are worth another attempt (rate limits, server errors).
    A Retry-After longer than ``max_retry_after_s``, or a wait that would outlive the
    deadline, gives up at once: the meeting has moved on by then. ``pause`` waits between
    attempts (a caller may cut it short).
    """
    attempt = 1
    while True:
        try:
            return await call()
        except Exception as exc:
            verdict = classify(exc)
            if verdict is None or attempt >= max_attempts:
                raise
            if verdict.after_s is not None and verdict.after_s > max_retry_after_s:
                raise
            delay = verdict.after_s
            if delay is None:
                delay = backoff_s(attempt, backoff_base_s, max_backoff_s)
            if delay >= deadline.remaining():
                raise
            log.info("%s failed (%r); attempt %d in %.2f s", what, exc, attempt + 1, delay)
            await pause(delay)
            attempt += 1
