"""The OpenAPI 3.1 document of protocol v1 (``GET /openapi.json``), built from the same pydantic
models the routes validate with, so the document cannot drift from what is accepted."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from glossify.access.tokens import MintRequest
from glossify.protocol import MAX_TERMS_PER_POST, PROTOCOL_VERSION, ExternalTerm, StartBody, SttBody
from glossify.web.glossary_input import (
    MAX_CURSOR_CHARS,
    MAX_DOMAIN_CHARS,
    MAX_SEARCH_CHARS,
    MAX_SEARCH_PAGE,
    GlossaryCorrection,
)

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


_TERMID = {
    "name": "termid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_DOMAIN = {
    "name": "domain",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_DOMAIN_CHARS},
}
_SEARCH = [
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_SEARCH_CHARS}},
    {"name": "domain", "in": "query", "schema": {"type": "string", "maxLength": MAX_DOMAIN_CHARS}},
    {"name": "after", "in": "query", "schema": {"type": "string", "maxLength": MAX_CURSOR_CHARS}},
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_PAGE},
    },
]
_FORMAT = {
    "name": "format",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "enum": ["csv", "md", "json"]},
}


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


def _glossary_operation(
    summary: str,
    ok: dict[str, Any],
    errors: tuple[int, ...],
    parameters: list[dict[str, Any]],
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An operation on the organisation glossary (no meeting id)."""
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters,
        "responses": {**ok, **_errors(400, 401, 403, 429, *errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": True, **_json(body)}
    return operation


def _glossary_paths(components: dict[str, Any]) -> dict[str, Any]:
    row = {
        "type": "object",
        "properties": {
            "termid": {"type": "string", "format": "uuid"},
            "term": {"type": "string"},
            "domain": {"type": "string"},
            "explanation": {"type": "string"},
        },
    }
    found = {
        "type": "object",
        "properties": {
            "terms": {"type": "array", "items": row},
            "next_after": {"type": ["string", "null"]},
        },
    }
    domains = {"type": "object", "properties": {"domains": {"type": "array"}}}
    files = {
        "text/csv": {"schema": {"type": "string"}},
        "text/markdown": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object"}},
    }
    return {
        "/glossary/terms": {
            "get": _glossary_operation(
                "Search the organisation glossary: any meeting token, or meetings:read",
                {"200": _answer("a page of terms", found)},
                (),
                _SEARCH,
            )
        },
        "/glossary/domains": {
            "get": _glossary_operation(
                "The glossary's domains: any meeting token, or meetings:read",
                {"200": _answer("domains", domains)},
                (),
                [],
            )
        },
        "/glossary/terms/{termid}": {
            "get": _glossary_operation(
                "One term in every domain: any meeting token, or meetings:read",
                {"200": _answer("the term", {"type": "object"})},
                (404,),
                [_TERMID],
            )
        },
        "/glossary/terms/{termid}/{domain}": {
            "put": _glossary_operation(
                "Correct (or add) a term's explanation in a domain: glossary:write",
                {"200": _answer("the row", row)},
                (404, 413, 415, 422),
                [_TERMID, _DOMAIN],
                _schema(GlossaryCorrection, components),
            ),
            "delete": _glossary_operation(
                "Remove a term's explanation in a domain: glossary:write",
                {"204": {"description": "removed"}},
                (404,),
                [_TERMID, _DOMAIN],
            ),
        },
        "/meeting/{mid}/export": {
            "get": _operation(
                "The meeting's glossary as a CSV, Markdown or JSON download: listener",
                {"200": {"description": "the file", "content": files}},
                (),
                parameters=[_FORMAT],
            )
        },
    }


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
    paths.update(_glossary_paths(components))
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
