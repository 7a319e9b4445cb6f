"""What the learned ranker knows about a span: numbers from its words, its parse, its sources
and the packaged reference glossary (pure, spaCy and wordfreq only).

Every feature is a float; yes/no features are 0 or 1. Names are stable: the trained weights
(`ranker.json`) are stored by name, so a feature may be added (it gets no weight until the
ranker is trained again) but not renamed.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from spacy.tokens import Doc, Token

from glossify.explain.reference import ReferenceGlossary, Sense
from glossify.terms.candidates import Candidate, FilterRules, passes_filter
from glossify.terms.gazetteer import GazetteerMatch
from glossify.terms.local.fields import is_field_noun
from glossify.terms.local.lexicon import (
    CARRIER_NOUNS,
    GENERIC_NOUNS,
    MEETING_NOUNS,
    SHIFT_NOUNS,
    SITE_NOUNS,
    SITUATIONAL_ADJECTIVES,
    zipf,
)
from glossify.terms.local.spans import (
    FIELD,
    REFERENCE,
    RULE,
    SOURCES,
    TERM_SYMBOLS,
    WORD,
    Sources,
    Span,
)
from glossify.terms.local.tokens import (
    NUMBER_LABELS,
    PLACE_LABELS,
    TIME_AND_AMOUNT_LABELS,
    entity_labels,
    is_acronym_token,
    is_camel_case,
    is_code,
)

Features = dict[str, float]

# What a word without letters counts as in the Zipf features: as common as "the".
_NO_WORD_ZIPF = 8.0
_POS_NAMES = {"NOUN": "noun", "PROPN": "propn", "VERB": "verb", "ADJ": "adj"}
_KNOWN = frozenset({REFERENCE, FIELD})
_DEFAULT_RULES = FilterRules()
# "recall at ten", "ROAS at day seven", "sensitivity at 90 percent specificity": a metric at a
# cutoff or operating point.
_CUTOFF = re.compile(
    r"\w at (?:day |k ?)?(?:\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
    r"|twelve|fifteen|twenty|thirty|fifty|ninety|hundred)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    """One parsed line and what is known of all its spans."""

    doc: Doc
    spans: Sources
    rules: dict[Span, Candidate]
    named_senses: frozenset[Sense]  # the reference senses of every form said in the line
    starts: list[Span] = field(init=False)  # the spans by start
    longest: int = field(init=False)  # the longest span's length in characters

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts", sorted(self.spans))
        object.__setattr__(self, "longest", max((b - a for a, b in self.spans), default=0))

    def overlapping(self, span: Span) -> list[Span]:
        """The other spans that share a character with ``span``."""
        start, end = span
        first = bisect_left(self.starts, (start - self.longest, 0))
        last = bisect_left(self.starts, (end, 0))
        return [other for other in self.starts[first:last] if other != span and other[1] > start]


def line_of(
    doc: Doc,
    spans: Sources,
    rules: dict[Span, Candidate],
    said: Sequence[GazetteerMatch],
    reference: ReferenceGlossary,
) -> Line:
    """A line and its spans; ``said`` are the reference forms found in it."""
    return Line(doc, spans, rules, reference.named(said, "en"))


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


def span_features(line: Line, span: Span, reference: ReferenceGlossary) -> Features:
    """The features of one span of ``line`` (a key of ``line.spans``)."""
    doc = line.doc
    start, end = span
    chosen = doc.char_span(start, end, alignment_mode="expand")
    tokens = list(chosen) if chosen is not None else []
    text = doc.text[start:end]
    sources = line.spans.get(span, set())
    features: Features = {}
    for source in SOURCES:
        features[f"source_{source}"] = _flag(source in sources)
    features["source_word_only"] = _flag(sources == {WORD})
    features.update(_rule_features(line.rules.get(span)))
    features.update(_shape_features(text, tokens))
    features.update(_word_features(tokens))
    features.update(_parse_features(doc, tokens))
    features.update(_reference_features(line, text, reference))
    features.update(_reference_lemma_features(tokens, reference))
    features["cutoff"] = _flag(_CUTOFF.search(text) is not None)
    features.update(_nesting_features(line, span))
    return features


def _rule_features(candidate: Candidate | None) -> Features:
    if candidate is None:
        return {}
    return {
        "rule_confidence": candidate.confidence,
        "rule_passes_filter": _flag(passes_filter(candidate, _DEFAULT_RULES)),
        "rule_product": _flag(candidate.category == "Product"),
        "rule_organization": _flag(candidate.category == "Organization"),
    }


def _shape_features(text: str, tokens: list[Token]) -> Features:
    count = len(tokens)
    first = tokens[0] if tokens else None
    return {
        "tokens_1": _flag(count == 1),
        "tokens_2": _flag(count == 2),
        "tokens_3": _flag(count == 3),
        "tokens_4_plus": _flag(count >= 4),
        "acronym": _flag(any(is_acronym_token(t.text) for t in tokens)),
        "camel_case": _flag(any(is_camel_case(t.text) for t in tokens)),
        "code": _flag(any(is_code(t.text) for t in tokens)),
        "digit": _flag(any(c.isdigit() for c in text)),
        "symbol": _flag(any(c in TERM_SYMBOLS for c in text)),
        "hyphen": _flag("-" in text),
        "capitalised": _flag(first is not None and first.is_title),
        "sentence_start": _flag(first is not None and bool(first.is_sent_start)),
    }


def _word_features(tokens: list[Token]) -> Features:
    rarities = [zipf(t.text) for t in tokens if any(c.isalpha() for c in t.text)]
    rarities = rarities or [_NO_WORD_ZIPF]
    head = tokens[-1] if tokens else None
    first = tokens[0] if tokens else None
    head_word = head.lower_ if head is not None else ""
    return {
        "zipf_min": min(rarities),
        "zipf_mean": sum(rarities) / len(rarities),
        "zipf_max": max(rarities),
        "zipf_head": zipf(head_word) if head_word.isalpha() else _NO_WORD_ZIPF,
        "zipf_below_3": _flag(min(rarities) < 3.0),
        "zipf_below_4": _flag(min(rarities) < 4.0),
        "zipf_below_5": _flag(min(rarities) < 5.0),
        "head_generic": _flag(head_word in GENERIC_NOUNS | MEETING_NOUNS),
        "head_carrier": _flag(head_word in CARRIER_NOUNS),
        "head_site_or_shift": _flag(head_word in SITE_NOUNS | SHIFT_NOUNS),
        "first_situational": _flag(first is not None and first.lower_ in SITUATIONAL_ADJECTIVES),
        "field_noun": _flag(len(tokens) == 1 and head is not None and is_field_noun(head)),
    }


def _parse_features(doc: Doc, tokens: list[Token]) -> Features:
    if not tokens:
        return {}
    head, first = tokens[-1], tokens[0]
    before = doc[first.i - 1] if first.i > 0 else None
    after = doc[head.i + 1] if head.i + 1 < len(doc) else None
    labels = entity_labels(tokens)
    features: Features = {}
    for pos, name in _POS_NAMES.items():
        features[f"head_{name}"] = _flag(head.pos_ == pos)
        features[f"first_{name}"] = _flag(first.pos_ == pos)
    features.update(
        {
            "head_plural": _flag(head.tag_ in {"NNS", "NNPS"}),
            "head_gerund": _flag(head.tag_ == "VBG"),
            "head_past": _flag(head.tag_ in {"VBN", "VBD"}),
            "head_root": _flag(head.dep_ == "ROOT"),
            "head_subject": _flag(head.dep_ in {"nsubj", "nsubjpass"}),
            "head_object": _flag(head.dep_ in {"dobj", "pobj"}),
            "head_modifies_next": _flag(head.dep_ in {"compound", "amod"} and head.head.i > head.i),
            "before_noun": _flag(before is not None and before.pos_ in {"NOUN", "PROPN"}),
            "before_adjective": _flag(before is not None and before.pos_ == "ADJ"),
            "before_determiner": _flag(before is not None and before.pos_ in {"DET", "PRON"}),
            "before_preposition": _flag(before is not None and before.pos_ == "ADP"),
            "after_noun": _flag(after is not None and after.pos_ in {"NOUN", "PROPN"}),
            "after_particle": _flag(after is not None and after.dep_ == "prt"),
            "after_nothing": _flag(after is None or after.is_punct),
            "entity_person": _flag("PERSON" in labels),
            "entity_place": _flag(bool(labels & PLACE_LABELS)),
            "entity_organization": _flag("ORG" in labels),
            "entity_time_or_number": _flag(bool(labels & (TIME_AND_AMOUNT_LABELS | NUMBER_LABELS))),
        }
    )
    return features


def _reference_features(line: Line, text: str, reference: ReferenceGlossary) -> Features:
    senses = reference.senses(text, "en")
    if not senses:
        return {"reference_senses": 0.0, "reference_several": 0.0, "reference_field_share": 0.0}
    # The term's field is likelier when the line names other terms of that field.
    evidence = Counter(sense.field for sense in line.named_senses if sense not in senses)
    best = max(evidence.get(sense.field, 0) for sense in senses)
    return {
        "reference_senses": 1.0,
        "reference_several": _flag(len(senses) > 1),
        "reference_field_share": best / (sum(evidence.values()) + 1),
    }


def _reference_lemma_features(tokens: list[Token], reference: ReferenceGlossary) -> Features:
    """A word said in another form than the reference lists ("rotated", "bins", "vesting")."""
    if len(tokens) != 1:
        return {}
    word = tokens[0]
    lemma_known = bool(reference.senses(word.lemma_, "en"))
    return {
        "reference_lemma": _flag(lemma_known),
        "reference_verb": _flag(lemma_known and word.pos_ == "VERB"),
        "verb_zipf": zipf(word.lemma_.lower()) if word.pos_ == "VERB" else _NO_WORD_ZIPF,
    }


def _nesting_features(line: Line, span: Span) -> Features:
    start, end = span
    inside_known = contains_known = inside_rule = False
    # Only spans that overlap this one matter; spans are a few tokens long, so the few that
    # start near it are looked at (a 5,000-character line has thousands of spans).
    for other in line.overlapping(span):
        sources = line.spans[other]
        other_start, other_end = other
        inside = other_start <= start and end <= other_end
        contains = start <= other_start and other_end <= end
        known = bool(sources & _KNOWN)
        inside_known |= inside and known
        contains_known |= contains and known
        inside_rule |= inside and RULE in sources
    return {
        "inside_known": _flag(inside_known),
        "contains_known": _flag(contains_known),
        "inside_rule": _flag(inside_rule),
    }
