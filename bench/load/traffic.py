"""The text load's traffic: listeners on each meeting's WebSocket, final lines posted on
schedule (open loop), and waiting for the stack to drain."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp

from bench.load.records import LineRecord, ListenerRun, Live, MeetingRun
from glossify.cli.stream_client import ws_url

# ---------------------------------------------------------------- listeners


async def connect_listener(
    session: aiohttp.ClientSession, url: str, run: ListenerRun, gate: asyncio.Semaphore
) -> aiohttp.ClientWebSocketResponse | None:
    async with gate:
        try:
            ws = await session.ws_connect(url, max_msg_size=2**22, autoping=True)
            ready = await asyncio.wait_for(ws.receive_json(), 30)
        except (aiohttp.ClientError, TimeoutError, ValueError, TypeError) as exc:
            run.connect_error = f"{type(exc).__name__}: {exc}"[:200]
            return None
    if ready.get("type") != "ready":
        run.connect_error = f"not ready: {ready}"[:200]
        await ws.close()
        return None
    return ws


async def read_listener(ws: aiohttp.ClientWebSocketResponse, run: ListenerRun, live: Live) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            now = time.monotonic()
            event = json.loads(message.data)
            run.events.append((now, event))
            live.saw(event, now)
        elif message.type == aiohttp.WSMsgType.ERROR:
            run.socket_error = repr(ws.exception())[:200]
            break
    if not run.closing and run.socket_error is None:
        run.closed_by_server = ws.close_code if ws.close_code is not None else -1


Opened = list[tuple[ListenerRun, aiohttp.ClientWebSocketResponse, "asyncio.Task[None]"]]


async def open_listeners(
    sockets: aiohttp.ClientSession,
    base_url: str,
    runs: list[MeetingRun],
    per_meeting: int,
    live: Live,
) -> Opened:
    """`per_meeting` listeners on each meeting (32 handshakes at a time), each read by a task."""
    gate = asyncio.Semaphore(32)
    for run in runs:
        run.listeners = [ListenerRun() for _ in range(per_meeting)]
    pairs = [(run, listener) for run in runs for listener in run.listeners]
    connected = await asyncio.gather(
        *(
            connect_listener(sockets, ws_url(base_url, run.meeting_id), listener, gate)
            for run, listener in pairs
        )
    )
    return [
        (listener, ws, asyncio.create_task(read_listener(ws, listener, live)))
        for (_, listener), ws in zip(pairs, connected, strict=True)
        if ws is not None
    ]


async def close_listeners(opened: Opened) -> None:
    for listener, _, _ in opened:
        listener.closing = True
    await asyncio.gather(*(ws.close() for _, ws, _ in opened), return_exceptions=True)
    await asyncio.gather(*(reader for _, _, reader in opened), return_exceptions=True)


# ---------------------------------------------------------------- speaking


async def post_line(
    session: aiohttp.ClientSession,
    base_url: str,
    meeting_id: str,
    record: LineRecord,
    live: Live,
    limits: aiohttp.ClientTimeout,
) -> None:
    record.sent_at = time.monotonic()
    live.lines_sent += 1
    live.in_flight += 1
    body = {"text": record.text, "is_final": True}
    try:
        url = f"{base_url}/meeting/{meeting_id}/stt"
        async with session.post(url, json=body, timeout=limits) as response:
            record.status = response.status
            answer = await response.json(content_type=None)
            record.duplicate = isinstance(answer, dict) and bool(answer.get("duplicate"))
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        record.error = type(exc).__name__
    finally:
        record.done_at = time.monotonic()
        live.in_flight -= 1


async def speak(
    session: aiohttp.ClientSession,
    base_url: str,
    run: MeetingRun,
    lines: Iterator[str],
    schedule: tuple[float, float, float],
    live: Live,
    args: argparse.Namespace,
) -> None:
    """Lines due at first, first + period, ... until `end`, each posted on time (open loop)
    unless --max-in-flight of this meeting's lines are still unanswered."""
    due, period, end = schedule
    timeout = aiohttp.ClientTimeout(total=args.http_timeout)
    gate = asyncio.Semaphore(args.max_in_flight)
    tasks: set[asyncio.Task[None]] = set()

    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        gate.release()

    while due < end:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        record = LineRecord(next(lines), due)
        run.lines.append(record)
        await gate.acquire()
        task = asyncio.create_task(
            post_line(session, base_url, run.meeting_id, record, live, timeout)
        )
        tasks.add(task)
        task.add_done_callback(done)
        due += period
    while tasks:
        await asyncio.gather(*list(tasks))


async def wait_drained(live: Live, settle_s: float, max_wait_s: float) -> bool:
    """Until no request is in flight and no event came for `settle_s`; False on timeout."""
    deadline = time.monotonic() + max_wait_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        quiet_for = time.monotonic() - max(live.last_event_at, 0.0)
        if live.in_flight == 0 and quiet_for >= settle_s:
            return True
    return False


async def health(session: aiohttp.ClientSession, base_url: str) -> dict[str, Any]:
    try:
        async with session.get(f"{base_url}/health") as response:
            return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return {"status": f"unreachable: {type(exc).__name__}"}
