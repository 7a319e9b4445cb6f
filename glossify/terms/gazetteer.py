"""A phrase matcher over a list of known terms (pure, no Ray, no database).

The organisation glossary is also a gazetteer: a term in it is detected whenever it is said,
whatever the detector thinks. Spelling variants match: case, a hyphen or a space or nothing
between words ("skip-level", "skip level", "skiplevel" for "skip level"), and an English
plural ("pods" for "pod", "MQLs" for "MQL", "1:1s"). A term written in Hangul also matches
with a particle or ending attached ("불량률이" for "불량률"); every term must start at a word
boundary, and a term ending in a Latin letter or digit must end at one.

    gazetteer = GlossaryGazetteer(["CPK", "skip level", "불량률"])
    gazetteer.find("Our CPKs and the skip-level; 불량률이 올랐어요")
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from glossify.terms.candidates import Candidate, normalize_term

# Between two words of a term: a space, a hyphen (any dash), or nothing.
_JOIN = r"(?:[ \t\u00a0]*[-\u2010\u2011\u2012\u2013][ \t\u00a0]*|[ \t\u00a0]+)?"
_SPLIT = re.compile(r"[\s\-\u2010-\u2013]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
# A term may not start inside a word of its own script, and a term ending in a Latin letter or
# digit may not end inside a Latin word (a Hangul particle may follow: "CPK가").
_LATIN = r"[0-9A-Za-z\u00c0-\u024f]"
_HANGUL_SYLLABLE = r"[\uac00-\ud7a3]"
GAZETTEER_CATEGORY = "Skill"


@dataclass(frozen=True)
class GazetteerMatch:
    """A known term found in a line: the glossary's spelling and the spelling that was said."""

    term: str
    text: str
    start: int
    end: int


def _term_words(term: str) -> list[str]:
    """The words of a term as it is matched (NFKC, split at spaces and hyphens)."""
    return [w for w in _SPLIT.split(unicodedata.normalize("NFKC", term).strip()) if w]


def _term_pattern(words: list[str]) -> str:
    """The regular expression of a term's (non-empty) words."""
    body = _JOIN.join(re.escape(word) for word in words)
    start = rf"(?<!{_HANGUL_SYLLABLE})" if _HANGUL.match(words[0][0]) else rf"(?<!{_LATIN})"
    last = words[-1][-1]
    if _HANGUL.match(last):
        return start + body  # Korean particles and endings attach to the term
    plural = r"(?:'?s|es)?" if last.isalnum() or last == ")" else ""
    return start + body + plural + rf"(?!{_LATIN})"


def _lead(words: list[str]) -> str:
    """How a match of the term begins, folded: its first two characters, or only the first
    when its first word is a single character (a separator may follow it)."""
    first = words[0].lower()
    return first[:2] if len(first) >= 2 else first


@dataclass
class _Bucket:
    """The terms whose matches begin alike, longest first, as one alternation compiled when a
    line first needs it."""

    terms: list[tuple[int, str, str]] = field(default_factory=list)  # (key length, term, regex)
    compiled: re.Pattern[str] | None = None

    def pattern(self) -> re.Pattern[str]:
        if self.compiled is None:
            parts = (f"(?P<t{i}>{regex})" for i, (_, _, regex) in enumerate(self.terms))
            self.compiled = re.compile("|".join(parts), re.IGNORECASE)
        return self.compiled

    def match(self, text: str, at: int) -> tuple[int, GazetteerMatch] | None:
        """The longest term matching at `at`, with its key's length."""
        found = self.pattern().match(text, at)
        if found is None or found.lastgroup is None:
            return None
        length, term, _ = self.terms[int(found.lastgroup[1:])]
        return length, GazetteerMatch(term, found.group(0), at, found.end())


class GlossaryGazetteer:
    """Finds known terms in text; the longest term wins where two overlap.

    The terms are bucketed by how a match begins (their first one or two letters) and each
    bucket is one alternation, compiled the first time a line needs it: a position tries only
    the few terms that could start there (one alternation of every term, tried at every
    character, took 45 ms a line with ~2,000 terms), and building a matcher for a glossary of
    thousands of terms costs next to nothing until it is used (compiling them all took 1.9 s
    for 5,000)."""

    def __init__(self, terms: Iterable[str], min_chars: int = 2) -> None:
        self._terms: dict[str, str] = {}  # key -> first spelling given
        for term in terms:
            cleaned = " ".join(term.split())
            key = self._key(cleaned)
            if len(key) >= min_chars and key not in self._terms:
                self._terms[key] = cleaned
        self._buckets = self._bucketed()

    @staticmethod
    def _key(term: str) -> str:
        return " ".join(w for w in _SPLIT.split(normalize_term(term)) if w)

    def _bucketed(self) -> dict[str, _Bucket]:
        # Longer terms first, so that "EBITDA margin" is preferred to "EBITDA".
        by_length = sorted(self._terms.items(), key=lambda item: (-len(item[0]), item[0]))
        buckets: dict[str, _Bucket] = {}
        for key, term in by_length:
            words = _term_words(term)
            if words:
                entry = (len(key), term, _term_pattern(words))
                buckets.setdefault(_lead(words), _Bucket()).terms.append(entry)
        return buckets

    def __len__(self) -> int:
        return len(self._terms)

    def compile(self) -> None:
        """Compile every bucket now: a replica does it once at start, so that no line of a
        meeting waits for it (about 0.4 ms a term)."""
        for bucket in self._buckets.values():
            bucket.pattern()

    def find(self, text: str) -> list[GazetteerMatch]:
        """Every known term said in ``text``, left to right, without overlaps; where several
        start at one place, the longest."""
        matches: list[GazetteerMatch] = []
        # Folded a character at a time, so that positions stay those of the text.
        folded = "".join(char.lower()[0] for char in text)
        at = 0
        while at < len(text):
            match = self._match_at(text, folded, at)
            if match is None:
                at += 1
                continue
            matches.append(match)
            at = max(match.end, at + 1)
        return matches

    def _match_at(self, text: str, folded: str, at: int) -> GazetteerMatch | None:
        # A term whose first word is one character ("A/B test") is bucketed by that character.
        buckets = (self._buckets.get(folded[at : at + 2]), self._buckets.get(folded[at]))
        found = [m for bucket in buckets if bucket and (m := bucket.match(text, at))]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def candidates(
        self, text: str, confidence: float = 0.95, spelling: str = "glossary"
    ) -> list[Candidate]:
        """Matches as candidates the term filter keeps. ``spelling`` "glossary" names them as
        the glossary does (so its explanation is found again), "said" as in the text."""
        return [
            Candidate(
                match.term if spelling == "glossary" else match.text,
                GAZETTEER_CATEGORY,
                confidence,
                match.start,
            )
            for match in self.find(text)
        ]


def with_known_terms(
    found: list[Candidate], gazetteer: GlossaryGazetteer, text: str
) -> list[Candidate]:
    """A detector's candidates plus the known terms said in ``text`` that it did not find
    (compared on `normalize_term`), in the glossary's spelling."""
    seen = {normalize_term(c.text) for c in found}
    extra = [c for c in gazetteer.candidates(text) if normalize_term(c.text) not in seen]
    return [*found, *extra]
