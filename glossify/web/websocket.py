"""One WebSocket connection: ``ready``, replay from ``?since=``, then live events; bad frames
get an ``error`` event and the connection stays open until a client is plainly abusive."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from glossify import metrics
from glossify.access.principal import (
    AccessError,
    Principal,
    TokenPrincipal,
    allows,
    authorize,
    bearer_credential,
    websocket_credential,
)
from glossify.access.scopes import Action
from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import ProtocolError, check_meeting_id
from glossify.web.audio_sender import AudioSender, AudioSupport
from glossify.web.client_socket import ClientSocket
from glossify.web.gate import AccessGate

__all__ = ["AudioSupport", "parse_since", "serve_socket"]

log = logging.getLogger(__name__)

POLL_WAIT_S = 15.0
MAX_ERRORS = 20
MAX_TEXT_FRAME_CHARS = 64 * 1024
POLICY_VIOLATION = 1008
# Close codes of a client that meant to leave (normal closure, going away).
NORMAL_CLOSURES = frozenset({1000, 1001})

_open_sockets = metrics.OpenCount(metrics.WEBSOCKETS_OPEN)


def parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ProtocolError(400, "invalid_since", "since must be a non-negative integer seq")
    return int(raw)


async def serve_socket(
    ws: WebSocket, hosts: MeetingHosts, gate: AccessGate, audio: AudioSupport | None
) -> None:
    """Checks who connects before accepting: a refused handshake is closed unaccepted (the
    client sees HTTP 403; the close code, 4000 + the status, reaches ASGI servers that pass
    it on: 4401, 4403, 4429)."""
    try:
        meeting_id = check_meeting_id(ws.path_params["mid"])
        since = parse_since(ws.query_params.get("since"))
    except ProtocolError as exc:
        # A malformed URL, not a refusal: the client is told why in an error event.
        await ws.accept()
        await ClientSocket(ws).error(exc.code, exc.message)
        await ws.close(code=POLICY_VIOLATION)
        return
    try:
        offered = websocket_credential(
            ws.query_params.get("access_token"), ws.headers.get("sec-websocket-protocol")
        )
        # Browsers cannot set headers on a WebSocket; server-side clients may use the usual one.
        credential = offered.credential or bearer_credential(ws.headers.get("authorization"))
        principal = gate.principal(credential)
        authorize(principal, Action.READ, meeting_id)
        address = ws.client.host if ws.client else "unknown"
        release_socket = gate.hold_socket(meeting_id, address)
    except AccessError as exc:
        await ws.close(code=exc.close_code, reason=exc.code)
        return
    try:
        with _open_sockets.held():
            await ws.accept(subprotocol=offered.subprotocol)
            await _serve_socket(ClientSocket(ws), hosts, gate, audio, principal, meeting_id, since)
    finally:
        release_socket()


async def _serve_socket(
    socket: ClientSocket,
    hosts: MeetingHosts,
    gate: AccessGate,
    audio: AudioSupport | None,
    principal: Principal,
    meeting_id: str,
    since: int | None,
) -> None:
    ws = socket.ws
    opened = await hosts.open(meeting_id, allows(principal, Action.HOST, meeting_id))
    refused = opened.get("refused")
    if refused is not None:
        await socket.error(refused["code"], refused["message"])
        await ws.close(code=4000 + refused["status"])
        return
    last_seq = opened["last_seq"]
    await socket.send({"type": "ready", "meeting_id": meeting_id, "seq": last_seq})
    if since is not None and since > last_seq:
        await socket.error("since_ahead", f"since={since} is past the last seq {last_seq}")
        since = last_seq
    pump = asyncio.create_task(_pump_events(socket, hosts, meeting_id, since, last_seq))
    expiry = asyncio.create_task(_close_at_expiry(socket, principal))
    sender = AudioSender(socket, hosts, gate, principal, meeting_id, audio)
    sender.meeting_language = opened["language"]
    dropped = False
    try:
        await _receive_frames(socket, sender)
    except WebSocketDisconnect as exc:
        dropped = exc.code not in NORMAL_CLOSURES
    finally:
        pump.cancel()
        expiry.cancel()
        await sender.finish(dropped)
    if ws.application_state == WebSocketState.CONNECTED:
        await ws.close(code=POLICY_VIOLATION)


async def _close_at_expiry(socket: ClientSocket, principal: Principal) -> None:
    """A meeting token's expiry ends its connection: the client must come back with a new one."""
    if not isinstance(principal, TokenPrincipal):
        return
    await asyncio.sleep(principal.seconds_left(time.time()))
    await socket.error("token_expired", "the meeting token has expired")
    await socket.ws.close(code=4401, reason="token_expired")


async def _pump_events(
    socket: ClientSocket, hosts: MeetingHosts, meeting_id: str, since: int | None, last_seq: int
) -> None:
    cursor = last_seq if since is None else since
    try:
        while True:
            result = await hosts.events_after(meeting_id, cursor, POLL_WAIT_S)
            refused = result.get("refused")
            if refused is not None:
                # e.g. old events while the journal is unreachable: reconnect later with ?since=.
                await socket.error(refused["code"], refused["message"])
                await socket.ws.close(code=1011)
                return
            for event in result["events"]:
                await socket.send(event)
                cursor = event["seq"]
                socket.mark_delivered(cursor)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("event stream for meeting %s broke", meeting_id)
        await socket.ws.close(code=1011)


async def _receive_frames(socket: ClientSocket, sender: AudioSender) -> None:
    """Reads client frames until the client leaves or is closed for abuse."""
    while socket.errors < MAX_ERRORS:
        message = await socket.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("bytes") is not None:
            await sender.receive_audio(message["bytes"])
            continue
        await _handle_text(socket, sender, message.get("text") or "")
    await socket.error("too_many_errors", "closing: too many bad frames")


async def _handle_text(socket: ClientSocket, sender: AudioSender, text: str) -> None:
    if len(text) > MAX_TEXT_FRAME_CHARS:
        await socket.error("frame_too_large", f"text frames are limited to {MAX_TEXT_FRAME_CHARS}")
        return
    try:
        frame = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        await socket.error("malformed_json", "text frames must be JSON objects")
        return
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind == "ping":
        await socket.send({"type": "pong"})
    elif kind in ("audio_start", "audio_end"):
        await sender.receive_control(frame)
    else:
        await socket.error("unknown_type", f"unknown frame type {kind!r}")
