"""A live meeting on a real PostgreSQL that goes away and comes back (through a proxy the test
takes down): the meeting goes on, is never evicted while writes wait, and its journal ends up
complete, in order, each event once. No Ray: the Serve version is
tests/serve/test_database_outage.py."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from bench.faults.database import CuttableDatabase
from glossify.meetings.live import Refused
from glossify.meetings.state import STOP_DONE, STOP_ERROR
from glossify.terms.candidates import Candidate
from tests.meetings.test_stop_outage import NoBackends, live_meeting
from tests.serve.apps import own_database
from tests.serve.clients import poll_until

ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")


class AcronymBackends(NoBackends):
    """Finds the acronyms of a line and explains each, as the remote backends would."""

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        return [Candidate(m.group(0), "Skill", 0.9, m.start()) for m in ACRONYM.finditer(text)]

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str
    ) -> dict[str, Any]:
        return {"domain": "Testing", "body": f"{term} explained.", "source": "local"}


async def until(condition: Callable[[], bool], within: float = 30.0) -> None:
    async def check() -> bool:
        return condition()

    await poll_until(check, bool, within)


async def test_a_meeting_goes_on_while_postgres_is_away_and_its_journal_catches_up(
    database_url: str,
) -> None:
    settings = {"events_in_memory": 10, "journal_buffer_events": 200}
    # A database of its own: the stop's glossary rows must not reach other tests' meetings.
    own = await asyncio.to_thread(own_database, database_url)
    with CuttableDatabase(own) as database:
        meeting, store = await live_meeting(database.url, settings, AcronymBackends())
        try:
            lines = [f"The Q{chr(65 + n)}X figures are late." for n in range(12)]
            for line in lines[:2]:
                await meeting.submit_line(line, is_final=True, timestamp=None, speaker=None)
            await until(lambda: not meeting.lines.busy)

            await asyncio.to_thread(database.go_down)
            for line in lines[2:]:
                seq = await meeting.submit_line(line, is_final=True, timestamp=None, speaker=None)
                assert seq is not None
            await until(lambda: len(meeting.state.published) == len(lines))
            assert meeting.journal_kept > 0 and not meeting.idle
            # Older than memory holds, and the journal cannot be read: a clear refusal.
            with pytest.raises(Refused) as refused:
                await meeting.events_after(0, 100, 0)
            assert (refused.value.status, refused.value.code) == (503, "journal_unavailable")
            shown = meeting.state.log.recent()

            await asyncio.to_thread(database.come_back)
            await until(lambda: meeting.journal_kept == 0)
            replay = await meeting.events_after(0, 100, 0)
            assert [e["seq"] for e in replay] == list(range(1, len(replay) + 1))
            assert replay[-len(shown) :] == shown
            assert [e["text"] for e in replay if e["type"] == "transcript"] == lines
            assert sorted(e["entity"] for e in replay if e["type"] == "terms") == sorted(
                ACRONYM.search(line).group(0)
                for line in lines  # type: ignore[union-attr]
            )
            conn = await asyncpg.connect(database.direct_url)
            try:
                pending = await conn.fetchval(
                    "SELECT count(*) FROM glossify_line WHERE meeting_id = $1 AND pending",
                    meeting.id,
                )
            finally:
                await conn.close()
            assert pending == 0
            await meeting.stop()
            async with asyncio.timeout(30):
                await meeting.stop_finished()
            assert meeting.state.stop_status == STOP_DONE
        finally:
            meeting.close()
            await store.close()


async def test_a_stop_that_outlives_its_wait_for_the_journal_ends_in_error_and_may_be_retried(
    database_url: str,
) -> None:
    settings = {"upsert_retry_s": 1.0, "upsert_attempts": 2}
    # A database of its own: the stop's glossary rows must not reach other tests' meetings.
    own = await asyncio.to_thread(own_database, database_url)
    with CuttableDatabase(own) as database:
        meeting, store = await live_meeting(database.url, settings, AcronymBackends())
        try:
            await meeting.submit_line("The QRS plan.", is_final=True, timestamp=None, speaker=None)
            await meeting.lines.drained()
            await asyncio.to_thread(database.go_down)
            await meeting.stop()
            async with asyncio.timeout(30):
                await meeting.stop_finished()
            # The journal could not be written within upsert_retry_s: error, never stuck.
            assert meeting.state.stop_status == STOP_ERROR
            assert meeting.state.stop_error is not None and "stop again" in meeting.state.stop_error

            await asyncio.to_thread(database.come_back)
            await meeting.stop()
            async with asyncio.timeout(60):
                await meeting.stop_finished()
            assert meeting.state.stop_status_body() == {
                "status": STOP_DONE,
                "upserted": 1,
                "error": None,
            }
            await until(lambda: meeting.journal_kept == 0)
            ends = [
                e["type"] for e in await meeting.events_after(0, 100, 0) if "upsert" in e["type"]
            ]
            assert ends == ["upsert_error", "upsert_done"]
        finally:
            meeting.close()
            await store.close()
