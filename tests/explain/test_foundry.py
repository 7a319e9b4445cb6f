"""The foundry explainer: the real azure-ai-projects and openai clients against the stand-in."""

from __future__ import annotations

import time

import pytest
from azure.ai.projects.aio import AIProjectClient

from glossify.config.backends import ExplainerConfig, FoundryConfig
from glossify.explain.answer import ExplanationError
from glossify.explain.explainer import start_explainer
from glossify.explain.foundry import AgentNotFoundError, FoundryExplainer, ResponseFailed
from tests.standins import StandIns, StaticTokenCredential
from tests.standins.foundry import AGENTS, CANCELS, POLLS, RESPONSES, SCOPE_RESOURCE
from tests.standins.state import (
    AS_JSON,
    CANCELLED,
    EMPTY,
    INCOMPLETE,
    INCOMPLETE_EMPTY,
    MALFORMED,
    STUCK,
    failed,
    slow,
    throttled,
    unavailable,
)

AGENT = "glossary-agent"
BEARER = f"Bearer standin-token:{SCOPE_RESOURCE}"
LINE = "Our EBITDA bridge looks off this quarter."


@pytest.fixture(autouse=True)
def fresh(standins: StandIns) -> None:
    standins.state.reset()


def settings(standins: StandIns, **overrides: object) -> FoundryConfig:
    values: dict[str, object] = {
        "project_endpoint": standins.project_endpoint,
        "agent_name": AGENT,
        "ca_file": standins.ca_file,
        "poll_interval_s": 0.05,
        "retry_backoff_s": 0.05,
        "read_timeout_s": 2.0,
        "startup_timeout_s": 5.0,
    }
    return FoundryConfig.model_validate(values | overrides)


async def started(
    standins: StandIns, deadline_s: float = 5.0, **overrides: object
) -> FoundryExplainer:
    explainer = FoundryExplainer(
        settings(standins, **overrides),
        deadline_s=deadline_s,
        max_chars=280,
        credential=StaticTokenCredential(),
    )
    await explainer.start()
    return explainer


@pytest.fixture
async def explainer(standins: StandIns) -> FoundryExplainer:
    explainer = await started(standins)
    yield explainer
    await explainer.close()


async def test_start_checks_the_agent_by_name_with_a_bearer_token(standins: StandIns) -> None:
    credential = StaticTokenCredential()
    explainer = FoundryExplainer(
        settings(standins), deadline_s=5, max_chars=280, credential=credential
    )
    await explainer.start()
    await explainer.close()
    (request,) = standins.state.requests
    assert (request.service, request.method) == (AGENTS, "GET")
    assert request.path == f"/api/projects/{standins.state.project}/agents/{AGENT}"
    assert request.query == {"api-version": "v1"}
    assert request.headers["authorization"] == BEARER
    assert credential.scopes == [f"{SCOPE_RESOURCE}/.default"]
    assert explainer.health()["state"] == "ok"


async def test_a_missing_agent_stops_start_up_with_a_clear_message(standins: StandIns) -> None:
    explainer = FoundryExplainer(
        settings(standins, agent_name="no-such-agent"),
        deadline_s=5,
        max_chars=280,
        credential=StaticTokenCredential(),
    )
    with pytest.raises(AgentNotFoundError, match="'no-such-agent' does not exist") as caught:
        await explainer.start()
    assert "never creates agents" in str(caught.value)
    # Looked up, never created.
    assert [(r.method, r.service) for r in standins.state.requests] == [("GET", AGENTS)]


