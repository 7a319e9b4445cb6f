"""What a TermExplainer replica answers, without Ray: the packaged reference first, then the
cache, then a real backend (the openai client against the local OpenAI-compatible stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from glossify.config.backends import ExplainerConfig
from glossify.explain.openai_compat import OpenAIExplainer
from glossify.explain.reference import packaged_reference
from glossify.explain.term_answers import NO_BACKEND, REFERENCE, TermAnswers
from tests.standins import StandIns
from tests.standins.openai_compat import CHAT
from tests.standins.state import MALFORMED

# Neither the packaged reference nor any dictionary knows it: only the backend can answer.
UNLISTED = "quorble"
LINE = "We need a quorble before the release, says the platform team."


@pytest.fixture
def config(standins: StandIns) -> ExplainerConfig:
    standins.state.reset()
    openai = {"base_url": standins.openai_base_url, "model": standins.state.chat_model}
    return ExplainerConfig.model_validate({"backend": "openai", "openai": openai})


@pytest.fixture
async def backend(config: ExplainerConfig) -> AsyncIterator[OpenAIExplainer]:
    explainer = OpenAIExplainer.from_config(config)  # as a replica starts it
    await explainer.start()
    yield explainer
    await explainer.close()


async def test_a_term_the_reference_lists_is_answered_from_it_without_the_backend(
    standins: StandIns, config: ExplainerConfig, backend: OpenAIExplainer
) -> None:
    answers = TermAnswers(config, backend, packaged_reference())
    answer = await answers.explain("EBITDA", "Our adjusted EBITDA margin fell this quarter.", "en")
    assert answer.source == REFERENCE
    assert answer.explanation.domain == "Finance"
    assert answer.explanation.body.startswith("Earnings before interest, taxes")
    assert standins.state.received(CHAT) == []


async def test_other_terms_go_to_the_backend_once_then_come_from_the_cache(
    standins: StandIns, config: ExplainerConfig, backend: OpenAIExplainer
) -> None:
    answers = TermAnswers(config, backend, packaged_reference())
    first = await answers.explain(UNLISTED, LINE, "en", meeting="m-1")
    again = await answers.explain(UNLISTED, LINE, "en", meeting="m-2")
    assert first == again
    assert first.source == "openai"
    assert first.explanation.body == (
        "quorble is a software concept the stand-in explains for tests."
    )
    assert len(standins.state.received(CHAT)) == 1


async def test_an_unusable_answer_is_shown_as_an_abstention(
    standins: StandIns, config: ExplainerConfig, backend: OpenAIExplainer
) -> None:
    standins.state.script(CHAT, MALFORMED)
    answers = TermAnswers(config, backend, None)
    answer = await answers.explain(UNLISTED, LINE, "en")
    assert answer.source == "openai"
    assert answer.explanation.abstained
    assert (answer.explanation.domain, answer.explanation.body) == ("", "")
    assert len(standins.state.received(CHAT)) == 1


async def test_without_a_backend_a_term_the_reference_lacks_is_an_abstention() -> None:
    answers = TermAnswers(ExplainerConfig(), None, packaged_reference())
    unlisted = await answers.explain(UNLISTED, LINE, "en")
    assert (unlisted.source, unlisted.explanation.abstained) == (NO_BACKEND, True)
    listed = await answers.explain("EBITDA", "Our adjusted EBITDA margin fell.", "en")
    assert (listed.source, listed.explanation.abstained) == (REFERENCE, False)
