"""Newest-first slots: pure asyncio, no model."""

from __future__ import annotations

import asyncio

import pytest

from glossify.explain.slots import NewestFirstSlots


async def _hold(slots: NewestFirstSlots, name: str, order: list[str], gate: asyncio.Event) -> None:
    async with slots.claim():
        order.append(name)
        await gate.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_waiters_are_served_newest_first() -> None:
    slots = NewestFirstSlots(1)
    order: list[str] = []
    gate = asyncio.Event()
    tasks = []
    for name in ["first", "second", "third", "fourth"]:
        tasks.append(asyncio.create_task(_hold(slots, name, order, gate)))
        await _settle()
    assert order == ["first"]
    assert slots.waiting == 3
    gate.set()
    await asyncio.gather(*tasks)
    assert order == ["first", "fourth", "third", "second"]
    assert slots.free == 1 and slots.waiting == 0


async def test_no_more_holders_than_slots() -> None:
    slots = NewestFirstSlots(2)
    holding = 0
    most = 0

    async def work() -> None:
        nonlocal holding, most
        async with slots.claim():
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(0.001)
            holding -= 1

    await asyncio.gather(*(work() for _ in range(20)))
    assert most == 2
    assert slots.free == 2


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    slots = NewestFirstSlots(1)
    order: list[str] = []
    gate = asyncio.Event()
    holder = asyncio.create_task(_hold(slots, "holder", order, gate))
    await _settle()
    gone = asyncio.create_task(_hold(slots, "gone", order, gate))
    await _settle()
    stays = asyncio.create_task(_hold(slots, "stays", order, gate))
    await _settle()
    gone.cancel()
    await _settle()
    assert slots.waiting == 1
    gate.set()
    await asyncio.gather(holder, stays)
    assert order == ["holder", "stays"]
    assert slots.free == 1


async def test_a_slot_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    slots = NewestFirstSlots(1)
    order: list[str] = []
    gate = asyncio.Event()
    holder = slots.claim()
    await holder.__aenter__()
    older = asyncio.create_task(_hold(slots, "older", order, gate))
    await _settle()
    newest = asyncio.create_task(_hold(slots, "newest", order, gate))
    await _settle()
    # Release hands the slot to "newest"; it is cancelled before it gets to run.
    await holder.__aexit__(None, None, None)
    newest.cancel()
    gate.set()
    await older
    with pytest.raises(asyncio.CancelledError):
        await newest
    assert order == ["older"]
    assert slots.free == 1


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        NewestFirstSlots(0)


async def test_a_waiter_gives_up_after_its_timeout_and_the_queue_moves_on() -> None:
    slots = NewestFirstSlots(1)
    order: list[str] = []
    gate = asyncio.Event()
    holder = asyncio.create_task(_hold(slots, "holder", order, gate))
    await _settle()
    with pytest.raises(TimeoutError):
        await slots.acquire(timeout_s=0.01)
    assert slots.waiting == 0
    later = asyncio.create_task(_hold(slots, "later", order, gate))
    await _settle()
    gate.set()
    await asyncio.gather(holder, later)
    assert order == ["holder", "later"]
    assert slots.free == 1
