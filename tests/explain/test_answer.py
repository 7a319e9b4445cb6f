from __future__ import annotations

import pytest

from glossify.explain.answer import (
    ELLIPSIS,
    Explanation,
    cap_at_sentence,
    cut_context_sentence,
    drop_unfinished_sentence,
    finalize,
    meeting_words,
    normalize_domain,
    parse_explanation,
    repeats_meeting_words,
)
from glossify.text import split_sentences

EBITDA = "EBITDA is earnings before interest, taxes, depreciation and amortisation."


@pytest.mark.parametrize(
    "text",
    [
        f"domain: Finance\n{EBITDA}",
        f"Domain: finance\n\n{EBITDA}",
        f"**Domain:** Finance\nExplanation: {EBITDA}",
        f"domain: Finance\nBody: {EBITDA}",
        f"domain: Finance - {EBITDA}",
        f"Finance - {EBITDA}",
        f"Finance – {EBITDA}",
        f"[Finance] {EBITDA}",
        f"[finance]\n{EBITDA}",
        f"Finance: {EBITDA}",
        f"Finance:\nDescription: {EBITDA}",
        f'{{"domain": "finance", "body": "{EBITDA}"}}',
        f'{{"domain": "Finance", "explanation": "{EBITDA}"}}',
        f'```json\n{{"domain": "Finance", "definition": "{EBITDA}"}}\n```',
        f'Sure! {{"Domain": "Finance", "Explanation": "{EBITDA}"}}',
    ],
)
def test_parses_every_supported_format(text: str) -> None:
    assert parse_explanation(text) == Explanation("Finance", EBITDA)


def test_multi_line_body_is_joined_into_one_line() -> None:
    parsed = parse_explanation("domain: Software\nKubernetes runs containers.\nIt heals them.")
    assert parsed == Explanation("Software", "Kubernetes runs containers. It heals them.")


def test_markdown_emphasis_is_removed_but_identifiers_keep_underscores() -> None:
    parsed = parse_explanation("domain: Software\n**n_ctx** is the `context` size in __tokens__.")
    assert parsed == Explanation("Software", "n_ctx is the context size in tokens.")


def test_plain_text_gets_the_general_domain() -> None:
    parsed = parse_explanation("Explanation: Kubernetes runs containers on a cluster.")
    assert parsed == Explanation("General", "Kubernetes runs containers on a cluster.")


def test_a_sentence_with_a_colon_is_not_mistaken_for_a_domain() -> None:
    text = "Kubernetes is a platform for containers: it schedules and heals them."
    assert parse_explanation(text) == Explanation("General", text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("finance", "Finance"),
        ("Software engineering", "Software"),
        ("  quality/assurance", "Quality"),
        ("DevOps", "DevOps"),
        ("IT", "IT"),
        ("FINANCE", "Finance"),
        ("e-commerce", "E"),
        ("123", "General"),
        ("", "General"),
        ("x" * 40, "X" + "x" * 23),
    ],
)
def test_domain_is_one_capitalised_word(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "...",
        "domain: Finance",
        "domain: Finance\n\n",
        "{}",
        '{"domain": "Finance"}',
        '{"domain": "Finance", "body": 42}',
        "```json\n{}\n```",
        "[Finance]",
        "!!! ??? 42",
    ],
)
def test_empty_or_garbage_gives_none(text: str) -> None:
    assert parse_explanation(text) is None
    assert finalize(text, 280) is None


def test_split_sentences_ignores_abbreviations_and_lower_case_continuations() -> None:
    text = (
        "Tools, e.g. Kubernetes, i.e. Docker too. Costs approx. 3 USD. It is in the U.S. "
        "market. Done!"
    )
    assert split_sentences(text) == [
        "Tools, e.g. Kubernetes, i.e. Docker too.",
        "Costs approx. 3 USD.",
        "It is in the U.S. market.",
        "Done!",
    ]


@pytest.mark.parametrize(
    "tail",
    [
        "In this context, it is the margin the team watches.",
        "In the context of this meeting, it means hosting costs.",
        "Here, it refers to the quarterly margin.",
        "Here the speaker means the margin.",
        "In this meeting it is about hosting costs.",
        "In your meeting, it refers to the billing service.",
        "In this case it means the Q3 number.",
    ],
)
def test_trailing_context_sentence_is_cut(tail: str) -> None:
    assert cut_context_sentence(f"{EBITDA} {tail}") == EBITDA


def test_only_a_trailing_context_sentence_is_cut() -> None:
    leading = f"In this context, EBITDA means profit. {EBITDA}"
    assert cut_context_sentence(leading) == leading
    mentions = "A context switch saves the CPU state. It is costly in this context of use."
    assert cut_context_sentence(mentions) == mentions


def test_the_only_sentence_is_kept_even_if_it_starts_with_context() -> None:
    only = "In this context, EBITDA is the operating profit."
    assert cut_context_sentence(only) == only


def test_several_trailing_context_sentences_are_cut() -> None:
    text = f"{EBITDA} In this context, it is the margin. Here, it is Q3."
    assert cut_context_sentence(text) == EBITDA


def test_cap_keeps_short_text_unchanged() -> None:
    assert cap_at_sentence(EBITDA, 280) == EBITDA


def test_cap_keeps_whole_sentences_that_fit() -> None:
    text = "First sentence is short. Second one, e.g. this, is longer than the cap allows."
    assert cap_at_sentence(text, 40) == "First sentence is short."


def test_cap_cuts_a_long_first_sentence_at_a_word_with_ellipsis() -> None:
    text = "A very long first sentence, without any end in sight at all, goes on"
    capped = cap_at_sentence(text, 30)
    assert capped == "A very long first sentence" + ELLIPSIS
    assert len(capped) <= 30


def test_cap_cuts_a_single_huge_word_hard() -> None:
    capped = cap_at_sentence("x" * 50, 10)
    assert capped == "x" * 9 + ELLIPSIS


def test_drop_unfinished_sentence_keeps_complete_ones_only() -> None:
    assert drop_unfinished_sentence("One sentence. Another that was cut") == "One sentence."
    assert drop_unfinished_sentence("Only a cut sentence") == "Only a cut sentence"
    assert drop_unfinished_sentence("Both complete. Yes.") == "Both complete. Yes."


def test_finalize_parses_cuts_and_caps() -> None:
    text = f"domain: finance\nExplanation: {EBITDA} It is popular. In this context, it is Q3."
    assert finalize(text, 280) == Explanation("Finance", f"{EBITDA} It is popular.")
    assert finalize(text, 80) == Explanation("Finance", EBITDA)


def test_finalize_drops_the_unfinished_sentence_of_truncated_output() -> None:
    text = f"domain: Finance\n{EBITDA} It is often used to compare"
    assert finalize(text, 280, truncated=True) == Explanation("Finance", EBITDA)
    assert finalize(text, 280).body.endswith("compare")


def test_an_answer_that_repeats_its_meetings_names_or_figures_is_about_that_meeting() -> None:
    line = "The Cpk for the Falcon line dropped below 1.33 after the Q3 retool."
    assert meeting_words(line, "Cpk") == {"Falcon", "1.33", "Q3"}
    general = "A process capability index: how well a process fits its tolerance limits."
    specific = "The capability index of the Falcon line, which fell below 1.33."
    assert not repeats_meeting_words(general, "Cpk", line)
    assert repeats_meeting_words(specific, "Cpk", line)
    # The term's own words and a sentence's first word are not the meeting's.
    assert not repeats_meeting_words(
        "Kubernetes runs containers.", "Kubernetes", "Kubernetes is down."
    )
