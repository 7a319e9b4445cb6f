"""Many meetings stopping at once, sharing terms, on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest

from glossify.store import postgres as store_module
from glossify.store.postgres import Store
from glossify.terms.candidates import normalize_term, term_id

MEETINGS = 24
TERMS = [f"Deadlock probe term {i}" for i in range(40)]


async def _meeting_with_terms(store: Store, meeting_id: str, order: list[str]) -> None:
    await store.open_meeting(meeting_id, None)
    for seq, term in enumerate(order, start=1):
        event = {
            "type": "terms",
            "entity": term,
            "domain": "Testing",
            "body": f"{term} as {meeting_id} explained it.",
            "source": "local",
            "seq": seq,
        }
        await store.append_term(meeting_id, term_id(term), normalize_term(term), event)


@pytest.mark.asyncio
async def test_concurrent_upserts_of_shared_terms_all_succeed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One attempt: the ordered locks alone must keep these upserts from deadlocking.
    monkeypatch.setattr(store_module, "UPSERT_ATTEMPTS", 1)
    store = await Store.connect(database_url, max_size=MEETINGS)
    prefix = f"upsert-{uuid.uuid4().hex[:8]}"
    rng = random.Random(7)
    try:
        await store.ensure_schema()
        ids = [f"{prefix}-{n}" for n in range(MEETINGS)]
        for meeting_id in ids:
            await _meeting_with_terms(store, meeting_id, rng.sample(TERMS, len(TERMS)))
        counts = await asyncio.gather(*(store.upsert_glossary(m) for m in ids))
        assert counts == [len(TERMS)] * MEETINGS
        rows = await store.pool.fetchval(
            "SELECT count(*) FROM term WHERE termid = ANY($1::uuid[])",
            [term_id(term) for term in TERMS],
        )
        assert rows == len(TERMS)
    finally:
        # The session's other tests read the glossary (hotwords): leave no probe terms in it.
        await store.pool.execute(
            "DELETE FROM term WHERE termid = ANY($1::uuid[])", [term_id(t) for t in TERMS]
        )
        await store.close()


class _DeadlockOnce:
    """The pool, except that its first execute fails as PostgreSQL does on a deadlock."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.calls = 0

    async def execute(self, query: str, *args: object) -> str:
        self.calls += 1
        if self.calls == 1:
            raise asyncpg.DeadlockDetectedError("deadlock detected")
        return await self.pool.execute(query, *args)


@pytest.mark.asyncio
async def test_a_deadlock_is_retried(database_url: str) -> None:
    store = await Store.connect(database_url)
    pool = store.pool
    try:
        await store.ensure_schema()
        meeting_id = f"upsert-retry-{uuid.uuid4().hex[:8]}"
        await store.open_meeting(meeting_id, None)
        flaky = _DeadlockOnce(pool)
        store.pool = flaky  # type: ignore[assignment]
        assert await store.upsert_glossary(meeting_id) == 0
        assert flaky.calls == 2
    finally:
        store.pool = pool
        await store.close()
