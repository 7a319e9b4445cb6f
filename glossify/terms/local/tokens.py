"""Token predicates of the local term detector: surface forms (acronym, CamelCase, code),
parts of speech and parser slips, spaCy entity labels, and spans of tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from spacy.tokens import Doc, Span, Token

from glossify.terms.candidates import is_acronym
from glossify.terms.local.lexicon import (
    ADDRESSEE_VERBS,
    COMMON_ABBREVIATIONS,
    GREETINGS,
    SPEAKER_VERBS,
)
from glossify.terms.local.patterns import (
    is_glued_code,
    is_hyphenated_code,
    is_mixed_case_abbreviation,
)

# spaCy entity labels by what they name.
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC", "NORP"})
# Labels that exclude even an acronym or code: "Q3" is a date, "$5M" money.
TIME_AND_AMOUNT_LABELS = frozenset({"DATE", "TIME", "MONEY", "PERCENT"})
NUMBER_LABELS = frozenset({"CARDINAL", "ORDINAL", "QUANTITY"})

_HYPHEN_JOINERS = frozenset({"-", "/"})
_CAMEL = re.compile(r"^[A-Za-z]*[a-z][A-Z]|^[A-Z]{2,}[a-z]")
# Digits and a unit: an amount, a size or an ordinal. "s" and "h" count only in lower case
# ("1990s", "24h"): "5S" and "8D" are the names of methods, not amounts.
_QUANTITY_CODE = re.compile(
    r"^\d+(?:[.,]\d+)?(?:(?i:st|nd|rd|th|am|pm|k|m|bn|x|ms|kb|mb|gb|tb|kg|km|cm|mm|min)|s|h)$"
)
_CODE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9]{2,10}$")
# Roman numerals ("Type II", "Phase III") count; they abbreviate nothing.
_ROMAN = re.compile(r"^(?:I{2,3}|IV|VI{1,3}|IX|XI{0,3})$")
_DIGITS_CAPITALS = re.compile(r"^\d+[A-Z]+$")
# Versions (v1, v2.3) are numbers, not terms.
_VERSION = re.compile(r"^v\d+(?:\.\d+)*$", re.IGNORECASE)
# Period codes (Q3, H1, FY24) are dates, whatever NER calls them.
PERIOD_CODE = re.compile(r"^(?:Q[1-4]|H[12]|[FC]Y\d{2}(?:\d{2})?)$")
_ARGUMENT_DEPS = frozenset({"nsubj", "nsubjpass", "dobj", "pobj"})
_CLAUSE_DEPS = frozenset({"advcl", "ccomp", "xcomp", "relcl"})
_MODIFIER_DEPS = frozenset({"compound", "nmod", "amod"})
_NOUNS = frozenset({"NOUN", "PROPN"})


def is_acronym_token(text: str) -> bool:
    """CPK, EBITDA, 8D, A/B: capitals (and digits), at least two characters."""
    return (
        is_acronym(text)
        and text.rstrip(".") not in COMMON_ABBREVIATIONS  # "in the EU." at a sentence end
        and not text.isdigit()
        and not is_quantity_code(text)
        and not _ROMAN.match(text)
    )


def is_strong_acronym(text: str) -> bool:
    """An acronym that can be glossed alone: two capitals in a row, or joined by "&" ("M&A",
    "R&D"), so not "A/B"."""
    return is_acronym_token(text) and re.search(r"[A-Z]&?[A-Z]", text) is not None


def is_camel_case(text: str) -> bool:
    """XGBoost, LoRA, GitHub (but not a plural acronym such as "OKRs")."""
    return bool(_CAMEL.match(text)) and not is_acronym(text)


def is_quantity_code(text: str) -> bool:
    """10ms, 3pm, 2nd, Q3, FY24, v2: digits with a unit, a period or a version: an amount, a
    date or a number."""
    return bool(_QUANTITY_CODE.match(text) or PERIOD_CODE.match(text) or _VERSION.match(text))


def is_code(text: str) -> bool:
    """p99, 8D, H100, 401(k), 1:1s, precision@20, 10-K, H-1B: letters mixed with digits,
    unless it reads as a quantity (10ms, Q3, a 3-day window)."""
    if is_quantity_code(text):
        return False
    return (
        bool(_CODE.match(text))
        or is_hyphenated_code(text)
        or (any(c.isdigit() for c in text) and is_glued_code(text))
    )


def is_strong_form(token: Token) -> bool:
    """Surface forms that mark a term whatever the parser thinks: acronym, CamelCase, code."""
    text = token.text
    return (
        is_acronym_token(text)
        or is_camel_case(text)
        or is_code(text)
        or is_mixed_case_abbreviation(text)
    )


def is_count(token: Token) -> bool:
    """Numbers and amounts ("two", "115", "10ms", "Q3"), but not codes such as "8D"."""
    text = token.text
    return (token.like_num or token.pos_ == "NUM" or is_quantity_code(text)) and not is_code(text)


def is_capitalised(token: Token) -> bool:
    return token.text[:1].isupper()


def is_common_noun(token: Token) -> bool:
    """A common noun; a lower-case "proper noun" is a tagger slip ("add read replicas"), and so
    is an "adjective" that is a verb's subject or object ("drives the companion diagnostic")."""
    if token.pos_ == "ADJ":
        return (
            token.dep_ in _ARGUMENT_DEPS and token.i > 0 and token.doc[token.i - 1].pos_ == "NOUN"
        )
    return token.pos_ == "NOUN" or (token.pos_ == "PROPN" and token.text.islower())


