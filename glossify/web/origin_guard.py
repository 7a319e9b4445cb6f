"""Browser-facing checks before any route runs: the Host header, CORS, and the Origin of
state-changing requests and WebSocket handshakes (a page on another site must not act with a
visitor's browser: no cross-site WebSocket hijacking, no form or ``text/plain`` POSTs)."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glossify.access.origins import OriginPolicy, is_state_changing


class OriginGuard:
    """ASGI middleware applying an ``OriginPolicy`` to every HTTP request and WebSocket."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self._app = app
        self._policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, origin = headers.get("host"), headers.get("origin")
        if not self._policy.host_allowed(host):
            await self._refuse(scope, send, 400, "untrusted_host", "unknown Host header")
            return
        if scope["type"] == "websocket":
            if not self._policy.allows(origin, host=host):
                await self._refuse(scope, send, 403, "origin_not_allowed", "origin not allowed")
                return
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS" and origin is not None:
            preflight = self._policy.preflight_headers(origin, host=host)
            if preflight is None:
                await self._refuse(scope, send, 403, "origin_not_allowed", "origin not allowed")
            else:
                await _respond(send, 204, b"", preflight)
            return
        if is_state_changing(method) and not self._policy.allows(origin, host=host):
            await self._refuse(scope, send, 403, "origin_not_allowed", "origin not allowed")
            return
        cors = self._policy.cors_headers(origin, host=host) if origin is not None else {}

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                extra = [(k.lower().encode(), v.encode()) for k, v in cors.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self._app(scope, receive, send_with_cors)

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str, text: str) -> None:
        if scope["type"] == "websocket":
            # Closing before accepting refuses the handshake (HTTP 403 to the client).
            await send({"type": "websocket.close", "code": 4000 + status, "reason": code})
            return
        body = json.dumps({"status": "error", "code": code, "message": text}).encode()
        await _respond(send, status, body, {"content-type": "application/json"})


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
