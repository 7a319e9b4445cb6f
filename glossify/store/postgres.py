"""PostgreSQL: the glossary table, the meeting journal, and the final upsert (asyncpg)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base

from glossify import metrics

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS term (
  termid uuid NOT NULL, term text NOT NULL, explanation text NOT NULL, domain text NOT NULL,
  PRIMARY KEY (termid, domain));
CREATE INDEX IF NOT EXISTS idx_term_term_domain ON term(term, domain);

CREATE TABLE IF NOT EXISTS glossify_meeting (
  meeting_id text PRIMARY KEY,
  language text,
  stop_status text NOT NULL DEFAULT 'idle',
  upserted integer NOT NULL DEFAULT 0,
  stop_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now());

CREATE TABLE IF NOT EXISTS glossify_event (
  meeting_id text NOT NULL REFERENCES glossify_meeting ON DELETE CASCADE,
  seq bigint NOT NULL,
  event jsonb NOT NULL,
  PRIMARY KEY (meeting_id, seq));

CREATE TABLE IF NOT EXISTS glossify_line (
  meeting_id text NOT NULL REFERENCES glossify_meeting ON DELETE CASCADE,
  line_no integer NOT NULL,
  seq bigint NOT NULL,
  norm text NOT NULL,
  pending boolean NOT NULL DEFAULT true,
  PRIMARY KEY (meeting_id, line_no));
CREATE INDEX IF NOT EXISTS idx_glossify_line_pending ON glossify_line(meeting_id) WHERE pending;

CREATE TABLE IF NOT EXISTS glossify_meeting_term (
  meeting_id text NOT NULL REFERENCES glossify_meeting ON DELETE CASCADE,
  termid uuid NOT NULL,
  domain text NOT NULL,
  norm text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (meeting_id, termid, domain));
-- False for external terms posted without glossary:write: shown in their meeting, never upserted.
ALTER TABLE glossify_meeting_term
  ADD COLUMN IF NOT EXISTS to_glossary boolean NOT NULL DEFAULT true;
"""

# Each event row is the single source of truth for what a client saw; line and term rows only
# index into it, so a restarted actor rebuilds exactly the state its clients already observed.
_TRANSCRIPT_SQL = """
SELECT e.event FROM glossify_line l JOIN glossify_event e USING (meeting_id, seq)
WHERE l.meeting_id = $1 AND l.seq > $2 ORDER BY l.line_no LIMIT $3"""

_MEETING_TERMS_SQL = """
SELECT e.event, t.termid FROM glossify_meeting_term t JOIN glossify_event e USING (meeting_id, seq)
WHERE t.meeting_id = $1 AND t.seq > $2 ORDER BY t.seq LIMIT $3"""

_UPSERT_SQL = """
INSERT INTO term (termid, term, explanation, domain)
SELECT t.termid, e.event->>'entity', e.event->>'body', t.domain
FROM glossify_meeting_term t JOIN glossify_event e USING (meeting_id, seq)
WHERE t.meeting_id = $1 AND t.to_glossary
-- Every upsert takes its row locks in one order: meetings stopping together with shared terms
-- deadlocked on each other otherwise (seen with 100 meetings stopped at once).
ORDER BY t.termid, t.domain
ON CONFLICT (termid, domain) DO UPDATE
SET term = EXCLUDED.term, explanation = EXCLUDED.explanation"""


@dataclass
class MeetingRecord:
    meeting_id: str
    language: str | None
    stop_status: str
    upserted: int
    stop_error: str | None
    last_seq: int
    line_count: int
    recent_events: list[dict[str, Any]] = field(default_factory=list)
    recent_line_norms: list[str] = field(default_factory=list)
    # (normalised term, domain, body) of every term the meeting has published.
    terms: list[tuple[str, str, str]] = field(default_factory=list)
    has_pending_lines: bool = False


