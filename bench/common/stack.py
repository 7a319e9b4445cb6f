"""The stack a live benchmark runs against, and stopping its meetings.

`open_stack()` starts the local stack (Ray, Serve, a fresh embedded PostgreSQL in a temporary
GLOSSIFY_HOME, so the glossary starts empty; optionally reached through a proxy such as the
fault bench's cuttable one) or yields the running one at --url;
`stop_meetings()` stops meetings and waits for their glossary upserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from glossify.cli.local_stack import cli_credential


@contextmanager
def open_stack(
    args: argparse.Namespace,
    database_through: Callable[[str], AbstractContextManager[str]] | None = None,
) -> Iterator[tuple[str, Path | None]]:
    """(base URL, PostgreSQL data directory) of the stack started from `args` (--port,
    --app-args as JSON, --tiny-llm, --dashboard), shut down after the block; with --url, that
    URL and None. ``database_through(url)`` yields the URL the stack uses instead of its
    database's own (a proxy in front of it), for the duration of the block."""
    if args.url:
        yield args.url, None
        return
    home = Path(tempfile.mkdtemp(prefix="glossify-bench-"))
    os.environ.setdefault("GLOSSIFY_HOME", str(home))
    from glossify.cli.local_stack import local_stack

    app_args: dict[str, Any] = json.loads(args.app_args) if args.app_args else {}
    if args.tiny_llm:
        from glossify.weights.packaged import smollm2_path

        app_args.setdefault("explainer", {})["model_path"] = str(smollm2_path())
    try:
        dashboard = bool(getattr(args, "dashboard", False))
        with ExitStack() as database:
            if database_through is not None:
                from glossify.store.database import database_url

                # local_stack uses DATABASE_URL when it is set, rather than starting one.
                direct = database.enter_context(database_url())
                os.environ["DATABASE_URL"] = database.enter_context(database_through(direct))
            with local_stack(app_args, "127.0.0.1", args.port, dashboard=dashboard) as base:
                yield base, Path(os.environ["GLOSSIFY_HOME"]) / "pgdata"
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- stopping meetings


class Stoppable(Protocol):
    """A meeting to stop; `stop_meetings` fills in its two stop fields."""

    meeting_id: str
    stop_http: int | None  # the stop POST's status, -1 when it failed
    stop_status: dict[str, Any] | None  # the last GET …/stop/status

    def upsert_seen(self) -> bool | None:
        """True once a listener saw the upsert end (upsert_done / upsert_error), False while a
        connected listener is still waiting for it, None without one (ask /stop/status)."""
        ...


@dataclass
class MeetingStop:
    """A meeting without listeners: `stop_meetings` polls its /stop/status."""

    meeting_id: str
    stop_http: int | None = None
    stop_status: dict[str, Any] | None = None

    def upsert_seen(self) -> bool | None:
        return None


async def stop_status(
    session: aiohttp.ClientSession, base_url: str, meeting_id: str
) -> dict[str, Any]:
    try:
        async with session.get(f"{base_url}/meeting/{meeting_id}/stop/status") as response:
            answer = await response.json(content_type=None)
            return answer if isinstance(answer, dict) else {"status": f"http {response.status}"}
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return {"status": "request_failed", "error": type(exc).__name__}


async def stop_meetings(
    session: aiohttp.ClientSession,
    base_url: str,
    runs: Sequence[Stoppable],
    timeout_s: float,
) -> float:
    """POST stop to every meeting (32 at a time), wait up to `timeout_s` for each upsert (the
    listeners' upsert_* event, or polling /stop/status for meetings without listeners), then
    read every final status. Returns the seconds waited."""
    began = time.monotonic()
    gate = asyncio.Semaphore(32)

    async def post_stop(run: Stoppable) -> None:
        async with gate:
            try:
                url = f"{base_url}/meeting/{run.meeting_id}/stop"
                async with session.post(url) as response:
                    run.stop_http = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                run.stop_http = -1
                run.stop_status = {"status": "request_failed", "error": type(exc).__name__}

    async def finished(run: Stoppable) -> bool:
        seen = run.upsert_seen()
        if seen is not None:
            return seen  # its listeners see upsert_done / upsert_error
        async with gate:
            return (await stop_status(session, base_url, run.meeting_id))["status"] != "running"

    await asyncio.gather(*(post_stop(run) for run in runs))
    waiting = [run for run in runs if run.stop_http == 202]
    deadline = began + timeout_s
    while waiting and time.monotonic() < deadline:
        done = await asyncio.gather(*(finished(run) for run in waiting))
        waiting = [run for run, ok in zip(waiting, done, strict=True) if not ok]
        await asyncio.sleep(1.0)
    waited = time.monotonic() - began

    async def final(run: Stoppable) -> None:
        async with gate:
            run.stop_status = await stop_status(session, base_url, run.meeting_id)

    await asyncio.gather(*(final(run) for run in runs if run.stop_http != -1))
    return waited


def auth_headers() -> dict[str, str]:
    """What every benchmark request sends: the local stack's service key (the one `glossify up`
    made under GLOSSIFY_HOME), or GLOSSIFY_TOKEN for a stack elsewhere (``--url``)."""
    return {"Authorization": f"Bearer {cli_credential()}"}
