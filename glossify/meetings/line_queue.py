"""A meeting's bounded queue of final lines waiting for NER → agent, drained by a few workers.

Lines that do not fit stay pending in the journal and are read back when the queue has room,
so a burst (or a restart) never grows memory and never loses a line.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from glossify import metrics

log = logging.getLogger(__name__)

Line = tuple[int, dict[str, Any]]
ProcessLine = Callable[[int, dict[str, Any]], Awaitable[None]]
LoadPending = Callable[[list[int], int], Awaitable[list[Line]]]


class LineQueue:
    def __init__(
        self, process: ProcessLine, load_pending: LoadPending, *, capacity: int, workers: int
    ) -> None:
        self._process = process
        self._load_pending = load_pending
        self._capacity = capacity
        self._max_workers = workers
        self._queue: deque[Line] = deque()
        self._in_flight: set[int] = set()
        self._backlog = False
        # Bumped whenever a line goes to the journal-only backlog, so that a refill racing
        # with it does not clear the backlog flag and strand that line.
        self._backlog_marks = 0
        self._workers: set[asyncio.Task[None]] = set()
        self._refill_lock = asyncio.Lock()
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def depth(self) -> int:
        return len(self._queue) + len(self._in_flight)

    @property
    def busy(self) -> bool:
        return not self._drained.is_set()

    def offer(self, line_no: int, event: dict[str, Any]) -> None:
        if len(self._queue) < self._capacity and not self._backlog:
            self._queue.append((line_no, event))
        else:
            metrics.LINE_QUEUE_OVERFLOW.inc()
            self._mark_backlog()
        self._wake()

    def resume_backlog(self) -> None:
        """Lines are pending in the journal (after a restart): go and fetch them."""
        self._mark_backlog()
        self._wake()

    def _mark_backlog(self) -> None:
        self._backlog = True
        self._backlog_marks += 1

    async def drained(self) -> None:
        await self._drained.wait()

    def cancel(self) -> None:
        for task in self._workers:
            task.cancel()

    def abandon(self) -> None:
        """Stop all work; lines not yet processed stay pending in the journal.

        For a stopped meeting: its glossary is written, so terms found later would reach
        listeners after `upsert_done` and never the table, while taking the backends from
        meetings still running."""
        self._queue.clear()
        self._backlog = False
        self.cancel()
        if not self._workers:
            self._drained.set()

    def _wake(self) -> None:
        self._drained.clear()
        wanted = min(self._max_workers, max(1, len(self._queue)))
        while len(self._workers) < wanted:
            task = asyncio.create_task(self._work())
            self._workers.add(task)
            task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if not self._workers and not self._queue and not self._backlog:
            self._drained.set()

    async def _next(self) -> Line | None:
        if not self._queue and self._backlog:
            async with self._refill_lock:
                if not self._queue and self._backlog:
                    await self._refill()
        return self._queue.popleft() if self._queue else None

    async def _refill(self) -> None:
        marks = self._backlog_marks
        queued = [line_no for line_no, _ in self._queue]
        lines = await self._load_pending(sorted(self._in_flight) + queued, self._capacity)
        self._queue.extend(lines)
        if len(lines) < self._capacity and marks == self._backlog_marks:
            self._backlog = False

    async def _work(self) -> None:
        while True:
            try:
                item = await self._next()
            except Exception:
                log.exception("could not read pending lines; will retry on the next line")
                return
            if item is None:
                return
            line_no, event = item
            self._in_flight.add(line_no)
            try:
                await self._process(line_no, event)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("line %s failed in the term pipeline", line_no)
            finally:
                self._in_flight.discard(line_no)
