"""Azure AI Foundry agents as azure-ai-projects 2.10.0 sees them (shared/notes/azure-sdks.md).

Agents: ``GET /api/projects/{project}/agents/{name}[/versions/{version}]?api-version=v1``, 404
for an unknown one. Responses (no api-version): ``POST .../openai/v1/responses`` with
``agent_reference``; with ``background: true`` it is ``queued``, then ``in_progress`` for
``polls_before_done`` polls of ``GET .../responses/{id}``, then finished as scripted;
``POST .../responses/{id}/cancel``. Conversations: create, add items, delete (204, empty body).
All calls need a Bearer token for ai.azure.com.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.common import answer_text, azure_error, has_bearer, scripted_failure, term_in
from tests.standins.state import Behaviour, StandInState

AGENTS, RESPONSES, POLLS, CANCELS, CONVERSATIONS = (
    "agents",
    "responses",
    "polls",
    "cancels",
    "conversations",
)
SCOPE_RESOURCE = "https://ai.azure.com"
MODEL = "gpt-4.1-mini"


@dataclass
class _StoredResponse:
    id: str
    term: str
    outcome: Behaviour
    background: bool
    status: str
    polls_left: int
    created_at: int


def _message(text: str) -> dict[str, Any]:
    return {
        "id": "msg_" + format(abs(hash(text)) % 10**12, "x"),
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def response_body(stored: _StoredResponse) -> dict[str, Any]:
    status, output, error, incomplete = stored.status, [], None, None
    if status in ("completed", "incomplete"):
        text = answer_text(stored.term, as_json=stored.outcome.kind == "json")
        if status == "incomplete":
            incomplete = {"reason": "max_output_tokens"}
            # Cut mid-sentence; "incomplete_empty" produced nothing at all.
            text = "" if stored.outcome.kind == "incomplete_empty" else text[: len(text) * 2 // 3]
        output = [_message(text)] if text else []
    if status == "failed":
        error = {"code": stored.outcome.code or "server_error", "message": "stand-in failure"}
    return {
        "id": stored.id,
        "object": "response",
        "created_at": stored.created_at,
        "status": status,
        "background": stored.background,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": None,
        "max_output_tokens": None,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 40,
            "output_tokens": 30,
            "total_tokens": 70,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        if status in ("completed", "incomplete")
        else None,
        "metadata": {},
    }


FINAL_STATUS = {
    "ok": "completed",
    "slow": "completed",
    "json": "completed",
    "failed": "failed",
    "incomplete": "incomplete",
    "incomplete_empty": "incomplete",
    "cancelled": "cancelled",
}


def agent_version(name: str, version: str) -> dict[str, Any]:
    return {
        "object": "agent.version",
        "id": f"{name}:{version}",
        "name": name,
        "version": version,
        "created_at": 1_760_000_000,
        "definition": {
            "kind": "prompt",
            "model": MODEL,
            "instructions": "Explain jargon heard in meetings.",
        },
    }


def routes(state: StandInState) -> list[Route]:
    stored: dict[str, _StoredResponse] = {}
    lock = threading.Lock()
    ids = itertools.count(1)

    def unauthorized(headers: dict[str, str]) -> Response | None:
        if has_bearer(headers, SCOPE_RESOURCE):
            return None
        return azure_error(401, "PermissionDenied", "Missing or invalid bearer token.")

    def wrong_project(request: Request) -> Response | None:
        if request.path_params["project"] == state.project:
            return None
        return azure_error(404, "NotFound", "Project not found.")

    async def get_agent(request: Request) -> Response:
        recorded = await state.record(AGENTS, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        if request.query_params.get("api-version") != "v1":
            return azure_error(400, "BadRequest", "Missing or unsupported api-version.")
        failure = await scripted_failure(state.next(AGENTS))
        if failure is not None:
            return failure
        name = request.path_params["name"]
        versions = state.agents.get(name)
        if versions is None:
            return azure_error(404, "NotFound", f"Agent '{name}' not found.")
        version = request.path_params.get("version")
        if version is not None:
            if version not in versions:
                return azure_error(404, "NotFound", f"Agent '{name}' version not found.")
            return JSONResponse(agent_version(name, version))
        latest = agent_version(name, versions[-1])
        return JSONResponse(
            {"object": "agent", "id": name, "name": name, "versions": {"latest": latest}}
        )

    async def create_response(request: Request) -> Response:
        recorded = await state.record(RESPONSES, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if "agent" in body:
            return azure_error(400, "invalid_payload", "Unknown parameter: 'agent'.")
        reference = body.get("agent_reference") or {}
        if reference.get("type") != "agent_reference":
            return azure_error(400, "invalid_payload", "agent_reference is required.")
        versions = state.agents.get(reference.get("name", ""))
        if versions is None or reference.get("version", versions[-1]) not in versions:
            return azure_error(404, "not_found", "Agent not found.")
        behaviour = state.next(RESPONSES)
        failure = await scripted_failure(behaviour)
        if failure is not None:
            return failure
        background = bool(body.get("background"))
        response = _StoredResponse(
            id=f"resp_{next(ids)}",
            term=term_in(body.get("input", "")),
            outcome=behaviour,
            background=background,
            status="queued",
            polls_left=state.polls_before_done,
            created_at=int(time.time()),
        )
        if not background:
            if behaviour.kind == "stuck":
                return azure_error(504, "timeout", "The agent did not finish.")
            response.status = FINAL_STATUS.get(behaviour.kind, "completed")
        with lock:
            stored[response.id] = response
        return JSONResponse(response_body(response))

    async def get_response(request: Request) -> Response:
        recorded = await state.record(POLLS, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        failure = await scripted_failure(state.next(POLLS))
        if failure is not None:
            return failure
        with lock:
            response = stored.get(request.path_params["rid"])
            if response is None:
                return azure_error(404, "not_found", "Response not found.")
            if response.status in ("queued", "in_progress"):
                if response.polls_left > 0 or response.outcome.kind == "stuck":
                    response.polls_left -= 1
                    response.status = "in_progress"
                else:
                    response.status = FINAL_STATUS.get(response.outcome.kind, "completed")
            return JSONResponse(response_body(response))

    async def cancel_response(request: Request) -> Response:
        recorded = await state.record(CANCELS, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        with lock:
            response = stored.get(request.path_params["rid"])
            if response is None:
                return azure_error(404, "not_found", "Response not found.")
            if not response.background:
                return azure_error(400, "invalid_request", "Only background responses cancel.")
            if response.status in ("queued", "in_progress"):
                response.status = "cancelled"
            return JSONResponse(response_body(response))

    async def create_conversation(request: Request) -> Response:
        recorded = await state.record(CONVERSATIONS, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        return JSONResponse(
            {
                "id": "conv_1",
                "object": "conversation",
                "created_at": int(time.time()),
                "metadata": {},
            }
        )

    async def add_items(request: Request) -> Response:
        recorded = await state.record(CONVERSATIONS, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        items = (recorded.body or {}).get("items", [])
        data = [{"id": f"item_{i}", **item} for i, item in enumerate(items)]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": "item_0",
                "last_id": "item_0",
                "has_more": False,
            }
        )

    async def delete_conversation(request: Request) -> Response:
        recorded = await state.record(CONVERSATIONS, request)
        refused = unauthorized(recorded.headers) or wrong_project(request)
        if refused is not None:
            return refused
        return Response(status_code=204)

    base = "/api/projects/{project}"
    return [
        Route(f"{base}/agents/{{name}}", get_agent, methods=["GET"]),
        Route(f"{base}/agents/{{name}}/versions/{{version}}", get_agent, methods=["GET"]),
        Route(f"{base}/openai/v1/responses", create_response, methods=["POST"]),
        Route(f"{base}/openai/v1/responses/{{rid}}", get_response, methods=["GET"]),
        Route(f"{base}/openai/v1/responses/{{rid}}/cancel", cancel_response, methods=["POST"]),
        Route(f"{base}/openai/v1/conversations", create_conversation, methods=["POST"]),
        Route(f"{base}/openai/v1/conversations/{{cid}}/items", add_items, methods=["POST"]),
        Route(f"{base}/openai/v1/conversations/{{cid}}", delete_conversation, methods=["DELETE"]),
    ]
