"""The organisation glossary (the ``term`` table) as people browse and correct it: search with
keyset pagination, the list of domains, one term in every domain, corrections and deletions.

The SQL is built by pure functions (``search_query``) and run by the ``Glossary`` methods over
the meeting host's connection pool. Meetings read the same rows when they detect a term
(``Store.glossary_entry``): a correction reaches the next meeting that says the term.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

MAX_DOMAINS = 1000


@dataclass(frozen=True)
class Cursor:
    """Where a page of a search ends: the last row's sort key (term, domain, termid)."""

    term: str
    domain: str
    termid: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.term, self.domain, str(self.termid)], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError for anything ``encode`` did not make."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            term, domain, termid = json.loads(raw.decode())
            if not isinstance(term, str) or not isinstance(domain, str):
                raise ValueError("not a cursor")
            if "\x00" in term + domain:
                raise ValueError("not a cursor")
            (term + domain).encode()  # lone surrogates cannot be stored or compared
            return cls(term, domain, uuid.UUID(termid))
        except (binascii.Error, UnicodeDecodeError, TypeError, ValueError, AttributeError):
            raise ValueError("not a cursor") from None


@dataclass(frozen=True)
class GlossaryQuery:
    """A search of the glossary: ``text`` a case-insensitive substring of the term or of its
    explanation, ``domain`` exact, rows after ``after`` in (term, domain) order, ``limit``."""

    text: str | None = None
    domain: str | None = None
    after: Cursor | None = None
    limit: int = 50


def search_query(query: GlossaryQuery) -> tuple[str, list[Any]]:
    """The SQL and its parameters for one page of ``query``, asking for one row more than
    ``limit`` so that the caller knows whether another page follows.

    ``strpos`` on ``lower()`` rather than ``ILIKE``: the text is matched literally, so ``%``,
    ``_`` and backslashes in a search mean themselves."""
    where: list[str] = []
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    if query.text:
        text = param(query.text)
        where.append(
            f"(strpos(lower(term), lower({text})) > 0 "
            f"OR strpos(lower(explanation), lower({text})) > 0)"
        )
    if query.domain is not None:
        where.append(f"domain = {param(query.domain)}")
    if query.after is not None:
        after = query.after
        where.append(
            f"(term, domain, termid) > ({param(after.term)}, {param(after.domain)}, "
            f"{param(after.termid)})"
        )
    sql = "SELECT termid, term, domain, explanation FROM term"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY term, domain, termid LIMIT {param(query.limit + 1)}"
    return sql, params


def page_of(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """``{"terms", "next_after"}`` from up to ``limit + 1`` rows of ``search_query``."""
    shown = rows[:limit]
    terms = [
        {
            "termid": str(row["termid"]),
            "term": row["term"],
            "domain": row["domain"],
            "explanation": row["explanation"],
        }
        for row in shown
    ]
    next_after = None
    if len(rows) > limit:
        last = shown[-1]
        next_after = Cursor(last["term"], last["domain"], uuid.UUID(str(last["termid"]))).encode()
    return {"terms": terms, "next_after": next_after}


# A row's term text defaults to what the table already calls it (this domain first).
_CORRECT_SQL = """
WITH known AS (
  SELECT term FROM term WHERE termid = $1 ORDER BY (domain = $2) DESC, domain LIMIT 1)
INSERT INTO term (termid, term, explanation, domain)
SELECT $1, coalesce($4::text, (SELECT term FROM known)), $3, $2
WHERE coalesce($4::text, (SELECT term FROM known)) IS NOT NULL
ON CONFLICT (termid, domain) DO UPDATE SET explanation = EXCLUDED.explanation, term = EXCLUDED.term
RETURNING termid, term, domain, explanation"""


class Glossary:
    """The organisation glossary over an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def search(self, query: GlossaryQuery) -> dict[str, Any]:
        sql, params = search_query(query)
        rows = await self._pool.fetch(sql, *params)
        return page_of([dict(row) for row in rows], query.limit)

    async def domains(self) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT DISTINCT domain FROM term ORDER BY domain LIMIT $1", MAX_DOMAINS
        )
        return [row["domain"] for row in rows]

    async def term(self, termid: uuid.UUID) -> dict[str, Any] | None:
        """``{"termid", "term", "explanations": [{"domain", "explanation"}]}`` or None."""
        rows = await self._pool.fetch(
            "SELECT term, domain, explanation FROM term WHERE termid = $1 ORDER BY domain",
            termid,
        )
        if not rows:
            return None
        return {
            "termid": str(termid),
            "term": rows[0]["term"],
            "explanations": [
                {"domain": row["domain"], "explanation": row["explanation"]} for row in rows
            ],
        }

    async def correct(
        self, termid: uuid.UUID, domain: str, explanation: str, term: str | None
    ) -> dict[str, Any] | None:
        """Sets the explanation of (termid, domain), adding the row when it is new; the term's
        text is ``term`` or what the table already calls it. None when the term is unknown
        and no ``term`` was given."""
        row = await self._pool.fetchrow(_CORRECT_SQL, termid, domain, explanation, term)
        if row is None:
            return None
        return {
            "termid": str(row["termid"]),
            "term": row["term"],
            "domain": row["domain"],
            "explanation": row["explanation"],
        }

    async def delete(self, termid: uuid.UUID, domain: str) -> bool:
        status: str = await self._pool.execute(
            "DELETE FROM term WHERE termid = $1 AND domain = $2", termid, domain
        )
        return status.rsplit(" ", 1)[-1] != "0"
