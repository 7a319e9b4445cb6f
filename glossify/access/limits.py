"""Quota counters: a token-bucket ``RateLimiter`` and a concurrent ``Slots`` counter.

Both are keyed by strings (a meeting id, a client address, a service key id), pure and
single-threaded (one per ingress replica, called from its event loop), with the time passed in
by the caller (``time.monotonic()``) so tests need no sleeping.

- ``RateLimiter(rate_per_s, burst)``: ``take(key, now)`` returns None when allowed, else the
  seconds to wait (for ``Retry-After``). Memory is bounded: a bucket idle long enough to have
  refilled is indistinguishable from a new one and is dropped, and past ``max_keys`` the least
  recently used bucket goes.
- ``Slots(limit)``: ``acquire(key)`` / ``release(key)`` for things that stay open (sockets per
  meeting and per address, audio senders per meeting); counts never go negative and a key at 0
  takes no memory.

``QuotaExceeded`` is the refusal: 429 with ``Retry-After`` on REST (``headers()``), an ``error``
event or close code 4429 on a socket.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from glossify.access.principal import AccessError

DEFAULT_MAX_KEYS = 100_000


class QuotaExceeded(AccessError):
    """429: a quota is used up. ``retry_after_s`` is None when waiting will not help soon
    (e.g. a meeting at its socket limit)."""

    def __init__(self, code: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(429, code, message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        if self.retry_after_s is None:
            return {}
        return {"Retry-After": retry_after_header(self.retry_after_s)}


def retry_after_header(wait_s: float) -> str:
    """``Retry-After`` in whole seconds, rounded up, at least 1 (0 would invite a busy loop)."""
    return str(max(1, math.ceil(wait_s)))


class RateLimiter:
    """Token buckets per key: ``burst`` tokens at most, refilled at ``rate_per_s``."""

    def __init__(
        self, rate_per_s: float, burst: float, *, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        if rate_per_s <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate_per_s must be > 0, burst >= 1 and max_keys >= 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_keys = max_keys
        # Seconds for an empty bucket to refill: idle that long, a bucket is as good as new.
        self._refill_s = burst / rate_per_s
        # key -> (tokens, time of last update), least recently used first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float, cost: float = 1.0) -> float | None:
        """Take ``cost`` tokens from ``key``'s bucket: None when allowed, else the seconds
        until enough have refilled (nothing is taken then)."""
        if not 0 < cost <= self.burst:
            raise ValueError(f"cost must be in (0, {self.burst}]")
        self._evict_idle(now)
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            tokens = self.burst
        else:
            tokens, last = bucket
            # max(): a clock that steps back must not drain the bucket.
            tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate_per_s)
        if len(self._buckets) >= self.max_keys:
            self._buckets.popitem(last=False)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return None
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / self.rate_per_s

    def _evict_idle(self, now: float) -> None:
        # Least recently used first, so the scan stops at the first bucket still refilling:
        # amortised O(1) per take.
        while self._buckets:
            _, last = next(iter(self._buckets.values()))
            if now - last < self._refill_s:
                break
            self._buckets.popitem(last=False)


class Slots:
    """Concurrent holders per key, at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        self.limit = limit
        self._held: dict[str, int] = {}

    def __len__(self) -> int:
        """Keys holding at least one slot."""
        return len(self._held)

    def count(self, key: str) -> int:
        return self._held.get(key, 0)

    def acquire(self, key: str) -> bool:
        """Take a slot; False (nothing taken) when ``key`` already holds ``limit``."""
        held = self._held.get(key, 0)
        if held >= self.limit:
            return False
        self._held[key] = held + 1
        return True

    def release(self, key: str) -> None:
        """Give a slot back; releasing more than was acquired is a no-op, never negative."""
        held = self._held.get(key, 0)
        if held <= 1:
            self._held.pop(key, None)
        else:
            self._held[key] = held - 1
