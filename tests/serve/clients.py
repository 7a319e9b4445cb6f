"""Real WebSocket listeners and small waiting helpers for the Serve tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from glossify.cli.stream_client import socket_subprotocols
from tests.credentials import TEST_KEY

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def connect(url: str, credential: str | None = TEST_KEY, **options: Any) -> Any:
    """A WebSocket client carrying ``credential`` in the handshake's subprotocols."""
    return websockets.connect(url, subprotocols=socket_subprotocols(credential), **options)


def new_meeting_id(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Listener:
    """A WebSocket client that records every event it receives, in order."""

    def __init__(self, url: str, credential: str | None = TEST_KEY) -> None:
        self.url = url
        self.credential = credential
        self.events: list[dict[str, Any]] = []
        self.ready: dict[str, Any] | None = None
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Listener:
        self._ws: ClientConnection = await connect(self.url, self.credential, max_size=2**22)
        self.ready = json.loads(await asyncio.wait_for(self._ws.recv(), 30))
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        await self._ws.close()

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        if isinstance(message, dict):
            message = json.dumps(message)
        await self._ws.send(message)

    async def _read(self) -> None:
        async for raw in self._ws:
            self.events.append(json.loads(raw))
            self._changed.set()

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("type") == kind]

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], within: float = 60.0
    ) -> list[dict[str, Any]]:
        async def _wait() -> None:
            while not predicate(self.events):
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(_wait(), within)
        except TimeoutError:
            # The newest events say most about what the test waited for: the last twelve,
            # their texts cut short.
            shown = [{**e, "text": e["text"][:80]} if "text" in e else e for e in self.events[-12:]]
            raise AssertionError(
                f"timed out after {len(self.events)} events; the last: "
                f"{json.dumps(shown, ensure_ascii=False)[:4000]}"
            ) from None
        return self.events


async def poll_until(
    fetch: Callable[[], Any], done: Callable[[Any], bool], within: float = 60.0
) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await fetch()
        if done(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last value {value!r}")
        await asyncio.sleep(0.3)


@asynccontextmanager
async def listeners(url: str, count: int) -> AsyncIterator[list[Listener]]:
    """``count`` listeners connected to ``url`` at once, for as long as the block runs."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(Listener(url)) for _ in range(count)]


async def refused_handshake(url: str, credential: str | None = TEST_KEY, **options: Any) -> int:
    """The HTTP status of a WebSocket handshake the server refuses (fails if it accepts)."""
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, credential, **options):
            pass
    return int(refused.value.response.status_code)
