"""Trimming a noun chunk down to the term inside it (local detector).

Everything up to the last determiner (by tag or by its "det" arc: the tagger may call "that" a
conjunction) or possessive belongs to the phrase, not the term; so do
bare numbers and units ("115 percent", "five percent CPU"), situational adjectives (new, idle,
custom) and comparatives. A generic head ("team", "issue") or a meeting's kind ("sync",
"standup") adds nothing, so its modifiers may stand alone ("rebalancing issue" ->
"rebalancing", "ML sync" -> "ML"). A carrier head ("effects", "path", "column", "step", "run")
adds nothing to a term before it either: "noisy neighbor effects" -> "noisy neighbor", "RDS
fleet" -> "RDS", "retrieval step" -> "retrieval"; but a two-word compound of common words keeps
its head ("side effects"), since the modifier alone would be no term. A chunk that extends a
known field term by one common word that is no term head ("going concern language") is cut
back to the known term. Shift names ("the night shift", "B shift", "the day shift lead") are
schedules, not terms: the chunk is dropped. A leading duration ("four-year", "multi-year") is
trimmed like a count, while an ordinal before a noun compound stays ("first article
inspection"). A count's unit is no term either: a unit of time after a count goes with it ("a
one year cliff" -> "cliff"), and a chunk whose head is the unit of a count (a unit of time, or
a word NER puts in one date, time or quantity with the count: "eight hundred milliseconds",
"three business days") is a measurement and is dropped; "two epochs", where the head is what is
counted, stays.
"""

from __future__ import annotations

from spacy.tokens import Token

from glossify.terms.local.hyphenated import TIME_UNITS, is_number_chain, is_span_of_time
from glossify.terms.local.lexicon import (
    CARRIER_NOUNS,
    COMMON_ABBREVIATIONS,
    GENERIC_NOUNS,
    MEETING_NOUNS,
    SHIFT_MODIFIERS,
    SHIFT_NOUNS,
    SITUATIONAL_ADJECTIVES,
    TERM_HEADS,
    UNIT_WORDS,
    noun_rarity,
)
from glossify.terms.local.tokens import (
    TIME_AND_AMOUNT_LABELS,
    is_count,
    is_mistagged_verb,
    is_strong_form,
)

ORDINALS = frozenset({"first", "second", "third", "single", "double", "triple"})
# Parts of speech that belong to the phrase around a term, never to the term.
FUNCTION_POS = frozenset({"DET", "PRON", "PART", "PUNCT", "ADP", "CCONJ", "ADV", "SYM"})

# Entity labels of a measurement: a count with its unit.
MEASUREMENT_LABELS = TIME_AND_AMOUNT_LABELS | {"QUANTITY"}

NameRuns = dict[int, tuple[list[Token], bool]]
# Character spans (start, end) of terms already known to be in the line.
KnownSpans = list[tuple[int, int]]


def trim_chunk(
    tokens: list[Token], names: NameRuns, known: KnownSpans, rare_zipf: float
) -> list[Token]:
    for k in range(len(tokens) - 1, -1, -1):
        # The tagger may call a determiner something else ("that selector": "that" as SCONJ);
        # its "det" arc still says what it is.
        if tokens[k].pos_ in {"DET", "PRON", "PART"} or tokens[k].dep_ in {"poss", "case", "det"}:
            tokens = tokens[k + 1 :]
            break
    if len(tokens) > 1 and is_mistagged_verb(tokens[-1]):
        tokens = tokens[:-1]
    if _is_shift_name(tokens):
        return []
    while len(tokens) > 1 and tokens[-1].lower_ in GENERIC_NOUNS | MEETING_NOUNS:
        tokens = tokens[:-1]
    stripped: list[Token] = []
    while tokens and _strip_first(tokens, stripped, names):
        stripped.append(tokens[0])
        tokens = tokens[1:]
    if tokens and any(_counts_unit(t, tokens[-1]) for t in stripped):
        return []  # "eight hundred milliseconds", "three business days": a measurement
    while _carrier_head(tokens, names, rare_zipf):
        tokens = tokens[:-1]
    if len(tokens) > 1 and _extends_known(tokens, known, rare_zipf):
        tokens = tokens[:-1]
    return tokens


