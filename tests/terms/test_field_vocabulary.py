"""The field vocabulary files and how the local detector uses them, with real spaCy on
sentences written for these tests (none from an evaluation set)."""

from __future__ import annotations

import pytest

from glossify.terms.candidates import FilterRules, filter_candidates
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.fields import (
    FIELD_NOUNS,
    FIELD_PHRASES,
    FIELD_PRODUCTS,
    FIELD_VERBS,
    vocabulary_by_field,
)

FIELDS = {
    "software",
    "cloud",
    "data_ml",
    "finance",
    "manufacturing",
    "legal",
    "medical",
    "sales_marketing",
    "hr",
}
KINDS = ("nouns", "phrases", "products", "verbs")


@pytest.fixture(scope="module")
def detector() -> LocalTermDetector:
    return LocalTermDetector()


def shown(detector: LocalTermDetector, text: str) -> set[str]:
    return {c.text for c in filter_candidates(detector.detect(text), FilterRules())}


@pytest.mark.parametrize("kind", KINDS)
def test_every_file_covers_the_nine_fields_without_repeats(kind: str) -> None:
    by_field = vocabulary_by_field(kind)
    assert set(by_field) == FIELDS
    assert all(len(entries) >= 10 for entries in by_field.values()), kind
    entries = [entry.lower() for group in by_field.values() for entry in group]
    assert len(entries) == len(set(entries)), kind


def test_nouns_and_verbs_are_single_words_and_phrases_are_not() -> None:
    for kind in ("nouns", "verbs"):
        for group in vocabulary_by_field(kind).values():
            assert all(" " not in entry for entry in group), kind
    for group in vocabulary_by_field("phrases").values():
        assert all(" " in entry and entry == entry.lower() for entry in group)


def test_the_files_reach_the_detectors_lists() -> None:
    assert {"goodwill", "drift", "vesting"} <= FIELD_NOUNS
    assert "breaking change" in FIELD_PHRASES
    assert "Workday" in FIELD_PRODUCTS
    assert "reforecast" in FIELD_VERBS


def test_products_that_are_common_words_are_left_out() -> None:
    assert "Ray" not in FIELD_PRODUCTS and "SAFe" not in FIELD_PRODUCTS
    assert "W-2" in FIELD_PRODUCTS  # a code keeps its place whatever wordfreq says of it


@pytest.mark.parametrize(
    ("line", "term"),
    [
        ("The auditors questioned the goodwill from the acquisition.", "goodwill"),
        ("The dashboard shows drift since the holiday release.", "drift"),
        ("Her vesting starts after the first anniversary.", "vesting"),
        ("Legal says the quarterly accruals look off.", "accruals"),  # by the lemma
    ],
)
def test_a_field_noun_is_found_though_it_is_not_rare(
    detector: LocalTermDetector, line: str, term: str
) -> None:
    assert term in shown(detector, line)


def test_an_everyday_noun_outside_the_lists_is_not(detector: LocalTermDetector) -> None:
    assert "trouble" not in shown(detector, "The dashboard shows trouble since the holiday.")


def test_phrases_and_products_from_the_files_are_found_as_said(
    detector: LocalTermDetector,
) -> None:
    found = shown(detector, "That is a breaking change, so tell the Workday admins first.")
    assert {"breaking change", "Workday"} <= found


@pytest.mark.parametrize(
    ("line", "term", "not_term"),
    [
        ("Legal sent over the NDA draft this morning.", "NDA", "NDA draft"),
        ("Check the Kafka dashboard before we start.", "Kafka", "Kafka dashboard"),
    ],
)
def test_an_everyday_head_after_a_term_only_carries_it(
    detector: LocalTermDetector, line: str, term: str, not_term: str
) -> None:
    found = shown(detector, line)
    assert term in found and not_term not in found
