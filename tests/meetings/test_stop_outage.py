"""A stop never stays 'running': PostgreSQL gone during the upsert, on a real server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from glossify.access.limits import RateLimiter
from glossify.config.settings import load_config
from glossify.meetings.live import LiveMeeting
from glossify.meetings.state import STOP_ERROR, STOP_RUNNING
from glossify.store.postgres import Store
from glossify.terms.candidates import Candidate


class NoBackends:
    """The meeting gets no lines here: nothing is detected or explained."""

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        raise AssertionError("no lines in this test")

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str
    ) -> dict[str, str]:
        raise AssertionError("no terms in this test")


async def live_meeting(
    database_url: str, meetings: dict[str, Any], backends: NoBackends
) -> tuple[LiveMeeting, Store]:
    """A new meeting on the real database, with these ``meetings`` settings."""
    config = load_config({"meetings": meetings}, env={"DATABASE_URL": database_url})
    store = await Store.connect(database_url)
    await store.ensure_schema()
    mid = f"fault-{uuid.uuid4().hex[:8]}"
    await store.open_meeting(mid, None)
    record = await store.load_meeting(mid, events=10, recent_lines=10)
    assert record is not None
    return LiveMeeting(record, store, backends, config, RateLimiter(10, 10)), store


async def test_an_upsert_that_cannot_reach_postgres_ends_the_stop_in_error(
    database_url: str,
) -> None:
    settings = {"upsert_attempts": 2, "upsert_retry_s": 5.0}
    meeting, store = await live_meeting(database_url, settings, NoBackends())
    await meeting.stop()
    assert meeting.state.stop_status == STOP_RUNNING
    # The database goes away before the upsert runs.
    await store.close()
    async with asyncio.timeout(30):
        await meeting.stop_finished()
    assert meeting.state.stop_status == STOP_ERROR
    assert meeting.state.stop_error is not None and "stop again" in meeting.state.stop_error
    assert "postgres" not in meeting.state.stop_error.lower()


class HangingDetector(NoBackends):
    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")


async def test_a_detector_that_never_answers_costs_lines_their_terms_not_the_meeting(
    database_url: str,
) -> None:
    settings = {"detect_timeout_s": 0.5, "workers_per_meeting": 1}
    meeting, store = await live_meeting(database_url, settings, HangingDetector())
    mid = meeting.id
    try:
        for text in ("The SLA is at risk.", "The KPI dashboard is late.", "Ship the MVP."):
            await meeting.submit_line(text, is_final=True, timestamp=None, speaker=None)
        # One worker, three lines: each waits at most the timeout, none blocks the rest.
        async with asyncio.timeout(20):
            await meeting.lines.drained()
        pending = await store.pool.fetchval(
            "SELECT count(*) FROM glossify_line WHERE meeting_id = $1 AND pending", mid
        )
        assert pending == 0
        assert len(await store.transcript(mid)) == 3
    finally:
        meeting.close()
        await store.close()
