"""The local detector's rules that generalise beyond word lists, by kind of term, with real
spaCy on sentences written for these tests (none from an evaluation set): number-letter codes,
symbols, hyphenated and slashed words, parser-found verbs, long compounds, and the precision
rules for meetings, colleagues, dates, durations and separate acronyms."""

from __future__ import annotations

import pytest
from spacy.tokens import Doc

from glossify.terms.candidates import FilterRules, filter_candidates
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.hyphenated import is_everyday_hyphenated, is_span_of_time
from glossify.terms.local.patterns import is_hyphenated_code
from glossify.terms.local.tokens import is_code, is_quantity_code, unchunked_nouns


@pytest.fixture(scope="module")
def detector() -> LocalTermDetector:
    return LocalTermDetector()


def shown(detector: LocalTermDetector, text: str) -> set[str]:
    """Spellings as said (case kept), after the production filter."""
    return {c.text for c in filter_candidates(detector.detect(text), FilterRules())}


# (line, terms that must be shown, spans that must not be)
FOUND: list[tuple[str, set[str], set[str]]] = [
    # number-letter codes: hyphenated filings and visas, methods with a capital, model sizes
    (
        "Finance filed the 10-Q late and the W-2 forms went out twice.",
        {"10-Q", "W-2"},
        set(),
    ),
    ("We started a 6S program and trained a 70B model on it.", {"6S", "70B"}, set()),
    # ... but not the things a count counts
    ("We trained for two epochs and it still overfit.", {"epochs"}, set()),
    # symbols: a capitalised "&" code, a slashed unit
    ("The gauge R&R came back at nine percent.", {"R&R"}, set()),
    ("Give it at 10 mg/kg twice a day.", {"mg/kg"}, set()),
    # hyphenated words said on their own
    (
        "The rep who is on-call signed a non-solicit last year.",
        {"on-call", "non-solicit"},
        set(),
    ),
    # verbs: a trade's phrasal verb around its object, a rare verb before its object,
    # a fairly rare verb done to a thing
    ("Post the accrual now and we roll it forward next month.", {"roll it forward"}, set()),
    ("A cross-encoder reranks the passages.", {"reranks"}, set()),
    ("We prune the model before we ship it.", {"prune"}, set()),
    # compounds the parser left out of its noun chunks, ordinals before compounds
    ("So the batch job fails nightly.", {"batch job"}, set()),
    ("Our first contact resolution rate is flat.", {"first contact resolution rate"}, set()),
    # a chain of numbers names a plan, glossed with its noun
    (
        "Every new hire gets a 30-60-90 plan and clear thirty-sixty-ninety goals.",
        {"30-60-90 plan", "thirty-sixty-ninety goals"},
        {"thirty-sixty-ninety", "goals"},
    ),
    # a determiner the tagger called a conjunction is still trimmed by its "det" arc
    ("Let us just memoize that selector and move on.", {"selector"}, {"that selector"}),
    # a product before its own account noun stays a product (it deals with no firm)
    ("Can you change the HubSpot account settings?", {"HubSpot"}, set()),
    # prepositional terms on a relational noun
    ("They sent a request for admission on Monday.", {"request for admission"}, set()),
    # "X to <verb>" with a rare verb, unmodified; a common verb stays small talk
    (
        "Opposing counsel filed a motion to dismiss, so it is time to go.",
        {"motion to dismiss"},
        {"time to go"},
    ),
    # a state or stage before a term is trimmed, also where its verb is rare ("pend")
    ("The pending SOC 2 audit worries legal.", {"SOC 2"}, {"pending"}),
    ("We walked through the revised cap table on Monday.", {"cap table"}, {"revised cap table"}),
]

# (line, spans that must not be shown)
NOT_FOUND: list[tuple[str, set[str]]] = [
    # meetings and occasions, by the verb they go with
    ("The roadmap review got moved to Thursday.", {"roadmap review", "review"}),
    ("The quarterly offsite is on Monday.", {"quarterly offsite", "offsite"}),
    ("Let's cancel the vendor onboarding session.", {"vendor onboarding session"}),
    # a colleague as the subject, a date inside a name
    ("And Anjali will walk us through it.", {"Anjali"}),
    ("We expect a spike around Cyber Monday.", {"Cyber Monday"}),
    # durations, roman numerals, versions, a shift crew, a site
    ("It is a three-year retention plan.", {"three-year retention plan"}),
    ("They want SOC 2 Type II first.", {"2 Type", "II"}),
    ("We deprecated v2 last spring.", {"v2"}),
    ("The night shift supervisor left early.", {"shift supervisor", "night shift supervisor"}),
    ("The Denver data center crew replaced the fans.", {"Denver"}),
    # carrier heads after an acronym or a rare modifier; everyday -en verbs; abbreviations
    ("The HR announcement and the tokenization step are done.", {"HR announcement"}),
    ("The gap shortens the runway.", {"shortens"}),
    ("We sell mostly in the EU.", {"EU", "EU."}),
    # a count's unit: NER holds the count and the unit in one quantity or date
    (
        "The cache warmed up in six hundred milliseconds, and refunds take ten business days.",
        {"milliseconds", "business days"},
    ),
    ("The options come with a two year cliff.", {"year cliff", "two year cliff"}),
    # a department speaking or wanting
    (
        "Radiology wants the scans by Friday, and pharmacovigilance says no.",
        {"Radiology", "pharmacovigilance"},
    ),
    # companies: a corporate suffix names a firm
    (
        "We buy the resin from Brennan Metals and Ostrava Industries now.",
        {"Brennan Metals", "Ostrava Industries", "Brennan", "Ostrava"},
    ),
    # companies: a name that classifies a dealing with a firm
    (
        "The Lindqvist account and the Corvane merger both slipped.",
        {"Lindqvist account", "Lindqvist", "Corvane merger", "Corvane"},
    ),
]


