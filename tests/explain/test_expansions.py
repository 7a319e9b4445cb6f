"""Invented acronym expansions become abstentions (no model)."""

from __future__ import annotations

import pytest

from glossify.explain.answer import ABSTAINED, Explanation, explanation_from_answer
from glossify.explain.expansions import (
    acronym_letters,
    invents_expansion,
    screened,
    spells,
    stated_expansions,
)


@pytest.mark.parametrize(
    ("term", "letters"),
    [("CAC", "cac"), ("MQLs", "mql"), ("SG", "sg"), ("Cpk", None), ("10-K", None), ("A", None)],
)
def test_only_all_capital_terms_are_checked(term: str, letters: str | None) -> None:
    assert acronym_letters(term) == letters


@pytest.mark.parametrize(
    ("letters", "phrase"),
    [
        ("capa", "Corrective and Preventive Action"),
        ("sow", "Statement of Work"),
        ("gaap", "Generally Accepted Accounting Principles"),
        ("ebitda", "Earnings Before Interest, Taxes, Depreciation and Amortization"),
        ("json", "JavaScript Object Notation"),
        ("fai", "First-Article Inspection"),
    ],
)
def test_right_expansions_spell_the_letters(letters: str, phrase: str) -> None:
    assert spells(letters, phrase)


@pytest.mark.parametrize(
    ("letters", "phrase"),
    [
        ("cac", "Click-Through Cost"),
        ("cac", "Cost-Effectiveness Analysis"),
        ("cac", "Cost of Advertising"),
    ],
)
def test_invented_expansions_do_not(letters: str, phrase: str) -> None:
    assert not spells(letters, phrase)


def test_expansions_are_found_in_the_usual_shapes() -> None:
    assert stated_expansions("CAC", "CAC(Click-Through Cost): the cost of a click.") == [
        "Click-Through Cost"
    ]
    assert stated_expansions("SOW", "The statement of work (SOW) sets the scope.") == [
        "The statement of work"
    ]
    said = 'MQL stands for "Marketing Qualified Lead." It is a lead.'
    assert stated_expansions("MQL", said) == ["Marketing Qualified Lead"]
    # Another script is not checked; an English expansion before a Korean gloss is.
    assert stated_expansions("RTO", "RTO(재해 복구 시간): 복구 목표 시간입니다.") == []
    glossed = "RTO(Recovery Time Objective, 복구 목표 시간): 복구 시간입니다."
    assert stated_expansions("RTO", glossed) == ["Recovery Time Objective"]
    assert invents_expansion("SRE", "SRE(Software Engineering, 소프트웨어 공학): 개발입니다.")


@pytest.mark.parametrize(
    "body",
    [
        "CAC(Click-Through Cost): The cost of a customer clicking on a link.",
        "CAC stands for Cost-Effectiveness Analysis, a method used in marketing.",
        "Cost of Advertising (CAC) is the cost of advertising a product.",
    ],
)
def test_an_expansion_that_does_not_spell_the_term_is_invented(body: str) -> None:
    assert invents_expansion("CAC", body)
    card = explanation_from_answer("CAC", f"domain: Marketing\n{body}", "CAC is up.", 280)
    assert card == Explanation("Marketing", body)  # the backend returns what the model said
    assert screened("CAC", card) == ABSTAINED  # TermExplainer shows no such card


@pytest.mark.parametrize(
    ("term", "body"),
    [
        ("DSO", "DSO stands for Days Sales Outstanding which is the average time to get paid."),
        ("SOW", "The statement of work (SOW) is a document that sets the scope."),
        ("CAPA", "CAPA(Corrective and Preventive Action): fixing a problem for good."),
        ("RTO", "RTO(재해 복구 시간): 복구해야 하는 시간입니다."),
        ("CAC", "The cost of winning one new customer."),
        ("Cpk", "Cpk (process capability index): how well a process fits its limits."),
    ],
)
def test_right_or_unexpanded_answers_are_kept(term: str, body: str) -> None:
    assert not invents_expansion(term, body)
    made = explanation_from_answer(term, f"domain: Finance\n{body}", f"{term} is up.", 280)
    assert screened(term, made) == Explanation("Finance", body)


def test_an_abstention_stays_one() -> None:
    assert screened("CAC", ABSTAINED) == ABSTAINED
