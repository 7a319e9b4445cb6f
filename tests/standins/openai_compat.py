"""An OpenAI-compatible chat-completions server (what vLLM, Ray Serve LLM and Ollama expose):
``GET /v1/models`` and ``POST /v1/chat/completions``; an unknown model is a 404."""

from __future__ import annotations

import itertools
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.standins.common import answer_text, scripted_failure, term_in
from tests.standins.state import StandInState

CHAT, MODELS = "chat", "models"


def _error(status: int, message: str, kind: str) -> Response:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": str(status)}},
        status_code=status,
    )


def routes(state: StandInState) -> list[Route]:
    ids = itertools.count(1)

    async def models(request: Request) -> Response:
        await state.record(MODELS, request)
        failure = await scripted_failure(state.next(MODELS))
        if failure is not None:
            return failure
        model = {"id": state.chat_model, "object": "model", "created": 0, "owned_by": "standin"}
        return JSONResponse({"object": "list", "data": [model]})

    async def chat(request: Request) -> Response:
        recorded = await state.record(CHAT, request)
        behaviour = state.next(CHAT)
        failure = await scripted_failure(behaviour)
        if failure is not None:
            return failure
        body = recorded.body if isinstance(recorded.body, dict) else {}
        if body.get("model") != state.chat_model:
            return _error(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
        messages = body.get("messages") or []
        if not messages:
            return _error(400, "messages must not be empty", "BadRequestError")
        text = answer_text(term_in(messages[-1].get("content", "")), behaviour.kind == "json")
        finish = "stop"
        if behaviour.kind == "length":
            text, finish = text[: len(text) * 2 // 3], "length"
        return JSONResponse(
            {
                "id": f"chatcmpl-{next(ids)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": state.chat_model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish,
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 60, "completion_tokens": 30, "total_tokens": 90},
            }
        )

    return [
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ]