@pytest.mark.parametrize(("text", "expected", "forbidden"), FOUND)
def test_kinds_of_terms_are_found(
    detector: LocalTermDetector, text: str, expected: set[str], forbidden: set[str]
) -> None:
    found = shown(detector, text)
    assert expected <= found, f"missing {expected - found} in {found}"
    assert not found & forbidden


@pytest.mark.parametrize(("text", "forbidden"), NOT_FOUND)
def test_ordinary_phrases_are_not_terms(
    detector: LocalTermDetector, text: str, forbidden: set[str]
) -> None:
    found = shown(detector, text)
    assert not found & forbidden, f"{found & forbidden} shown"


def test_measurements_at_a_time_are_not_meetings(detector: LocalTermDetector) -> None:
    found = shown(detector, "The primary outcome is LDL at week twelve.")
    assert "primary outcome" in found


def test_acronyms_in_a_row_are_separate_terms(detector: LocalTermDetector) -> None:
    found = shown(detector, "Our B2C SaaS pricing changed.")
    assert {"B2C", "SaaS"} <= found
    assert not {"B2C SaaS", "B2C SaaS pricing"} & found


def test_a_code_before_a_noun_is_also_shown_alone(detector: LocalTermDetector) -> None:
    found = shown(detector, "The 13B checkpoint is slower than we hoped.")
    assert "13B" in found


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("10-K", True),
        ("H-1B", True),
        ("COVID-19", True),
        ("I-9", True),
        ("3-day", False),
        ("us-east-1", False),
        ("t-30", False),
        ("2-3", False),
    ],
)
def test_hyphenated_codes(text: str, code: bool) -> None:
    assert is_hyphenated_code(text) is code


@pytest.mark.parametrize(
    ("text", "quantity"),
    [("1990s", True), ("24h", True), ("10K", True), ("v2.1", True), ("5S", False), ("8D", False)],
)
def test_quantities_and_codes(text: str, quantity: bool) -> None:
    assert is_quantity_code(text) is quantity
    assert is_code(text) is not quantity


@pytest.mark.parametrize(
    ("word", "everyday", "duration"),
    [
        ("follow-up", True, False),
        ("multi-year", True, True),
        ("12-month", True, True),
        ("sixty-two", True, True),
        ("one-pager", False, False),
        ("year-end", False, False),
        ("poka-yoke", False, False),
    ],
)
def test_everyday_hyphenated_words(word: str, everyday: bool, duration: bool) -> None:
    assert is_everyday_hyphenated(word) is everyday
    assert is_span_of_time(word) is duration


def test_nouns_left_out_of_every_chunk_are_still_seen(detector: LocalTermDetector) -> None:
    # A fragment hanging off the sentence as "dep" ("..., grade two mucositis, ..."), as the
    # parser builds it for a clipped spoken aside: its noun is in no noun chunk.
    words = ["Paused", ",", "grade", "two", "mucositis", "."]
    doc = Doc(
        detector.nlp.vocab,
        words=words,
        pos=["VERB", "PUNCT", "NOUN", "NUM", "NOUN", "PUNCT"],
        heads=[0, 0, 4, 4, 0, 0],
        deps=["ROOT", "punct", "nmod", "nummod", "dep", "punct"],
    )
    assert not any("mucositis" in chunk.text for chunk in doc.noun_chunks)
    assert [[t.text for t in run] for run in unchunked_nouns(doc)] == [["grade"], ["mucositis"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A concept as the subject of "means" is being defined, not a team speaking.
        ("Idempotency means you can retry safely.", {"Idempotency"}),
        # Names of cloud resources end in words that also end company names.
        ("Check the Network Security Group rules.", {"Network Security Group"}),
        ("Open the Kafka Consumer Group.", {"Kafka Consumer Group"}),
    ],
)
def test_precision_rules_leave_terms_that_only_look_like_their_targets(
    detector: LocalTermDetector, text: str, expected: set[str]
) -> None:
    assert expected <= shown(detector, text)


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("Recall at twenty five went up after the rerank.", "Recall at twenty five"),
        (
            "Sensitivity at ninety-five percent specificity is the endpoint.",
            "Sensitivity at ninety-five percent specificity",
        ),
        ("Precision at one thousand is what the search team watches.", "Precision at one thousand"),
    ],
)
def test_spelled_cutoffs_of_several_words_stay_whole(
    detector: LocalTermDetector, text: str, metric: str
) -> None:
    assert metric in shown(detector, text)
