"""Checks that keep Whisper's inventions out of the transcript; pure functions, no model.

Whisper was trained on subtitles, so on silence, music or noise it writes what subtitles say
there: "Thank you.", "Thanks for watching!", an Amara.org credit line. When it loses track it
loops, repeating one phrase until the token budget runs out. A live glossary would turn those
into transcript lines and jargon candidates, so each decoded window passes through `gate`.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

MAX_NGRAM = 8
MIN_REPEATS = 3

# Written as Whisper prints them; stored normalised so that case and punctuation do not matter.
_PHANTOM_SOURCES = (
    # English
    "Thank you.",
    "Thank you very much.",
    "Thank you so much for watching.",
    "Thanks.",
    "Thanks for watching!",
    "Thank you for watching!",
    "Thank you for watching. Please subscribe.",
    "Please subscribe.",
    "Please subscribe to my channel.",
    "Like and subscribe.",
    "Don't forget to like and subscribe.",
    "See you next time.",
    "See you in the next video.",
    "Subtitles by the Amara.org community",
    "Transcription by CastingWords",
    "you",
    "Bye.",
    "Bye-bye.",
    "So",
    "Okay.",
    "OK.",
    "Oh",
    "Hmm.",
    "Uh",
    "Um",
    # Japanese, Korean, Chinese
    "ご視聴ありがとうございました",
    "ご清聴ありがとうございました",
    "チャンネル登録よろしくお願いします",
    "시청해 주셔서 감사합니다",
    "시청해주셔서 감사합니다",
    "구독과 좋아요 부탁드립니다",
    "谢谢观看",
    "感谢观看",
    "請不吝點贊訂閱轉發打賞支持明鏡與點點欄目",
    "字幕由Amara.org社区提供",
    # German, French, Spanish, Italian, Portuguese, Dutch
    "Untertitel der Amara.org-Community",
    "Untertitel im Auftrag des ZDF, 2017",
    "Vielen Dank fürs Zuschauen",
    "Danke fürs Zuschauen",
    "Sous-titres réalisés par la communauté d'Amara.org",
    "Sous-titrage Société Radio-Canada",
    "Merci d'avoir regardé",
    "Subtítulos realizados por la comunidad de Amara.org",
    "Gracias por ver el video",
    "¡Gracias por ver!",
    "Sottotitoli creati dalla comunità Amara.org",
    "Grazie per la visione",
    "Obrigado por assistir",
    "Legendas pela comunidade Amara.org",
    "Ondertiteld door de Amara.org gemeenschap",
    "Bedankt voor het kijken",
)

_SPACE = re.compile(r"\s+")

# Scripts written without spaces: a loop there is one long "word", so it is cut by characters.
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_LOOP = re.compile(rf"([{_CJK}]{{1,32}}?)\1{{{MIN_REPEATS - 1},}}")
# A loop glued into one "word" by hyphens, dots or slashes (".bq.bq.bq", "W-W-W-W-W-W-W").
# Letters only: repeated numbers are versions and addresses (1.1.1, 10.10.10.10). One letter
# needs more copies: "A-A-A rating" and "W-W-W" (a spoken www) are speech.
_GLUED_LOOP = re.compile(
    rf"\b(?:([^\W\d_]{{2,16}})(?:[-./]\1\b){{{MIN_REPEATS - 1},}}"
    rf"|([^\W\d_])(?:[-./]\2\b){{{2 * MIN_REPEATS - 1},}})",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Lowercase, NFKC, punctuation and symbols turned into spaces, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = [" " if unicodedata.category(ch)[0] in "PSZC" else ch for ch in folded]
    return _SPACE.sub(" ", "".join(kept)).strip()


PHANTOM_PHRASES: frozenset[str] = frozenset(normalise(phrase) for phrase in _PHANTOM_SOURCES)

# Splits a text into the pieces Whisper strings together: "Okay. Thank you." is two phantoms.
_PIECES = re.compile(r"[.!?,;:…。！？、，]+")


def is_phantom(text: str) -> bool:
    """True when the whole text is made of phrases Whisper writes on silence, and nothing else."""
    if normalise(text) in PHANTOM_PHRASES:
        return True
    pieces = [normalise(piece) for piece in _PIECES.split(text)]
    pieces = [piece for piece in pieces if piece]
    return bool(pieces) and all(piece in PHANTOM_PHRASES for piece in pieces)


def _repeats_at(keys: list[str], start: int, size: int) -> int:
    """How many times keys[start:start+size] occurs back to back from `start`."""
    unit = keys[start : start + size]
    count = 1
    while keys[start + count * size : start + (count + 1) * size] == unit:
        count += 1
    return count


def _cut_word_loops(words: list[str]) -> list[str]:
    # Words compare normalised, so "Thank you." and "thank you," count as the same unit.
    keys = [normalise(word) for word in words]
    kept: list[str] = []
    i = 0
    while i < len(words):
        size, repeats = _loop_at(keys, i)
        i += size * repeats
        # The last copy is kept: its punctuation is the one that fits the words after the loop.
        kept.extend(words[i - size : i])
    return kept


def _loop_at(keys: list[str], start: int) -> tuple[int, int]:
    """(unit size, copies) of the loop starting at `start`, or (1, 1) when there is none."""
    # Smallest unit first: "no no no no" is one word repeated, not "no no" twice.
    longest = min(MAX_NGRAM, (len(keys) - start) // MIN_REPEATS)
    for size in range(1, longest + 1):
        repeats = _repeats_at(keys, start, size)
        if repeats >= MIN_REPEATS:
            return size, repeats
    return 1, 1


def cut_repetition(text: str) -> str:
    """Collapse any run of ≥3 back-to-back copies of a word or n-gram (n ≤ 8), or of letters
    glued by hyphens, dots or slashes (".bq.bq.bq"; a single letter from six copies), to one copy.

    Text without such a run comes back unchanged, spacing included.
    """
    text = _GLUED_LOOP.sub(lambda loop: loop.group(1) or loop.group(2), _CJK_LOOP.sub(r"\1", text))
    words = text.split()
    while True:
        # Cutting can expose a longer loop ("a a a b a a a b ..." -> "a b a b"), so repeat.
        cut = _cut_word_loops(words)
        if len(cut) == len(words):
            break
        words = cut
    return text if words == text.split() else " ".join(words)


def compression_ratio(text: str) -> float:
    """Raw size over zlib size of the UTF-8 text: Whisper's measure of a repetitive decode."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


