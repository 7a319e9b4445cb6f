"""Collect concurrent requests for a few milliseconds and send them as one batch."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class MicroBatcher(Generic[Item, Result]):
    """``submit`` items; up to ``max_items`` that arrive within ``window_s`` of the first one go
    out together through ``send``, which returns one result per item, in order.

    Used where a service bills or throttles per request more than per item (Azure AI Language
    takes 5 documents per request): lines of concurrent meetings share requests, while a lone
    line waits only ``window_s``. A failed batch fails each of its items.
    """

    def __init__(
        self,
        send: Callable[[list[Item]], Awaitable[list[Result]]],
        *,
        max_items: int,
        window_s: float,
    ) -> None:
        if max_items < 1:
            raise ValueError("max_items must be positive")
        self._send = send
        self._max_items = max_items
        self._window_s = window_s
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._timer: asyncio.TimerHandle | None = None
        # Strong references: a task nobody holds may be garbage-collected mid-flight.
        self._in_flight: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) >= self._max_items:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            batch = self._pending[: self._max_items]
            self._pending = self._pending[self._max_items :]
            # An item whose caller has given up (cancelled) is not worth sending.
            batch = [(item, future) for item, future in batch if not future.done()]
            if batch:
                task = asyncio.create_task(self._run(batch))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._send([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} got {len(results)} results")
        except asyncio.CancelledError:
            # Shutting down: callers must not wait for an answer that will never come.
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def close(self) -> None:
        self._flush()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
