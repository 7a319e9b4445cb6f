"""Answers every stand-in shares: scripted failures, auth checks, the explanation text."""

from __future__ import annotations

import asyncio
import re

from starlette.responses import JSONResponse, Response

from tests.standins.state import Behaviour, bearer

# Domains the stand-in "knows"; other terms are Software.
DOMAINS = {"ebitda": "Finance", "cpk": "Manufacturing", "oauth": "Security"}
TERM_IN_PROMPT = re.compile(r'Term: "(?P<term>[^"]+)"')


def domain_of(term: str) -> str:
    return DOMAINS.get(term.lower(), "Software")


# Terms the stand-in agent does not know (say, a misheard word): it abstains, as the prompt
# asks, with the phrase alone. Fresh test acronyms never start with a vowel.
UNKNOWN_PREFIX = "OO"
ABSTENTION = "no confident explanation"


def answer_text(term: str, as_json: bool = False) -> str:
    """Domain line, body, and the trailing context sentence Glossify must cut; or, for a term
    starting with UNKNOWN_PREFIX, the abstention phrase."""
    if term.startswith(UNKNOWN_PREFIX):
        return ABSTENTION
    domain = domain_of(term)
    body = f"{term} is a {domain.lower()} concept the stand-in explains for tests."
    if as_json:
        return f'{{"domain": "{domain}", "explanation": "{body}"}}'
    return f"domain: {domain}\n{body} In this context, it came up in the meeting."


def term_in(text: str) -> str:
    match = TERM_IN_PROMPT.search(text or "")
    return match.group("term") if match else "something"


def azure_error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


async def scripted_failure(behaviour: Behaviour) -> Response | None:
    """The response for a scripted failure, or None to answer normally (after any delay)."""
    if behaviour.delay_s:
        await asyncio.sleep(behaviour.delay_s)
    if behaviour.kind == "error":
        headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
        code = "TooManyRequests" if behaviour.status == 429 else "ServiceUnavailable"
        return azure_error(behaviour.status, code, f"stand-in {behaviour.status}", headers)
    if behaviour.kind == "empty":
        return Response(b"", status_code=200, media_type="application/json")
    if behaviour.kind == "malformed":
        return Response(b'{"kind": "Entity', status_code=200, media_type="application/json")
    return None


def has_bearer(headers: dict[str, str], resource: str) -> bool:
    return headers.get("authorization") == f"Bearer {bearer(resource)}"
