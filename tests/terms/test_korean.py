"""The Korean path of the local detector, with real kiwipiepy and wordfreq's Korean list, on
sentences written for these tests (none from an evaluation set)."""

from __future__ import annotations

import pytest

from glossify.terms.candidates import FilterRules, filter_candidates, shown_candidates
from glossify.terms.local.collector import Collector
from glossify.terms.local.detector import LocalTermDetector
from glossify.terms.local.korean import (
    MAX_PART_WORDS,
    KoreanTermDetector,
    has_hangul,
    korean_zipf,
)
from glossify.terms.local.lexicon import is_korean


@pytest.fixture(scope="module")
def detector() -> LocalTermDetector:
    return LocalTermDetector()


def shown(detector: LocalTermDetector, text: str, language: str | None = "ko") -> set[str]:
    return {c.text for c in filter_candidates(detector.detect(text, language), FilterRules())}


def test_embedded_english_without_particles(detector: LocalTermDetector) -> None:
    found = shown(detector, "CPK가 떨어졌고 P&L이랑 Recall@10은 그대로예요. CI/CD도 느려요.")
    assert {"CPK", "P&L", "Recall@10", "CI/CD"} <= found


def test_loanwords_and_rare_nouns_lose_their_particles(detector: LocalTermDetector) -> None:
    found = shown(detector, "어제 카나리 배포 뒤에 롤백했고 멱등성도 다시 봐야 해요.")
    assert {"롤백", "멱등성"} <= found
    assert not {w for w in found if w.endswith(("했고", "도", "을", "를"))}


def test_noun_compounds_are_kept_whole(detector: LocalTermDetector) -> None:
    found = shown(detector, "이번 분기 고객 이탈률 분석은 코호트 분석으로 다시 합시다.")
    assert "코호트 분석" in found
    assert not {"이번 분기", "이번", "분기"} & found


def test_a_compound_of_listed_terms_is_shown_as_those_terms(
    detector: LocalTermDetector,
) -> None:
    # Goodwill and impairment loss are two terms of the reference glossary; their compound is
    # listed nowhere, so a meeting shows two cards, not one card for a phrase nobody defines.
    line = "영업권 손상차손은 감사 전에 다시 계산해야 합니다."
    meeting = {c.text for c in shown_candidates(detector.detect(line, "ko"), FilterRules())}
    assert {"영업권", "손상차손"} <= meeting
    assert "영업권 손상차손" not in meeting


def test_a_compound_is_kept_whole_when_a_word_of_it_is_no_term() -> None:
    listed = {"영업권", "손상차손", "임상시험", "3상"}
    korean = KoreanTermDetector(is_known=listed.__contains__)

    def compounds(line: str) -> set[str]:
        out = Collector()
        korean.detect(line, out)
        return {c.text for c in out.result() if " " in c.text}

    out = Collector()
    korean.detect("영업권 손상차손을 봅시다.", out)
    assert {c.text for c in out.result()} == {"영업권", "손상차손"}  # the two listed terms
    assert compounds("영업권 재평가 손상차손을 봅시다.") == {"영업권 재평가 손상차손"}
    assert compounds("임상시험 3상이 끝났어요.") == {"임상시험 3상"}  # a number keeps its compound
    # A long run of bare nouns that any shorter run of it is listed: parts of at most four words.
    long_run = " ".join(["영업권"] * 12) + "을 봅시다."

    def listed_if_shorter(form: str) -> bool:
        return set(form.split()) == {"영업권"} and len(form.split()) < 12

    out = Collector()
    KoreanTermDetector(is_known=listed_if_shorter).detect(long_run, out)
    assert max(len(c.text.split()) for c in out.result()) <= MAX_PART_WORDS


@pytest.mark.parametrize(
    "text",
    [
        "김민수 팀장님이 내일 평택 공장에 가십니다.",
        "야간 조가 2라인에서 10월 3일에 3천만 원어치를 보냈어요.",
        "재무팀에서 회의 자료를 공유해 주신대요.",
        "서울 본사에서 점심 먹고 얘기하죠.",
    ],
)
def test_names_places_teams_dates_and_money_are_not_terms(
    detector: LocalTermDetector, text: str
) -> None:
    assert shown(detector, text) == set()


def test_language_routing(detector: LocalTermDetector) -> None:
    line = "LoRA로 파인튜닝했어요."
    assert {"LoRA", "파인튜닝"} <= shown(detector, line, "ko")
    assert {"LoRA", "파인튜닝"} <= shown(detector, line, "ko-KR")
    assert {"LoRA", "파인튜닝"} <= shown(detector, line, None)  # Hangul decides
    assert detector.detect(line, "de") == []
    assert is_korean("ko_KR") and not is_korean(None) and not is_korean("en")
    assert has_hangul(line) and not has_hangul("LoRA fine-tuning")


def test_korean_frequencies_are_read_without_mecab() -> None:
    assert korean_zipf("회의") > 4.5  # an everyday word
    assert korean_zipf("쿠버네티스") == 0.0  # unlisted
