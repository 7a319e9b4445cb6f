"""The bounded line queue: overflow waits in the journal, nothing is lost or done twice."""

from __future__ import annotations

import asyncio
from typing import Any

from glossify.meetings.line_queue import LineQueue


class Journal:
    """Pending lines as the store keeps them: a line stays pending until processed."""

    def __init__(self) -> None:
        self.pending: dict[int, dict[str, Any]] = {}
        self.processed: list[int] = []
        self.running = 0
        self.peak = 0

    async def load_pending(self, exclude: list[int], limit: int) -> list[tuple[int, dict]]:
        rows = [(n, e) for n, e in sorted(self.pending.items()) if n not in exclude]
        return rows[:limit]

    async def process(self, line_no: int, event: dict[str, Any]) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0.005)
        self.running -= 1
        if event.get("explode"):
            del self.pending[line_no]
            raise RuntimeError("backend down")
        self.processed.append(line_no)
        del self.pending[line_no]


def make_queue(journal: Journal, capacity: int = 4, workers: int = 3) -> LineQueue:
    return LineQueue(journal.process, journal.load_pending, capacity=capacity, workers=workers)


async def test_burst_beyond_capacity_is_processed_once_each() -> None:
    journal = Journal()
    queue = make_queue(journal)
    for line_no in range(1, 41):
        journal.pending[line_no] = {"text": str(line_no)}
        queue.offer(line_no, journal.pending[line_no])
    assert queue.busy
    await asyncio.wait_for(queue.drained(), 10)
    assert sorted(journal.processed) == list(range(1, 41))
    assert len(journal.processed) == 40
    assert journal.peak <= 3


async def test_resume_backlog_picks_up_lines_left_in_the_journal() -> None:
    journal = Journal()
    journal.pending = {n: {"text": str(n)} for n in (3, 7, 9)}
    queue = make_queue(journal)
    queue.resume_backlog()
    await asyncio.wait_for(queue.drained(), 10)
    assert sorted(journal.processed) == [3, 7, 9]


async def test_a_failing_line_does_not_stop_the_others() -> None:
    journal = Journal()
    queue = make_queue(journal, capacity=2, workers=1)
    for line_no in range(1, 6):
        journal.pending[line_no] = {"explode": line_no == 2}
        queue.offer(line_no, journal.pending[line_no])
    await asyncio.wait_for(queue.drained(), 10)
    assert journal.processed == [1, 3, 4, 5]


async def test_idle_queue_is_drained() -> None:
    queue = make_queue(Journal())
    assert not queue.busy
    await asyncio.wait_for(queue.drained(), 1)


async def test_abandon_stops_work_and_keeps_the_rest_pending() -> None:
    journal = Journal()
    queue = make_queue(journal, capacity=4, workers=2)
    for line_no in range(1, 21):
        journal.pending[line_no] = {"text": str(line_no)}
        queue.offer(line_no, journal.pending[line_no])
    await asyncio.sleep(0.012)
    done_before = len(journal.processed)
    queue.abandon()
    await asyncio.wait_for(queue.drained(), 1)
    await asyncio.sleep(0.05)
    assert len(journal.processed) == done_before < 20
    assert len(journal.pending) == 20 - done_before
    assert not queue.busy
