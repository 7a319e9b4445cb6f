"""Shared text basics: where sentences start and end (pure functions).

Both sides need it: explanations are cut at whole sentences, and long transcript lines are
split at sentence ends before term detection.
"""

from __future__ import annotations

import re


def base_language(language: str) -> str:
    """The language of a tag, lower case: "ko-KR", "pt_BR", "EN" -> "ko", "pt", "en"."""
    return language.replace("_", "-").split("-")[0].lower()


# Languages with a script of their own, as character classes that both Python's re and
# llama.cpp's grammars read.
SCRIPTS = {"ko": "[가-힣]", "ja": "[ぁ-ヿ一-鿿]", "zh": "[一-鿿]"}

# Words whose trailing dot is not a sentence end ("e.g. Kubernetes" stays one sentence).
_ABBREVIATION = re.compile(
    r"(?:e\.g|i\.e|vs|mr|mrs|ms|dr|prof|inc|ltd|co|corp|approx|cf|st|fig|jr|sr|dept|est|al|"
    r"resp|incl|z\.b|d\.h|bzw|ca|usw)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+|$)")
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]$")
_WORD_BEFORE = re.compile(r"([\w.]+)$")


def _is_abbreviation(text: str, dot_index: int) -> bool:
    match = _WORD_BEFORE.search(text[:dot_index])
    if not match:
        return False
    word = match.group(1).rstrip(".")
    return bool(_ABBREVIATION.fullmatch(word) or _INITIALISM.match(word))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a dot after an abbreviation or before lower case is not
    an end, so "e.g. Kubernetes" and "approx. ten" stay inside their sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        following = text[end:].lstrip()
        if following and following[0].islower():
            continue
        if text[match.start()] == "." and _is_abbreviation(text, match.start()) and following:
            continue
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans]


def split_sentences(text: str) -> list[str]:
    return [text[start:end].strip() for start, end in sentence_spans(text)]
