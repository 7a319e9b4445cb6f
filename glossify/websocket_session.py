"""One WebSocket connection: ``ready``, replay from ``?since=``, then live events; bad frames
get an ``error`` event and the connection stays open until a client is plainly abusive."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from glossify.meeting_hosts import MeetingHosts
from glossify.protocol import ProtocolError, check_meeting_id, error_event

log = logging.getLogger(__name__)

POLL_WAIT_S = 15.0
MAX_ERRORS = 20
MAX_TEXT_FRAME_CHARS = 64 * 1024
POLICY_VIOLATION = 1008


def parse_since(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ProtocolError(400, "invalid_since", "since must be a non-negative integer seq")
    return int(raw)


class _Socket:
    """Serialises sends: the event pump and error replies share one socket."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._lock = asyncio.Lock()
        self.errors = 0

    async def send(self, message: dict[str, Any]) -> None:
        async with self._lock:
            await self.ws.send_text(json.dumps(message))

    async def error(self, code: str, message: str) -> None:
        self.errors += 1
        await self.send(error_event(code, message))


async def serve_socket(ws: WebSocket, hosts: MeetingHosts) -> None:
    await ws.accept()
    socket = _Socket(ws)
    try:
        meeting_id = check_meeting_id(ws.path_params["mid"])
        since = parse_since(ws.query_params.get("since"))
    except ProtocolError as exc:
        await socket.error(exc.code, exc.message)
        await ws.close(code=POLICY_VIOLATION)
        return
    opened = await hosts.call(meeting_id, "open")
    last_seq = opened["last_seq"]
    await socket.send({"type": "ready", "meeting_id": meeting_id, "seq": last_seq})
    if since is not None and since > last_seq:
        await socket.error("since_ahead", f"since={since} is past the last seq {last_seq}")
        since = last_seq
    pump = asyncio.create_task(_pump_events(socket, hosts, meeting_id, since, last_seq))
    try:
        await _receive_frames(socket)
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
    if ws.application_state == WebSocketState.CONNECTED:
        await ws.close(code=POLICY_VIOLATION)


async def _pump_events(
    socket: _Socket, hosts: MeetingHosts, meeting_id: str, since: int | None, last_seq: int
) -> None:
    cursor = last_seq if since is None else since
    try:
        while True:
            result = await hosts.call(meeting_id, "events_after", cursor, POLL_WAIT_S)
            for event in result["events"]:
                await socket.send(event)
                cursor = event["seq"]
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("event stream for meeting %s broke", meeting_id)
        await socket.ws.close(code=1011)


async def _receive_frames(socket: _Socket) -> None:
    """Reads client frames until the client leaves or is closed for abuse."""
    while socket.errors < MAX_ERRORS:
        message = await socket.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("bytes") is not None:
            await socket.error(
                "audio_unavailable", "this deployment has no Transcriber: send text to /stt"
            )
            continue
        await _handle_text(socket, message.get("text") or "")
    await socket.error("too_many_errors", "closing: too many bad frames")


async def _handle_text(socket: _Socket, text: str) -> None:
    if len(text) > MAX_TEXT_FRAME_CHARS:
        await socket.error("frame_too_large", f"text frames are limited to {MAX_TEXT_FRAME_CHARS}")
        return
    try:
        frame = json.loads(text)
    except json.JSONDecodeError:
        await socket.error("malformed_json", "text frames must be JSON objects")
        return
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind == "ping":
        await socket.send({"type": "pong"})
    elif kind in ("audio_start", "audio_end"):
        await socket.error("audio_unavailable", "this deployment has no Transcriber")
    else:
        await socket.error("unknown_type", f"unknown frame type {kind!r}")
