"""Term identity and the carried-over term filter (pure functions, no Ray)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

TERM_ID_PREFIX = "glossify-term:"

# Azure AI Language NER categories that name domain concepts. People, dates, quantities and
# contact details are never jargon, so they are left out by default.
DEFAULT_ALLOWED_CATEGORIES: frozenset[str] = frozenset(
    {"Product", "Skill", "Organization", "Event", "PersonType"}
)

_ACRONYM = re.compile(r"^(?=.*[A-Z])[A-Z0-9&/.-]{2,10}s?$")
_WORD = re.compile(r"\w", re.UNICODE)


def normalize_term(term: str) -> str:
    """NFKC, lower-case, trimmed: the same spelling gives the same key."""
    return unicodedata.normalize("NFKC", term).lower().strip()


def term_id(term: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, TERM_ID_PREFIX + normalize_term(term))


@dataclass(frozen=True)
class Candidate:
    """A span that a detector believes may be jargon."""

    text: str
    category: str
    confidence: float
    offset: int = 0


@dataclass(frozen=True)
class FilterRules:
    allowed_categories: frozenset[str] = DEFAULT_ALLOWED_CATEGORIES
    min_confidence: float = 0.5
    # A single ordinary word is rarely jargon; it passes only when it looks like a term.
    single_token_min_confidence: float = 0.8
    max_tokens: int = 5
    min_chars: int = 2
    max_chars: int = 60
    stopwords: frozenset[str] = field(default_factory=frozenset)


def is_acronym(token: str) -> bool:
    return bool(_ACRONYM.match(token))


def _single_token_passes(token: str, confidence: float, rules: FilterRules) -> bool:
    if is_acronym(token):
        return True
    if token[:1].isupper() or any(ch.isupper() for ch in token[1:]):
        return True
    if any(ch.isdigit() for ch in token) and any(ch.isalpha() for ch in token):
        return True
    return confidence >= rules.single_token_min_confidence


def passes_filter(candidate: Candidate, rules: FilterRules) -> bool:
    text = candidate.text.strip()
    if candidate.category not in rules.allowed_categories:
        return False
    if candidate.confidence < rules.min_confidence:
        return False
    if not rules.min_chars <= len(text) <= rules.max_chars or not _WORD.search(text):
        return False
    if normalize_term(text) in rules.stopwords:
        return False
    tokens = text.split()
    if len(tokens) > rules.max_tokens:
        return False
    if all(token.replace(".", "").replace(",", "").isdigit() for token in tokens):
        return False
    if len(tokens) == 1:
        return _single_token_passes(tokens[0], candidate.confidence, rules)
    return True


def filter_candidates(
    candidates: Iterable[Candidate], rules: FilterRules, already_seen: Iterable[str] = ()
) -> list[Candidate]:
    """Apply the filter and drop terms seen before (in this line or earlier in the meeting)."""
    seen = set(already_seen)
    kept: list[Candidate] = []
    for candidate in candidates:
        key = normalize_term(candidate.text)
        if key in seen or not passes_filter(candidate, rules):
            continue
        seen.add(key)
        kept.append(candidate)
    return kept


def _contains_words(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return n < len(longer) and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def drop_nested(candidates: list[Candidate]) -> list[Candidate]:
    """Keep the longest of terms nested in one another ("EBITDA margin" over "EBITDA").

    One card per phrase is enough for a listener, and every extra card costs the explainer a
    generation. The nested term is not lost: said on its own later, it is explained then.
    """
    words = [normalize_term(candidate.text).split() for candidate in candidates]
    return [
        candidate
        for candidate, own in zip(candidates, words, strict=True)
        if not any(_contains_words(other, own) for other in words)
    ]


def shown_candidates(
    candidates: Iterable[Candidate], rules: FilterRules, already_seen: Iterable[str] = ()
) -> list[Candidate]:
    """What a meeting shows of a line's candidates: the filter, then the longest of nested
    terms. The evaluation scores exactly this."""
    return drop_nested(filter_candidates(candidates, rules, already_seen))
