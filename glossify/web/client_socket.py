"""One accepted WebSocket as the server's side uses it: sends serialised, bad frames counted, and
which seq has reached the client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.websockets import WebSocket

from glossify.protocol import error_event


class ClientSocket:
    """Serialises sends: the event pump and error replies share one socket."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._lock = asyncio.Lock()
        self.errors = 0
        self.delivered_seq = 0
        self._delivered = asyncio.Event()

    def mark_delivered(self, seq: int) -> None:
        self.delivered_seq = seq
        self._delivered.set()
        self._delivered = asyncio.Event()

    async def wait_delivered(self, seq: int) -> None:
        while self.delivered_seq < seq:
            await self._delivered.wait()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            await self.ws.send_text(json.dumps(message))

    async def error(self, code: str, message: str) -> None:
        self.errors += 1
        await self.send(error_event(code, message))
