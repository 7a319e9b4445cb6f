"""The openai explainer: the real openai client against a local OpenAI-compatible stand-in."""

from __future__ import annotations

import socket
import time

import openai
import pytest

from glossify.config.backends import OpenAIConfig
from glossify.explain.answer import ExplanationError
from glossify.explain.openai_compat import OpenAIExplainer
from glossify.explain.prompt import SYSTEM_PROMPT
from tests.standins import StandIns
from tests.standins.openai_compat import CHAT, MODELS
from tests.standins.state import AS_JSON, CUT_OFF, EMPTY, MALFORMED, slow, throttled, unavailable

LINE = "Users sign in to the partner app through OAuth."


@pytest.fixture(autouse=True)
def fresh(standins: StandIns) -> None:
    standins.state.reset()


async def started(
    standins: StandIns, deadline_s: float = 5.0, **overrides: object
) -> OpenAIExplainer:
    values: dict[str, object] = {
        "base_url": standins.openai_base_url,
        "model": standins.state.chat_model,
        "retry_backoff_s": 0.05,
    }
    explainer = OpenAIExplainer(
        OpenAIConfig.model_validate(values | overrides),
        deadline_s=deadline_s,
        max_tokens=96,
        max_chars=280,
    )
    await explainer.start()
    return explainer


@pytest.fixture
async def explainer(standins: StandIns) -> OpenAIExplainer:
    explainer = await started(standins)
    yield explainer
    await explainer.close()


async def test_chat_completion_request_and_parsed_answer(
    standins: StandIns, explainer: OpenAIExplainer
) -> None:
    answer = await explainer.explain("OAuth", LINE, "de")
    assert (answer.domain, answer.body) == (
        "Security",
        "OAuth is a security concept the stand-in explains for tests.",
    )
    (models,) = standins.state.received(MODELS)
    assert models.path == "/v1/models"
    (request,) = standins.state.received(CHAT)
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer none"  # no key configured
    body = request.body
    assert body["model"] == standins.state.chat_model
    assert body["max_tokens"] == 96 and body["temperature"] == 0.2
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert 'Term: "OAuth"' in body["messages"][-1]["content"]
    assert "German" in body["messages"][-1]["content"]
    assert explainer.health() == {
        "backend": "openai",
        "state": "ok",
        "recent_calls": 1,
        "recent_errors": 0,
        "endpoint": standins.openai_base_url.split("//")[1].split("/")[0],
        "model": standins.state.chat_model,
    }


async def test_an_api_key_is_sent_as_a_bearer_token_and_never_reported(
    standins: StandIns,
) -> None:
    explainer = await started(standins, api_key="sk-test-secret")
    try:
        await explainer.explain("OAuth", LINE, None)
        assert "sk-test-secret" not in repr(explainer.health())
    finally:
        await explainer.close()
    assert standins.state.received(CHAT)[0].headers["authorization"] == "Bearer sk-test-secret"


async def test_json_and_cut_off_answers(standins: StandIns, explainer: OpenAIExplainer) -> None:
    standins.state.script(CHAT, AS_JSON, CUT_OFF)
    assert (await explainer.explain("EBITDA", "The EBITDA bridge.", None)).domain == "Finance"
    cut = await explainer.explain("EBITDA", "The EBITDA bridge.", None)
    assert cut.body == "EBITDA is a finance concept the stand-in explains for tests."


async def test_rate_limits_and_server_errors_are_retried(
    standins: StandIns, explainer: OpenAIExplainer
) -> None:
    standins.state.script(CHAT, throttled(retry_after="1"), unavailable())
    started_at = time.monotonic()
    assert (await explainer.explain("OAuth", LINE, None)).domain == "Security"
    assert time.monotonic() - started_at >= 0.9
    assert len(standins.state.received(CHAT)) == 3


async def test_retries_are_bounded(standins: StandIns, explainer: OpenAIExplainer) -> None:
    standins.state.always(CHAT, unavailable())
    with pytest.raises(openai.InternalServerError):
        await explainer.explain("OAuth", LINE, None)
    assert len(standins.state.received(CHAT)) == 3
    standins.state.reset()
    standins.state.script(CHAT, throttled(retry_after="60"))
    with pytest.raises(openai.RateLimitError):
        await explainer.explain("OAuth", LINE, None)
    assert len(standins.state.received(CHAT)) == 1


async def test_a_slow_server_ends_at_the_deadline(standins: StandIns) -> None:
    explainer = await started(standins, deadline_s=1.0)
    standins.state.script(CHAT, slow(3.0))
    try:
        started_at = time.monotonic()
        with pytest.raises(TimeoutError, match="within 1 s"):
            await explainer.explain("OAuth", LINE, None)
        assert time.monotonic() - started_at < 2.0
        assert explainer.health()["last_error"] == "TimeoutError"
    finally:
        await explainer.close()


@pytest.mark.parametrize("behaviour", [EMPTY, MALFORMED], ids=["empty", "malformed"])
async def test_unreadable_answers_are_errors(
    standins: StandIns, explainer: OpenAIExplainer, behaviour: object
) -> None:
    standins.state.script(CHAT, behaviour)
    with pytest.raises(ExplanationError, match="unreadable answer"):
        await explainer.explain("OAuth", LINE, None)
    assert len(standins.state.received(CHAT)) == 1


async def test_a_model_the_server_does_not_serve_shows_in_health(standins: StandIns) -> None:
    explainer = await started(standins, model="no-such-model")
    try:
        health = explainer.health()
        assert health["state"] == "failing"
        assert "'no-such-model' is not served" in health["startup_error"]
        with pytest.raises(openai.NotFoundError):
            await explainer.explain("OAuth", LINE, None)
        assert len(standins.state.received(CHAT)) == 1  # a 404 is not retried
    finally:
        await explainer.close()


async def test_a_server_that_is_down_at_start_does_not_stop_the_replica() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    explainer = OpenAIExplainer(
        OpenAIConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", retry_backoff_s=0.05),
        deadline_s=2.0,
        max_tokens=96,
        max_chars=280,
    )
    try:
        await explainer.start()
        assert explainer.health()["startup_error"] == "model list failed: APIConnectionError"
        started_at = time.monotonic()
        with pytest.raises(openai.APIConnectionError):
            await explainer.explain("OAuth", LINE, None)
        assert time.monotonic() - started_at < 2.5
    finally:
        await explainer.close()
