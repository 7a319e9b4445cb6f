"""Token-bucket rate limiter and concurrent slots."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glossify.access.limits import QuotaExceeded, RateLimiter, Slots, retry_after_header
from glossify.access.principal import AccessError


def test_burst_then_refused_with_the_wait() -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=4)
    assert [limiter.take("m1", now=0.0) for _ in range(4)] == [None] * 4
    assert limiter.take("m1", now=0.0) == pytest.approx(0.5)
    assert limiter.take("m1", now=0.25) == pytest.approx(0.25)  # refused takes nothing
    assert limiter.take("m1", now=0.5) is None
    assert limiter.take("m1", now=0.5) == pytest.approx(0.5)


def test_keys_are_independent() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1)
    assert limiter.take("a", now=0.0) is None
    assert limiter.take("a", now=0.0) is not None
    assert limiter.take("b", now=0.0) is None


def test_refill_never_exceeds_burst() -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=3)
    for _ in range(3):
        limiter.take("k", now=0.0)
    allowed = sum(limiter.take("k", now=1000.0) is None for _ in range(10))
    assert allowed == 3


def test_sustained_rate() -> None:
    limiter = RateLimiter(rate_per_s=20.0, burst=40)
    allowed = sum(limiter.take("m", now=i / 1000) is None for i in range(10_000))  # 10 s at 1 kHz
    assert 40 + 200 - 2 <= allowed <= 40 + 200 + 1


def test_cost() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=10)
    assert limiter.take("k", now=0.0, cost=10) is None
    assert limiter.take("k", now=0.0, cost=5) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        limiter.take("k", now=0.0, cost=11)
    with pytest.raises(ValueError):
        limiter.take("k", now=0.0, cost=0)


def test_clock_stepping_back_does_not_drain_or_fill() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=2)
    limiter.take("k", now=100.0)
    limiter.take("k", now=100.0)
    assert limiter.take("k", now=50.0) == pytest.approx(1.0)
    assert limiter.take("k", now=51.0) is None


def test_idle_buckets_are_dropped() -> None:
    limiter = RateLimiter(rate_per_s=10.0, burst=20)  # refills in 2 s
    for key in ("a", "b", "c"):
        limiter.take(key, now=0.0)
    assert len(limiter) == 3
    limiter.take("d", now=1.0)
    assert len(limiter) == 4
    limiter.take("d", now=2.5)  # a, b and c are as good as new: dropped
    assert len(limiter) == 1


def test_key_count_is_capped_least_recently_used_first() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=5, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.take(key, now=0.0)
    limiter.take("a", now=0.1)  # a is now the most recent
    limiter.take("d", now=0.2)
    assert len(limiter) == 3
    # b went: it starts again with a full bucket; a kept its count.
    assert [limiter.take("a", now=0.2) for _ in range(3)].count(None) == 3
    assert limiter.take("a", now=0.2) is not None


def test_bad_limiter_settings() -> None:
    for rate, burst in ((0.0, 1), (1.0, 0.5), (-1.0, 5)):
        with pytest.raises(ValueError):
            RateLimiter(rate, burst)
    with pytest.raises(ValueError):
        RateLimiter(1.0, 1, max_keys=0)


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0, 5)), max_size=200))
def test_memory_stays_bounded(takes: list[tuple[str, float]]) -> None:
    limiter = RateLimiter(rate_per_s=3.0, burst=2, max_keys=4)
    now = 0.0
    for key, step in takes:
        now += step
        wait = limiter.take(key, now)
        assert wait is None or 0 < wait <= 1 / 3 + 1e-9
        assert len(limiter) <= 4


def test_slots() -> None:
    slots = Slots(limit=2)
    assert slots.acquire("m1") and slots.acquire("m1")
    assert not slots.acquire("m1")
    assert slots.acquire("m2")
    assert (slots.count("m1"), slots.count("m2"), len(slots)) == (2, 1, 2)
    slots.release("m1")
    assert slots.acquire("m1")
    for _ in range(5):
        slots.release("m2")
    assert slots.count("m2") == 0 and len(slots) == 1
    slots.release("never-acquired")
    assert slots.count("never-acquired") == 0 and len(slots) == 1
    with pytest.raises(ValueError):
        Slots(0)


@given(st.lists(st.tuples(st.booleans(), st.sampled_from("xyz")), max_size=100))
def test_slots_never_negative_never_above_limit(operations: list[tuple[bool, str]]) -> None:
    slots = Slots(limit=3)
    for acquire, key in operations:
        if acquire:
            slots.acquire(key)
        else:
            slots.release(key)
        assert all(0 <= slots.count(k) <= 3 for k in "xyz")
        assert len(slots) == sum(slots.count(k) > 0 for k in "xyz")


def test_quota_exceeded() -> None:
    error = QuotaExceeded("too_many_lines", "this meeting sends lines too fast", 0.2)
    assert isinstance(error, AccessError)
    assert (error.status, error.close_code) == (429, 4429)
    assert error.headers() == {"Retry-After": "1"}
    assert error.body()["code"] == "too_many_lines"
    assert QuotaExceeded("too_many_sockets", "full").headers() == {}


@pytest.mark.parametrize(("wait", "header"), [(0.0, "1"), (0.01, "1"), (1.0, "1"), (1.2, "2")])
def test_retry_after_header(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header
