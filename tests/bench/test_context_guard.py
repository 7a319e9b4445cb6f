"""The candidate context guards `bench.context_prompt --guard` measures: which finals of a
stream would become its context, from the confidence each result carries."""

from __future__ import annotations

import argparse

import pytest

from bench.context_prompt import Guard
from glossify.transcription.types import SpeechResult


def result(text: str, avg_logprob: float, compression_ratio: float = 1.0) -> SpeechResult:
    rejected = None if text else "low_logprob"
    return SpeechResult(text, "en", avg_logprob, 0.1, compression_ratio, rejected)


def test_a_confident_final_is_appended() -> None:
    guard = Guard("clear", -1.0)
    assert guard.next_context("ask not", result("what your country", -0.3), 200) == (
        "ask not what your country"
    )


def test_an_unsure_final_clears_the_context_or_is_left_out() -> None:
    unsure = result("OmmelcibKCB.com", -1.1)
    assert Guard("clear", -1.0).next_context("earlier words", unsure, 200) == ""
    assert Guard("omit", -1.0).next_context("earlier words", unsure, 200) == "earlier words"


def test_a_repetitive_decode_is_unsure_whatever_its_logprob() -> None:
    looping = result("", -0.05, compression_ratio=3.9)
    assert Guard("clear", -1.0).next_context("earlier words", looping, 200) == ""


def test_a_final_gated_out_with_a_confident_score_leaves_the_context_alone() -> None:
    phantom = SpeechResult("", "en", -0.2, 0.1, 0.8, "phantom")
    assert Guard("clear", -1.0).next_context("earlier words", phantom, 200) == "earlier words"


def test_the_threshold_is_the_guards() -> None:
    line = result("so the CPK", -0.7)
    assert Guard("clear", -1.0).next_context("", line, 200) == "so the CPK"
    assert Guard("clear", -0.45).next_context("earlier", line, 200) == ""


def test_all_keeps_every_final_the_gates_kept() -> None:
    unsure = result("OmmelcibKCB.com", -1.19)
    assert Guard("all").next_context("earlier", unsure, 200) == "earlier OmmelcibKCB.com"


def test_guards_are_parsed_from_the_command_line() -> None:
    assert Guard.parse("omit:-0.8") == Guard("omit", -0.8)
    assert Guard.parse("all") == Guard("all")
    for bad in ("drop:-1.0", "clear", "clear:", "all:-1.0"):
        with pytest.raises(argparse.ArgumentTypeError):
            Guard.parse(bad)
