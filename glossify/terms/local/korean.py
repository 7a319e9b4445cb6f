"""Korean lines for the local detector: kiwipiepy's morphemes plus frequency rules.

Kiwi splits a line into morphemes and tags them (NNG/NNP nouns, XSN suffixes such as 률 in
불량률, SL for Latin script, J* particles, XSV/XSA for 하다/되다). A Korean word (a run of
characters between spaces) is kept as a noun when it starts with nominal morphemes; its
particles and endings are cut off ("불량률이" -> "불량률", "롤백했습니다" -> "롤백"). Nouns said
in a row, each without a particle, make a compound ("핵심 인재 이직률", "가용 영역"); a
particle or ending closes the compound on its word, and a word with a number closes it after
that word ("임상시험 3상").

Terms:

* Embedded English (CPK, LoRA, P&L, CI/CD, Recall@10, 8D, B2B): every Latin-script run with a
  letter, found on the text (Kiwi splits "P&L" and "Recall@10"), unless it is an everyday
  English word.
* A compound of two or more nouns, once time words (이번, 분기), generic heads (검토, 결과)
  and situational words (기존, 연간) are trimmed: compounds of a field are written with
  spaces in Korean, and the everyday ones were mostly trimmed. A compound that the packaged
  reference glossary does not list but that its listed terms cover whole is those terms
  ("영업권 손상차손": 영업권 + 손상차손), unless a number belongs to it ("임상시험 3상").
* A single noun of two syllables or more that is rare in everyday Korean (wordfreq's Korean
  list; Kiwi gives no frequency): loanwords (오토스케일링, 파드), Sino-Korean terms (준거법,
  멱등성). wordfreq tokenises Korean with MeCab, so its frequency list is read directly.

Not terms: names with titles (김민수 팀장님), places (평택 공장, 2라인, 부산 지사, 서울...),
departments (재무팀), dates, sums and counters (3분기, 10월, 3천만 원), shift names (야간 조).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wordfreq import get_frequency_dict

from glossify.terms.local.collector import Collector
from glossify.terms.local.lexicon import COMMON_ABBREVIATIONS, words_of, zipf

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Latin-script runs, joined by the symbols of codes ("P&L", "CI/CD", "Recall@10", "401(k)").
_LATIN_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9][A-Za-z0-9&/@.:+()-]*")
_NOMINAL_TAGS = frozenset({"NNG", "NNP", "XSN", "XPN", "SL", "SN", "SW", "SP", "SH", "NR"})
_NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SH"})

TIME_WORDS = words_of(
    """
    이번 지난 다음 올해 작년 내년 재작년 오늘 내일 어제 분기 달 주 월 연간 매월 매년 매주
    최근 이전 이후 상반기 하반기 연말 연초 월말 월초 분기말 당분간 요즘 이번주 다음주
    """
)
GENERIC_WORDS = words_of(
    """
    검토 결과 건 문제 자료 때문 경우 부분 관련 내용 쪽 것 얘기 이야기 기준 단계 요청 진행
    작업 상황 정도 이상 이하 대상 범위 의견 소지 전 후 중 때 수 등 기존 상대방 우리 저희
    회의 미팅 공유 일정 계획 확인 준비 방법 방향 이번 전체 사람 분 거 점 측 가지 부서
    조항 누락 위반 사항
    """
)
TITLES = words_of(
    "님 씨 팀장 부장 과장 차장 대리 사원 상무 전무 이사 대표 사장 본부장 실장 선생 교수 박사"
)
PLACE_HEADS = words_of("공장 지사 본사 사무실 센터 법인 지점 라인 창고 매장 병원 조")
DEPARTMENT_SUFFIXES = ("팀", "본부", "사업부")
# The longest part a compound is split into, in words: of the reference glossary's 10,208
# Korean forms, 44 have four words and 3 more.
MAX_PART_WORDS = 4
# Korean words that wordfreq lists at or above this Zipf frequency are everyday words.
KOREAN_RARE_ZIPF = 4.0
# A capitalised proper noun this common (한국, 서울, 부산) names a place or a country.
KOREAN_PLACE_ZIPF = 5.0


@dataclass(frozen=True)
class KoreanWord:
    """The noun part of one space-separated word: its text, where it is, what closes it."""

    text: str
    start: int
    end: int
    tags: tuple[str, ...]
    forms: tuple[str, ...]
    closed: bool  # a particle or ending follows: the compound ends here


@lru_cache(maxsize=1)
def _korean_frequencies() -> dict[str, float]:
    return dict(get_frequency_dict("ko"))


def korean_zipf(word: str) -> float:
    """wordfreq's Zipf frequency of a Korean word, read from its list (0 when unlisted)."""
    frequency = _korean_frequencies().get(word, 0.0)
    return math.log10(frequency * 1e9) if frequency > 0 else 0.0


