"""Hyphenated and slashed words of the local detector: "on-call", "non-compete", "mg/kg".

Everyday English rarely coins a hyphenated word; a field does so all the time (poka-yoke,
cross-encoder, force-push, skip-level, mid-market), and its parts are often common words, so
rarity misses them. A hyphenated word said on its own (a noun, a verb, a predicate adjective)
is therefore a term unless it is one of the few everyday ones (follow-up, one-off, long-term),
a number ("sixty-two") or a span of time ("multi-year", "year-end"). Said before a noun
("usage-based pricing", "high-dose arm") it is glossed with that noun by the chunk rules; so is
a chain of three or more numbers, which names a plan or a rule ("thirty-sixty-ninety goals",
"a 70-20-10 model"), where a count is trimmed.
Words joined by a slash are units and ratios of a field ("mg/kg", "mL/min") unless they are
the everyday ones ("and/or", "w/o", "n/a").
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Token

from glossify.terms.local.collector import Collector
from glossify.terms.local.lexicon import (
    MEETING_NOUNS,
    NUMBER_WORDS,
    SITUATIONAL_ADJECTIVES,
    words_of,
)
from glossify.terms.local.tokens import is_noun_modifier

EVERYDAY_HYPHENATED = words_of(
    """
    follow-up follow-ups one-off one-offs check-in check-ins sign-off sign-offs e-mail e-mails
    x-ray x-rays t-shirt t-shirts heads-up to-do to-dos no-brainer know-how make-up mix-up
    so-so well-being self-esteem ice-breaker brain-storm co-worker co-workers ex-employee
    re-run re-read re-check double-check double-checked triple-check
    """
)
EVERYDAY_SLASHED = words_of("and/or either/or w/o w/ n/a his/her he/she yes/no on/off s/he")
# "four-year", "multi-year", "12-month", "sixty-two": a count, then a unit of time or a number.
COUNT_PARTS = NUMBER_WORDS | words_of(
    """
    thirty forty fifty sixty seventy eighty ninety hundred thousand multi bi semi half single
    """
)
TIME_UNITS = words_of(
    """
    year years month months week weeks day days hour hours minute minutes second seconds
    millisecond milliseconds
    """
)


def is_span_of_time(word: str) -> bool:
    """ "four-year", "multi-year", "12-month", "sixty-two": a number or a duration."""
    parts = [p for p in word.lower().split("-") if p]
    if len(parts) != 2 or not (parts[0].isdigit() or parts[0] in COUNT_PARTS):
        return False
    return parts[1] in TIME_UNITS | COUNT_PARTS


def is_number_chain(word: str) -> bool:
    """ "30-60-90", "thirty-sixty-ninety", "70-20-10": three or more small numbers joined by
    hyphens name a plan or a rule ("a 70-20-10 model"), not an amount."""
    parts = word.lower().split("-")
    return len(parts) >= 3 and all((p.isdigit() and len(p) <= 3) or p in COUNT_PARTS for p in parts)


def is_everyday_hyphenated(word: str) -> bool:
    lower = word.lower()
    return lower in EVERYDAY_HYPHENATED | MEETING_NOUNS | SITUATIONAL_ADJECTIVES or (
        is_span_of_time(word)
    )


def _is_standalone_joined(token: Token) -> bool:
    text = token.text
    parts = re.split(r"[-/]", text)
    if len(parts) < 2 or not all(p.isalpha() for p in parts) or is_noun_modifier(token):
        return False
    if is_number_chain(text) and token.head.i > token.i and token.head.pos_ == "NOUN":
        return False  # "thirty-sixty-ninety goals": glossed with its noun by the chunk rules
    if "/" in text:
        return text.lower() not in EVERYDAY_SLASHED and not text.isupper()  # "A/B": acronyms
    return not is_everyday_hyphenated(text)


def hyphenated_terms(doc: Doc, out: Collector) -> None:
    for token in doc:
        if _is_standalone_joined(token):
            out.add(token.text, "Skill", 0.8, token.idx)
