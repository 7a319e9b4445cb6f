"""Term identity and the carried-over filter."""

from __future__ import annotations

import uuid

import pytest

from glossify.terms.candidates import (
    Candidate,
    FilterRules,
    drop_nested,
    filter_candidates,
    normalize_term,
    term_id,
)

RULES = FilterRules()


def cand(text: str, category: str = "Skill", confidence: float = 0.9) -> Candidate:
    return Candidate(text=text, category=category, confidence=confidence)


def test_normalize_is_nfkc_lowercase_trimmed() -> None:
    assert normalize_term("  ＥＢＩＴＤＡ ") == "ebitda"
    assert normalize_term("Kubernetes\t") == "kubernetes"
    assert normalize_term("ﬁne-tuning") == "fine-tuning"


def test_term_id_is_uuid5_of_the_normalised_term() -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "glossify-term:kubernetes")
    assert term_id(" Kubernetes ") == expected
    assert term_id("KUBERNETES") == expected
    assert term_id("Kubernetes cluster") != expected


@pytest.mark.parametrize(
    ("candidate", "kept"),
    [
        (cand("EBITDA", confidence=0.55), True),
        (cand("Kubernetes", category="Product", confidence=0.6), True),
        (cand("p99", confidence=0.55), True),
        (cand("feature flag", confidence=0.6), True),
        (cand("autoscaler", confidence=0.85), True),
        (cand("meeting", confidence=0.6), False),  # one plain word needs high confidence
        (cand("Jennifer", category="Person"), False),
        (cand("next Tuesday", category="DateTime"), False),
        (cand("CPK", confidence=0.4), False),  # below the 0.5 floor, acronym or not
        (cand("a b c d e f", confidence=0.9), False),  # too many tokens
        # "specificity at ninety percent sensitivity": an operating point is five words
        (cand("recall at ninety percent precision", confidence=0.9), True),
        (cand("1.33", confidence=0.9), False),
        (cand("x"), False),
        (cand("--"), False),
    ],
)
def test_filter_rules(candidate: Candidate, kept: bool) -> None:
    assert bool(filter_candidates([candidate], RULES)) is kept


def test_filter_drops_terms_already_seen_in_the_meeting_and_the_line() -> None:
    seen = {"kubernetes"}
    kept = filter_candidates(
        [cand("Kubernetes"), cand("OAuth"), cand("oauth"), cand("SLA")], RULES, seen
    )
    assert [c.text for c in kept] == ["OAuth", "SLA"]
    assert seen == {"kubernetes"}  # the caller's memory is not changed behind its back


def test_allowed_categories_are_configurable() -> None:
    rules = FilterRules(allowed_categories=frozenset({"Location"}))
    assert filter_candidates([cand("Monterrey", category="Location")], rules)
    assert not filter_candidates([cand("Kubernetes", category="Product")], rules)


def _candidates(*texts: str) -> list[Candidate]:
    return [Candidate(text, "Skill", 0.9) for text in texts]


def test_nested_terms_keep_the_longest() -> None:
    kept = drop_nested(_candidates("EBITDA margin", "EBITDA", "API gateway", "API", "churn rate"))
    assert [c.text for c in kept] == ["EBITDA margin", "API gateway", "churn rate"]


def test_nesting_is_by_whole_words_and_case_blind() -> None:
    kept = drop_nested(_candidates("Kafka", "KafkaConnect", "oauth flow", "OAuth", "rate", "rates"))
    assert [c.text for c in kept] == ["Kafka", "KafkaConnect", "oauth flow", "rate", "rates"]


def test_the_same_term_twice_is_not_nested_in_itself() -> None:
    assert [c.text for c in drop_nested(_candidates("SLA", "SLA"))] == ["SLA", "SLA"]
