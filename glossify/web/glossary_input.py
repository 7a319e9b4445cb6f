"""What the organisation-glossary routes accept, checked before anything reaches a meeting host
(pure: no Ray, no I/O). Every refusal is a ``ProtocolError`` (400, or 422 for a body).

Text that PostgreSQL cannot store (NUL, lone surrogates) and control characters are refused
here, so that a bad value is a 4xx and never a database error."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from glossify.protocol import MAX_BODY_CHARS, MAX_TERM_CHARS, ProtocolError
from glossify.store.glossary import Cursor, GlossaryQuery
from glossify.terms.candidates import term_id

MAX_DOMAIN_CHARS = 64
MAX_SEARCH_CHARS = 200
MAX_SEARCH_PAGE = 200
DEFAULT_SEARCH_PAGE = 50
MAX_CURSOR_CHARS = 2048

# C0 controls, DEL, and surrogates (which JSON may escape but UTF-8 cannot carry).
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# The same, but an explanation may have line breaks and tabs.
_CONTROL_IN_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain_text(value: str, *, what: str, max_chars: int, prose: bool = False) -> str:
    """``value`` trimmed; raises ValueError when it is blank, longer than ``max_chars`` or
    holds control characters (line breaks and tabs are fine in ``prose``)."""
    text = value.strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    if len(text) > max_chars:
        raise ValueError(f"{what} is limited to {max_chars} characters")
    if (_CONTROL_IN_PROSE if prose else _CONTROL).search(text):
        raise ValueError(f"{what} must not contain control characters")
    return text


class GlossaryCorrection(BaseModel):
    """``PUT /glossary/terms/{termid}/{domain}``: the explanation to keep, and the term's text
    when the row is new (or to respell it: the text must give the same termid)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    explanation: StrictStr = Field(..., min_length=1, max_length=MAX_BODY_CHARS)
    term: StrictStr | None = Field(None, min_length=1, max_length=MAX_TERM_CHARS)

    @field_validator("explanation")
    @classmethod
    def _explanation(cls, value: str) -> str:
        return plain_text(value, what="explanation", max_chars=MAX_BODY_CHARS, prose=True)

    @field_validator("term")
    @classmethod
    def _term(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return plain_text(value, what="term", max_chars=MAX_TERM_CHARS)


def parse_termid(raw: str) -> uuid.UUID:
    try:
        if len(raw) > 64:
            raise ValueError("too long")
        return uuid.UUID(raw)
    except ValueError:
        raise ProtocolError(400, "invalid_termid", "termid must be a UUID") from None


def parse_domain(raw: str) -> str:
    try:
        return plain_text(raw, what="domain", max_chars=MAX_DOMAIN_CHARS)
    except ValueError as exc:
        raise ProtocolError(400, "invalid_domain", str(exc)) from None


def check_term_matches(termid: uuid.UUID, term: str | None) -> None:
    """A term's text decides its termid (``uuid5`` of its normalised form): a text that gives
    another termid belongs to another row."""
    if term is not None and term_id(term) != termid:
        raise ProtocolError(
            422,
            "term_mismatch",
            "term: this text has another termid (a termid is the uuid5 of the normalised text)",
        )


def search_params(params: Mapping[str, str]) -> GlossaryQuery:
    """``?q=&domain=&after=&limit=`` of ``GET /glossary/terms``; empty values mean no filter."""
    text = params.get("q", "").strip() or None
    if text is not None:
        try:
            text = plain_text(text, what="q", max_chars=MAX_SEARCH_CHARS)
        except ValueError as exc:
            raise ProtocolError(400, "invalid_query", str(exc)) from None
    domain = params.get("domain", "").strip() or None
    if domain is not None:
        domain = parse_domain(domain)
    after = None
    raw_after = params.get("after", "")
    if raw_after:
        try:
            if len(raw_after) > MAX_CURSOR_CHARS:
                raise ValueError("too long")
            after = Cursor.decode(raw_after)
        except ValueError:
            raise ProtocolError(
                400, "invalid_after", "after must be the next_after of an earlier page"
            ) from None
    raw_limit = params.get("limit")
    limit = DEFAULT_SEARCH_PAGE
    if raw_limit is not None:
        digits = raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 6
        if not digits or not 1 <= int(raw_limit) <= MAX_SEARCH_PAGE:
            raise ProtocolError(
                400, "invalid_limit", f"limit must be between 1 and {MAX_SEARCH_PAGE}"
            )
        limit = int(raw_limit)
    return GlossaryQuery(text, domain, after, limit)
