"""The reference glossary: lookup, the field a meeting is about, and the sense it picks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from glossify.explain import reference as reference_module
from glossify.explain.reference import (
    FIELD_LABELS,
    LANGUAGES,
    FieldWords,
    ReferenceGlossary,
    Sense,
    choose_sense,
    normalize_form,
    packaged_reference,
    parse_entries,
    word_tokens,
)

TEXTS = {
    ("cloud", "en"): (
        "# a comment\n"
        "pod\tThe smallest deployable unit in Kubernetes: containers scheduled together.\n"
        "node | worker node\tA machine in a cluster that runs pods.\n"
        "SRE | site reliability engineering\tSite reliability engineering: running services "
        "with software.\n"
        "canary | canary release\tA release sent to a small share of traffic first.\n"
    ),
    ("sales_marketing", "en"): (
        "pod\tA small sales team that works one segment of accounts together.\n"
        "lead\tA person or company that might buy, not yet qualified.\n"
        "pipeline\tThe open deals a team expects to close.\n"
        "quota\tThe sales target a rep must reach in a period.\n"
    ),
    ("data_ml", "en"): "policy\tThe rule an agent follows to pick actions.\n",
    ("finance", "ko"): (
        "감가상각 | 감가 상각\t자산의 취득 원가를 사용 기간에 나눠 비용으로 처리하는 것입니다.\n"
        "DSO\tDSO(Days Sales Outstanding, 매출채권 회수 기간): 대금을 회수하는 데 걸리는 평균 "
        "일수입니다.\n"
        "매출채권\t물건을 팔고 아직 받지 못한 돈입니다.\n"
    ),
}


@pytest.fixture(scope="module")
def glossary() -> ReferenceGlossary:
    return ReferenceGlossary.from_texts(TEXTS)


def test_forms_are_compared_folded_and_without_hyphens() -> None:
    assert normalize_form("  Site-Reliability  Engineering. ") == "site reliability engineering"
    assert normalize_form("ＳＲＥ") == "sre"  # full-width letters, as some keyboards type them


def test_entries_skip_comments_and_lines_without_a_definition() -> None:
    text = "# note\nterm one | Term-One | \tIts meaning.\nno definition\n\nterm two\t \n"
    assert list(parse_entries(text)) == [(("term one", "Term-One"), "Its meaning.")]


def test_a_term_is_found_by_any_form_case_and_regular_plural(glossary: ReferenceGlossary) -> None:
    assert [s.field for s in glossary.senses("Site Reliability Engineering", "en")] == ["cloud"]
    assert [s.field for s in glossary.senses("SRE", "en")] == ["cloud"]
    assert [s.field for s in glossary.senses("nodes", "en")] == ["cloud"]
    assert [s.field for s in glossary.senses("policies", "en")] == ["data_ml"]
    assert glossary.senses("kubernetes", "en") == ()
    # Each language has its own entries: no English card for a Korean meeting.
    assert glossary.senses("SRE", "ko") == ()


def test_korean_terms_match_with_or_without_spaces(glossary: ReferenceGlossary) -> None:
    assert [s.field for s in glossary.senses("감가 상각", "ko")] == ["finance"]
    assert [s.field for s in glossary.senses("감가상각", "ko")] == ["finance"]


def test_field_evidence_counts_other_reference_terms_not_the_term_itself(
    glossary: ReferenceGlossary,
) -> None:
    text = "The canary went to two nodes.\nThe pod on the worker node keeps restarting."
    assert glossary.field_evidence(text, "en", "pod") == Counter({"cloud": 2})
    text = "Each pod owns its pipeline and its quota; two leads came in."
    assert glossary.field_evidence(text, "en", "pod") == Counter({"sales_marketing": 3})


def test_korean_evidence_sees_through_particles(glossary: ReferenceGlossary) -> None:
    text = "이번 분기 매출채권이 늘어서 DSO가 나빠졌습니다."
    assert glossary.field_evidence(text, "ko", "감가상각") == Counter({"finance": 2})


def test_the_meeting_picks_between_senses(glossary: ReferenceGlossary) -> None:
    cloud = glossary.explain("pods", "The canary is on two nodes.\nThe pods keep restarting.", "en")
    sales = glossary.explain("pod", "Our pipeline is thin.\nThe east pod missed quota.", "en")
    assert cloud is not None and cloud.domain == "Cloud" and "Kubernetes" in cloud.body
    assert sales is not None and sales.domain == "Marketing" and "sales team" in sales.body
    # No reference term of either field named: the field whose definitions share the words.
    team = glossary.explain("pod", "The pod works the segment of enterprise accounts.", "en")
    assert team is not None and team.domain == "Marketing"
    machines = glossary.explain("pod", "The pod was scheduled with its containers.", "en")
    assert machines is not None and machines.domain == "Cloud"


def test_a_single_sense_stands_whatever_the_meeting() -> None:
    glossary = ReferenceGlossary.from_texts(TEXTS)
    card = glossary.explain("canary", "Every lead in the pipeline is a canary for quota.", "en")
    assert card is not None and card.domain == "Cloud" and not card.abstained


def test_korean_meetings_get_korean_cards_and_other_languages_none(
    glossary: ReferenceGlossary,
) -> None:
    card = glossary.explain("DSO", "이번 분기 DSO가 45일까지 늘었습니다.", "ko-KR")
    assert card is not None and card.domain == "재무" and card.body.startswith("DSO(")
    assert glossary.explain("pod", "Der Pod startet neu, der Knoten auch.", "de") is None


def test_choose_sense_prefers_the_lines_fields_then_earlier_ones_then_likelier_words() -> None:
    senses = (Sense("cloud", "containers on a node"), Sense("sales_marketing", "a sales team"))
    sales_words = {"cloud": -12.0, "sales_marketing": -9.0}
    line, earlier = {"cloud": 1}, {"sales_marketing": 3}
    assert choose_sense(senses, (line, earlier), sales_words) == senses[0]
    assert choose_sense(senses, ({}, earlier), {}) == senses[1]
    assert choose_sense(senses, ({"cloud": 1, "sales_marketing": 1}, {}), sales_words) == senses[1]
    assert choose_sense(senses, ({}, {}), {"cloud": -3.0, "sales_marketing": -3.5}) == senses[0]


def test_the_line_the_term_was_heard_in_outweighs_the_lines_before(
    glossary: ReferenceGlossary,
) -> None:
    context = (
        "Our pipeline is thin and two leads went cold.\nThe pod on that node keeps restarting."
    )
    card = glossary.explain("pod", context, "en")
    assert card is not None and card.domain == "Cloud"


def test_field_words_make_a_meeting_likelier_in_its_field() -> None:
    words = FieldWords(
        {
            "cloud": Counter(["kubernetes", "containers", "node", "node"]),
            "hr": Counter(["pay", "leave", "review", "hiring"]),
        }
    )
    cloud = words.log_likelihoods(word_tokens("Kubernetes restarts containers on a node."))
    hr = words.log_likelihoods(word_tokens("The pay review is late; hiring froze."))
    assert cloud["cloud"] > cloud["hr"] and hr["hr"] > hr["cloud"]
    korean = ["감가", "가상", "상각", "각이", "wbs", "부터"]
    assert word_tokens("감가상각이 WBS부터 on it") == korean


def test_plurals_spacing_and_a_missing_language_are_looked_through() -> None:
    glossary = ReferenceGlossary.from_texts(
        {
            ("software", "en"): "cache\tA fast store of recent results.\n",
            ("finance", "en"): "liability\tMoney the company owes.\n",
            (
                "finance",
                "ko",
            ): "DSO\tDSO(매출채권 회수 기간): 대금을 받는 데 걸리는 평균 일수입니다.\n",
        }
    )
    assert [s.field for s in glossary.senses("caches", "en")] == ["software"]
    assert [s.field for s in glossary.senses("liabilities", "en")] == ["finance"]
    # No language given: a Korean line gets the Korean card, an English one the English card.
    korean = glossary.explain("DSO", "이번 분기 DSO가 늘었습니다.", None)
    assert korean is not None and korean.domain == "재무"
    assert glossary.explain("caches", "Warm the caches first.", None) is not None


def test_an_uncorrected_reference_card_is_told_from_a_correction(
    glossary: ReferenceGlossary,
) -> None:
    card = "The smallest deployable unit in Kubernetes: containers scheduled together."
    assert glossary.has_definition("pods", card)
    assert glossary.has_definition("POD", f" {card} ")
    assert not glossary.has_definition("pod", "Our own note: the web team's pod of servers.")
    assert not glossary.has_definition("node", card)


def test_the_packaged_reference_covers_every_field_in_both_languages() -> None:
    reference = packaged_reference()
    for language in LANGUAGES:
        forms = reference.forms(language)
        entries = {sense for form in forms for sense in reference.senses(form, language)}
        fields = Counter(sense.field for sense in entries)
        assert set(fields) == set(FIELD_LABELS), language
        assert min(fields.values()) >= 100, (language, fields)


@pytest.mark.parametrize(
    ("term", "context", "language", "domain", "words"),
    [
        ("pods", "The node pool is full, two of the pods are pending.", "en", "Cloud", "contain"),
        ("accrual", "Book an accrual for the audit fees in November.", "en", "Finance", "expense"),
        ("FMEA", "The FMEA for the new line is due.", "en", "Manufacturing", "failure mode"),
        ("코드 리뷰", "코드 리뷰가 끝나면 바로 머지하겠습니다.", "ko", "소프트웨어", "병합"),
    ],
)
def test_the_packaged_reference_explains_field_senses(
    term: str, context: str, language: str, domain: str, words: str
) -> None:
    card = packaged_reference().explain(term, context, language)
    assert card is not None
    assert card.domain == domain and words in card.body.lower()


def _packaged_files() -> list[Path]:
    folder = Path(reference_module.__file__).parent / "reference"
    return sorted(folder.glob("*.tsv"))


def test_every_packaged_file_is_one_field_in_one_language() -> None:
    names = {path.name for path in _packaged_files()}
    assert names == {f"{field}.{language}.tsv" for field in FIELD_LABELS for language in LANGUAGES}


@pytest.mark.parametrize("path", _packaged_files(), ids=lambda path: path.name)
def test_every_packaged_entry_is_well_formed(path: Path) -> None:
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        assert line.count("\t") == 1, f"{path.name}:{number}: one tab between forms and definition"
        forms_text, definition = line.split("\t")
        forms = [normalize_form(form) for form in forms_text.split("|")]
        assert all(forms) and definition.strip(), f"{path.name}:{number}: an empty part"
        repeated = seen & set(forms)
        assert not repeated, f"{path.name}:{number}: {repeated} is in an earlier entry too"
        seen.update(forms)
        if path.name.endswith(".en.tsv"):
            assert 6 <= len(definition.split()) <= 60, f"{path.name}:{number}: length"
