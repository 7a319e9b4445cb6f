"""The explanation levers without a model: meeting lines as context, the answer's language,
acronyms, and the explicit "no confident explanation" answer (prompt, grammar, parser)."""

from __future__ import annotations

import pytest

from glossify.explain.answer import (
    ABSTAINED,
    Explanation,
    ExplanationError,
    abstention_text,
    explanation_from_answer,
    finalize,
    is_abstention,
    parse_explanation,
)
from glossify.explain.evaluation import load_cases
from glossify.explain.local import (
    LATIN,
    SCRIPTS,
    body_confidence,
    build_grammar,
    explanation_from_response,
    grammar_for,
    grammar_key,
    is_english,
)
from glossify.explain.prompt import (
    ABSTAIN_ANSWER,
    EXAMPLE_EXCHANGE,
    SYSTEM_PROMPT,
    build_agent_input,
    build_messages,
    split_context,
)
from tests.paths import REPO_ROOT

LINES = "Okay, I'm looking at the cluster dashboard now.\nTwo of the pods are stuck."


def test_the_fixed_prefix_is_the_same_for_every_term() -> None:
    # The slots' prompt cache holds everything before the last message.
    one = build_messages("pods", LINES, "en")
    other = build_messages("감가상각", "새 장비는 감가상각하기로 했습니다.", "ko")
    assert (
        one[:-1] == other[:-1] == [{"role": "system", "content": SYSTEM_PROMPT}, *EXAMPLE_EXCHANGE]
    )


def test_no_worked_example_is_an_evaluation_term() -> None:
    # The examples must not answer the benchmark.
    examples = [m["content"] for m in EXAMPLE_EXCHANGE if m["role"] == "user"]
    example_terms = {example.split('"')[1].lower() for example in examples}
    assert example_terms
    for split in ("dev", "test"):
        cases = load_cases(REPO_ROOT / "bench" / "data" / f"explanations-{split}.jsonl")
        assert not example_terms & {case.term.lower() for case in cases}, split


def test_earlier_lines_come_before_the_line_with_the_term() -> None:
    user = build_messages("pods", LINES, "en")[-1]["content"]
    assert user.index("Earlier in the meeting:") < user.index("Heard in the meeting:")
    assert 'Earlier in the meeting: "Okay, I\'m looking at the cluster dashboard now."' in user
    assert 'Heard in the meeting: "Two of the pods are stuck."' in user


def test_one_line_has_no_earlier_part() -> None:
    user = build_messages("CPK", "The CPK is low.", None)[-1]["content"]
    assert "Earlier" not in user
    assert user == 'Term: "CPK"\nHeard in the meeting: "The CPK is low."'


def test_the_heard_line_is_the_last_one_with_the_term() -> None:
    earlier, heard = split_context("The pods restarted.\nThey look fine.\n\n", "pods")
    assert (earlier, heard) == ([], "The pods restarted.")
    earlier, heard = split_context("First.\nSecond.\nThird.", "absent")
    assert (earlier, heard) == (["First.", "Second."], "Third.")
    assert split_context("  \n ", "x") == ([], "")


def test_only_the_two_latest_earlier_lines_are_kept_and_clipped() -> None:
    lines = "\n".join([*(f"Line {n} " + "word " * 30 for n in range(5)), "The CPK is low."])
    user = build_messages("CPK", lines, "en")[-1]["content"]
    earlier = user.split("Earlier in the meeting: ", 1)[1].split("\n", 1)[0]
    assert "Line 4" in earlier and "Line 2" not in earlier
    assert len(earlier) <= 242  # the quotes around at most 240 characters


def test_a_korean_meeting_asks_for_korean_body_and_domain() -> None:
    user = build_messages("감가상각", "새 장비는 감가상각하기로 했습니다.", "ko")[-1]["content"]
    assert "in Korean" in user
    assert "domain in Korean" in user
    english = build_messages("CPK", "The CPK is low.", "en-US")[-1]["content"]
    assert "in English" in english and "domain in" not in english
    assert "sense the speaker means" in english


def test_the_system_prompt_asks_for_senses_expansions_and_abstention() -> None:
    assert "Do not spell out acronyms" not in SYSTEM_PROMPT
    assert "expansion" in SYSTEM_PROMPT
    assert "sense" in SYSTEM_PROMPT
    assert SYSTEM_PROMPT.endswith(ABSTAIN_ANSWER)


def test_the_agent_input_carries_the_lines_and_the_abstention() -> None:
    text = build_agent_input("pods", LINES, "ko")
    assert "Earlier in the meeting" in text and "Korean" in text
    assert ABSTAIN_ANSWER in text


@pytest.mark.parametrize(
    "text",
    [
        "no confident explanation",
        "No confident explanation.",
        "  **No confident explanation**  ",
        "domain: General\nno confident explanation",
        "```\nno confident explanation\n```",
    ],
)
def test_an_abstention_parses_as_abstained(text: str) -> None:
    assert is_abstention(text)
    assert parse_explanation(text) == ABSTAINED
    assert finalize(text) == ABSTAINED
    assert explanation_from_answer("SPC", text, "The SPC chart is red.", 200) == ABSTAINED


def test_abstained_is_empty_and_flagged() -> None:
    assert Explanation(domain="", body="", abstained=True) == ABSTAINED
    assert Explanation("Finance", "Money.").abstained is False


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (None, "No confident explanation."),
        ("en", "No confident explanation."),
        ("ko", "확실한 설명이 없습니다."),
        ("ko-KR", "확실한 설명이 없습니다."),
        ("de", "No confident explanation."),
    ],
)
def test_a_meeting_says_it_abstained_in_its_language(language: str | None, text: str) -> None:
    assert abstention_text(language) == text


