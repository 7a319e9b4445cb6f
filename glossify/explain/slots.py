"""A fixed number of model slots, shared fairly between meetings, each meeting's newest
request first.

Fair: when a slot frees up it goes to the meeting that holds the fewest slots, so one meeting's
burst of terms cannot keep another meeting's term waiting behind all of it. Between meetings
holding as many, the one served longest ago goes first, and meetings not served while waiting
go in the order they started waiting: every waiting meeting is served before any is served
twice, however many new terms keep coming.

Newest first within a meeting: the term said last is the one its listeners are wondering about
now; serving its backlog first would make every answer late. Its older terms still get their
turn.
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
    arrival: int


class FairSlots:
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self._free = slots
        self._waiters: list[_Waiter] = []  # oldest first
        self._held: Counter[str | None] = Counter()
        self._arrivals = 0
        # When each meeting with waiters or slots was last given a slot (a grant count); others
        # are forgotten, so this stays as small as the queue.
        self._last_grant: dict[str | None, int] = {}
        self._grants = 0

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
            self._grant(meeting)
            return
        self._arrivals += 1
        waiter = _Waiter(asyncio.get_running_loop().create_future(), meeting, self._arrivals)
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

    def _grant(self, meeting: str | None) -> None:
        self._held[meeting] += 1
        self._grants += 1
        self._last_grant[meeting] = self._grants

    def _release(self, meeting: str | None) -> None:
        self._held[meeting] -= 1
        if self._held[meeting] <= 0:
            del self._held[meeting]
        self._waiters = [waiter for waiter in self._waiters if not waiter.future.done()]
        waiting = {waiter.meeting for waiter in self._waiters}
        self._last_grant = {
            m: grant for m, grant in self._last_grant.items() if m in waiting or m in self._held
        }
        if not self._waiters:
            self._free += 1
            return
        chosen = min(self._waiters, key=self._priority(self._waiters))
        self._waiters.remove(chosen)
        self._grant(chosen.meeting)
        chosen.future.set_result(None)

    def _priority(self, waiters: list[_Waiter]) -> Callable[[_Waiter], tuple[int, int, int, int]]:
        """Lower goes first: fewest slots held, served longest ago (never: 0), waiting longest
        (by its oldest request), then its newest request."""
        first_arrival: dict[str | None, int] = {}
        for waiter in waiters:  # oldest first: the first seen is the meeting's oldest
            first_arrival.setdefault(waiter.meeting, waiter.arrival)

        def priority(waiter: _Waiter) -> tuple[int, int, int, int]:
            meeting = waiter.meeting
            return (
                self._held[meeting],
                self._last_grant.get(meeting, 0),
                first_arrival[meeting],
                -waiter.arrival,
            )

        return priority


class HeldSlot:
    """A slot already acquired; leaving the `async with` block gives it back."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_exc: object) -> None:
        self._release()
