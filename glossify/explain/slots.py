"""A fixed number of model slots, shared fairly between meetings, each meeting's newest
request first.

Fair: when a slot frees up it goes to the meeting that holds the fewest slots, so one meeting's
burst of terms cannot keep another meeting's term waiting behind all of it. Between meetings
holding as many, the one whose turn came up first goes first: a meeting's turn is when it was
last served, or, for one that comes back after a while with nothing in the queue, when it
started waiting. So every waiting meeting is served before any is served twice, however many
new terms keep coming and from how many meetings.

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
        self._grants = 0
        # Each meeting's place in the rotation, for meetings with waiters or slots (others are
        # forgotten, so this stays as small as the queue): (2g + 1, _) once served as grant g;
        # (2g, arrival) when it started waiting after grant g with nothing queued, which puts a
        # newcomer ahead of the meeting served just before it and behind any served earlier;
        # newcomers in the order they came.
        self._turn: dict[str | None, tuple[int, int]] = {}

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
        self._turn.setdefault(meeting, (2 * self._grants, self._arrivals))
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
        self._turn[meeting] = (2 * self._grants + 1, 0)

    def _release(self, meeting: str | None) -> None:
        self._held[meeting] -= 1
        if self._held[meeting] <= 0:
            del self._held[meeting]
        self._waiters = [waiter for waiter in self._waiters if not waiter.future.done()]
        waiting = {waiter.meeting for waiter in self._waiters}
        self._turn = {m: turn for m, turn in self._turn.items() if m in waiting or m in self._held}
        if not self._waiters:
            self._free += 1
            return
        chosen = min(self._waiters, key=self._priority)
        self._waiters.remove(chosen)
        self._grant(chosen.meeting)
        chosen.future.set_result(None)

    def _priority(self, waiter: _Waiter) -> tuple[int, tuple[int, int], int]:
        """Lower goes first: fewest slots held, earliest turn, then the meeting's newest."""
        return (self._held[waiter.meeting], self._turn[waiter.meeting], -waiter.arrival)


class HeldSlot:
    """A slot already acquired; leaving the `async with` block gives it back."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_exc: object) -> None:
        self._release()
