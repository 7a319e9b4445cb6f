"""The cross-meeting explanation cache: pure asyncio, no Ray."""

from __future__ import annotations

import asyncio

import pytest

from glossify.explain.cache import ExplanationCache


class Backend:
    def __init__(self, delay_s: float = 0.01, fail: bool = False) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self.fail = fail

    async def explain(self, term: str) -> str:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("model down")
        return f"card for {term} #{self.calls}"


async def test_concurrent_asks_share_one_generation() -> None:
    cache: ExplanationCache[str] = ExplanationCache(10, 60)
    backend = Backend()
    results = await asyncio.gather(
        *(cache.get("kafka", lambda: backend.explain("kafka")) for _ in range(5))
    )
    assert backend.calls == 1
    assert {value for value, _ in results} == {"card for kafka #1"}
    assert sorted(lookup for _, lookup in results) == [
        "miss",
        "shared",
        "shared",
        "shared",
        "shared",
    ]
    value, lookup = await cache.get("kafka", lambda: backend.explain("kafka"))
    assert (value, lookup) == ("card for kafka #1", "hit")
    assert backend.calls == 1


async def test_failures_reach_every_waiter_and_are_not_kept() -> None:
    cache: ExplanationCache[str] = ExplanationCache(10, 60)
    broken = Backend(fail=True)
    results = await asyncio.gather(
        *(cache.get("sla", lambda: broken.explain("sla")) for _ in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert broken.calls == 1
    working = Backend()
    assert await cache.get("sla", lambda: working.explain("sla")) == ("card for sla #1", "miss")


async def test_a_waiter_giving_up_does_not_cancel_the_others() -> None:
    cache: ExplanationCache[str] = ExplanationCache(10, 60)
    backend = Backend(delay_s=0.05)
    impatient = asyncio.create_task(cache.get("okr", lambda: backend.explain("okr")))
    await asyncio.sleep(0)
    patient = asyncio.create_task(cache.get("okr", lambda: backend.explain("okr")))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == ("card for okr #1", "shared")
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_oldest_entries_are_evicted_and_old_ones_expire() -> None:
    cache: ExplanationCache[str] = ExplanationCache(2, 60)
    backend = Backend(delay_s=0)
    for term in ["a", "b", "c"]:
        await cache.get(term, lambda term=term: backend.explain(term))
    assert len(cache) == 2
    assert cache.cached("a") is None
    assert cache.cached("c") == "card for c #3"
    expiring: ExplanationCache[str] = ExplanationCache(10, 0.0)
    await expiring.get("x", lambda: backend.explain("x"))
    await asyncio.sleep(0.001)
    assert expiring.cached("x") is None


async def test_zero_entries_keeps_and_shares_nothing() -> None:
    cache: ExplanationCache[str] = ExplanationCache(0, 60)
    backend = Backend()
    results = await asyncio.gather(
        *(cache.get("a", lambda: backend.explain("a")) for _ in range(3))
    )
    assert backend.calls == 3
    assert all(lookup == "miss" for _, lookup in results)
    assert len(cache) == 0


async def test_an_answer_about_its_own_meeting_is_neither_kept_nor_shared() -> None:
    # Meeting A's answer names A's project; meeting B asks at the same moment.
    cache: ExplanationCache[str] = ExplanationCache(10, 60, lambda value: "Falcon" not in value)
    asked: list[str] = []

    async def explain(meeting: str, answer: str) -> str:
        asked.append(meeting)
        await asyncio.sleep(0.01)
        return answer

    first, second = await asyncio.gather(
        cache.get("roadmap", lambda: explain("A", "Project Falcon's plan")),
        cache.get("roadmap", lambda: explain("B", "A plan of future work")),
    )
    assert first == ("Project Falcon's plan", "miss")
    assert second == ("A plan of future work", "miss")
    assert asked == ["A", "B"]
    # B's general answer is kept; A's never was.
    assert cache.cached("roadmap") == "A plan of future work"