def is_noun_modifier(token: Token) -> bool:
    """True for "Kafka" in "the Kafka consumer lag": it modifies a noun to its right."""
    return token.dep_ in _MODIFIER_DEPS and token.head.pos_ in _NOUNS and token.head.i > token.i


def entity_labels(tokens: Iterable[Token]) -> set[str]:
    """spaCy labels on the tokens; place guesses are ignored on acronyms and codes."""
    tokens = list(tokens)
    labels = {t.ent_type_ for t in tokens} - {""}
    if tokens and all(is_strong_form(t) for t in tokens):
        labels -= PLACE_LABELS  # "DCF", "F1": spaCy guesses GPE for unknown abbreviations
    if tokens and all(is_glued_code(t.text) or _DIGITS_CAPITALS.match(t.text) for t in tokens):
        # "1:1s", "401(k)", "8D", "13B" are no dates or numbers (money stays money: "$13B")
        labels -= {"DATE", "TIME", "CARDINAL"}
    return labels


# spaCy's halves of spoken contractions, glued in the text ("gonna" is "gon" + "na"; spaCy
# keeps "wanna" whole).
_CONTRACTIONS = frozenset({("gon", "na"), ("got", "ta")})


def merge_contractions(doc: Doc) -> Doc:
    """Merge "gon" + "na" (and "got" + "ta") back into one auxiliary: a half is otherwise
    tagged as a noun and ends a compound ("the counterparty gonna" gave "counterparty gon")."""
    pairs = [
        doc[i : i + 2]
        for i in range(len(doc) - 1)
        if not doc[i].whitespace_ and (doc[i].lower_, doc[i + 1].lower_) in _CONTRACTIONS
    ]
    if pairs:
        with doc.retokenize() as retokenizer:
            for pair in pairs:
                retokenizer.merge(pair, attrs={"POS": "AUX", "TAG": "MD"})
    return doc


def merge_joined_tokens(doc: Doc) -> Doc:
    """Merge word-hyphen-word and word/word runs written without spaces into one token."""
    spans: list[Span] = []
    i = 0
    while i < len(doc):
        j = i
        while (
            j + 2 < len(doc)
            and doc[j + 1].text in _HYPHEN_JOINERS
            and not doc[j].whitespace_
            and not doc[j + 1].whitespace_
            and doc[j].text[-1:].isalnum()
            and doc[j + 2].text[:1].isalnum()
        ):
            j += 2
        if j > i:
            spans.append(doc[i : j + 1])
        i = j + 1
    if spans:
        with doc.retokenize() as retokenizer:
            for span in spans:
                retokenizer.merge(span)
    return doc


def without_possessive(doc: Doc, start: int, text: str) -> str:
    """ "Marketo's lead scoring": a possessive clitic that the gazetteer's plural allowance
    took in belongs to the phrase, not the name; a clitic that ends its noun phrase is part of
    an eponym ("patients with Alzheimer's") and stays."""
    span = doc.char_span(start, start + len(text), alignment_mode="expand")
    if span is None or len(span) < 2:
        return text
    clitic, owner = span[-1], span[-2]
    if clitic.tag_ == "POS" and owner.dep_ == "poss" and owner.head.i > clitic.i:
        return doc.text[start : clitic.idx].rstrip()
    return text


def span_text(tokens: Sequence[Token]) -> str:
    """Text of contiguous tokens as written (keeps the original spacing)."""
    return tokens[0].doc[tokens[0].i : tokens[-1].i + 1].text


def is_shouting(doc: Doc) -> bool:
    """An all-capitals transcript makes every word look like an acronym or a name."""
    words = [t.text for t in doc if t.is_alpha and len(t.text) > 1]
    return len(words) >= 4 and sum(w.isupper() for w in words) > len(words) / 2


def is_name_token(token: Token) -> bool:
    """A token that can be part of a name: a strong form, or a capitalised proper noun."""
    if is_strong_form(token):
        return True
    if token.text in COMMON_ABBREVIATIONS:
        return False  # "the EU", "the US": known to everyone, and places
    # "Jean-Luc": merged hyphenated names are names too.
    return token.pos_ == "PROPN" and token.text.replace("-", "").isalpha() and is_capitalised(token)


