"""A meeting's journal writes, kept in memory while PostgreSQL is unreachable. No Ray.

Journal first, publish second stays the rule while the database answers. When a write fails
because the database cannot be reached, its outcome is unknown (it may have committed), so the
write is kept, as it was, and tried again until the database returns: with idempotent writes
(same seq, same row) an in-doubt commit resolves itself instead of wedging the meeting. The
meeting publishes the event meanwhile. Writes that come while some are kept queue behind them,
so the journal receives them in the order the meeting made them. The buffer is bounded: past
``capacity`` a new event is refused before it is written (the caller answers 503), never dropped
after it was accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from glossify.remote.retries import Deadline, Retry, with_retries

log = logging.getLogger(__name__)

Write = Callable[[], Awaitable[None]]
IsOutage = Callable[[Exception], bool]


class JournalFull(Exception):
    """The database is unreachable and the meeting's buffer holds all it may."""


@dataclass(frozen=True)
class KeptWrite:
    write: Write
    what: str
    # The event this write journals, if it journals one: replays read it until it is written.
    event: dict[str, Any] | None = None


class JournalBuffer:
    def __init__(
        self,
        capacity: int,
        is_outage: IsOutage,
        *,
        retry_base_s: float = 0.5,
        retry_max_s: float = 5.0,
        on_flushed: Callable[[], None] | None = None,
    ) -> None:
        self._capacity = capacity
        self._is_outage = is_outage
        self._retry_base_s = retry_base_s
        self._retry_max_s = retry_max_s
        self._on_flushed = on_flushed
        self._kept: deque[KeptWrite] = deque()
        self._empty = asyncio.Event()
        self._empty.set()
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.outages = 0

    @property
    def kept(self) -> int:
        return len(self._kept)

    @property
    def empty(self) -> bool:
        return not self._kept

    def kept_events(self) -> list[dict[str, Any]]:
        """The events not yet in the database, in seq order."""
        return [kept.event for kept in self._kept if kept.event is not None]

    def check_room(self) -> None:
        """Raises JournalFull when a new event would not fit; call before stamping it."""
        if len(self._kept) >= self._capacity:
            raise JournalFull(f"{len(self._kept)} journal writes wait for the database")

    async def write(self, write: Write, what: str, event: dict[str, Any] | None = None) -> None:
        """Write now; or, when the database is unreachable or writes already wait, keep the
        write for the flusher. Failures of the statement itself (not of reaching the
        database) are raised: nothing was written then."""
        kept = KeptWrite(write, what, event)
        if self._kept:
            self._keep(kept)
            return
        try:
            await write()
        except Exception as exc:
            if not self._is_outage(exc):
                raise
            self.outages += 1
            log.warning("journal unreachable (%r); keeping %s until it is back", exc, what)
            self._keep(kept)

    async def flushed(self) -> None:
        """Returns once every kept write is in the database. Someone is waiting: the flusher
        tries again now instead of at the end of its backoff (a stop asked for again once the
        database is back would otherwise spend its deadline on a sleeping flusher)."""
        if self._kept:
            self._wake.set()
        await self._empty.wait()

    def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()

    def _keep(self, kept: KeptWrite) -> None:
        self._kept.append(kept)
        self._empty.clear()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._kept:
            head = self._kept[0]
            try:
                # Until the database is back, however long that takes.
                await with_retries(
                    head.write,
                    classify=lambda exc: Retry() if self._is_outage(exc) else None,
                    deadline=Deadline(math.inf),
                    max_attempts=sys.maxsize,
                    backoff_base_s=self._retry_base_s,
                    max_backoff_s=self._retry_max_s,
                    max_retry_after_s=math.inf,
                    what=f"the kept journal write of {head.what}",
                    pause=self._pause,
                )
            except Exception:
                # Trying it again cannot help, and holding it would stop every write after it.
                log.exception("journal write of %s failed for good; it is not journaled", head.what)
            self._kept.popleft()
        log.info("journal writes kept during the outage are all written")
        self._empty.set()
        if self._on_flushed is not None:
            self._on_flushed()

    async def _pause(self, delay_s: float) -> None:
        """Sleep ``delay_s``, or less if ``flushed()`` is awaited meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay_s)
        self._wake.clear()


def merge_events(
    stored: Iterable[dict[str, Any]], kept: Iterable[dict[str, Any]], since: int, limit: int
) -> list[dict[str, Any]]:
    """Events after ``since`` from the database and from the buffer, each seq once, in order.

    Read the buffer first and the database second: a kept write that lands in between is
    then found in one of them (or both), never in neither."""
    by_seq = {event["seq"]: event for event in (*stored, *kept) if event["seq"] > since}
    return [by_seq[seq] for seq in sorted(by_seq)[:limit]]
