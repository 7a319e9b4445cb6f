"""The context prompt a stream keeps: the end of its finals Whisper was sure of, whole words,
bounded."""

from __future__ import annotations

from glossify.audio.context_prompt import context_tail, next_context, steers_context
from glossify.transcription.gates import DEFAULT_GATES, GateConfig
from glossify.transcription.types import SpeechResult


def final(text: str, avg_logprob: float, rejected: str | None = None) -> SpeechResult:
    return SpeechResult(text, "ko", avg_logprob, 0.05, 1.0, rejected)


def test_finals_are_joined_in_order() -> None:
    context = context_tail("", "And so my fellow Americans,", 200)
    assert context_tail(context, " ask not ", 200) == "And so my fellow Americans, ask not"


def test_the_oldest_words_go_first_and_no_word_is_cut() -> None:
    context = context_tail("alpha beta gamma", "delta epsilon", 16)
    assert context == "delta epsilon"
    assert context_tail("alpha beta gamma", "delta epsilon", 19) == "gamma delta epsilon"
    assert len(context_tail("one two three four five", "six", 12)) <= 12


def test_zero_characters_keeps_no_context() -> None:
    assert context_tail("", "ask not", 0) == ""
    assert context_tail("earlier words", "ask not", 0) == ""


def test_korean_words_are_kept_whole() -> None:
    context = context_tail("오늘 CPK 지표가", "불안정합니다.", 10)
    assert context == "불안정합니다."


def test_a_script_without_spaces_is_cut_between_characters() -> None:
    assert context_tail("", "今日は良い天気ですね", 4) == "天気ですね"[-4:]


def test_a_sure_final_is_appended() -> None:
    assert next_context("ask not", final("what your country", -0.3), 200) == (
        "ask not what your country"
    )


def test_a_final_kept_as_a_line_but_below_whispers_threshold_is_left_out() -> None:
    # Kept by the gates (above logprob_floor), yet below log_prob_threshold: a guess.
    guess = final("LORA ofept for the mobile pint tuning factory", -1.19)
    assert DEFAULT_GATES.logprob_floor < guess.avg_logprob < DEFAULT_GATES.log_prob_threshold
    assert not steers_context(guess)
    assert next_context("earlier words", guess, 200) == "earlier words"


def test_the_threshold_itself_is_sure_enough() -> None:
    at_threshold = final("is not", DEFAULT_GATES.log_prob_threshold)
    assert next_context("and so my fellow Americans.", at_threshold, 200) == (
        "and so my fellow Americans. is not"
    )


def test_a_final_the_gates_dropped_leaves_the_context_alone() -> None:
    dropped = final("", -0.1, rejected="phantom")
    assert not steers_context(dropped)
    assert next_context("earlier words", dropped, 200) == "earlier words"


def test_the_threshold_is_the_gates() -> None:
    line = final("so the CPK", -0.8)
    assert next_context("", line, 200) == "so the CPK"
    assert next_context("", line, 200, GateConfig(log_prob_threshold=-0.5)) == ""


def test_an_unsure_final_does_not_bypass_the_length_limit_of_the_next_sure_one() -> None:
    context = next_context("alpha beta", final("gamma", -1.1), 16)
    assert next_context(context, final("delta epsilon", -0.2), 16) == "delta epsilon"
