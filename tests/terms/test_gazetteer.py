"""The organisation glossary as a gazetteer: known terms are found whenever they are said."""

from __future__ import annotations

import pytest

from glossify.terms.candidates import (
    DEFAULT_ALLOWED_CATEGORIES,
    Candidate,
    FilterRules,
    filter_candidates,
)
from glossify.terms.gazetteer import GlossaryGazetteer, with_known_terms

GLOSSARY = ["CPK", "skip level", "pod", "EBITDA", "EBITDA margin", "P&L", "401(k)", "불량률"]


@pytest.fixture(scope="module")
def gazetteer() -> GlossaryGazetteer:
    return GlossaryGazetteer(GLOSSARY)


def said(gazetteer: GlossaryGazetteer, text: str) -> list[tuple[str, str]]:
    return [(m.term, m.text) for m in gazetteer.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("our cpk dropped", [("CPK", "cpk")]),
        ("two CPKs are low", [("CPK", "CPKs")]),
        ("a skip-level chat", [("skip level", "skip-level")]),
        ("a Skip Level chat", [("skip level", "Skip Level")]),
        ("the skiplevel", [("skip level", "skiplevel")]),
        ("three pods restarted", [("pod", "pods")]),
        ("the P&L. Then", [("P&L", "P&L")]),
        ("the 401(k) match", [("401(k)", "401(k)")]),
    ],
)
def test_spelling_variants(
    gazetteer: GlossaryGazetteer, text: str, expected: list[tuple[str, str]]
) -> None:
    assert said(gazetteer, text) == expected


def test_longest_term_wins_and_offsets_point_into_the_text(gazetteer: GlossaryGazetteer) -> None:
    text = "EBITDA margin is up, EBITDA too"
    matches = gazetteer.find(text)
    assert [m.term for m in matches] == ["EBITDA margin", "EBITDA"]
    for match in matches:
        assert text[match.start : match.end] == match.text


@pytest.mark.parametrize("text", ["ACPK and CPKX", "a podcast", "tripod", "EBITDAR"])
def test_only_whole_words_match(gazetteer: GlossaryGazetteer, text: str) -> None:
    assert gazetteer.find(text) == []


def test_korean_particles_attach_and_latin_terms_take_them(gazetteer: GlossaryGazetteer) -> None:
    assert said(gazetteer, "불량률이 올랐고 CPK가 떨어졌어요") == [
        ("불량률", "불량률"),
        ("CPK", "CPK"),
    ]
    assert said(gazetteer, "평균불량률") == []  # not inside another Hangul word


def test_candidates_pass_the_filter_with_the_glossary_spelling(
    gazetteer: GlossaryGazetteer,
) -> None:
    found = gazetteer.candidates("The Pods and our cpk")
    assert [c.text for c in found] == ["pod", "CPK"]
    assert all(c.category in DEFAULT_ALLOWED_CATEGORIES for c in found)
    assert filter_candidates(found, FilterRules()) == found
    assert [c.text for c in gazetteer.candidates("The Pods", spelling="said")] == ["Pods"]


def test_empty_and_tiny_terms() -> None:
    assert GlossaryGazetteer([]).find("anything") == []
    assert len(GlossaryGazetteer(["", "  ", "x", "CPK", "cpk"])) == 1


def test_known_terms_are_added_to_what_a_detector_found(gazetteer: GlossaryGazetteer) -> None:
    found = [Candidate("cpk", "Skill", 0.9, 4), Candidate("bore", "Skill", 0.85, 12)]
    merged = with_known_terms(found, gazetteer, "Our cpk on bore and the skip-level pods")
    assert [c.text for c in merged] == ["cpk", "bore", "skip level", "pod"]
    assert with_known_terms(found, GlossaryGazetteer([]), "Our cpk") == found


def test_a_term_whose_first_word_is_one_letter_competes_with_longer_ones() -> None:
    # "p value" is looked up by its one letter, "pvalue model" by two; both match at "pvalue",
    # and the longer wins.
    gazetteer = GlossaryGazetteer(["p value", "pvalue model", "value stream"])
    assert said(gazetteer, "The pvalue model and the P value, then value-stream.") == [
        ("pvalue model", "pvalue model"),
        ("p value", "P value"),
        ("value stream", "value-stream"),
    ]


def test_a_large_glossary_finds_what_each_term_finds_alone() -> None:
    terms = [f"{word} {kind}" for word in ("cache", "cohort", "drift") for kind in "abcdefgh"]
    terms += ["cache", "cohort analysis", "drift", "Cpk", "A/B test", "불량률"]
    text = "Cache b misses, cohort analysis and drift h; the A/B tests and Cpk, 불량률이 올라요."
    gazetteer = GlossaryGazetteer(terms)
    alone = sorted(
        (m.start, m.term) for term in terms for m in GlossaryGazetteer([term]).find(text)
    )
    together = [(m.start, m.term) for m in gazetteer.find(text)]
    expected = ["cache b", "cohort analysis", "drift h", "A/B test", "Cpk", "불량률"]
    assert together == [(text.lower().index(term.lower()), term) for term in expected]
    # Alone, each term also matches inside the longer ones ("cache" in "cache b"): the
    # gazetteer keeps the longest at each place and nothing overlaps.
    assert set(together) <= set(alone)
