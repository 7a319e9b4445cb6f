"""Explanations shared across meetings: a bounded, expiring cache with one generation per key.

Many meetings of one organisation hear the same jargon. The glossary table covers terms from
meetings that have ended; this covers the ones being explained right now: when ten meetings
ask for "Kubernetes" at once, the model runs once and all ten get that answer.

A value the caller marks as not shareable (an answer that repeats its own meeting's words) goes
back to the one call that computed it only: it is neither kept nor handed to the calls that
joined it, which compute their own.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
Lookup = Literal["hit", "shared", "miss"]


class ExplanationCache(Generic[T]):
    def __init__(
        self, max_entries: int, ttl_s: float, shareable: Callable[[T], bool] = lambda _: True
    ) -> None:
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._shareable = shareable
        self._done: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._running: dict[Hashable, asyncio.Task[T]] = {}

    def __len__(self) -> int:
        return len(self._done)

    def cached(self, key: Hashable) -> T | None:
        entry = self._done.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if time.monotonic() - stored_at > self._ttl_s:
            del self._done[key]
            return None
        self._done.move_to_end(key)
        return value

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> tuple[T, Lookup]:
        """The value for `key`, and whether it was a hit, joined a running computation
        ("shared") or was computed for this call ("miss").

        Failures are not cached: every waiter sees the error and the next call tries again.
        A caller that gives up does not cancel the computation others are waiting for. With
        no entries allowed, every call computes on its own (nothing kept, nothing shared)."""
        if self._max_entries == 0:
            return await compute(), "miss"
        value = self.cached(key)
        if value is not None:
            return value, "hit"
        task = self._running.get(key)
        if task is not None:
            shared = await asyncio.shield(task)
            if self._shareable(shared):
                return shared, "shared"
            own = await compute()
            self._keep(key, own)
            return own, "miss"
        task = asyncio.ensure_future(self._compute(key, compute))
        # Every waiter may have given up: the outcome must not go unretrieved.
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._running[key] = task
        return await asyncio.shield(task), "miss"

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await compute()
        finally:
            del self._running[key]
        self._keep(key, value)
        return value

    def _keep(self, key: Hashable, value: T) -> None:
        if not self._shareable(value):
            return
        self._done[key] = (time.monotonic(), value)
        self._done.move_to_end(key)
        while len(self._done) > self._max_entries:
            self._done.popitem(last=False)
