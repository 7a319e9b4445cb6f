"""The real llama.cpp path, on SmolLM2-135M: its content is nonsense, but the format must hold."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from glossify.explain.answer import Explanation
from glossify.explain.local import (
    ExplanationError,
    LocalExplainer,
    build_grammar,
    build_messages,
    clip_context,
    echoes_context,
    language_name,
)
from glossify.weights.packaged import smollm2_path

MAX_CHARS = 160
DOMAIN = re.compile(r"^[A-Z][A-Za-z]{0,23}$")
CONTEXT_TAIL = re.compile(r"(?:^|[.!?]\s+)(?:In this context|In the context of|Here,)[^.!?]*\.?$")
CASES = [
    ("Kubernetes", "We should move the billing service onto Kubernetes next sprint.", "en"),
    ("EBITDA", "Our EBITDA margin dropped two points this quarter.", None),
    ("OAuth", "The partner app will sign in through OAuth.", "en-US"),
    ("CPK", "The CPK on line three is below 1.33.", None),
]


@pytest.fixture(scope="module")
def explainer() -> LocalExplainer:
    # One thread: llama.cpp threads spin, and two of them on a busy 2-core machine crawl.
    return LocalExplainer(smollm2_path(), n_threads=1, max_tokens=64, max_chars=MAX_CHARS)


def _assert_well_formed(explanation: Explanation) -> None:
    assert DOMAIN.match(explanation.domain), explanation
    assert explanation.body.strip(), explanation
    assert len(explanation.body) <= MAX_CHARS, explanation
    assert "\n" not in explanation.body
    assert not CONTEXT_TAIL.search(explanation.body), explanation


@pytest.mark.asyncio
@pytest.mark.parametrize(("term", "context", "language"), CASES)
async def test_explanations_are_well_formed(
    explainer: LocalExplainer, term: str, context: str, language: str | None
) -> None:
    # A fixed seed makes these sequential answers repeatable, so no unusable answer is tolerated.
    explanation = await explainer.explain(term, context, language, deadline_s=60)
    _assert_well_formed(explanation)


@pytest.mark.asyncio
async def test_a_tiny_deadline_raises_timeout(explainer: LocalExplainer) -> None:
    with pytest.raises(TimeoutError, match="EBITDA"):
        await explainer.explain("EBITDA", "EBITDA went up.", None, deadline_s=0.001)


@pytest.mark.asyncio
async def test_concurrent_calls_all_complete(explainer: LocalExplainer) -> None:
    calls = [
        explainer.explain(term, context, lang, deadline_s=120) for term, context, lang in CASES
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    explanations = [r for r in results if isinstance(r, Explanation)]
    # Batched decoding may change an answer, so an unusable one is tolerated; a crash or a
    # timeout is not.
    assert all(isinstance(r, Explanation | ExplanationError) for r in results), results
    assert explanations, results
    for explanation in explanations:
        _assert_well_formed(explanation)


def test_explain_works_from_plain_asyncio_run(explainer: LocalExplainer) -> None:
    result = asyncio.run(
        explainer.explain("Kafka", "Events go through Kafka.", None, deadline_s=60)
    )
    _assert_well_formed(result)


def test_missing_model_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalExplainer(tmp_path / "absent.gguf")


def test_grammar_bounds_the_body() -> None:
    grammar = build_grammar(200)
    assert 'root ::= "domain: " domain "\\n" body' in grammar
    assert "[^\\n]{11,199}" in grammar


def test_prompt_carries_term_context_and_language() -> None:
    messages = build_messages("CPK", "The CPK is low.", "de-DE")
    assert messages[0]["role"] == "system"
    assert messages[-1]["role"] == "user"
    assert '"CPK"' in messages[-1]["content"]
    assert "The CPK is low." in messages[-1]["content"]
    assert "German" in messages[-1]["content"]
    assert "German" not in build_messages("CPK", "The CPK is low.", None)[-1]["content"]


def test_language_name_maps_codes_and_passes_names_through() -> None:
    assert language_name("ko") == "Korean"
    assert language_name("pt_BR") == "Portuguese"
    assert language_name("Klingon") == "Klingon"


def test_long_context_is_clipped_around_the_term() -> None:
    context = "filler " * 200 + "the CPK is low " + "filler " * 200
    clipped = clip_context(context, "CPK", limit=100)
    assert len(clipped) == 100
    assert "CPK" in clipped


def test_an_echo_of_the_transcript_line_is_detected() -> None:
    line = "Wir müssen die Rückstellungen für das Projekt erhöhen."
    assert echoes_context("Wir müssen die Rückstellungen für das Projekt erhöhen", line)
    assert not echoes_context("Money set aside for expected future costs.", line)


def _first_prompt_tokens(explainer: LocalExplainer) -> int:
    request = explainer.build_request("Kafka", "Events go through Kafka.", None)
    response = explainer._server.handle_chat_completions(request)
    return response["timings"]["prompt_n"]


async def test_warm_up_puts_the_prompt_prefix_in_every_slot() -> None:
    cold = LocalExplainer(smollm2_path(), n_threads=1, n_parallel=2, max_tokens=16)
    warm = LocalExplainer(smollm2_path(), n_threads=1, n_parallel=2, max_tokens=16)
    await warm.warm_up()
    cold_tokens = _first_prompt_tokens(cold)
    # Two requests at once land in both slots: each must find the prefix cached.
    warm_tokens = await asyncio.gather(
        asyncio.to_thread(_first_prompt_tokens, warm), asyncio.to_thread(_first_prompt_tokens, warm)
    )
    assert all(tokens < cold_tokens / 3 for tokens in warm_tokens), (cold_tokens, warm_tokens)


async def test_a_term_waiting_too_long_for_a_slot_is_given_up() -> None:
    busy = LocalExplainer(
        smollm2_path(), n_threads=1, n_parallel=1, max_tokens=48, queue_timeout_s=0.05
    )
    calls = [busy.explain(term, context, lang, deadline_s=60) for term, context, lang in CASES]
    results = await asyncio.gather(*calls, return_exceptions=True)
    given_up = [r for r in results if isinstance(r, TimeoutError)]
    # One slot: the first request generates, the others wait far longer than 50 ms.
    assert len(given_up) == len(CASES) - 1, results
    assert all("no model slot" in str(r) for r in given_up)


async def test_a_generation_running_past_its_limit_marks_the_model_stuck_until_it_ends() -> None:
    stuck = LocalExplainer(smollm2_path(), n_threads=1, max_tokens=64, stuck_after_s=0.05)
    assert stuck.health()["state"] == "ok"
    with pytest.raises(TimeoutError):
        # The caller gives up at once; the native call cannot be stopped and runs on.
        await stuck.explain("Kubernetes", "Our Kubernetes cluster is down.", "en", deadline_s=0.001)
    await asyncio.sleep(0.1)
    report = stuck.health()
    assert report["state"] == "failing" and report["stuck"] is True
    async with asyncio.timeout(60):
        await stuck.finished()
    assert stuck.health()["state"] == "ok"
