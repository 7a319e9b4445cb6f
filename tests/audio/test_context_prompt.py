"""The context prompt a stream keeps: the end of its finals, whole words, bounded."""

from __future__ import annotations

from glossify.audio.context_prompt import context_tail


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
