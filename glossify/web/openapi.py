"""The OpenAPI 3.1 document of protocol v1 (``GET /openapi.json``), built from the same pydantic
models the routes validate with, so the document cannot drift from what is accepted."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from glossify.access.tokens import MintRequest
from glossify.protocol import MAX_TERMS_PER_POST, PROTOCOL_VERSION, ExternalTerm, StartBody, SttBody

_REF = "#/components/schemas/{model}"
_MEETING_ID = {
    "name": "mid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}
_PAGE = [
    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
]


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer.update(_json(schema))
    return answer


def _errors(*statuses: int) -> dict[str, Any]:
    error = {"$ref": _REF.format(model="Error")}
    return {str(status): _answer("error", error) for status in statuses}


def _operation(
    summary: str,
    ok: dict[str, Any],
    errors: tuple[int, ...],
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_MEETING_ID, *(parameters or [])],
        "responses": {**ok, **_errors(400, 401, 403, 404, 429, *errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": body_required, **_json(body)}
    return operation


@cache
def openapi_document() -> dict[str, Any]:
    components: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"const": "error"},
                "code": {"type": "string"},
                "message": {"type": "string"},
            },
        }
    }
    obj = {"type": "object"}
    term = _schema(ExternalTerm, components)
    terms_body = {"oneOf": [term, {"type": "array", "items": term, "maxItems": MAX_TERMS_PER_POST}]}
    page = {"type": "object", "properties": {"next_after": {"type": ["integer", "null"]}}}
    meeting = "/meeting/{mid}"
    paths = {
        "/health": {
            "get": {
                "summary": "Service health; backend details for authenticated callers only",
                "security": [{}, {"bearer": []}],
                "responses": {"200": _answer("ok", obj), "503": _answer("degraded", obj)},
            }
        },
        f"{meeting}/start": {
            "post": _operation(
                "Start (create) a meeting: host",
                {"200": _answer("started", obj)},
                (413, 415, 422),
                _schema(StartBody, components),
                body_required=False,
            )
        },
        f"{meeting}/stt": {
            "post": _operation(
                "A transcript line from a speech recogniser: speaker",
                {"200": _answer("journaled", obj)},
                (409, 413, 415, 422),
                _schema(SttBody, components),
            )
        },
        f"{meeting}/terms": {
            "post": _operation(
                "Terms explained elsewhere: host",
                {"200": _answer("accepted", obj)},
                (409, 413, 415, 422),
                terms_body,
            ),
            "get": _operation(
                "The meeting's glossary so far: listener",
                {"200": _answer("terms", page)},
                (),
                parameters=_PAGE,
            ),
        },
        f"{meeting}/transcript": {
            "get": _operation(
                "The meeting's final lines: listener",
                {"200": _answer("lines", page)},
                (),
                parameters=_PAGE,
            )
        },
        f"{meeting}/stop": {
            "post": _operation(
                "Stop the meeting and upsert its glossary: host",
                {"202": _answer("accepted", obj)},
                (409,),
            )
        },
        f"{meeting}/stop/status": {
            "get": _operation(
                "Where the stop's upsert is: listener", {"200": _answer("status", obj)}, ()
            )
        },
        f"{meeting}/tokens": {
            "post": _operation(
                "Mint a meeting token (service key with tokens:mint)",
                {"200": _answer("token", obj)},
                (409, 413, 415, 422),
                _schema(MintRequest, components),
            )
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Glossify protocol", "version": str(PROTOCOL_VERSION)},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
