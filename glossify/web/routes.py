"""The REST routes of protocol v1 as a Starlette app over the meeting hosts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from glossify.access.principal import (
    AccessError,
    Principal,
    allows,
    authorize,
    may_write_glossary,
    speaker_name,
)
from glossify.access.scopes import Action
from glossify.access.tokens import MintRequest
from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import (
    MAX_TERMS_PER_POST,
    ExternalTerm,
    ProtocolError,
    StartBody,
    SttBody,
    check_meeting_id,
)
from glossify.web.gate import AccessGate
from glossify.web.glossary_api import glossary_routes
from glossify.web.http import (
    error_response,
    parse_model,
    raise_refusal,
    read_json,
    seq_page,
)
from glossify.web.openapi import openapi_document
from glossify.web.origin_guard import OriginGuard
from glossify.web.pages import SecurityHeaders, page_routes
from glossify.web.websocket import AudioSupport, serve_socket

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]


def build_http_app(
    hosts: MeetingHosts,
    gate: AccessGate,
    max_body_bytes: int,
    health: HealthCheck,
    audio: AudioSupport | None,
) -> Starlette:
    def meeting_id_of(request: Request) -> str:
        return check_meeting_id(request.path_params["mid"])

    def caller(request: Request, action: Action, meeting_id: str) -> Principal:
        principal = gate.request_principal(request.headers.get("authorization"))
        authorize(principal, action, meeting_id)
        return principal

    def may_create(principal: Principal, meeting_id: str) -> bool:
        return allows(principal, Action.HOST, meeting_id)

    async def get_health(request: Request) -> Response:
        report = await health()
        status = 200 if report["status"] == "ok" else 503
        try:
            gate.request_principal(request.headers.get("authorization"))
        except AccessError:
            # Anonymous callers (load balancers) learn only whether the service is up.
            return JSONResponse({"status": report["status"]}, status_code=status)
        return JSONResponse(report, status_code=status)

    async def get_openapi(_: Request) -> Response:
        return JSONResponse(openapi_document())

    async def start(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.HOST, mid)
        body = parse_model(StartBody, await read_json(request, max_body_bytes, optional=True))
        return JSONResponse(raise_refusal(await hosts.start(mid, body.language)))

    async def stt(request: Request) -> Response:
        mid = meeting_id_of(request)
        principal = caller(request, Action.SPEAK, mid)
        line = parse_model(SttBody, await read_json(request, max_body_bytes))
        fields = {**line.model_dump(), "speaker": speaker_name(principal, line.speaker)}
        answer = raise_refusal(await hosts.submit_line(mid, fields, may_create(principal, mid)))
        answer.pop("seq", None)  # protocol v1 answers {"status": "ok"}
        return JSONResponse(answer)

    async def post_terms(request: Request) -> Response:
        mid = meeting_id_of(request)
        principal = caller(request, Action.HOST, mid)
        data = await read_json(request, max_body_bytes)
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > MAX_TERMS_PER_POST:
            raise ProtocolError(
                422, "invalid_body", f"send between 1 and {MAX_TERMS_PER_POST} terms at once"
            )
        terms = [parse_model(ExternalTerm, item).model_dump() for item in items]
        to_glossary = may_write_glossary(principal)
        answer = await hosts.add_terms(mid, terms, may_create(principal, mid), to_glossary)
        return JSONResponse(raise_refusal(answer))

    async def get_terms(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.READ, mid)
        return JSONResponse(raise_refusal(await hosts.glossary(mid, *seq_page(request))))

    async def get_transcript(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.READ, mid)
        return JSONResponse(raise_refusal(await hosts.transcript(mid, *seq_page(request))))

    async def stop(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.HOST, mid)
        return JSONResponse(raise_refusal(await hosts.stop(mid)), status_code=202)

    async def stop_status(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.READ, mid)
        return JSONResponse(raise_refusal(await hosts.stop_status(mid)))

    async def mint_token(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.MINT, mid)
        if not gate.enabled:
            raise ProtocolError(409, "auth_off", "authentication is off: no tokens are needed")
        wanted = parse_model(MintRequest, await read_json(request, max_body_bytes))
        try:
            minted = gate.mint(mid, wanted)
        except ValueError as exc:
            raise ProtocolError(422, "invalid_body", str(exc)) from None
        return JSONResponse(minted.response())

    async def on_protocol_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProtocolError)
        return error_response(exc)

    async def on_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(ProtocolError(exc.status_code, code, str(exc.detail)))

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        log.exception("request failed", exc_info=exc)
        return error_response(
            ProtocolError(503, "unavailable", f"the service could not answer: {type(exc).__name__}")
        )

    routes = [
        Route("/health", get_health, methods=["GET"]),
        Route("/openapi.json", get_openapi, methods=["GET"]),
        Route("/meeting/{mid}/start", start, methods=["POST"]),
        Route("/meeting/{mid}/stt", stt, methods=["POST"]),
        Route("/meeting/{mid}/terms", post_terms, methods=["POST"]),
        Route("/meeting/{mid}/terms", get_terms, methods=["GET"]),
        Route("/meeting/{mid}/transcript", get_transcript, methods=["GET"]),
        Route("/meeting/{mid}/stop", stop, methods=["POST"]),
        Route("/meeting/{mid}/stop/status", stop_status, methods=["GET"]),
        Route("/meeting/{mid}/tokens", mint_token, methods=["POST"]),
        WebSocketRoute("/meeting/{mid}/ws", lambda ws: serve_socket(ws, hosts, gate, audio)),
        *glossary_routes(hosts, gate, max_body_bytes),
        *page_routes(),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ProtocolError: on_protocol_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
    app.add_middleware(OriginGuard, policy=gate.policy)
    # Outermost: the Origin guard's refusals get the headers too.
    app.add_middleware(SecurityHeaders)
    return app