@pytest.mark.parametrize(
    "text",
    [
        "domain: Software\nThere is no confident explanation of why it fails.",
        "domain: Quality\nNo confident explanation exists, but it means a check.",
    ],
)
def test_a_sentence_mentioning_the_phrase_is_an_answer(text: str) -> None:
    assert not is_abstention(text)
    parsed = parse_explanation(text)
    assert parsed is not None and not parsed.abstained


def test_an_empty_answer_is_still_an_error_not_an_abstention() -> None:
    with pytest.raises(ExplanationError):
        explanation_from_answer("SPC", "", "The SPC chart is red.", 200)


def test_a_korean_domain_is_kept() -> None:
    parsed = finalize("domain: 재무\n자산의 가치를 사용 기간에 걸쳐 비용으로 나누는 것입니다.")
    assert parsed == Explanation("재무", "자산의 가치를 사용 기간에 걸쳐 비용으로 나누는 것입니다.")


def test_the_grammar_allows_the_abstention_and_native_domains() -> None:
    english = build_grammar(200)
    assert f'abstain ::= "{ABSTAIN_ANSWER}"' in english
    assert "root ::= " in english and "| abstain" in english
    assert "domain ::= [A-Z] [a-zA-Z]{1,23}" in english
    latin = grammar_for("en", 200)
    assert f"body ::= {LATIN[0]} {LATIN[1]}{{11,199}}" in latin  # no Hangul, Han, Cyrillic
    native = build_grammar(200, english=False)
    assert "domain ::= [^\\x00-\\x40\\x5B-\\x60\\x7B-\\x7F]{1,24}" in native
    assert "body ::= [^\\n ] [^\\n]{11,199}" in native


def test_a_korean_answer_must_be_written_in_hangul() -> None:
    korean = grammar_for("ko", 200)
    assert "domain ::= [가-힣]{1,12}" in korean
    assert "body ::= [^\\n ] [^\\n]{0,11} [가-힣] [^\\n]{9,186}" in korean
    assert set(SCRIPTS) == {"ko", "ja", "zh"}


@pytest.mark.parametrize(
    ("language", "key"),
    [(None, "en"), ("en-US", "en"), ("ko", "ko"), ("ko-KR", "ko"), ("de", "other"), ("zh", "zh")],
)
def test_each_language_gets_its_grammar(language: str | None, key: str) -> None:
    assert grammar_key(language) == key


def _token(text: str, logprob: float) -> dict[str, object]:
    return {"token": text, "logprob": logprob}


def test_confidence_is_the_mean_logprob_of_the_body_tokens() -> None:
    tokens = [_token("domain", -3.0), _token(":", 0.0), _token(" Finance", -2.0)]
    tokens += [_token("\n", -0.1), _token("Money", -0.5), _token(" owed", -1.5)]
    assert body_confidence({"logprobs": {"content": tokens}}) == pytest.approx(-1.0)


def test_no_body_or_no_logprobs_has_no_confidence() -> None:
    assert body_confidence({"logprobs": {"content": [_token("no", -0.2)]}}) is None
    assert body_confidence({"message": {"content": "domain: X\nY"}}) is None
    assert body_confidence({"logprobs": None}) is None


@pytest.mark.parametrize(
    ("language", "english"),
    [(None, True), ("en", True), ("en-GB", True), ("ko", False), ("de-DE", False)],
)
def test_which_languages_get_the_english_grammar(language: str | None, english: bool) -> None:
    assert is_english(language) is english


def _response(content: str, tokens: list[dict[str, object]] | None) -> dict[str, object]:
    choice: dict[str, object] = {"message": {"content": content}, "finish_reason": "stop"}
    if tokens is not None:
        choice["logprobs"] = {"content": tokens}
    return {"choices": [choice]}


ANSWER = "domain: Finance\nMoney owed by customers."
SURE = [_token("domain: Finance", -0.1), _token("\n", 0.0), _token("Money owed", -0.2)]
GUESS = [_token("domain: Finance", -0.1), _token("\n", 0.0), _token("Money owed", -2.5)]


def test_a_sure_answer_is_kept_with_its_confidence() -> None:
    made = explanation_from_response(
        "AR", "AR is up.", _response(ANSWER, SURE), 200, abstain_below=-1
    )
    assert made == Explanation("Finance", "Money owed by customers.")
    assert made.confidence == pytest.approx(-0.2)


def test_a_guess_below_the_threshold_is_an_abstention() -> None:
    made = explanation_from_response(
        "AR", "AR is up.", _response(ANSWER, GUESS), 200, abstain_below=-1
    )
    assert made == ABSTAINED and made.confidence == pytest.approx(-2.5)
    kept = explanation_from_response("AR", "AR is up.", _response(ANSWER, GUESS), 200)
    assert not kept.abstained


def test_the_model_saying_it_does_not_know_is_an_abstention() -> None:
    answer = _response(ABSTAIN_ANSWER, [_token("no", -0.3)])
    assert explanation_from_response("AR", "AR is up.", answer, 200) == ABSTAINED


def test_a_server_error_is_an_explanation_error() -> None:
    with pytest.raises(ExplanationError, match="model error"):
        explanation_from_response("AR", "AR is up.", {"error": "boom"}, 200)
