"""Korean text to MBROLA phonemes for the hn1 diphone voice (pure functions, no audio).

espeak-ng's own Korean voice is a formant synthesiser that Whisper base hardly understands
(CER ≈ 1). Debian's `mbrola-hn1` is a real Korean diphone voice, but espeak-ng has no phoneme
table for it, so this module does the reading: Hangul syllables are split into jamo, the
standard pronunciation rules of connected speech are applied (liaison, coda neutralisation,
nasalisation, lateralisation, tensing, aspiration, voicing of lax stops), and each sound gets
hn1's romanised phoneme name (the voice's `hn1roman` table), a duration and a pitch contour:
each word rises from low to high, as Seoul Korean's accentual phrases do, and the sentence falls
at its end. Latin letters are read as Korean speakers say them (letter names, or the word for
the few read as words); numbers as Sino-Korean numerals.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# Jamo in Unicode's syllable order.
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
_FIRST_SYLLABLE, _LAST_SYLLABLE = 0xAC00, 0xD7A3

VOWEL_PHONEMES = {
    "ㅏ": "a", "ㅐ": "ae", "ㅑ": "ya", "ㅒ": "yae", "ㅓ": "eo", "ㅔ": "e", "ㅕ": "yeo", "ㅖ": "ye",
    "ㅗ": "o", "ㅘ": "wa", "ㅙ": "wae", "ㅚ": "oe", "ㅛ": "yo", "ㅜ": "u", "ㅝ": "weo", "ㅞ": "we",
    "ㅟ": "wi", "ㅠ": "yu", "ㅡ": "eu", "ㅢ": "eui", "ㅣ": "i",
}  # fmt: skip
# Onsets: lax stops and affricates have a voiced phoneme between voiced sounds.
ONSET_PHONEMES = {
    "ㄱ": "g", "ㄲ": "gg", "ㄴ": "n", "ㄷ": "d", "ㄸ": "dd", "ㄹ": "r", "ㅁ": "m", "ㅂ": "b",
    "ㅃ": "bb", "ㅅ": "s", "ㅆ": "ss", "ㅈ": "j", "ㅉ": "jj", "ㅊ": "ch", "ㅋ": "k", "ㅌ": "t",
    "ㅍ": "p", "ㅎ": "h",
}  # fmt: skip
VOICED_ONSETS = {"ㄱ": "gv", "ㄷ": "dv", "ㅂ": "bv", "ㅈ": "jv"}
# The seven codas Korean pronounces, by the consonant letters (single or double) they stand for.
CODA_SOUNDS = {
    **dict.fromkeys(["ㄱ", "ㄲ", "ㅋ", "ㄳ", "ㄺ"], "ㄱ"),
    **dict.fromkeys(["ㄴ", "ㄵ", "ㄶ"], "ㄴ"),
    **dict.fromkeys(["ㄷ", "ㅅ", "ㅆ", "ㅈ", "ㅊ", "ㅌ", "ㅎ"], "ㄷ"),
    **dict.fromkeys(["ㄹ", "ㄼ", "ㄽ", "ㄾ", "ㅀ"], "ㄹ"),
    **dict.fromkeys(["ㅁ", "ㄻ"], "ㅁ"),
    **dict.fromkeys(["ㅂ", "ㅍ", "ㅄ", "ㄿ"], "ㅂ"),
    "ㅇ": "ㅇ",
}
CODA_PHONEMES = {"ㄱ": "gc", "ㄴ": "nc", "ㄷ": "dc", "ㄹ": "l", "ㅁ": "mc", "ㅂ": "bc", "ㅇ": "ng"}
# hn1's own (X-SAMPA) names of the romanised phonemes above; the others are spelled alike.
SAMPA = {
    "g": "k", "gg": "k_>", "d": "t", "dd": "t_>", "r": "4", "b": "p", "bb": "p_>", "ss": "s_>",
    "j": "ts\\", "jj": "ts\\_>", "ch": "ts\\_h", "k": "k_h", "t": "t_h", "p": "p_h", "gv": "g",
    "dv": "d", "bv": "b", "jv": "dz\\", "sh": "s\\", "lo": "l", "gc": "k_}", "nc": "n_}",
    "dc": "t_}", "l": "l_}", "mc": "m_}", "bc": "p_}", "ng": "N", "ae": "E", "ya": "ja",
    "yae": "jE", "eo": "V", "yeo": "jV", "ye": "je", "wae": "wE", "oe": "2", "yo": "jo",
    "weo": "wV", "yu": "ju", "eu": "M", "eui": "M\\i",
}  # fmt: skip
# A double coda before a vowel: the first letter stays, the second is said as the next onset.
DOUBLE_CODAS = {
    "ㄳ": ("ㄱ", "ㅆ"), "ㄵ": ("ㄴ", "ㅈ"), "ㄶ": ("ㄴ", "ㅎ"), "ㄺ": ("ㄹ", "ㄱ"),
    "ㄻ": ("ㄹ", "ㅁ"), "ㄼ": ("ㄹ", "ㅂ"), "ㄽ": ("ㄹ", "ㅆ"), "ㄾ": ("ㄹ", "ㅌ"),
    "ㄿ": ("ㄹ", "ㅍ"), "ㅀ": ("ㄹ", "ㅎ"), "ㅄ": ("ㅂ", "ㅆ"),
}  # fmt: skip
TENSE = {"ㄱ": "ㄲ", "ㄷ": "ㄸ", "ㅂ": "ㅃ", "ㅅ": "ㅆ", "ㅈ": "ㅉ"}
ASPIRATED = {"ㄱ": "ㅋ", "ㄷ": "ㅌ", "ㅂ": "ㅍ", "ㅈ": "ㅊ"}
NASAL_CODAS = {"ㄱ": "ㅇ", "ㄷ": "ㄴ", "ㅂ": "ㅁ"}
# Vowels that make ㅅ the palatal [ɕ] (hn1's "sh").
PALATAL_VOWELS = frozenset("ㅣ")

# How Korean speakers say Latin letters, and the few abbreviations read as words.
LETTER_NAMES = {
    "A": "에이", "B": "비", "C": "씨", "D": "디", "E": "이", "F": "에프", "G": "지", "H": "에이치",
    "I": "아이", "J": "제이", "K": "케이", "L": "엘", "M": "엠", "N": "엔", "O": "오", "P": "피",
    "Q": "큐", "R": "알", "S": "에스", "T": "티", "U": "유", "V": "브이", "W": "더블유",
    "X": "엑스", "Y": "와이", "Z": "지",
}  # fmt: skip
LATIN_WORDS = {"lora": "로라", "ebitda": "에비타"}
_DIGITS = "영일이삼사오육칠팔구"
_TOKEN = re.compile(r"[A-Za-z]+|\d+|[가-힣]+|[.,!?;:]|\s+|.")


def sino_korean(number: int) -> str:
    """12 -> 십이, 90 -> 구십, 2026 -> 이천이십육 (up to 9999)."""
    if number == 0:
        return "영"
    words = []
    for value, unit in ((1000, "천"), (100, "백"), (10, "십"), (1, "")):
        digit = number // value % 10
        if digit:
            words.append(("" if digit == 1 and unit else _DIGITS[digit]) + unit)
    return "".join(words)


def hangul_reading(text: str) -> str:
    """The text with Latin words and numbers written as a Korean speaker reads them."""
    parts = []
    for token in _TOKEN.findall(text):
        if token.isascii() and token.isalpha():
            spoken = LATIN_WORDS.get(token.lower())
            parts.append(spoken or "".join(LETTER_NAMES[c] for c in token.upper()))
        elif token.isdigit():
            parts.append(sino_korean(int(token)))
        else:
            parts.append(token)
    return "".join(parts)


@dataclass
class Syllable:
    onset: str  # an initial jamo, "ㅇ" when silent
    vowel: str
    coda: str  # a final jamo (maybe double), "" when none


def syllables(word: str) -> list[Syllable]:
    """The Hangul syllables of a word as jamo; other characters are not read."""
    out = []
    for char in word:
        code = ord(char) - _FIRST_SYLLABLE
        if 0 <= code <= _LAST_SYLLABLE - _FIRST_SYLLABLE:
            out.append(Syllable(INITIALS[code // 588], VOWELS[code % 588 // 28], FINALS[code % 28]))
    return out


def _join(before: Syllable, after: Syllable) -> None:
    """Apply the rules of one syllable boundary in place: `before`'s coda meets `after`'s onset."""
    coda, onset = before.coda, after.onset
    if not coda:
        return
    if onset == "ㅇ":  # liaison: the coda is said as the next onset
        if coda == "ㅇ":
            return
        if coda == "ㅎ":  # 좋아 -> 조아
            before.coda = ""
            return
        if coda in DOUBLE_CODAS:  # 닭이 -> 달기; 많아 -> 만아 (the ㅎ is silent)
            kept, moved = DOUBLE_CODAS[coda]
            before.coda, after.onset = kept, "ㅇ" if moved == "ㅎ" else moved
            return
        before.coda, after.onset = "", coda
        return
    if coda in ("ㅎ", "ㄶ", "ㅀ"):  # 좋다 -> 조타, 많고 -> 만코
        rest = {"ㅎ": "", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}[coda]
        if onset in ASPIRATED:
            before.coda, after.onset = rest, ASPIRATED[onset]
            return
        if onset == "ㅅ":
            before.coda, after.onset = rest, "ㅆ"
            return
    sound = CODA_SOUNDS[coda]
    if onset == "ㅎ" and sound in ASPIRATED:  # 축하 -> 추카
        before.coda, after.onset = "", ASPIRATED[sound]
        return
    if onset == "ㄹ":
        if sound in ("ㄴ", "ㄹ"):  # 신라 -> 실라
            before.coda, after.onset = "ㄹ", "ㄹ"
            return
        after.onset = "ㄴ"  # 협력 -> 혐녁, 종로 -> 종노
        onset = "ㄴ"
    if sound == "ㄹ" and onset == "ㄴ":  # 설날 -> 설랄
        before.coda, after.onset = "ㄹ", "ㄹ"
        return
    if onset in ("ㄴ", "ㅁ") and sound in NASAL_CODAS:  # 합니다 -> 함니다
        before.coda = NASAL_CODAS[sound]
        return
    before.coda = sound
    if sound in ("ㄱ", "ㄷ", "ㅂ") and onset in TENSE:  # 학교 -> 학꾜
        after.onset = TENSE[onset]


def pronounce(sentence: str) -> list[list[list[Syllable]]]:
    """The sentence's phrases (split at punctuation), each a list of words as said: syllables
    after the rules of connected speech, which apply across the spaces within a phrase."""
    phrases = []
    for phrase in re.split(r"[.,!?;:]+", hangul_reading(sentence)):
        words = [word for word in map(syllables, phrase.split()) if word]
        flat = [syllable for word in words for syllable in word]
        if not flat:
            continue
        for before, after in itertools.pairwise(flat):
            _join(before, after)
        last = flat[-1]
        last.coda = CODA_SOUNDS.get(last.coda, "")
        phrases.append(words)
    return phrases


@dataclass(frozen=True)
class Phone:
    name: str
    ms: int
    pitch: tuple[tuple[int, int], ...] = ()  # (percent of the phone, Hz)


# A male voice: each word rises from BASE to HIGH, later words a little lower (declination),
# and the sentence's last syllable falls to FINAL.
BASE_HZ = 118
HIGH_HZ = 150
FINAL_HZ = 92
DECLINATION_HZ = 2
SONORANT_CODAS = frozenset("ㄴㄹㅁㅇ")
LONG_ONSETS = frozenset({"gg", "dd", "bb", "ss", "jj", "ch", "k", "t", "p"})
# Durations in ms, about 5 syllables a second. Tempo and pitch range were chosen on 12 Korean
# dev sentences of bench/data/terms-dev.jsonl (CER 0.29 against 0.37 at 6 syllables a second
# and 0.56 with half the rise), not on the meeting script that is measured.
ONSET_MS, LONG_ONSET_MS, VOWEL_MS, FINAL_VOWEL_MS, CODA_MS = 69, 98, 121, 173, 75
PHRASE_PAUSE_MS, EDGE_PAUSE_MS = 220, 150


def _onset(syllable: Syllable, previous_coda: str | None) -> str | None:
    """hn1's phoneme for the syllable's onset; `previous_coda` is None at a phrase's start,
    else the coda said before it ("" after a vowel)."""
    onset = syllable.onset
    if onset == "ㅇ":
        return None
    if onset == "ㄹ":
        return "lo" if previous_coda == "ㄹ" else "r"
    voiced = previous_coda is not None and (not previous_coda or previous_coda in SONORANT_CODAS)
    if onset in VOICED_ONSETS and voiced:
        return VOICED_ONSETS[onset]
    if onset == "ㅅ" and syllable.vowel in PALATAL_VOWELS:
        return "sh"
    return ONSET_PHONEMES[onset]


def phones(sentence: str) -> list[Phone]:
    """MBROLA phones (hn1roman names) for one sentence, with durations and pitch."""
    phrases = pronounce(sentence)
    out = [Phone("_", EDGE_PAUSE_MS)]
    word_index = 0
    for phrase_index, words in enumerate(phrases):
        if phrase_index:
            out.append(Phone("_", PHRASE_PAUSE_MS))
        previous_coda: str | None = None
        for word_number, word in enumerate(words):
            sentence_end = phrase_index == len(phrases) - 1 and word_number == len(words) - 1
            for position, syllable in enumerate(word):
                rise = position / max(len(word) - 1, 1)
                hz = round(BASE_HZ + (HIGH_HZ - BASE_HZ) * rise - DECLINATION_HZ * word_index)
                last = sentence_end and position == len(word) - 1
                onset = _onset(syllable, previous_coda)
                if onset:
                    out.append(Phone(onset, LONG_ONSET_MS if onset in LONG_ONSETS else ONSET_MS))
                vowel = VOWEL_PHONEMES[syllable.vowel]
                pitch = ((20, hz), (80, FINAL_HZ if last else hz))
                out.append(Phone(vowel, FINAL_VOWEL_MS if last else VOWEL_MS, pitch))
                coda = CODA_SOUNDS.get(syllable.coda, "")
                if coda:
                    out.append(Phone(CODA_PHONEMES[coda], CODA_MS))
                previous_coda = coda
            word_index += 1
    out.append(Phone("_", EDGE_PAUSE_MS))
    return out


def pho_text(sentence: str) -> str:
    """The sentence as an MBROLA .pho file in hn1's own phoneme names."""
    lines = []
    for phone in phones(sentence):
        pitch = " ".join(f"{at} {hz}" for at, hz in phone.pitch)
        lines.append(f"{SAMPA.get(phone.name, phone.name)} {phone.ms} {pitch}".rstrip())
    return "\n".join(lines) + "\n"
