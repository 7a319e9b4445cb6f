"""What every REST handler shares: reading a JSON body, validating it, paging, and turning a
meeting host's refusal or a ``ProtocolError`` into the protocol's error answer."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from glossify.access.limits import QuotaExceeded
from glossify.access.origins import is_json_content_type
from glossify.access.principal import AccessError
from glossify.protocol import ProtocolError

M = TypeVar("M", bound=BaseModel)


# A page of /transcript or /terms: protocol v1 readers that ask for no page get all of a
# meeting's lines up to the per-meeting quota, which bounds the answer anyway.
MAX_PAGE = 20_000


def error_response(exc: ProtocolError) -> JSONResponse:
    headers = exc.headers() if isinstance(exc, AccessError) else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def raise_refusal(result: dict[str, Any]) -> dict[str, Any]:
    refused = result.get("refused")
    if refused is None:
        return result
    if refused["status"] == 429:
        raise QuotaExceeded(refused["code"], refused["message"], refused.get("retry_after_s"))
    raise ProtocolError(refused["status"], refused["code"], refused["message"])


def seq_page(request: Request) -> tuple[int, int]:
    """``?after=SEQ&limit=N`` of a paginated read."""
    after, limit = request.query_params.get("after", "0"), request.query_params.get("limit")
    # isdigit() alone takes "²" and other digits int() refuses.
    if not (after.isascii() and after.isdigit()) or len(after) > 18:
        raise ProtocolError(400, "invalid_after", "after must be a non-negative integer seq")
    if limit is None:
        return int(after), MAX_PAGE
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_PAGE:
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