@dataclass(frozen=True)
class GateConfig:
    # Whisper's defaults: a window counts as silence when both of the first two say so.
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    # Below this the decode is a guess whatever no_speech_prob says. On Whisper base (1-6 s of
    # noise, hum, clicks), decodes with hotwords in the prompt scored -1.37 to -3.25 while
    # no_speech_prob stayed at 0.03-0.57, so Whisper's rule let them through (-1.5 would still
    # pass 4 of 9). English speech windows scored -1.0 or better, except junk such as " and" or
    # " SLA," written when a hotword prompt meets a window starting mid-sentence (-1.36 to
    # -2.7), and two right 3 s fragments of the synthetic voice (" so the CPK", -1.43): losing
    # a short fragment costs less than a glossary term invented from noise.
    logprob_floor: float = -1.2


# Frozen, so one shared instance is a safe default argument.
DEFAULT_GATES = GateConfig()


def is_hotword_echo(text: str, hotwords: Iterable[str]) -> bool:
    """True when the text only repeats prompt hotwords (and phantoms): "OKRs," on babble.

    Hotwords sit in the prompt, so on audio it cannot read Whisper may copy them out, with a
    high confidence that no score catches; an invented term is the worst output for a glossary.
    """
    known = {normalise(word) for word in hotwords} - {""}
    if not known:
        return False
    pieces = [normalise(piece) for piece in _PIECES.split(text)]
    pieces = [piece for piece in pieces if piece]
    return (
        bool(pieces)
        and any(piece in known for piece in pieces)
        and all(piece in known or piece in PHANTOM_PHRASES for piece in pieces)
    )


def rejection(
    text: str,
    avg_logprob: float,
    no_speech_prob: float,
    config: GateConfig,
    hotwords: Iterable[str] = (),
) -> str | None:
    """Why an already repetition-cut text should be dropped, or None to keep it."""
    if not normalise(text):
        return "empty"
    if no_speech_prob > config.no_speech_threshold and avg_logprob < config.log_prob_threshold:
        return "no_speech"
    if avg_logprob < config.logprob_floor:
        return "low_logprob"
    if compression_ratio(text) > config.compression_ratio_threshold:
        return "repetitive"
    if is_phantom(text):
        return "phantom"
    if is_hotword_echo(text, hotwords):
        return "hotword_echo"
    return None


def gate(
    text: str,
    avg_logprob: float,
    no_speech_prob: float,
    config: GateConfig | None = None,
    hotwords: Iterable[str] = (),
) -> tuple[str, str | None]:
    """The text with repetition loops cut, and why it should be dropped (None: keep it).

    `hotwords` are the ones that were in the prompt, to catch Whisper copying them out.
    """
    cut = cut_repetition(text.strip())
    return cut, rejection(cut, avg_logprob, no_speech_prob, config or DEFAULT_GATES, hotwords)