def _decode(value: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(value) if isinstance(value, str) else value
    return decoded


UPSERT_ATTEMPTS = 3

# Journal writes are idempotent: a write whose outcome was unknown (the connection dropped
# mid-commit) is simply made again, and one host owns a meeting, so the same seq is the same event.
_INSERT_EVENT = (
    "INSERT INTO glossify_event (meeting_id, seq, event) VALUES ($1, $2, $3) "
    "ON CONFLICT (meeting_id, seq) DO NOTHING"
)
_UPDATE_STOP = (
    "UPDATE glossify_meeting SET stop_status = $2, upserted = $3, stop_error = $4, "
    "updated_at = now() WHERE meeting_id = $1"
)


# Interface errors that say something about the call, not about the connection.
_NOT_CONNECTION_INTERFACE_ERRORS = (
    asyncpg.ClientConfigurationError,
    asyncpg.UnsupportedClientFeatureError,
    asyncpg.UnsupportedServerFeatureError,
    asyncpg_base.DataError,  # an argument that cannot be encoded
)


def is_unreachable(exc: BaseException) -> bool:
    """PostgreSQL could not be reached (refused, dropped, restarting, timed out), as opposed to
    a statement it refused: the write may or may not have happened, and doing it again later is
    right."""
    if isinstance(exc, _NOT_CONNECTION_INTERFACE_ERRORS):
        return False
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.InterfaceError  # "connection is closed", "pool is closing"
        | asyncpg.PostgresConnectionError  # SQLSTATE class 08
        | asyncpg.exceptions.OperatorInterventionError  # shutting down, starting up
        | asyncpg.exceptions.TooManyConnectionsError,
    )


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class Store:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, url: str, *, min_size: int = 1, max_size: int = 5) -> Store:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=30
        )
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    async def ensure_schema(self) -> None:
        async with self.pool.acquire() as conn:
            # Two replicas starting at once would race on CREATE TABLE IF NOT EXISTS.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(7141991)")
                await conn.execute(SCHEMA)
            await _try_distribute_term_table(conn)

    async def ping(self) -> None:
        await self.pool.fetchval("SELECT 1")

    async def open_meeting(self, meeting_id: str, language: str | None) -> None:
        await self.pool.execute(
            "INSERT INTO glossify_meeting (meeting_id, language) VALUES ($1, $2) "
            "ON CONFLICT (meeting_id) DO NOTHING",
            meeting_id,
            language,
        )

    async def set_language(self, meeting_id: str, language: str | None) -> None:
        await self.pool.execute(
            "UPDATE glossify_meeting SET language = $2, updated_at = now() WHERE meeting_id = $1",
            meeting_id,
            language,
        )

    async def load_meeting(
        self, meeting_id: str, *, events: int, recent_lines: int
    ) -> MeetingRecord | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT language, stop_status, upserted, stop_error FROM glossify_meeting "
                "WHERE meeting_id = $1",
                meeting_id,
            )
            if row is None:
                return None
            last_seq = await conn.fetchval(
                "SELECT coalesce(max(seq), 0) FROM glossify_event WHERE meeting_id = $1", meeting_id
            )
            event_rows = await conn.fetch(
                "SELECT event FROM glossify_event WHERE meeting_id = $1 AND seq > $2 ORDER BY seq",
                meeting_id,
                last_seq - events,
            )
            line_count = await conn.fetchval(
                "SELECT coalesce(max(line_no), 0) FROM glossify_line WHERE meeting_id = $1",
                meeting_id,
            )
            norms = await conn.fetch(
                "SELECT norm FROM glossify_line WHERE meeting_id = $1 AND line_no > $2 "
                "ORDER BY line_no",
                meeting_id,
                line_count - recent_lines,
            )
            terms = await conn.fetch(
                "SELECT t.norm, t.domain, e.event->>'body' AS body FROM glossify_meeting_term t "
                "JOIN glossify_event e USING (meeting_id, seq) WHERE t.meeting_id = $1",
                meeting_id,
            )
            pending = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM glossify_line WHERE meeting_id = $1 AND pending)",
                meeting_id,
            )
        return MeetingRecord(
            meeting_id=meeting_id,
            language=row["language"],
            stop_status=row["stop_status"],
            upserted=row["upserted"],
            stop_error=row["stop_error"],
            last_seq=last_seq,
            line_count=line_count,
            recent_events=[_decode(r["event"]) for r in event_rows],
            recent_line_norms=[r["norm"] for r in norms],
            terms=[(r["norm"], r["domain"], r["body"]) for r in terms],
            has_pending_lines=pending,
        )

    async def append_event(self, meeting_id: str, event: dict[str, Any]) -> None:
        await self.pool.execute(_INSERT_EVENT, meeting_id, event["seq"], event)

    async def append_line(
        self, meeting_id: str, line_no: int, event: dict[str, Any], norm: str, pending: bool
    ) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_INSERT_EVENT, meeting_id, event["seq"], event)
            await conn.execute(
                "INSERT INTO glossify_line (meeting_id, line_no, seq, norm, pending) "
                "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (meeting_id, line_no) DO NOTHING",
                meeting_id,
                line_no,
                event["seq"],
                norm,
                pending,
            )

    async def append_term(
        self,
        meeting_id: str,
        termid: uuid.UUID,
        norm: str,
        event: dict[str, Any],
        to_glossary: bool = True,
    ) -> None:
        """Journal a terms event; within a meeting the last one per (termid, domain) wins.
        ``to_glossary`` False keeps it out of the organisation glossary at stop."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_INSERT_EVENT, meeting_id, event["seq"], event)
            await conn.execute(
                "INSERT INTO glossify_meeting_term (meeting_id, termid, domain, norm, seq, "
                "to_glossary) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (meeting_id, termid, domain) DO UPDATE SET seq = EXCLUDED.seq, "
                "norm = EXCLUDED.norm, to_glossary = EXCLUDED.to_glossary",
                meeting_id,
                termid,
                event["domain"],
                norm,
                event["seq"],
                to_glossary,
            )

    async def mark_line_done(self, meeting_id: str, line_no: int) -> None:
        await self.pool.execute(
            "UPDATE glossify_line SET pending = false WHERE meeting_id = $1 AND line_no = $2",
            meeting_id,
            line_no,
        )

    async def pending_lines(
        self, meeting_id: str, *, exclude: list[int], limit: int
    ) -> list[tuple[int, dict[str, Any]]]:
        rows = await self.pool.fetch(
            "SELECT l.line_no, e.event FROM glossify_line l JOIN glossify_event e "
            "USING (meeting_id, seq) WHERE l.meeting_id = $1 AND l.pending "
            "AND NOT (l.line_no = ANY($2::int[])) ORDER BY l.line_no LIMIT $3",
            meeting_id,
            exclude,
            limit,
        )
        return [(r["line_no"], _decode(r["event"])) for r in rows]

    async def events_after(self, meeting_id: str, since: int, limit: int) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT event FROM glossify_event WHERE meeting_id = $1 AND seq > $2 "
            "ORDER BY seq LIMIT $3",
            meeting_id,
            since,
            limit,
        )
        return [_decode(r["event"]) for r in rows]

    async def transcript(
        self, meeting_id: str, after: int = 0, limit: int = 1_000_000
    ) -> list[dict[str, Any]]:
        """Final lines with seq > ``after``, in order, at most ``limit``."""
        rows = await self.pool.fetch(_TRANSCRIPT_SQL, meeting_id, after, limit)
        return [_decode(r["event"]) for r in rows]

    async def meeting_terms(
        self, meeting_id: str, after: int = 0, limit: int = 1_000_000
    ) -> list[dict[str, Any]]:
        """The meeting's glossary (terms events with seq > ``after``), at most ``limit``."""
        rows = await self.pool.fetch(_MEETING_TERMS_SQL, meeting_id, after, limit)
        return [{**_decode(r["event"]), "termid": str(r["termid"])} for r in rows]

    async def set_stop_status(
        self, meeting_id: str, status: str, upserted: int = 0, error: str | None = None
    ) -> None:
        await self.pool.execute(_UPDATE_STOP, meeting_id, status, upserted, error)

    async def record_stop_result(
        self, meeting_id: str, event: dict[str, Any], status: str, upserted: int, error: str | None
    ) -> None:
        """The upsert_done/upsert_error event and the stop status, together or not at all."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(_INSERT_EVENT, meeting_id, event["seq"], event)
            await conn.execute(_UPDATE_STOP, meeting_id, status, upserted, error)

    async def upsert_glossary(self, meeting_id: str) -> int:
        """Bulk upsert of the meeting's glossary into ``term``; returns the row count."""
        with metrics.timed(metrics.UPSERT_DURATION, metrics.UPSERT_ERRORS):
            status = await self._upsert_with_retries(meeting_id)
        rows = int(status.rsplit(" ", 1)[-1])
        metrics.UPSERT_ROWS.inc(rows)
        return rows

    async def _upsert_with_retries(self, meeting_id: str) -> str:
        # Ordered locks prevent deadlocks between our own upserts; another writer of `term`
        # (an admin tool, a second deployment) may still lock in its own order.
        for attempt in range(1, UPSERT_ATTEMPTS + 1):
            try:
                status: str = await self.pool.execute(_UPSERT_SQL, meeting_id)
                return status
            except asyncpg.DeadlockDetectedError:
                if attempt == UPSERT_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def glossary_entry(self, termid: uuid.UUID) -> tuple[str, str, str] | None:
        """The organisation's existing explanation of a term: (term, domain, explanation)."""
        row = await self.pool.fetchrow(
            "SELECT term, domain, explanation FROM term WHERE termid = $1 ORDER BY domain LIMIT 1",
            termid,
        )
        return None if row is None else (row["term"], row["domain"], row["explanation"])

    async def glossary_terms(self, limit: int) -> list[str]:
        """Terms of the organisation's glossary, to bias speech recognition towards them."""
        rows = await self.pool.fetch("SELECT DISTINCT term FROM term ORDER BY term LIMIT $1", limit)
        return [r["term"] for r in rows]

    async def meetings_needing_work(self) -> list[str]:
        """Meetings with lines not yet through the pipeline, or an upsert cut short."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT meeting_id FROM glossify_line WHERE pending "
            "UNION SELECT meeting_id FROM glossify_meeting WHERE stop_status = 'running'"
        )
        return [r["meeting_id"] for r in rows]


async def _try_distribute_term_table(conn: asyncpg.Connection) -> None:
    has_citus = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"
    )
    if not has_citus:
        return
    try:
        await conn.execute("SELECT create_distributed_table('term', 'termid')")
    except asyncpg.InsufficientPrivilegeError:
        log.info("citus: no permission to distribute table term; keeping it local")
    except asyncpg.PostgresError as exc:
        # Already distributed, or a Citus version that refuses it: the table works either way.
        log.info("citus: create_distributed_table skipped: %s", exc)
