"""How a meeting asks the explainer for a term: a failed call is asked again, a timeout and an
abstention are not; the explainer deployment is stood in for by a class that fails on cue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from glossify.config.settings import load_config
from glossify.meetings.explanations import TermExplanations
from glossify.store.postgres import Store
from glossify.terms.candidates import Candidate

ANSWER = {"domain": "Cloud", "body": "A node is a machine.", "source": "local"}


Outcome = Exception | tuple[float, Exception] | str | dict[str, Any]


class Explainer:
    """Answers each ask with the next of ``outcomes``: an exception is raised (after so many
    seconds, when paired with them), "hang" never answers, a dict is the answer."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.asked = 0

    async def detect(self, text: str, language: str | None) -> list[Candidate]:
        raise AssertionError("nothing is detected here")

    async def explain(
        self, term: str, context: str, language: str | None, meeting: str
    ) -> dict[str, Any]:
        self.asked += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, tuple):
            await asyncio.sleep(outcome[0])
            raise outcome[1]
        if isinstance(outcome, Exception):
            raise outcome
        if outcome == "hang":
            await asyncio.Event().wait()
        assert isinstance(outcome, dict)
        return outcome


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    # Only the organisation glossary lookup reads the store; asking the explainer does not.
    opened = await Store.connect(database_url, max_size=1)
    try:
        yield opened
    finally:
        await opened.close()


def explanations(
    store: Store, explainer: Explainer, attempts: int = 2, timeout_s: float = 0.5
) -> TermExplanations:
    config = load_config(
        {"meetings": {"explain_attempts": attempts, "term_timeout_s": timeout_s}},
        env={"DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused"},
    )
    return TermExplanations(store, explainer, config)


async def test_a_failed_call_is_asked_again_and_its_answer_published(store: Store) -> None:
    explainer = Explainer(RuntimeError("replica died"), ANSWER)
    event = await explanations(store, explainer).new("node", "The node is down.", "en", "m1")
    assert explainer.asked == 2
    assert (event["entity"], event["domain"], event["body"], event["source"]) == (
        "node",
        "Cloud",
        "A node is a machine.",
        "local",
    )


async def test_the_last_failure_is_raised_and_a_timeout_is_not_asked_again(store: Store) -> None:
    failing = Explainer(RuntimeError("one"), RuntimeError("two"))
    with pytest.raises(RuntimeError, match="two"):
        await explanations(store, failing).new("node", "The node is down.", "en", "m1")
    hanging = Explainer("hang", ANSWER)
    with pytest.raises(TimeoutError):
        await explanations(store, hanging, attempts=3).new("node", "The node is down.", "en", "m1")
    assert hanging.asked == 1


async def test_the_terms_time_covers_every_attempt(store: Store) -> None:
    # The first attempt fails after 0.6 of the term's 1.0 s: the second gets the 0.4 s left,
    # not a second full second.
    explainer = Explainer((0.6, RuntimeError("replica died")), "hang")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await explanations(store, explainer, timeout_s=1.0).new("node", "A node.", "en", "m1")
    assert explainer.asked == 2
    assert time.monotonic() - started < 1.5


async def test_an_abstention_is_shown_as_such_in_the_meetings_language(store: Store) -> None:
    explainer = Explainer({"domain": "", "body": "", "source": "local", "abstained": True})
    event = await explanations(store, explainer).new("노드", "노드가 내려갔습니다.", "ko", "m1")
    assert explainer.asked == 1
    assert event["abstained"] is True and event["domain"] == ""
    assert event["body"] == "확실한 설명이 없습니다."
