"""What the training sentences said about a span's words: how often the judged spans with the
same last word, first word, text or neighbouring words were terms there (pure, spaCy only).

The span features (`span_features`) describe a span's shape, its parse and what the reference
glossary knows of it. They cannot know that "budget", "session" or "files" end few terms ("L&D
budget" is L&D and a budget) while "audit" and "policy" end many ("GMP audit"), or that a span
right after "hit" is rarely a term. Those are counts over the training rows, kept in
`ranker.json` beside the weights: for each key, how many judged spans with it were not terms
and how many were. A feature is the key's rate, smoothed toward the rate over all spans, and
how often the key was seen (an unseen key gives the overall rate: nothing is known).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Doc

from glossify.terms.candidates import normalize_term

Keys = dict[str, str]  # a kind of key ("head", "first", ...) -> the span's key of that kind
Counts = dict[str, dict[str, tuple[int, int]]]  # kind -> key -> (not terms, terms)

KINDS = ("head", "first", "span", "before", "after")
COUNT_FEATURE = "counts_"  # how the names of the count features start
LINE_START = "<start>"
LINE_END = "<end>"
# Weight of the overall rate in a key's rate, in spans: a key seen once moves the rate a third
# of the way from the overall rate.
SMOOTHING = 2.0


def count_keys(doc: Doc, start: int, end: int) -> Keys:
    """The keys of the span [start, end) of ``doc``: the lemmas of its last and first words,
    its text as terms are compared, and the words right before and after it."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        raise ValueError(f"no tokens at {start}:{end} of {doc.text!r}")
    first, last = span[0], span[-1]
    return {
        "head": last.lemma_.lower(),
        "first": first.lemma_.lower(),
        "span": normalize_term(doc.text[start:end]),
        "before": doc[first.i - 1].lower_ if first.i > 0 else LINE_START,
        "after": doc[last.i + 1].lower_ if last.i + 1 < len(doc) else LINE_END,
    }


@dataclass(frozen=True)
class SpanCounts:
    """Counts of terms and non-terms by key, and the rate of terms over all counted spans."""

    counts: Counts
    prior: float

    @classmethod
    def count(cls, judged: Iterable[tuple[Keys, bool]]) -> SpanCounts:
        """From judged spans: each span's keys and whether it was a term."""
        tallies: dict[str, dict[str, list[int]]] = {kind: {} for kind in KINDS}
        terms = total = 0
        for keys, is_term in judged:
            terms += is_term
            total += 1
            for kind in KINDS:
                tallies[kind].setdefault(keys[kind], [0, 0])[int(is_term)] += 1
        counts = {
            kind: {key: (pair[0], pair[1]) for key, pair in sorted(by_key.items())}
            for kind, by_key in tallies.items()
        }
        return cls(counts, terms / total if total else 0.0)

    def added_to(self, features: Mapping[str, float], keys: Keys) -> dict[str, float]:
        """A span's ``features`` with the count features of its ``keys``: what the network is
        given, in training and on a meeting's lines alike."""
        return {**features, **self.features(keys)}

    def features(self, keys: Keys) -> dict[str, float]:
        out: dict[str, float] = {}
        for kind in KINDS:
            not_terms, terms = self.counts[kind].get(keys[kind], (0, 0))
            seen = not_terms + terms
            out[f"{COUNT_FEATURE}{kind}_rate"] = (terms + self.prior * SMOOTHING) / (
                seen + SMOOTHING
            )
            out[f"{COUNT_FEATURE}{kind}_seen"] = math.log1p(seen)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpanCounts:
        counts = {
            kind: {key: (int(pair[0]), int(pair[1])) for key, pair in data["counts"][kind].items()}
            for kind in KINDS
        }
        return cls(counts, float(data["prior"]))

    def to_json(self) -> dict[str, Any]:
        return {
            "prior": self.prior,
            "counts": {
                kind: {key: list(pair) for key, pair in by_key.items()}
                for kind, by_key in self.counts.items()
            },
        }
