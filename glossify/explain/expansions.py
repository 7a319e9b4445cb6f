"""Catching invented acronym expansions (pure functions, no model).

Small models spell out acronyms they do not know with words that do not even start with the
acronym's letters ("CAC (Click-Through Cost)", "CAC stands for Cost-Effectiveness Analysis").
An English expansion given for an all-capitals term is checked against the term's letters:
the words' initials must spell it, small words (and, of, for, ...) optional. A wrong spelling
means the model was guessing, and `screened` turns the answer into an abstention rather than a
wrong card. TermExplainer screens every backend's answer; the backends themselves return what
the model said.

Only Latin-letter expansions are checked: an expansion in Korean or another script, or an
answer that expands nothing, passes. A right expansion whose initials differ from the acronym
(CPK: "process capability index") is also turned down; an abstention there costs less than a
confident wrong expansion elsewhere.
"""

from __future__ import annotations

import re
from functools import cache

from glossify.explain.answer import ABSTAINED, Explanation

# Words an expansion may skip or use for a letter: "Corrective And Preventive Action" (CAPA).
MINOR_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}
)
_ACRONYM = re.compile(r"^[A-Z]{2,6}s?$")
_LATIN_WORDS = re.compile(r"^[A-Za-z][A-Za-z '&/,-]*$")
_LATIN_LEAD = re.compile(r"[A-Za-z '&/-]*")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_QUOTES = "\"'“”‘’"


def acronym_letters(term: str) -> str | None:
    """The letters an all-capitals term stands for ("MQLs" -> "mql"); None for other terms."""
    term = term.strip()
    if not _ACRONYM.match(term):
        return None
    if term.endswith("s"):
        term = term[:-1]
    return term.lower()


def _words(phrase: str) -> list[str]:
    """Words of a phrase, camel case split ("JavaScript" -> Java, Script), lower case."""
    return [word.lower() for word in _WORD.findall(phrase)]


def spells(letters: str, phrase: str) -> bool:
    """Whether the initials of the phrase's words spell `letters`, small words optional."""
    words = _words(phrase)

    @cache
    def match(i: int, j: int) -> bool:
        if j == len(words):
            return i == len(letters)
        word = words[j]
        if i < len(letters) and word[0] == letters[i] and match(i + 1, j + 1):
            return True
        return word in MINOR_WORDS and match(i, j + 1)

    return bool(words) and match(0, 0)


def _latin(phrase: str) -> str | None:
    phrase = phrase.strip().strip(_QUOTES).strip()
    return phrase if phrase and _LATIN_WORDS.match(phrase) else None


def stated_expansions(term: str, body: str) -> list[str]:
    """Latin-letter phrases the body gives as the term's expansion: "TERM (words)" (the Latin
    words before any gloss in another script),
    "words (TERM)" (the words back to the last punctuation) and "TERM stands for words"."""
    quoted = re.escape(term.strip())
    found: list[str] = []
    for match in re.finditer(rf"\b{quoted}\s*\(([^()]+)\)", body):
        # "RTO(Recovery Time Objective, 복구 목표 시간)": the English part before the gloss.
        lead = _LATIN_LEAD.match(match.group(1))
        found.append(lead.group(0).rstrip(" ,/-") if lead else "")
    for match in re.finditer(rf"([^.,;:()]+?)\s*\(\s*{quoted}\s*\)", body):
        found.append(match.group(1))
    for match in re.finditer(
        rf"\b{quoted}\b[\"'”’]?\s+(?:stands|is short) for\s+([^.,;:()]+)", body
    ):
        found.append(match.group(1))
    return [phrase for phrase in map(_latin, found) if phrase]


def invents_expansion(term: str, body: str) -> bool:
    """Whether the body spells out an all-capitals term with words that do not spell it.
    A run of the stated words that spells it will do: "stands for Days Sales Outstanding which
    is ..." runs on past the expansion, "the statement of work (SOW)" starts before it."""
    letters = acronym_letters(term)
    if letters is None:
        return False
    for phrase in stated_expansions(term, body):
        words = phrase.split()
        runs = (
            " ".join(words[start:end])
            for start in range(len(words))
            for end in range(start + 1, len(words) + 1)
        )
        if not any(spells(letters, run) for run in runs):
            return True
    return False


def screened(term: str, explanation: Explanation) -> Explanation:
    """The explanation, or an abstention when it invents an expansion of the term."""
    if explanation.abstained or not invents_expansion(term, explanation.body):
        return explanation
    return ABSTAINED
