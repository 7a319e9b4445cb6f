"""A fixed number of model slots, shared fairly between meetings, newest request first.

Fair: when a slot frees up it goes to a waiting request of the meeting that holds the fewest
slots, so one meeting's burst of terms (or two hundred meetings' first terms) cannot keep
another meeting's term waiting behind all of it.

Newest first: among those, the term said last is the one a listener is wondering about now;
serving the backlog first would make every answer late. Older requests still get their turn
once the burst is over.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(eq=False)
class _Waiter:
    future: asyncio.Future[None]
    meeting: str | None


class FairSlots:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self._free = slots
        self._waiters: list[_Waiter] = []  # oldest first
        self._held: Counter[str | None] = Counter()

    @property
    def waiting(self) -> int:
        return sum(not waiter.future.done() for waiter in self._waiters)

    @property
    def free(self) -> int:
        return self._free

    def held_by(self, meeting: str | None) -> int:
        return self._held[meeting]

    async def acquire(self, timeout_s: float | None = None, meeting: str | None = None) -> HeldSlot:
        """Wait for a slot for ``meeting`` (None: a caller without one); TimeoutError after
        ``timeout_s`` (None: no limit)."""
        await asyncio.wait_for(self._acquire(meeting), timeout_s)
        return HeldSlot(lambda: self._release(meeting))

    @asynccontextmanager
    async def claim(
        self, timeout_s: float | None = None, meeting: str | None = None
    ) -> AsyncIterator[None]:
        async with await self.acquire(timeout_s, meeting):
            yield

    async def _acquire(self, meeting: str | None) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            self._held[meeting] += 1
            return
        waiter = _Waiter(asyncio.get_running_loop().create_future(), meeting)
        self._waiters.append(waiter)
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif not waiter.future.cancelled():
                # The slot was handed over just as the caller gave up: pass it on, or it is lost.
                self._release(meeting)
            raise

    def _release(self, meeting: str | None) -> None:
        self._held[meeting] -= 1
        if self._held[meeting] <= 0:
            del self._held[meeting]
        self._waiters = [waiter for waiter in self._waiters if not waiter.future.done()]
        if not self._waiters:
            self._free += 1
            return
        # min() keeps the first of equals: scanning newest first breaks ties by recency.
        chosen = min(reversed(self._waiters), key=lambda waiter: self._held[waiter.meeting])
        self._waiters.remove(chosen)
        self._held[chosen.meeting] += 1
        chosen.future.set_result(None)


class HeldSlot:
    """A slot already acquired; leaving the `async with` block gives it back."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_exc: object) -> None:
        self._release()
