"""``/openapi.json`` describes every REST route the ingress serves, with its methods, and no
other (the pages and the WebSocket are not REST)."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route

from glossify.config.access import AccessConfig
from glossify.config.settings import GlossifyConfig
from glossify.meetings.hosts import MeetingHosts
from glossify.web.gate import AccessGate
from glossify.web.openapi import openapi_document
from glossify.web.routes import build_http_app

NOT_REST = {"/", "/m/{mid}", "/glossary", "/static/{path:path}", "/openapi.json"}


async def no_health() -> dict[str, Any]:
    return {"status": "ok"}


def served() -> dict[str, set[str]]:
    """Path (in OpenAPI spelling) → methods of every REST route; builds the app, starts nothing
    (no Ray, no database: nothing is called)."""
    config = GlossifyConfig.model_validate(
        {"auth": {"mode": "off"}, "database_url": "postgresql://nowhere/none"}
    )
    gate = AccessGate(AccessConfig(mode="off"), None)
    app = build_http_app(MeetingHosts(config), gate, 1 << 20, no_health, None)
    routes: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, Route) and route.path not in NOT_REST:
            path = re.sub(r"\{(\w+):path\}", r"{\1}", route.path)
            routes.setdefault(path, set()).update((route.methods or set()) - {"HEAD"})
    return routes


def test_every_rest_route_and_method_is_in_the_document() -> None:
    document = openapi_document()["paths"]
    described = {path: {m.upper() for m in ops} for path, ops in document.items()}
    assert described == served()


def test_the_glossary_routes_name_their_parameters() -> None:
    paths = openapi_document()["paths"]
    search = {p["name"]: p["schema"] for p in paths["/glossary/terms"]["get"]["parameters"]}
    assert search["limit"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert set(search) == {"q", "domain", "after", "limit"}
    put = paths["/glossary/terms/{termid}/{domain}"]["put"]
    assert [p["name"] for p in put["parameters"]] == ["termid", "domain"]
    assert put["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}
    assert put["requestBody"]["required"] is True
    export = paths["/meeting/{mid}/export"]["get"]
    form = next(p for p in export["parameters"] if p["name"] == "format")
    assert form["required"] and form["schema"]["enum"] == ["csv", "md", "json"]