async def test_the_term_explainer_backend_does_not_start_without_its_agent(
    standins: StandIns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a TermExplainer replica runs at start-up, DefaultAzureCredential included."""
    for name, value in standins.identity_env.items():
        monkeypatch.setenv(name, value)
    config = ExplainerConfig(
        backend="foundry",
        foundry=settings(standins, agent_name="retired-agent", max_attempts=1),
    )
    with pytest.raises(AgentNotFoundError, match="'retired-agent' does not exist in project"):
        await start_explainer(config)
    (token,) = standins.state.received("identity")
    assert token.query["resource"] == SCOPE_RESOURCE
    (check,) = standins.state.received(AGENTS)
    assert check.headers["authorization"] == BEARER


async def test_a_missing_version_stops_start_up_too(standins: StandIns) -> None:
    with pytest.raises(AgentNotFoundError, match="version '9'"):
        await started(standins, agent_version="9")
    paths = [r.path for r in standins.state.received(AGENTS)]
    assert paths[-1].endswith(f"/agents/{AGENT}/versions/9")


async def test_a_start_up_check_that_cannot_be_made_marks_failing_but_goes_on(
    standins: StandIns,
) -> None:
    standins.state.always(AGENTS, unavailable())
    explainer = await started(standins, max_attempts=2)
    try:
        health = explainer.health()
        assert health["state"] == "failing"
        assert health["startup_error"] == "agent check failed: HttpResponseError 503"
        standins.state.always(AGENTS, None)
        await explainer.explain("EBITDA", LINE, None)
        assert explainer.health()["state"] == "ok"
    finally:
        await explainer.close()


async def test_a_term_is_a_background_response_polled_to_completion(
    standins: StandIns, explainer: FoundryExplainer
) -> None:
    answer = await explainer.explain("EBITDA", LINE, "en")
    assert (answer.domain, answer.body) == (
        "Finance",
        "EBITDA is a finance concept the stand-in explains for tests.",
    )  # the trailing "In this context, ..." sentence is cut
    (create,) = standins.state.received(RESPONSES)
    assert create.path == f"/api/projects/{standins.state.project}/openai/v1/responses"
    assert create.query == {}  # the /openai/v1 calls carry no api-version
    assert create.headers["authorization"] == BEARER
    assert create.body["agent_reference"] == {"type": "agent_reference", "name": AGENT}
    assert create.body["background"] is True
    assert 'Term: "EBITDA"' in create.body["input"] and LINE in create.body["input"]
    assert "agent" not in create.body and "model" not in create.body
    polls = standins.state.received(POLLS)
    assert len({p.path.rsplit("/", 1)[-1] for p in polls}) == 1  # the same response
    assert len(polls) == 2  # queued → in_progress → completed
    assert standins.state.received(CANCELS) == []


async def test_a_pinned_version_is_checked_and_referenced(standins: StandIns) -> None:
    explainer = await started(standins, agent_version="1")
    try:
        await explainer.explain("EBITDA", LINE, None)
        assert explainer.health()["agent_version"] == "1"
    finally:
        await explainer.close()
    assert standins.state.received(AGENTS)[-1].path.endswith(f"/agents/{AGENT}/versions/1")
    reference = standins.state.received(RESPONSES)[0].body["agent_reference"]
    assert reference == {"type": "agent_reference", "name": AGENT, "version": "1"}


async def test_the_foreground_form_is_one_call(standins: StandIns) -> None:
    explainer = await started(standins, background=False)
    try:
        answer = await explainer.explain("OAuth", "Log in with OAuth.", None)
    finally:
        await explainer.close()
    assert answer.domain == "Security"
    (create,) = standins.state.received(RESPONSES)
    assert "background" not in create.body
    assert standins.state.received(POLLS) == []


async def test_json_answers_are_parsed(standins: StandIns, explainer: FoundryExplainer) -> None:
    standins.state.script(RESPONSES, AS_JSON)
    answer = await explainer.explain("EBITDA", LINE, None)
    assert answer.domain == "Finance"
    assert answer.body.startswith("EBITDA is a finance concept")


async def test_rate_limits_and_server_errors_are_retried(
    standins: StandIns, explainer: FoundryExplainer
) -> None:
    standins.state.script(RESPONSES, throttled(retry_after="1"), unavailable())
    started_at = time.monotonic()
    assert (await explainer.explain("EBITDA", LINE, None)).domain == "Finance"
    assert time.monotonic() - started_at >= 0.9
    assert len(standins.state.received(RESPONSES)) == 3


async def test_a_failed_poll_keeps_polling_the_same_response(
    standins: StandIns, explainer: FoundryExplainer
) -> None:
    standins.state.script(POLLS, unavailable())
    assert (await explainer.explain("EBITDA", LINE, None)).domain == "Finance"
    assert len(standins.state.received(RESPONSES)) == 1
    assert len(standins.state.received(POLLS)) == 3


async def test_failed_responses_are_retried_only_for_server_and_rate_limit_codes(
    standins: StandIns, explainer: FoundryExplainer
) -> None:
    standins.state.script(RESPONSES, failed("server_error"), failed("rate_limit_exceeded"))
    assert (await explainer.explain("EBITDA", LINE, None)).domain == "Finance"
    assert len(standins.state.received(RESPONSES)) == 3

    standins.state.reset()
    standins.state.script(RESPONSES, failed("invalid_prompt"))
    with pytest.raises(ResponseFailed, match="invalid_prompt"):
        await explainer.explain("EBITDA", LINE, None)
    assert len(standins.state.received(RESPONSES)) == 1


async def test_an_incomplete_response_uses_its_partial_text_when_usable(
    standins: StandIns, explainer: FoundryExplainer
) -> None:
    standins.state.script(RESPONSES, INCOMPLETE)
    answer = await explainer.explain("EBITDA", LINE, None)
    # The cut-off last sentence is dropped; the complete one stays.
    assert answer.body == "EBITDA is a finance concept the stand-in explains for tests."

    standins.state.script(RESPONSES, INCOMPLETE_EMPTY)
    with pytest.raises(ResponseFailed, match="incomplete"):
        await explainer.explain("EBITDA", LINE, None)


async def test_a_cancelled_response_is_an_error_not_retried(
    standins: StandIns, explainer: FoundryExplainer
) -> None:
    standins.state.script(RESPONSES, CANCELLED)
    with pytest.raises(ResponseFailed, match="cancelled"):
        await explainer.explain("EBITDA", LINE, None)
    assert len(standins.state.received(RESPONSES)) == 1


async def test_the_deadline_cancels_a_response_that_does_not_finish(standins: StandIns) -> None:
    explainer = await started(standins, deadline_s=1.0)
    standins.state.script(RESPONSES, STUCK)
    try:
        started_at = time.monotonic()
        with pytest.raises(TimeoutError, match="within 1 s"):
            await explainer.explain("EBITDA", LINE, None)
        assert time.monotonic() - started_at < 3.5
        (cancel,) = standins.state.received(CANCELS)
        polled = standins.state.received(POLLS)[-1].path
        assert cancel.path == f"{polled}/cancel"
        assert cancel.headers["authorization"] == BEARER
        assert explainer.health()["last_error"] == "TimeoutError"
    finally:
        await explainer.close()


async def test_a_create_call_that_hangs_ends_at_the_deadline(standins: StandIns) -> None:
    explainer = await started(standins, deadline_s=1.0)
    standins.state.script(RESPONSES, slow(3.0))
    try:
        started_at = time.monotonic()
        with pytest.raises(TimeoutError):
            await explainer.explain("EBITDA", LINE, None)
        assert time.monotonic() - started_at < 2.0
        assert standins.state.received(CANCELS) == []  # nothing to cancel: no id yet
    finally:
        await explainer.close()


@pytest.mark.parametrize("behaviour", [EMPTY, MALFORMED], ids=["empty", "malformed"])
async def test_unreadable_answers_are_errors(
    standins: StandIns, explainer: FoundryExplainer, behaviour: object
) -> None:
    standins.state.script(RESPONSES, behaviour)
    started_at = time.monotonic()
    with pytest.raises(ExplanationError, match="unreadable answer"):
        await explainer.explain("EBITDA", LINE, None)
    assert time.monotonic() - started_at < 3
    assert explainer.health()["state"] == "degraded"


async def test_conversations_round_trip_with_the_real_client(standins: StandIns) -> None:
    """Not used by Glossify; proves the stand-in answers the optional calls as documented."""
    async with AIProjectClient(
        endpoint=standins.project_endpoint,
        credential=StaticTokenCredential(),
        connection_verify=standins.ca_file,
    ) as project:
        import ssl

        import openai

        http = openai.DefaultAsyncHttpxClient(
            verify=ssl.create_default_context(cafile=standins.ca_file)
        )
        async with project.get_openai_client(http_client=http) as client:
            conversation = await client.conversations.create()
            await client.conversations.items.create(
                conversation.id, items=[{"type": "message", "role": "user", "content": "Hi"}]
            )
            await client.conversations.delete(conversation.id)
    methods = [(r.method, r.path.split("/openai/v1")[-1]) for r in standins.state.requests]
    assert methods == [
        ("POST", "/conversations"),
        ("POST", "/conversations/conv_1/items"),
        ("DELETE", "/conversations/conv_1"),
    ]