def has_hangul(text: str) -> bool:
    return HANGUL.search(text) is not None


def korean_words(text: str, tokens: list[Any]) -> list[KoreanWord | None]:
    """One entry per space-separated word: its noun part, or None when it has none."""
    words: list[KoreanWord | None] = []
    groups: list[list[Any]] = []
    for token in tokens:
        previous = groups[-1][-1] if groups else None
        if previous is not None and token.start <= previous.start + previous.len:
            groups[-1].append(token)  # no space between: the same word
        else:
            groups.append([token])
    for group in groups:
        nominal: list[Any] = []
        for k, token in enumerate(group):
            later_noun = any(t.tag in _NOUN_TAGS for t in group[k + 1 :])
            if token.tag in _NOMINAL_TAGS or (token.tag == "MM" and not nominal and later_noun):
                nominal.append(token)  # "이연수익": Kiwi reads its first syllable as "this"
            else:
                break
        while nominal and nominal[-1].tag in {"SW", "SP", "XPN"}:
            nominal.pop()
        if not any(t.tag in _NOUN_TAGS for t in nominal):
            words.append(None)
            continue
        start, end = nominal[0].start, nominal[-1].start + nominal[-1].len
        words.append(
            KoreanWord(
                text=text[start:end],
                start=start,
                end=end,
                tags=tuple(t.tag for t in nominal),
                forms=tuple(t.form for t in nominal),
                closed=len(nominal) < len(group),
            )
        )
    return words


def _runs(words: list[KoreanWord | None]) -> list[list[KoreanWord]]:
    runs: list[list[KoreanWord]] = [[]]
    for word in words:
        if word is None or "SL" in word.tags:
            runs.append([])  # embedded English is a term of its own, found on the text
            continue
        runs[-1].append(word)
        if word.closed or "SN" in word.tags:
            runs.append([])
    return [run for run in runs if run]


def _is_time(word: KoreanWord) -> bool:
    if word.text in TIME_WORDS or word.forms[-1] in TIME_WORDS:
        return True
    return "SN" in word.tags and word.forms[-1] in {"분기", "월", "일", "년", "주", "시"}


def _is_person_place_or_team(run: list[KoreanWord]) -> bool:
    for word in run:
        if set(word.forms) & TITLES or word.forms[-1] in PLACE_HEADS:
            return True  # "김민수 팀장님", "평택 공장", "2라인", "부산 지사"
        if word.text.endswith(DEPARTMENT_SUFFIXES):
            return True  # "재무팀"
        if word.tags[0] == "NNP" and korean_zipf(word.forms[0]) >= KOREAN_PLACE_ZIPF:
            return True  # "서울중앙지방법원", "한국법": places and countries
    return False


def _trim(run: list[KoreanWord]) -> list[KoreanWord]:
    while run and (_is_time(run[0]) or run[0].text in GENERIC_WORDS):
        run = run[1:]
    while run and (run[-1].text in GENERIC_WORDS or (len(run[-1].text) < 2 and len(run) > 1)):
        run = run[:-1]
    return run


