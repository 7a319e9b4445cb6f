"""The journal buffer: writes kept while the database is unreachable reach it in order, once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from glossify.meetings.journal import JournalBuffer, JournalFull, merge_events


class Unreachable(ConnectionError):
    pass


class Journal:
    """A database as the buffer sees it: rows keyed by seq (so that writing a row again is
    harmless, as with ON CONFLICT DO NOTHING), which can be made unreachable. ``in_doubt``
    makes the next write commit and then lose its connection, as a cut mid-commit does."""

    def __init__(self) -> None:
        self.rows: dict[int, str] = {}
        self.order: list[int] = []
        self.reachable = True
        self.in_doubt = False
        self.attempts = 0

    def write(self, seq: int, text: str) -> Any:
        async def run() -> None:
            self.attempts += 1
            await asyncio.sleep(0)
            if not self.reachable:
                raise Unreachable("connection refused")
            if seq not in self.rows:
                self.rows[seq] = text
                self.order.append(seq)
            if self.in_doubt:
                self.in_doubt = False
                raise Unreachable("connection lost after the commit")

        return run


def is_outage(exc: Exception) -> bool:
    return isinstance(exc, ConnectionError)


def buffer(capacity: int = 10) -> JournalBuffer:
    return JournalBuffer(capacity, is_outage, retry_base_s=0.01, retry_max_s=0.05)


def event(seq: int) -> dict[str, Any]:
    return {"seq": seq, "type": "transcript", "text": f"line {seq}"}


async def test_writes_go_straight_through_while_the_database_answers() -> None:
    journal, kept = Journal(), buffer()
    for seq in (1, 2, 3):
        await kept.write(journal.write(seq, f"line {seq}"), f"event {seq}", event(seq))
    assert journal.order == [1, 2, 3]
    assert kept.empty and kept.kept_events() == []


async def test_an_outage_keeps_writes_in_order_and_writes_them_once_when_it_ends() -> None:
    journal, kept = Journal(), buffer()
    await kept.write(journal.write(1, "line 1"), "event 1", event(1))
    journal.reachable = False
    for seq in range(2, 7):
        # Returns at once: the meeting publishes the event meanwhile.
        await kept.write(journal.write(seq, f"line {seq}"), f"event {seq}", event(seq))
    assert kept.kept == 5
    assert [e["seq"] for e in kept.kept_events()] == [2, 3, 4, 5, 6]
    await asyncio.sleep(0.1)  # the flusher tries, and fails, a few times
    assert journal.order == [1]
    journal.reachable = True
    await asyncio.wait_for(kept.flushed(), 5)
    assert journal.order == [1, 2, 3, 4, 5, 6]
    assert kept.empty


async def test_writes_after_an_outage_queue_behind_those_kept_from_it() -> None:
    journal, kept = Journal(), buffer()
    journal.reachable = False
    await kept.write(journal.write(1, "line 1"), "event 1", event(1))
    journal.reachable = True
    attempts = journal.attempts
    # The database answers again, but the flusher has not written seq 1 yet: seq 2 waits.
    await kept.write(journal.write(2, "line 2"), "event 2", event(2))
    assert journal.attempts == attempts
    await asyncio.wait_for(kept.flushed(), 5)
    assert journal.order == [1, 2]


async def test_an_in_doubt_commit_is_written_again_and_kept_once() -> None:
    journal, kept = Journal(), buffer()
    journal.in_doubt = True
    await kept.write(journal.write(1, "line 1"), "event 1", event(1))
    assert kept.kept == 1  # its outcome is unknown: kept, never re-stamped with another event
    await kept.write(journal.write(2, "line 2"), "event 2", event(2))
    await asyncio.wait_for(kept.flushed(), 5)
    assert journal.rows == {1: "line 1", 2: "line 2"}
    assert journal.order == [1, 2]


async def test_a_statement_the_database_refuses_is_raised_not_kept() -> None:
    kept = buffer()

    async def refused() -> None:
        raise ValueError("violates a constraint")

    with pytest.raises(ValueError):
        await kept.write(refused, "event 1", event(1))
    assert kept.empty


async def test_a_refused_statement_kept_behind_an_outage_does_not_block_the_rest() -> None:
    journal, kept = Journal(), buffer()
    journal.reachable = False
    await kept.write(journal.write(1, "line 1"), "event 1", event(1))

    async def refused() -> None:
        if not journal.reachable:
            raise Unreachable("connection refused")
        raise ValueError("violates a constraint")

    await kept.write(refused, "event 2", event(2))
    await kept.write(journal.write(3, "line 3"), "event 3", event(3))
    journal.reachable = True
    await asyncio.wait_for(kept.flushed(), 5)
    assert journal.order == [1, 3]


async def test_the_bound_is_checked_before_a_write_and_what_was_attempted_is_kept() -> None:
    journal, kept = Journal(), buffer(capacity=3)
    journal.reachable = False
    for seq in (1, 2, 3):
        kept.check_room()
        await kept.write(journal.write(seq, f"line {seq}"), f"event {seq}", event(seq))
    with pytest.raises(JournalFull):
        kept.check_room()
    assert kept.kept == 3
    journal.reachable = True
    await asyncio.wait_for(kept.flushed(), 5)
    kept.check_room()  # room again
    assert journal.order == [1, 2, 3]


async def test_the_flusher_says_when_it_caught_up() -> None:
    journal, caught_up = Journal(), asyncio.Event()
    kept = JournalBuffer(
        10, is_outage, retry_base_s=0.01, retry_max_s=0.05, on_flushed=caught_up.set
    )
    journal.reachable = False
    await kept.write(journal.write(1, "line 1"), "event 1", event(1))
    assert not caught_up.is_set()
    journal.reachable = True
    await asyncio.wait_for(caught_up.wait(), 5)
    assert journal.order == [1]


def test_replays_merge_the_database_and_the_buffer_by_seq() -> None:
    stored = [event(seq) for seq in (3, 4, 5)]
    kept = [event(seq) for seq in (5, 6, 7)]  # seq 5 was written while the database was read
    merged = merge_events(stored, kept, since=2, limit=10)
    assert [e["seq"] for e in merged] == [3, 4, 5, 6, 7]
    assert [e["seq"] for e in merge_events(stored, kept, since=4, limit=2)] == [5, 6]
    assert merge_events([], [], since=0, limit=5) == []


async def test_waiting_for_the_flush_wakes_a_flusher_in_its_backoff() -> None:
    journal = Journal()
    patient = JournalBuffer(10, is_outage, retry_base_s=60.0, retry_max_s=60.0)
    journal.reachable = False
    await patient.write(journal.write(1, "line 1"), "event 1", event(1))
    while journal.attempts < 2:  # noqa: ASYNC110 - the flusher tried again and sleeps a minute
        await asyncio.sleep(0.01)
    journal.reachable = True
    # A stop asked for again once the database is back does not wait out the backoff.
    async with asyncio.timeout(5):
        await patient.flushed()
    assert journal.rows == {1: "line 1"}
    patient.close()
