"""One decode at a time on a model, where a waiting final always goes before a waiting partial.

A final line is what the meeting keeps; a partial is a preview that is stale a second later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FinalsFirst:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._finals_waiting = 0
        self._no_finals_waiting = asyncio.Event()
        self._no_finals_waiting.set()

    @property
    def finals_waiting(self) -> int:
        return self._finals_waiting

    @asynccontextmanager
    async def final(self) -> AsyncIterator[None]:
        self._finals_waiting += 1
        self._no_finals_waiting.clear()
        try:
            await self._lock.acquire()
        finally:
            self._finals_waiting -= 1
            if self._finals_waiting == 0:
                self._no_finals_waiting.set()
        try:
            yield
        finally:
            self._lock.release()

    @asynccontextmanager
    async def partial(self) -> AsyncIterator[None]:
        while True:
            await self._no_finals_waiting.wait()
            await self._lock.acquire()
            if self._finals_waiting == 0:
                break
            # A final queued up while we waited for the lock: let it go first.
            self._lock.release()
        try:
            yield
        finally:
            self._lock.release()
