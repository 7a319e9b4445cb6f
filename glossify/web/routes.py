"""The REST routes of protocol v1 as a Starlette app over the meeting hosts."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from glossify.access.limits import QuotaExceeded
from glossify.access.origins import is_json_content_type
from glossify.access.principal import AccessError, Principal, allows, authorize, speaker_name
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
from glossify.web.openapi import openapi_document
from glossify.web.origin_guard import OriginGuard
from glossify.web.websocket import AudioSupport, serve_socket

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
M = TypeVar("M", bound=BaseModel)


# A page of /transcript or /terms: protocol v1 readers that ask for no page get all of a
# meeting's lines up to the per-meeting quota, which bounds the answer anyway.
MAX_PAGE = 20_000


def error_response(exc: ProtocolError) -> JSONResponse:
    headers = exc.headers() if isinstance(exc, AccessError) else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def _raise_refusal(result: dict[str, Any]) -> dict[str, Any]:
    refused = result.get("refused")
    if refused is None:
        return result
    if refused["status"] == 429:
        raise QuotaExceeded(refused["code"], refused["message"], refused.get("retry_after_s"))
    raise ProtocolError(refused["status"], refused["code"], refused["message"])


def _page(request: Request) -> tuple[int, int]:
    """``?after=SEQ&limit=N`` of a paginated read."""
    after, limit = request.query_params.get("after", "0"), request.query_params.get("limit")
    if not after.isdigit() or len(after) > 18:
        raise ProtocolError(400, "invalid_after", "after must be a non-negative integer seq")
    if limit is None:
        return int(after), MAX_PAGE
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
        raise ProtocolError(400, "invalid_limit", f"limit must be between 1 and {MAX_PAGE}")
    return int(after), int(limit)


async def read_json(request: Request, max_bytes: int, *, optional: bool = False) -> Any:
    content_type = request.headers.get("content-type")
    # A JSON body must say so: a browser sends text/plain or a form cross-site without asking.
    if not is_json_content_type(content_type) and (content_type or not optional):
        raise ProtocolError(415, "unsupported_media_type", "send the body as application/json")
    declared = request.headers.get("content-length")
    too_large = ProtocolError(413, "body_too_large", f"bodies are limited to {max_bytes} bytes")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise too_large
    if not body.strip():
        if optional:
            return {}
        raise ProtocolError(400, "empty_body", "a JSON body is required")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(400, "malformed_json", f"body is not valid JSON: {exc}") from None


def parse_model(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise ProtocolError(422, "invalid_body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ProtocolError(422, "invalid_body", problems) from None


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
        return JSONResponse(_raise_refusal(await hosts.start(mid, body.language)))

    async def stt(request: Request) -> Response:
        mid = meeting_id_of(request)
        principal = caller(request, Action.SPEAK, mid)
        line = parse_model(SttBody, await read_json(request, max_body_bytes))
        fields = {**line.model_dump(), "speaker": speaker_name(principal, line.speaker)}
        answer = _raise_refusal(await hosts.submit_line(mid, fields, may_create(principal, mid)))
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
        to_glossary = allows(principal, Action.GLOSSARY_WRITE)
        answer = await hosts.add_terms(mid, terms, may_create(principal, mid), to_glossary)
        return JSONResponse(_raise_refusal(answer))

    async def get_terms(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.READ, mid)
        return JSONResponse(_raise_refusal(await hosts.glossary(mid, *_page(request))))

    async def get_transcript(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.READ, mid)
        return JSONResponse(_raise_refusal(await hosts.transcript(mid, *_page(request))))

    async def stop(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.HOST, mid)
        return JSONResponse(_raise_refusal(await hosts.stop(mid)), status_code=202)

    async def stop_status(request: Request) -> Response:
        mid = meeting_id_of(request)
        caller(request, Action.READ, mid)
        return JSONResponse(_raise_refusal(await hosts.stop_status(mid)))

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
    return app
