"""The organisation glossary over REST (search, domains, one term, corrections, deletions) and
a meeting's glossary as a download. Every call goes to a meeting host: the ingress holds no
database connection.

- ``GET /glossary/terms``, ``/glossary/domains``, ``/glossary/terms/{termid}``: any valid
  meeting token (of any meeting, any role), or a key with ``meetings:read``;
- ``PUT`` and ``DELETE /glossary/terms/{termid}/{domain}``: a key with ``glossary:write``;
- ``GET /meeting/{mid}/export?format=csv|md|json``: listener / ``meetings:read``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from glossify.access.principal import Principal, authorize, authorize_glossary_read
from glossify.access.scopes import Action
from glossify.protocol import ProtocolError, check_meeting_id
from glossify.web import export
from glossify.web.gate import AccessGate
from glossify.web.glossary_input import (
    GlossaryCorrection,
    check_term_matches,
    parse_domain,
    parse_termid,
    search_params,
)
from glossify.web.http import MAX_PAGE, parse_model, raise_refusal, read_json

if TYPE_CHECKING:
    from glossify.meetings.hosts import MeetingHosts


def glossary_routes(hosts: MeetingHosts, gate: AccessGate, max_body_bytes: int) -> list[Route]:
    def reader(request: Request) -> Principal:
        principal = gate.request_principal(request.headers.get("authorization"))
        authorize_glossary_read(principal)
        return principal

    def writer(request: Request) -> Principal:
        principal = gate.request_principal(request.headers.get("authorization"))
        authorize(principal, Action.GLOSSARY_WRITE)
        return principal

    async def search(request: Request) -> Response:
        reader(request)
        query = search_params(request.query_params)
        return JSONResponse(raise_refusal(await hosts.search_glossary(query)))

    async def domains(request: Request) -> Response:
        reader(request)
        return JSONResponse(raise_refusal(await hosts.glossary_domains()))

    async def one_term(request: Request) -> Response:
        reader(request)
        termid = parse_termid(request.path_params["termid"])
        return JSONResponse(raise_refusal(await hosts.glossary_term(termid)))

    async def correct(request: Request) -> Response:
        writer(request)
        termid = parse_termid(request.path_params["termid"])
        domain = parse_domain(request.path_params["domain"])
        body = parse_model(GlossaryCorrection, await read_json(request, max_body_bytes))
        check_term_matches(termid, body.term)
        row = await hosts.correct_glossary(termid, domain, body.explanation, body.term)
        return JSONResponse(raise_refusal(row))

    async def delete(request: Request) -> Response:
        writer(request)
        termid = parse_termid(request.path_params["termid"])
        domain = parse_domain(request.path_params["domain"])
        raise_refusal(await hosts.delete_glossary(termid, domain))
        return Response(status_code=204)

    async def download(request: Request) -> Response:
        mid = check_meeting_id(request.path_params["mid"])
        principal = gate.request_principal(request.headers.get("authorization"))
        authorize(principal, Action.READ, mid)
        form = request.query_params.get("format", "")
        if form not in export.FORMATS:
            raise ProtocolError(400, "invalid_format", "format must be csv, md or json")
        terms = await all_terms(hosts, mid)
        rendered = export.render(mid, terms, form)
        disposition = export.attachment(mid, rendered.extension)
        return Response(
            rendered.body,
            media_type=rendered.media_type,
            headers={"content-disposition": disposition, "cache-control": "no-store"},
        )

    return [
        Route("/glossary/terms", search, methods=["GET"]),
        Route("/glossary/domains", domains, methods=["GET"]),
        Route("/glossary/terms/{termid}", one_term, methods=["GET"]),
        # A domain may hold a slash ("CI/CD"): the rest of the path is the domain.
        Route("/glossary/terms/{termid}/{domain:path}", correct, methods=["PUT"]),
        Route("/glossary/terms/{termid}/{domain:path}", delete, methods=["DELETE"]),
        Route("/meeting/{mid}/export", download, methods=["GET"]),
    ]


async def all_terms(hosts: MeetingHosts, meeting_id: str) -> list[dict[str, Any]]:
    """Every item of ``GET /meeting/{mid}/terms``, page after page."""
    terms: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = raise_refusal(await hosts.glossary(meeting_id, after, MAX_PAGE))
        terms.extend(page["terms"])
        after = page["next_after"]
    return terms
