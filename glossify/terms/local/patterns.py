"""Surface patterns of the local detector: what tokenisers break and rarity cannot see.

* Glued codes: letters and digits joined without spaces by "&", "@", ":", "+" or a bracketed
  letter ("P&L", "SG&A", "T&Cs", "precision@20", "mAP@0.5", "1:1s", "401(k)", "30(b)(6)").
  spaCy cuts some of them ("401(k" + ")"); they are merged back into one token.
* Metrics at a cutoff: "<metric> at <K>" ("hit rate at 20", "MRR at 10", "recall at ten",
  "sensitivity at 95 percent specificity") and "top-<K> <metric>" ("Top-1 accuracy"). A spoken
  cutoff is any spelled cardinal ("recall at fifty", "at ninety percent recall"). The term
  filter admits five words for the operating-point form. A metric in plain words is glossed
  with its cutoff only; an acronym ("MRR") also alone.
* Standards: an acronym and a number said together ("ISO 9001", "SOC 2"), glossed instead of
  the bare acronym; before a noun compound, the standard names it ("ISO 2859 sampling plan").
* Mixed-case abbreviations with one capital ("Cpk", "Ppk", "Cmax"): a capitalised short word
  without a vowel, or a capital glued to a common word that is not itself a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spacy.tokens import Doc, Span, Token

from glossify.terms.local.collector import Collector
from glossify.terms.local.fields import METRIC_WORDS
from glossify.terms.local.lexicon import NUMBER_WORDS, zipf

# A glued code: alphanumeric pieces joined by & @ : + or followed by a bracketed letter/digit.
GLUED_CODE = re.compile(
    r"(?<![\w&@:+(])"
    r"[A-Za-z0-9]+(?:\.\d+)?"
    r"(?:[&@:+][A-Za-z0-9]+(?:\.\d+)?|\([A-Za-z0-9]{1,3}\))+"
    r"(?![\w&@+(])"
)
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?:[ap]m)?$", re.IGNORECASE)
_METRIC_AT = re.compile(r"^[A-Za-z][\w-]*@(?:\d+(?:\.\d+)?|k)$", re.IGNORECASE)
_TOP_K = re.compile(r"^top-?\d+$", re.IGNORECASE)
_COMMON_GLUED = frozenset({"q&a", "b&b", "24/7", "9:5"})
# Letters and digits joined by hyphens: "10-K", "H-1B", "W-2", "COVID-19". Each purely
# alphabetic part is capitals or at most two letters, so "3-day" and "us-east-1" stay out.
_HYPHENATED_CODE = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+$")
_VOWELS = frozenset("aeiouy")
_CUTOFF_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d+)?|k)$", re.IGNORECASE)
_STANDARD_NUMBER = re.compile(r"^\d{1,5}$")
_PERCENT = frozenset({"percent", "%", "pct"})
# Spelled ordinals: these three, and every other one ends in "th" ("tenth", "twentieth"),
# which no spelled cardinal does ("thousand" ends in "nd").
_IRREGULAR_ORDINALS = frozenset({"first", "second", "third"})


def glued_code_kind(text: str) -> str | None:
    """What a glued code is: "metric", "symbol" (P&L), "code" (401(k), 1:1s), or None."""
    if text.lower() in _COMMON_GLUED or _CLOCK.match(text):
        return None
    if not any(ch.isalpha() for ch in text):
        return None  # "3:1", "2+2": numbers, not terms
    if _METRIC_AT.match(text):
        return "metric"
    if "&" in text:
        return "symbol" if text[:1].isupper() else None
    return "code"


def merge_glued_codes(doc: Doc) -> Doc:
    """Merge each glued code spaCy split into one token ("401(k" + ")" -> "401(k)")."""
    spans: list[Span] = []
    for match in GLUED_CODE.finditer(doc.text):
        span = doc.char_span(match.start(), match.end())
        if span is not None and len(span) > 1:
            spans.append(span)
    if spans:
        with doc.retokenize() as retokenizer:
            for span in spans:
                retokenizer.merge(span)
    return doc


def is_hyphenated_code(text: str) -> bool:
    if len(text) > 12 or not _HYPHENATED_CODE.match(text):
        return False
    parts = text.split("-")
    if not any(c.isdigit() for c in text) or not any(c.isalpha() for c in text):
        return False
    return all(not p.isalpha() or p.isupper() or len(p) <= 2 for p in parts) and not all(
        p.isalpha() and p.islower() for p in parts if not p.isdigit()
    )


def is_glued_code(text: str) -> bool:
    match = GLUED_CODE.fullmatch(text.rstrip("."))
    return match is not None and glued_code_kind(match.group(0)) is not None


def is_mixed_case_abbreviation(text: str) -> bool:
    """Cpk, Ppk, Cmax: one capital, then lower case, and not a word or a name."""
    if not re.fullmatch(r"[A-Z][a-z]{1,4}", text):
        return False
    rest = text[1:]
    if not set(rest) & _VOWELS:
        return True  # no vowel: not pronounceable as a word (Cpk, Ppk, Mfg)
    # A capital letter glued to a common word that together are no word: Cmax, Tmin.
    return zipf(text) < 2.0 and zipf(rest) >= 4.0 and len(rest) >= 3


def _is_spelled_cardinal(token: Token, word: str) -> bool:
    lexeme = token.vocab[word]
    ordinal = word in _IRREGULAR_ORDINALS or word.endswith("th")
    return lexeme.is_alpha and lexeme.like_num and not ordinal


def _is_cutoff(token: Token) -> bool:
    # Spoken cutoffs are spelled out ("recall at fifty", "at ninety percent recall",
    # "at ninety-five"): any cardinal number word counts, not only the small ones; ordinals
    # ("at first") do not.
    word = token.lower_
    spelled = all(_is_spelled_cardinal(token, part) for part in word.split("-") if part)
    return bool(_CUTOFF_NUMBER.match(token.text)) or word in NUMBER_WORDS or spelled


def _cutoff_end(number: Token) -> int:
    """The index after a cutoff that may run over several number words ("ninety five")."""
    doc, end = number.doc, number.i + 1
    while end < len(doc) and doc[end].is_alpha and _is_cutoff(doc[end]):
        end += 1
    return end


def _metric_start(head: Token) -> Token:
    """The first token of the metric name ending at ``head`` ("hit" of "hit rate")."""
    start = head
    for left in reversed(list(head.lefts)):
        if left.i != start.i - 1 or left.dep_ not in {"compound", "amod", "nmod"}:
            break
        start = left
    # "helps hit rate at 20": the parser may read a metric word as a verb.
    while start.i > 0 and start.doc[start.i - 1].lower_ in METRIC_WORDS:
        start = start.doc[start.i - 1]
    return start


def _drop_plain_metrics(doc: Doc, metrics: list[Span], out: Collector) -> None:
    """ "specificity at ninety percent sensitivity": a metric named in plain words is
    explained with its cutoff, so it gets no card of its own unless said again elsewhere; an
    acronym ("MRR at 10") is still glossed alone, since its letters need spelling out."""
    for metric in metrics:
        plain = metric.text.islower() or metric.text.istitle()
        if plain and sum(t.lower_ == metric[0].lower_ for t in doc) == 1:
            out.discard(metric.text)


def metrics_at_k(doc: Doc, out: Collector) -> None:
    """ "hit rate at 20", "MRR at 10", "Precision at 50", "sensitivity at 95 percent
    specificity", "Top-1 accuracy"."""
    for token in doc:
        if token.lower_ == "at" and 0 < token.i < len(doc) - 1:
            head, number = doc[token.i - 1], doc[token.i + 1]
            if not _is_cutoff(number):
                continue
            start = _metric_start(head)
            name = doc[start.i : head.i + 1]
            if not any(t.lower_ in METRIC_WORDS for t in name):
                continue
            end = _cutoff_end(number)
            # "... at 95 percent specificity": an operating point names a second metric.
            second_metric = end + 1 < len(doc) and doc[end + 1].lower_ in METRIC_WORDS
            metrics = [name]
            if second_metric and doc[end].lower_ in _PERCENT:
                end += 2
                metrics.append(doc[end - 1 : end])
            span = doc[start.i : end]
            out.add(span.text, "Skill", 0.9, span.start_char)
            _drop_plain_metrics(doc, metrics, out)
        elif _TOP_K.match(token.text) and token.i + 1 < len(doc):
            following = doc[token.i + 1]
            if following.lower_ in METRIC_WORDS:
                span = doc[token.i : token.i + 2]
                out.add(span.text, "Skill", 0.9, span.start_char)


def is_standard_number(number: Token) -> bool:
    """The number of a standard after its acronym ("ISO 9001"), not an amount ("5 percent")."""
    if not _STANDARD_NUMBER.match(number.text):
        return False
    doc = number.doc
    after = doc[number.i + 1] if number.i + 1 < len(doc) else None
    return after is None or not (after.lower_ in _PERCENT or after.like_num)


def standards(doc: Doc, out: Collector, is_acronym: Callable[[str], bool]) -> None:
    """ "ISO 9001", "SOC 2": an acronym followed by a bare number that is not an amount. The
    acronym is glossed as the standard, not alone: "ISO" on its own says which body, not
    which rules."""
    for token in doc[:-1]:
        number = doc[token.i + 1]
        if not (is_acronym(token.text) and is_standard_number(number)):
            continue
        span = doc[token.i : number.i + 1]
        out.add(span.text, "Skill", 0.85, span.start_char)
        if not any(t.text == token.text and t.i != token.i for t in doc):
            out.discard(token.text)