def is_in_person_slot(token: Token) -> bool:
    """Slots only people fill: "Minsu said", "ask Minsu", "thanks, Minsu", "Minsu's"."""
    head = token.head
    if token.dep_ == "nsubj" and head.lemma_.lower() in SPEAKER_VERBS:
        return True
    if token.dep_ in {"dobj", "dative"} and head.lemma_.lower() in ADDRESSEE_VERBS:
        return True
    if token.dep_ == "poss" and not token.ent_type_:
        return True
    previous = [t for t in token.doc[max(token.i - 2, 0) : token.i] if not t.is_punct]
    return bool(previous) and previous[-1].lower_ in GREETINGS


def chunk_segments(chunk: Span) -> list[list[Token]]:
    """Split coordinated chunks ("CI and Argo CD") into their conjuncts."""
    segments: list[list[Token]] = [[]]
    for token in chunk:
        if token.pos_ == "CCONJ" or (token.is_punct and token.text not in _HYPHEN_JOINERS):
            segments.append([])
        else:
            segments[-1].append(token)
    return [segment for segment in segments if segment]


def noun_chunk_segments(doc: Doc) -> list[list[Token]]:
    return [segment for chunk in doc.noun_chunks for segment in chunk_segments(chunk)]


def unchunked_compounds(doc: Doc) -> list[list[Token]]:
    """Noun compounds the parser left out of every noun chunk because it misread the verb
    after them ("so the cron job fires": "fires" became the noun, the compound a modifier)."""
    covered = {token.i for chunk in doc.noun_chunks for token in chunk}
    runs: list[list[Token]] = [[]]
    for token in doc:
        if token.i in covered or token.pos_ not in {"NOUN", "PROPN", "ADJ"}:
            runs.append([])
        else:
            runs[-1].append(token)
    return [run for run in runs if len(run) >= 2 and any(t.dep_ == "compound" for t in run)]


def unchunked_nouns(doc: Doc) -> list[list[Token]]:
    """Lone common nouns the parser put in no noun chunk (a fragment such as "grade three
    neutropenia" hangs off the sentence as "dep"): they may still be rare terms."""
    covered = {token.i for chunk in doc.noun_chunks for token in chunk}
    covered |= {t.i for run in unchunked_compounds(doc) for t in run}
    return [[t] for t in doc if t.pos_ == "NOUN" and t.i not in covered and t.is_alpha]


def is_mistagged_verb(token: Token) -> bool:
    """A chunk-final "noun" that is really the clause's verb.

    Particles attach to verbs, not nouns ("the autoscaler kicks in"); and a plural noun as
    the root of its sentence with no verb right after it ("the LLM hallucinates when ...")
    leaves the sentence without a verb, so the tagger must have turned the verb into a noun.
    """
    doc = token.doc
    following = doc[token.i + 1] if token.i + 1 < len(doc) else None
    if following is not None and following.tag_ == "RP":
        return True
    if is_verb_before_object(token) or _is_past_tense_after_noun(token):
        return True
    if token.tag_ == "NNS" and token.dep_ in _CLAUSE_DEPS:
        return True  # nouns head no clause: "so the cron job fires" (advcl) is a verb
    return (
        token.tag_ == "NNS"
        and token.dep_ == "ROOT"
        and (following is None or following.pos_ not in {"VERB", "AUX"})
    )


# Words that start the object of a verb: "the cross-encoder reranks *the* candidates".
OBJECT_STARTERS = frozenset(
    {"the", "a", "an", "it", "them", "this", "that", "those", "these", "its", "their", "our"}
)


def is_verb_before_object(token: Token) -> bool:
    """A plural "noun" right after a noun and right before an object is the verb of the
    clause ("a cross-encoder reranks the candidates"): two noun phrases never meet that way."""
    doc = token.doc
    if token.tag_ != "NNS" or token.i == 0 or token.i + 1 >= len(doc):
        return False
    before, after = doc[token.i - 1], doc[token.i + 1]
    return before.pos_ in {"NOUN", "PROPN", "ADJ"} and after.lower_ in OBJECT_STARTERS


def _is_past_tense_after_noun(token: Token) -> bool:
    """ "paid social tanked": a chunk-final "noun" in -ed after a noun or adjective is the
    verb of the clause (English nouns in -ed are short: bed, seed, speed)."""
    doc = token.doc
    return (
        token.pos_ == "NOUN"
        and len(token.text) > 5
        and token.lower_.endswith("ed")
        and token.i > 0
        and doc[token.i - 1].pos_ in {"NOUN", "ADJ"}
    )


def is_nominal_modifier(token: Token) -> bool:
    """A modifier that acts as a noun: "feature" in "feature flag", "p99", and a merged
    hyphenated modifier the parser attached as a noun ("click-through rate") even though
    the tag of its last part (a verb or particle) is all spaCy kept."""
    if token.pos_ in _NOUNS or is_strong_form(token):
        return True
    return "-" in token.text and token.dep_ in {"compound", "nmod"}
