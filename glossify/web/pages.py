"""The web pages and their files, served by the ingress from ``glossify/web/static/``.

The pages hold no data and need no credential: a page reads its meeting token from the URL
fragment (which browsers never send to a server) or asks for a key, and every call it makes is
authorised like any other. Files are served only from the static folder, only with a known
extension, never as a directory listing; a path with ``..``, a hidden segment, a backslash or a
link out of the folder is a 404.

Every response carries ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``
(``SecurityHeaders``); pages and static files carry a Content-Security-Policy allowing only this
origin (scripts, styles, images, fonts, the AudioWorklet, and fetch/WebSocket to itself), the
API's answers one that allows nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from glossify.protocol import MEETING_ID

STATIC_ROOT = Path(__file__).resolve().parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

# Host names and addresses only: anything else in a Host header stays out of the policy.
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
BASE_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
PAGE_HEADERS = {
    "cache-control": "no-cache",
    "cross-origin-opener-policy": "same-origin",
    # The meeting page may ask for the microphone (for itself only); nothing else.
    "permissions-policy": "microphone=(self), camera=(), geolocation=(), payment=(), usb=()",
}


def page_policy(host: str | None) -> str:
    """The Content-Security-Policy of a page served under ``host``: this origin only. Sockets
    to it are named as ws:/wss: too, since older browsers do not count them as 'self'."""
    connect = "'self'"
    if host and _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"font-src 'self'; connect-src {connect}; media-src 'self'; worker-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def static_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names inside ``root``, or None when it must not be served: an
    empty, hidden or ``..`` segment, a backslash or NUL, an unknown extension, a directory, a
    missing file, or a link that leads out of ``root``."""
    if not relative or "\\" in relative or "\x00" in relative or len(relative) > 512:
        return None
    parts = relative.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    if Path(parts[-1]).suffix.lower() not in CONTENT_TYPES:
        return None
    base = root.resolve()
    try:
        path = (base / relative).resolve()
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def _not_found() -> HTTPException:
    return HTTPException(404, "no such page or file")


async def file_response(request: Request, path: Path | None) -> Response:
    if path is None:
        raise _not_found()
    try:
        body = await asyncio.to_thread(path.read_bytes)
    except OSError:
        raise _not_found() from None
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        **PAGE_HEADERS,
        "etag": etag,
        "content-security-policy": page_policy(request.headers.get("host")),
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    media_type = CONTENT_TYPES[path.suffix.lower()]
    return Response(body, media_type=media_type, headers=headers)


def page_routes(root: Path = STATIC_ROOT) -> list[Route]:
    """``/`` (landing), ``/m/{mid}`` (a meeting), ``/glossary`` and ``/static/{path}``."""

    def page(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return await file_response(request, static_file(root, name))

        return serve

    async def meeting_page(request: Request) -> Response:
        if not MEETING_ID.fullmatch(request.path_params["mid"]):
            raise _not_found()
        return await file_response(request, static_file(root, "meeting.html"))

    async def static(request: Request) -> Response:
        return await file_response(request, static_file(root, request.path_params["path"]))

    return [
        Route("/", page("index.html"), methods=["GET"]),
        Route("/m/{mid}", meeting_page, methods=["GET"]),
        Route("/glossary", page("glossary.html"), methods=["GET"]),
        Route("/static/{path:path}", static, methods=["GET"]),
    ]


class SecurityHeaders:
    """ASGI middleware: ``nosniff`` and ``no-referrer`` on every response, and a policy that
    allows nothing on responses that set none (the API's JSON, errors, downloads)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in BASE_HEADERS.items():
                    headers[name] = value
                if "content-security-policy" not in headers:
                    headers["content-security-policy"] = API_POLICY
            await send(message)

        await self._app(scope, receive, send_with_headers)