def _strip_first(tokens: list[Token], stripped: list[Token], names: NameRuns) -> bool:
    if stripped and is_count(stripped[-1]) and tokens[0].lower_ in TIME_UNITS:
        return len(tokens) > 1  # "a one year cliff": a duration, like "a four-year cliff"
    return strip_leading(tokens[0], names) and not _ordinal_compound(tokens)


def _counts_unit(count: Token, head: Token) -> bool:
    """Is ``head`` the unit that ``count`` measures? A unit of time is ("six hundred
    milliseconds", "ten business days"); so is a head that NER puts in one date, time or
    quantity with the count; the things a count counts are not ("two epochs")."""
    if not is_count(count) or count.i > head.i:
        return False
    if head.lower_ in TIME_UNITS:
        return True
    if head.ent_type_ not in MEASUREMENT_LABELS:
        return False
    if count.ent_type_ != head.ent_type_:
        return False
    return all(t.ent_iob_ == "I" for t in head.doc[count.i + 1 : head.i + 1])


def _extends_known(tokens: list[Token], known: KnownSpans, rare_zipf: float) -> bool:
    """ "going concern language": a known term and a common head that makes no new term."""
    head, before = tokens[-1], tokens[-2]
    if head.lower_ in TERM_HEADS or noun_rarity(head) < rare_zipf:
        return False  # "feature flag sidecar": a rare head makes a term of its own
    return (tokens[0].idx, before.idx + len(before.text)) in known


def _ordinal_compound(tokens: list[Token]) -> bool:
    """ "first article inspection", "first pass yield": an ordinal before a noun compound is
    part of the term (before a single noun it only counts: "the first release")."""
    if len(tokens) < 3 or tokens[0].lower_ not in ORDINALS:
        return False
    return all(t.pos_ == "NOUN" for t in tokens[1:])


def _is_shift_name(tokens: list[Token]) -> bool:
    """ "the night shift", "B shift", "second shift" (and "the day shift lead"): a schedule
    and the people on it, not a term."""
    for k, token in enumerate(tokens[1:], start=1):
        if token.lower_ in SHIFT_NOUNS:
            return all(t.lower_ in SHIFT_MODIFIERS or t.like_num for t in tokens[:k])
    return False


def _carrier_head(tokens: list[Token], names: NameRuns, rare_zipf: float) -> bool:
    if len(tokens) < 2 or tokens[-1].lower_ not in CARRIER_NOUNS:
        return False
    modifier = tokens[-2]
    # "the retrieval step": a rare modifier is a term on its own, the carrier adds nothing.
    rare = modifier.is_alpha and noun_rarity(modifier) < rare_zipf
    return len(tokens) >= 3 or is_strong_form(modifier) or modifier.i in names or rare


def strip_leading(token: Token, names: NameRuns) -> bool:
    if token.pos_ in FUNCTION_POS:
        # A merged hyphenated word keeps the tag of its last part only ("on-call": ADP).
        return "-" not in token.text
    if is_span_of_time(token.text):
        return True  # "a four-year vesting schedule", "multi-year deals": a duration
    if is_number_chain(token.text):
        return False  # "thirty-sixty-ninety goals": a named plan, not a count
    if is_count(token) or token.lower_ in UNIT_WORDS:
        # "two epochs", "115 percent", "five percent CPU": the count is not part of the term
        # ("Six Sigma" is protected because its number word belongs to a name run).
        return token.i not in names
    if token.text in COMMON_ABBREVIATIONS:
        return True  # "EU data", "US customers": a place, not part of a term
    if token.lower_ in SITUATIONAL_ADJECTIVES or token.tag_ in {"JJR", "JJS"}:
        return True  # "stronger regularization": comparisons describe, they don't classify
    # A dropped name ("the London office", "Jennifer's team") leaves the common noun.
    return token.i in names and not names[token.i][1]


def leading_name(tokens: list[Token], names: NameRuns) -> list[Token]:
    lead: list[Token] = []
    for token in tokens:
        if not (token.i in names or is_strong_form(token)):
            break
        lead.append(token)
    return lead
