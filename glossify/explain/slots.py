"""A fixed number of slots handed out newest request first.

In a live meeting the term that was said last is the one a listener is wondering about now; when
the explainer falls behind, serving the backlog first would make every answer late. Older
requests still get their turn once the burst is over.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class NewestFirstSlots:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self._free = slots
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiters)

    @property
    def free(self) -> int:
        return self._free

    async def acquire(self, timeout_s: float | None = None) -> HeldSlot:
        """Wait for a slot; TimeoutError after `timeout_s` (None: no limit)."""
        await asyncio.wait_for(self._acquire(), timeout_s)
        return HeldSlot(self._release)

    @asynccontextmanager
    async def claim(self, timeout_s: float | None = None) -> AsyncIterator[None]:
        async with await self.acquire(timeout_s):
            yield

    async def _acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif not waiter.cancelled():
                # The slot was handed over just as the caller gave up: pass it on, or it is lost.
                self._release()
            raise

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.pop()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class HeldSlot:
    """A slot already acquired; leaving the `async with` block gives it back."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_exc: object) -> None:
        self._release()
