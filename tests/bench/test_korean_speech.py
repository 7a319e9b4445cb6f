"""The Korean reading rules behind the test recording (`bench.korean_speech`): pure functions."""

from __future__ import annotations

import pytest

from bench.korean_speech import (
    CODA_PHONEMES,
    FINAL_HZ,
    FINALS,
    INITIALS,
    ONSET_PHONEMES,
    SAMPA,
    VOICED_ONSETS,
    VOWEL_PHONEMES,
    VOWELS,
    hangul_reading,
    pho_text,
    phones,
    pronounce,
    sino_korean,
)


def said(sentence: str) -> str:
    """The sentence as pronounced, written back in Hangul syllables, words joined by spaces."""
    words = []
    for phrase in pronounce(sentence):
        for word in phrase:
            words.append(
                "".join(
                    chr(
                        0xAC00
                        + (INITIALS.index(s.onset) * 21 + VOWELS.index(s.vowel)) * 28
                        + FINALS.index(s.coda)
                    )
                    for s in word
                )
            )
    return " ".join(words)


@pytest.mark.parametrize(
    ("number", "reading"),
    [
        (0, "영"),
        (2, "이"),
        (10, "십"),
        (12, "십이"),
        (90, "구십"),
        (100, "백"),
        (2026, "이천이십육"),
    ],
)
def test_numbers_are_read_as_sino_korean(number: int, reading: str) -> None:
    assert sino_korean(number) == reading


def test_latin_letters_are_read_as_korean_speakers_say_them() -> None:
    assert hangul_reading("오늘 CPK 지표") == "오늘 씨피케이 지표"
    assert hangul_reading("LoRA 어댑터") == "로라 어댑터"  # read as a word
    assert hangul_reading("임상 2상") == "임상 이상"


@pytest.mark.parametrize(
    ("written", "pronounced"),
    [
        ("합니다", "함니다"),  # nasalisation
        ("학교", "학꾜"),  # tensing after a stop
        ("먹어요", "머거요"),  # liaison
        ("닭이", "달기"),  # a double coda splits before a vowel
        ("좋다", "조타"),  # ㅎ aspirates the next stop
        ("좋아", "조아"),  # and is silent before a vowel
        ("축하", "추카"),  # a stop before ㅎ is aspirated
        ("신라", "실라"),  # lateralisation
        ("설날", "설랄"),
        ("협력", "혐녁"),  # ㄹ after a stop becomes ㄴ, which nasalises the stop
        ("옷", "옫"),  # a final coda is neutralised
        ("낮습니다", "낟씀니다"),
    ],
)
def test_connected_speech_rules(written: str, pronounced: str) -> None:
    assert said(written) == pronounced


def test_rules_apply_across_the_words_of_a_phrase_but_not_across_punctuation() -> None:
    assert said("책 읽어") == "채 길거"  # liaison across a space
    assert said("책. 읽어") == "책 일거"  # a full stop ends the phrase


def test_lax_stops_are_voiced_between_voiced_sounds_only() -> None:
    names = [phone.name for phone in phones("바다 가방")]
    # Phrase-initial ㅂ is voiceless; ㄷ after a vowel and ㄱ across the space are voiced.
    assert names == ["_", "b", "a", "dv", "a", "gv", "a", "bv", "a", "ng", "_"]


def test_each_word_rises_and_the_sentence_falls_at_its_end() -> None:
    vowels = [phone for phone in phones("데이터 파이프라인") if phone.pitch]
    first_word = [phone.pitch[0][1] for phone in vowels[:3]]
    assert first_word == sorted(first_word) and first_word[0] < first_word[-1]
    assert vowels[-1].pitch[-1][1] == FINAL_HZ < vowels[-2].pitch[-1][1]


def test_the_pho_file_uses_only_the_voices_phoneme_names() -> None:
    romanised = {
        *ONSET_PHONEMES.values(),
        *VOICED_ONSETS.values(),
        *VOWEL_PHONEMES.values(),
        *CODA_PHONEMES.values(),
        "sh",
        "lo",
        "_",
    }
    inventory = {SAMPA.get(name, name) for name in romanised}
    text = pho_text("장애 회고는 목요일에 하고 SLA 위반 여부를 확인하겠습니다.")
    lines = text.splitlines()
    assert lines[0].startswith("_ ") and lines[-1].startswith("_ ")
    assert {line.split()[0] for line in lines} <= inventory
    assert "ts\\" in {line.split()[0] for line in lines}  # ㅈ in hn1's X-SAMPA