def _is_rare(word: KoreanWord, alone: bool) -> bool:
    """A rare noun said alone is a term; inside a compound, a part is a term on its own only
    when wordfreq does not list it at all (쿠버네티스 in "쿠버네티스 클러스터"), since the
    compound already carries the concept ("콜드 스타트" is no "콜드" and no "스타트")."""
    if len(word.text) < 2 or "SN" in word.tags:
        return False  # "3상" means something only with its trial
    zipf_ko = korean_zipf(word.text)
    if alone:
        return zipf_ko < KOREAN_RARE_ZIPF
    if word.tags[-1] == "XSN" and word.forms[-1] in {"적", "성"}:
        return False  # "파국적", "의존성": a modifier of the compound, not a term alone
    return zipf_ko == 0.0 and len(word.text) >= 3


def latin_terms(text: str, out: Collector) -> None:
    """Embedded English: "CPK가" -> CPK, "P&L이" -> P&L, "Recall@10은" -> Recall@10."""
    for match in _LATIN_RUN.finditer(text):
        term = match.group(0).rstrip(".:/-@&+(")
        if not any(ch.isalpha() for ch in term) or term in COMMON_ABBREVIATIONS:
            continue
        everyday = term.isalpha() and term.islower() and zipf(term) >= 4.0
        if not everyday:
            out.add(term, "Skill", 0.9, match.start())


class KoreanTermDetector:
    """Korean candidates with Kiwi (loaded on first use: about 2 s and 100 MB), and the packaged
    reference glossary's Korean forms to split compounds of listed terms (loaded with the first
    compound, unless the caller gives its own test: about 1 s)."""

    def __init__(self, is_known: Callable[[str], bool] | None = None) -> None:
        self._kiwi: Any = None
        self._lock = threading.Lock()
        self._known = is_known

    def _is_known(self, term: str) -> bool:
        """Whether ``term`` is an established Korean term (the packaged reference glossary's
        forms unless the caller gave another test)."""
        known = self._known
        if known is None:
            with self._lock:  # a replica's threads share the detector: load the forms once
                if self._known is None:
                    from glossify.explain.reference import packaged_reference

                    reference = packaged_reference()
                    self._known = lambda form: bool(reference.senses(form, "ko"))
                known = self._known
        return known(term)

    def _known_parts(self, text: str, run: list[KoreanWord]) -> list[tuple[int, int]]:
        """The established terms a compound nobody lists is made of, longest first from the
        left, when they cover all of it: "영업권 손상차손" is two terms (goodwill, impairment
        loss), not one; "크로스셀 캠페인" stays one (캠페인 is no term of its own). A part is
        at most `MAX_PART_WORDS` words, so a long run of bare nouns costs a few lookups a word."""
        if any("SN" in word.tags for word in run):
            return []  # "임상시험 3상": a number means something only with its compound
        parts: list[tuple[int, int]] = []
        i = 0
        while i < len(run):
            for j in range(min(len(run), i + MAX_PART_WORDS), i, -1):
                if j - i == len(run):
                    continue  # the whole compound is what is being split
                start, end = run[i].start, run[j - 1].end
                if self._is_known(text[start:end]):
                    parts.append((start, end))
                    i = j
                    break
            else:
                return []  # a word no term covers: the compound is said as one
        return parts

    def _tokenizer(self) -> Any:
        with self._lock:
            if self._kiwi is None:
                from kiwipiepy import Kiwi

                self._kiwi = Kiwi()
            return self._kiwi

    def detect(self, text: str, out: Collector) -> None:
        latin_terms(text, out)
        words = korean_words(text, list(self._tokenizer().tokenize(text)))
        for run in _runs(words):
            if _is_person_place_or_team(run):
                continue
            run = _trim(run)
            if len(run) >= 2:
                start, end = run[0].start, run[-1].end
                parts = [] if self._is_known(text[start:end]) else self._known_parts(text, run)
                for part_start, part_end in parts:
                    out.add(text[part_start:part_end], "Skill", 0.85, part_start)
                if not parts:
                    out.add(text[start:end], "Skill", 0.75, start)
            for word in run:
                if _is_rare(word, alone=len(run) == 1):
                    out.add(word.text, "Skill", 0.85, word.start)
