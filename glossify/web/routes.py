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

from glossify.meetings.hosts import MeetingHosts
from glossify.protocol import (
    MAX_TERMS_PER_POST,
    ExternalTerm,
    ProtocolError,
    StartBody,
    SttBody,
    check_meeting_id,
)
from glossify.web.websocket import AudioSupport, serve_socket

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
M = TypeVar("M", bound=BaseModel)


def error_response(exc: ProtocolError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


def _raise_refusal(result: dict[str, Any]) -> dict[str, Any]:
    refused = result.get("refused")
    if refused is not None:
        raise ProtocolError(refused["status"], refused["code"], refused["message"])
    return result


async def read_json(request: Request, max_bytes: int, *, optional: bool = False) -> Any:
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
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
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
    hosts: MeetingHosts, max_body_bytes: int, health: HealthCheck, audio: AudioSupport | None
) -> Starlette:
    def meeting_id_of(request: Request) -> str:
        return check_meeting_id(request.path_params["mid"])

    async def get_health(_: Request) -> Response:
        report = await health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    async def start(request: Request) -> Response:
        mid = meeting_id_of(request)
        body = parse_model(StartBody, await read_json(request, max_body_bytes, optional=True))
        return JSONResponse(_raise_refusal(await hosts.start(mid, body.language)))

    async def stt(request: Request) -> Response:
        mid = meeting_id_of(request)
        line = parse_model(SttBody, await read_json(request, max_body_bytes))
        answer = _raise_refusal(await hosts.submit_line(mid, line.model_dump()))
        answer.pop("seq", None)  # protocol v1 answers {"status": "ok"}
        return JSONResponse(answer)

    async def post_terms(request: Request) -> Response:
        mid = meeting_id_of(request)
        data = await read_json(request, max_body_bytes)
        items = data if isinstance(data, list) else [data]
        if not items or len(items) > MAX_TERMS_PER_POST:
            raise ProtocolError(
                422, "invalid_body", f"send between 1 and {MAX_TERMS_PER_POST} terms at once"
            )
        terms = [parse_model(ExternalTerm, item).model_dump() for item in items]
        return JSONResponse(_raise_refusal(await hosts.add_terms(mid, terms)))

    async def get_terms(request: Request) -> Response:
        return JSONResponse(_raise_refusal(await hosts.glossary(meeting_id_of(request))))

    async def get_transcript(request: Request) -> Response:
        return JSONResponse(_raise_refusal(await hosts.transcript(meeting_id_of(request))))

    async def stop(request: Request) -> Response:
        return JSONResponse(
            _raise_refusal(await hosts.stop(meeting_id_of(request))), status_code=202
        )

    async def stop_status(request: Request) -> Response:
        return JSONResponse(_raise_refusal(await hosts.stop_status(meeting_id_of(request))))

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
        Route("/meeting/{mid}/start", start, methods=["POST"]),
        Route("/meeting/{mid}/stt", stt, methods=["POST"]),
        Route("/meeting/{mid}/terms", post_terms, methods=["POST"]),
        Route("/meeting/{mid}/terms", get_terms, methods=["GET"]),
        Route("/meeting/{mid}/transcript", get_transcript, methods=["GET"]),
        Route("/meeting/{mid}/stop", stop, methods=["POST"]),
        Route("/meeting/{mid}/stop/status", stop_status, methods=["GET"]),
        WebSocketRoute("/meeting/{mid}/ws", lambda ws: serve_socket(ws, hosts, audio)),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            ProtocolError: on_protocol_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
    )
