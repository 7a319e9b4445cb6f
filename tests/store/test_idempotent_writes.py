"""Every journal write may be made twice (its first outcome unknown, the connection lost
mid-commit) and leaves the journal as one write would, on a real PostgreSQL server."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from glossify.store.postgres import Store, is_unreachable
from glossify.terms.candidates import normalize_term, term_id


async def test_each_journal_write_made_twice_is_journaled_once(database_url: str) -> None:
    store = await Store.connect(database_url)
    await store.ensure_schema()
    mid = f"twice-{uuid.uuid4().hex[:8]}"
    line = {"type": "transcript", "text": "The SLA is at risk.", "is_final": True, "seq": 1}
    term = {"type": "terms", "entity": "SLA", "domain": "Business", "body": "An agreement."}
    term["seq"] = 2
    partial = {"type": "transcript", "text": "The", "is_final": False, "seq": 3}
    stopped = {"type": "upsert_done", "upserted": 0, "seq": 4}
    try:
        await store.open_meeting(mid, None)
        for _ in range(2):
            await store.append_line(mid, 1, line, "the sla is at risk", pending=True)
            await store.append_term(mid, term_id("SLA"), normalize_term("SLA"), term)
            await store.append_event(mid, partial)
            await store.mark_line_done(mid, 1)
            await store.set_stop_status(mid, "running")
            await store.record_stop_result(mid, stopped, "done", 0, None)
        assert await store.events_after(mid, 0, 10) == [line, term, partial, stopped]
        assert await store.transcript(mid) == [line]
        assert [t["entity"] for t in await store.meeting_terms(mid)] == ["SLA"]
        record = await store.load_meeting(mid, events=10, recent_lines=10)
        assert record is not None
        assert (record.last_seq, record.line_count, record.stop_status) == (4, 1, "done")
        assert not record.has_pending_lines
    finally:
        await store.pool.execute("DELETE FROM glossify_meeting WHERE meeting_id = $1", mid)
        await store.close()


async def test_only_failures_to_reach_the_database_count_as_an_outage(database_url: str) -> None:
    store = await Store.connect(database_url)
    try:
        with pytest.raises(asyncpg.PostgresError) as refused:
            await store.pool.execute("SELECT no_such_column FROM glossify_meeting")
        assert not is_unreachable(refused.value)  # a statement refused: nothing to try again
    finally:
        await store.close()
    with pytest.raises(asyncpg.InterfaceError) as closed:
        await store.ping()  # the pool is closed
    assert is_unreachable(closed.value)
    assert is_unreachable(ConnectionRefusedError(111, "Connect call failed"))
    assert is_unreachable(TimeoutError())
