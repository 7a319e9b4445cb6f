"""A listener that lives through faults: it records every event with the time it came, and
after a dropped socket connects again with ``?since=`` the last seq it has (as the meeting
page does), so that what the server sends twice or never shows in the record."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import websockets

from bench.faults.accounting import Received
from glossify.cli.stream_client import socket_subprotocols

# Waits between attempts to connect again; the last one repeats until the listener is closed.
RECONNECT_DELAYS_S = (0.2, 0.5, 1.0, 2.0)
# A refused handshake (the proxy answering 503 while a new ingress replica starts) is retried
# like a dropped socket.
RETRYABLE = (OSError, TimeoutError, websockets.WebSocketException)


class RecordingListener:
    def __init__(self, url: str, credential: str) -> None:
        self.url = url
        self.credential = credential
        self.received: list[Received] = []
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._failures = 0  # attempts since the last accepted connection

    async def __aenter__(self) -> RecordingListener:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._connected.wait(), 60)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def last_seq(self) -> int:
        return max((r.event["seq"] for r in self.received if "seq" in r.event), default=0)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r.event for r in self.received if kind is None or r.event.get("type") == kind]

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(*RETRYABLE):
                await self._listen()
            self.reconnects += 1
            delay = RECONNECT_DELAYS_S[min(self._failures, len(RECONNECT_DELAYS_S) - 1)]
            self._failures += 1
            await asyncio.sleep(delay)

    async def _listen(self) -> None:
        async with websockets.connect(
            f"{self.url}?since={self.last_seq}",
            subprotocols=socket_subprotocols(self.credential),
            max_size=2**22,
            open_timeout=30,
        ) as ws:
            ready = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if ready.get("type") != "ready":
                raise websockets.InvalidMessage(f"not ready: {ready}")
            self._connected.set()
            self._failures = 0
            async for raw in ws:
                self.received.append(Received(time.monotonic(), json.loads(raw)))

    async def wait_for_seq(self, seq: int, within_s: float) -> bool:
        """True once the listener has every event up to ``seq`` (False after ``within_s``)."""
        deadline = time.monotonic() + within_s
        while self.last_seq < seq:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True

    async def wait_quiet(self, quiet_s: float, within_s: float) -> None:
        """Returns once nothing has come for ``quiet_s`` (or after ``within_s``)."""
        began = time.monotonic()
        while time.monotonic() - began < within_s:
            last = self.received[-1].at if self.received else began
            if time.monotonic() - last >= quiet_s:
                return
            await asyncio.sleep(0.5)
