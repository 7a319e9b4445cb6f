"""Each rule family of the local detector, with real spaCy, on sentences written for these
tests (none from an evaluation set): codes, metrics at K, verbs, prepositional terms, field
phrases and products, and the precision rules."""

from __future__ import annotations

import pytest

from glossify.terms.candidates import FilterRules, filter_candidates
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.patterns import glued_code_kind, is_mixed_case_abbreviation
from glossify.terms.local.verbs import base_forms


@pytest.fixture(scope="module")
def detector() -> LocalTermDetector:
    return LocalTermDetector()


def shown(detector: LocalTermDetector, text: str) -> set[str]:
    """Spellings as said (case kept), after the production filter."""
    return {c.text for c in filter_candidates(detector.detect(text), FilterRules())}


CASES: list[tuple[str, set[str], set[str]]] = [
    # symbols and codes
    (
        "Our P&L and the 401(k) match both changed after the M&A deal.",
        {"P&L", "401(k)", "M&A"},
        set(),
    ),
    ("In our 1:1s we look at the R&D budget and the 10-Q.", {"1:1s", "R&D", "10-Q"}, set()),
    ("The plant is certified to ISO 13485 now.", {"ISO 13485"}, {"certified", "ISO"}),
    # a standard names the compound after it, and is glossed instead of its bare acronym
    (
        "We moved to the ISO 2859 sampling plan after our SOC 2 audit.",
        {"ISO 2859 sampling plan", "SOC 2"},
        {"ISO", "SOC", "2859 sampling plan", "2 audit"},
    ),
    # mixed case with one capital
    ("The Ppk on the new mold is below target, and Cmax came in high.", {"Ppk", "Cmax"}, set()),
    # metrics at a cutoff
    (
        "NDCG at 5 improved, but recall at ten dropped, and Top-5 accuracy is flat.",
        {"NDCG at 5", "recall at ten", "Top-5 accuracy"},
        set(),
    ),
    ("We report precision@10 and mAP@0.5 for the detector.", {"precision@10", "mAP@0.5"}, set()),
    # a metric in plain words is glossed with its cutoff, an acronym also alone
    (
        "The vendor quotes specificity at eighty percent sensitivity and MRR at five.",
        {"specificity at eighty percent sensitivity", "MRR at five", "MRR"},
        {"specificity", "sensitivity"},
    ),
    # spelled cutoffs beyond twelve, and an operating point (five words)
    (
        "Hit rate at forty is flat, and we track sensitivity at eighty percent specificity.",
        {"Hit rate at forty", "sensitivity at eighty percent specificity"},
        set(),
    ),
    # verbs: rare, field verbs, phrasal verbs of a trade
    (
        "Let us backport the fix, then rebase and bisect the regression.",
        {"backport", "rebase", "bisect"},
        set(),
    ),
    ("We will amortize the software and accrue the bonus.", {"amortize", "accrue"}, set()),
    (
        "We failed over to the primary region and wrote off the receivable.",
        {"failed over", "wrote off"},
        set(),
    ),
    ("We quarantined the batch before it shipped.", {"quarantined"}, set()),
    # prepositional terms
    (
        "The statement of work is signed, and our cost per hire went up.",
        {"statement of work", "cost per hire"},
        set(),
    ),
    (
        "Their limitation of liability clause is weak.",
        {"limitation of liability"},
        {"liability clause"},
    ),
    # field phrases made of common words, in their variants
    ("Our days sales outstanding got worse.", {"days sales outstanding"}, set()),
    ("The blast radius of that change was small.", {"blast radius"}, set()),
    (
        "We moved the dashboards to Grafana and the alerts to PagerDuty.",
        {"Grafana", "PagerDuty"},
        set(),
    ),
    # a possessive belongs to the phrase, not to the product's name
    ("Honestly, Terraform's state file is the problem.", {"Terraform"}, {"Terraform's"}),
]

# Nothing here is a term: office verbs, small talk, code names, shifts, meeting kinds.
PLAIN = [
    "Let us reschedule the demo and reprioritize the agenda.",
    "The handler keeps swallowing the exceptions and surfacing nothing.",
    "It is time to go, and the end of the month is close.",
    "The Phoenix project slipped again.",
    "The night shift missed the deadline, and B shift was short.",
    "Happy Friday, the Orion initiative is on hold.",
    # everyday verbs whose stripped "stems" ("rea", "loa") are rare strings
    "I read it twice, and the page takes forever to load.",
]


@pytest.mark.parametrize(("text", "expected", "forbidden"), CASES)
def test_rule_families(
    detector: LocalTermDetector, text: str, expected: set[str], forbidden: set[str]
) -> None:
    found = shown(detector, text)
    assert expected <= found, f"missing {expected - found}"
    assert not found & forbidden


@pytest.mark.parametrize("text", PLAIN)
def test_plain_lines_give_nothing(detector: LocalTermDetector, text: str) -> None:
    assert shown(detector, text) == set()


def test_carrier_heads_leave_the_term(detector: LocalTermDetector) -> None:
    found = shown(detector, "The EKS fleet is old, and the Grafana column is empty.")
    assert {"EKS", "Grafana"} <= found
    assert not {"EKS fleet", "Grafana column"} & found


def test_meeting_kinds_are_not_terms(detector: LocalTermDetector) -> None:
    assert "ML sync" not in shown(detector, "In the ML sync we talked about the design.")


def test_a_known_term_is_not_cut_in_half(detector: LocalTermDetector) -> None:
    found = shown(detector, "The going concern language needs another look.")
    assert "going concern" in found
    assert not {"going concern language", "concern language"} & found


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("P&L", "symbol"),
        ("T&Cs", "symbol"),
        ("401(k)", "code"),
        ("30(b)(6)", "code"),
        ("1:1s", "code"),
        ("pass@1", "metric"),
        ("Q&A", None),
        ("10:30", None),
        ("3:1", None),
    ],
)
def test_glued_code_kinds(text: str, kind: str | None) -> None:
    assert glued_code_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "abbreviation"),
    [
        ("Cpk", True),
        ("Ppk", True),
        ("Cmax", True),
        ("Adam", False),
        ("Kate", False),
        ("Tom", False),
    ],
)
def test_mixed_case_abbreviations(text: str, abbreviation: bool) -> None:
    assert is_mixed_case_abbreviation(text) is abbreviation


def test_base_forms_of_verbs() -> None:
    assert "stratify" in base_forms("stratified")
    assert "randomize" in base_forms("randomized")
    assert "swallow" in base_forms("swallowing")
    assert "ship" in base_forms("shipped")
