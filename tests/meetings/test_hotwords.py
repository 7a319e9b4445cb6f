"""Hotwords for a meeting: its own terms first, then glossary terms written in its script."""

from __future__ import annotations

import pytest

from glossify.meetings.hotwords import meeting_hotwords, written_for

GLOSSARY = ["service level agreement", "Kubernetes", "CPK", "LoRA", "공정 능력 지수", "p95"]


@pytest.mark.parametrize(
    ("term", "language", "suits"),
    [
        ("service level agreement", "ko", False),
        ("Kubernetes", "ko", False),
        ("CPK", "ko", False),
        ("LoRA", "ko-KR", False),
        ("CPK", "en", True),
        ("공정 능력 지수", "ko", True),
        ("CPK 지표", "ko", True),
        ("공정 능력 지수", "en", False),
        ("공정 능력 지수", "de", False),
        ("service level agreement", "en", True),
        ("service level agreement", "fr", True),
        ("カンバン", "ko", False),
        ("カンバン", "ja", True),
        ("anything", None, True),
        ("공정", None, True),
    ],
)
def test_written_for(term: str, language: str | None, suits: bool) -> None:
    assert written_for(term, language) is suits


def test_a_korean_meeting_gets_its_own_terms_then_the_glossarys_korean_ones() -> None:
    # Its own Latin loans stay (it said them); the glossary's would romanise the transcript.
    own = ["OEE", "사이클 타임", "OEE"]
    assert meeting_hotwords(own, GLOSSARY, "ko", 10) == ["OEE", "사이클 타임", "공정 능력 지수"]


def test_an_english_meeting_gets_no_hangul_terms() -> None:
    assert meeting_hotwords([], GLOSSARY, "en", 10) == [
        "service level agreement",
        "Kubernetes",
        "CPK",
        "LoRA",
        "p95",
    ]


def test_a_meeting_of_unknown_language_gets_every_glossary_term() -> None:
    assert meeting_hotwords(["SLA"], GLOSSARY, None, 10) == ["SLA", *GLOSSARY]


def test_the_limit_keeps_the_meetings_own_terms_first() -> None:
    assert meeting_hotwords(["a", "b", "c"], GLOSSARY, "en", 2) == ["a", "b"]
    assert meeting_hotwords(["a"], GLOSSARY, "ko", 3) == ["a", "공정 능력 지수"]
