"""Fair, newest-first slots: pure asyncio, no model."""

from __future__ import annotations

import asyncio

import pytest

from glossify.explain.slots import FairSlots


async def _hold(
    slots: FairSlots,
    name: str,
    order: list[str],
    gate: asyncio.Event,
    meeting: str | None = None,
) -> None:
    async with slots.claim(meeting=meeting):
        order.append(name)
        await gate.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_waiters_are_served_newest_first() -> None:
    slots = FairSlots(1)
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
    slots = FairSlots(2)
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
    slots = FairSlots(1)
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
    slots = FairSlots(1)
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
        FairSlots(0)


async def test_a_waiter_gives_up_after_its_timeout_and_the_queue_moves_on() -> None:
    slots = FairSlots(1)
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


async def test_a_freed_slot_goes_to_the_meeting_holding_fewest() -> None:
    slots = FairSlots(2)
    order: list[str] = []
    gate = asyncio.Event()
    tasks = [asyncio.create_task(_hold(slots, f"busy-{n}", order, gate, "busy")) for n in range(2)]
    await _settle()
    assert slots.held_by("busy") == 2
    for name, meeting in [("busy-2", "busy"), ("quiet", "quiet"), ("busy-3", "busy")]:
        tasks.append(asyncio.create_task(_hold(slots, name, order, gate, meeting)))
        await _settle()
    gate.set()
    await asyncio.gather(*tasks)
    # "busy-3" is newer, but its meeting already holds both slots: "quiet" goes first.
    assert order == ["busy-0", "busy-1", "quiet", "busy-3", "busy-2"]
    assert slots.free == 2 and slots.held_by("busy") == 0 and slots.held_by("quiet") == 0


async def test_meetings_take_turns_each_with_its_newest_first() -> None:
    slots = FairSlots(1)
    order: list[str] = []
    gates = {name: asyncio.Event() for name in ["a0", "a1", "a2", "b0", "b1"]}

    async def hold(name: str) -> None:
        async with slots.claim(meeting=name[0]):
            order.append(name)
            await gates[name].wait()

    tasks = []
    for name in ["a0", "a1", "a2", "b0", "b1"]:
        tasks.append(asyncio.create_task(hold(name)))
        await _settle()
    for gate in gates.values():
        gate.set()
        await _settle()
    await asyncio.gather(*tasks)
    # "a" was just served, so "b" goes next; then "a" again: each with its newest term.
    assert order == ["a0", "b1", "a2", "b0", "a1"]


async def test_a_waiting_meeting_is_not_starved_by_meetings_that_keep_arriving() -> None:
    slots = FairSlots(1)
    order: list[str] = []
    gate = asyncio.Event()
    holder = await slots.acquire(meeting="first")
    waiting = [asyncio.create_task(_hold(slots, "patient", order, gate, "patient"))]
    await _settle()
    for n in range(5):
        # A new meeting's first term comes in just before each slot frees up.
        waiting.append(asyncio.create_task(_hold(slots, f"new-{n}", order, gate, f"new-{n}")))
        await _settle()
        if n == 0:
            gate.set()
            await holder.__aexit__(None, None, None)
        await _settle()
    await asyncio.gather(*waiting)
    # Meetings go in the order they started waiting: newest-first across meetings would
    # have kept "patient" waiting while new meetings kept coming.
    assert order[0] == "patient"
    assert slots.free == 1


async def test_a_backlogged_meeting_keeps_its_turn_against_meetings_that_come_back() -> None:
    # "a" and "c" say their next term as soon as their last one is explained, so each comes
    # back with nothing queued while another meeting holds the slot; "b" has a backlog of three.
    slots = FairSlots(1)
    order: list[str] = []
    gates: dict[str, asyncio.Event] = {}
    tasks: list[asyncio.Task[None]] = []
    said = {"a": 0, "c": 0}

    def say(meeting: str, name: str) -> None:
        gates[name] = asyncio.Event()
        tasks.append(asyncio.create_task(_hold(slots, name, order, gates[name], meeting)))

    say("a", "a0")
    await _settle()
    for name in ["b0", "b1", "b2", "c0"]:
        say(name[0], name)
        await _settle()
    for _ in range(9):
        served = order[-1]
        gates[served].set()
        await _settle()
        if served[0] in said:
            said[served[0]] += 1
            say(served[0], f"{served[0]}{said[served[0]]}")
            await _settle()
    # Served a meeting at a time: b's backlog is not pushed back by a and c coming back.
    assert [name[0] for name in order[:9]] == ["a", "b", "c", "a", "b", "c", "a", "b", "c"]
    for gate in gates.values():
        gate.set()
    await asyncio.gather(*tasks)
